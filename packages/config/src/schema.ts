import { multiaddr } from '@multiformats/multiaddr';
import { z } from 'zod';
import { DATASET_NAMES, DATASETS } from './datasets.ts';
import * as D from './defaults.ts';
import { isValidParamPattern } from './patterns.ts';

/** Appends `Default: <value>.` to a description so the default is documented where the field is. */
function doc(text: string, defaultValue?: unknown): string {
  if (defaultValue === undefined) return text;
  const shown = typeof defaultValue === 'string' ? `'${defaultValue}'` : JSON.stringify(defaultValue);
  return `${text} Default: ${shown}.`;
}

const int = () => z.int();
const positiveInt = () => z.int().min(1);
const nonNegativeInt = () => z.int().min(0);
/** An open fraction in (0, 1). */
const fraction = () => z.number().gt(0).lt(1);
const filePath = () => z.string().min(1);
const namePattern = () =>
  z
    .string()
    .min(1)
    .describe(
      'A parameter-name pattern: `*` matches any run of characters (dots and slashes included), `?` one character.',
    );

/** Result of checking one multiaddr string: undefined when fine, otherwise what is wrong. */
export function multiaddrProblem(value: string, requirePeerId: boolean): string | undefined {
  try {
    const ma = multiaddr(value);
    if (requirePeerId) {
      const id = ma.getPeerId();
      if (id === null) return 'bootstrap address has no /p2p/<peer id> part';
      if (!/^(?:[1-9A-HJ-NP-Za-km-z]{46,60}|b[a-z2-7]{50,70})$/.test(id)) {
        return `'${id}' does not look like a libp2p peer id`;
      }
    }
    return undefined;
  } catch (err) {
    return `invalid multiaddr: ${err instanceof Error ? err.message : String(err)}`;
  }
}

const multiaddrString = (requirePeerId: boolean, example: string) =>
  z.string().superRefine((value, ctx) => {
    const problem = multiaddrProblem(value, requirePeerId);
    if (problem !== undefined) {
      ctx.addIssue({ code: 'custom', message: problem, input: value, params: { expected: example } });
    }
  });

const EXAMPLE_PEER_ADDR = 'a multiaddr such as /ip4/192.0.2.7/tcp/4001/p2p/12D3KooW...';
const EXAMPLE_LISTEN_ADDR = 'a multiaddr such as /ip4/0.0.0.0/tcp/4001';

// ---------------------------------------------------------------- node

export const nodeSchema = z
  .strictObject({
    name: z
      .string()
      .min(1)
      .max(64)
      .regex(/^[^\p{Cc}]+$/u, { message: 'must not contain control characters' })
      .optional()
      .describe(
        "This node's name as shown to other peers and in the inspector. Default: the machine's hostname.",
      ),
    workDir: filePath()
      .default(D.DEFAULT_WORK_DIR)
      .describe(
        doc(
          'Directory for checkpoints, the identity key and caches, relative to the config file.',
          D.DEFAULT_WORK_DIR,
        ),
      ),
  })
  .describe('This node: its name and where it keeps its files.');

// ---------------------------------------------------------------- hardware

export const EXECUTION_PROVIDERS = ['cuda', 'webgpu', 'cpu'] as const;

export const hardwareSchema = z
  .strictObject({
    executionProviders: z
      .array(z.enum(EXECUTION_PROVIDERS))
      .default([...D.DEFAULT_EXECUTION_PROVIDERS])
      .describe(
        doc(
          "onnxruntime execution providers in order of preference: 'cuda', 'webgpu', 'cpu'. A provider that fails to load is reported and skipped; 'cpu' is always implied last.",
          D.DEFAULT_EXECUTION_PROVIDERS,
        ),
      ),
    cudaDeviceId: nonNegativeInt()
      .default(D.DEFAULT_CUDA_DEVICE_ID)
      .describe(doc('CUDA device ordinal used by the cuda provider.', D.DEFAULT_CUDA_DEVICE_ID)),
    intraOpThreads: positiveInt()
      .optional()
      .describe('Threads used inside one operator (matrix products). Default: the number of CPU cores.'),
    interOpThreads: positiveInt()
      .default(D.DEFAULT_INTER_OP_THREADS)
      .describe(doc('Threads used to run independent operators at once.', D.DEFAULT_INTER_OP_THREADS)),
    memoryBudgetMB: positiveInt()
      .optional()
      .describe(
        'Memory this node may use for training, in MiB: a model whose parameters, gradients and optimizer state alone exceed it is refused. Default: no limit.',
      ),
  })
  .superRefine((hw, ctx) => {
    const seen = new Set<string>();
    hw.executionProviders.forEach((ep, i) => {
      if (seen.has(ep)) {
        ctx.addIssue({
          code: 'custom',
          path: ['executionProviders', i],
          message: `execution provider '${ep}' is listed twice`,
          input: ep,
          params: { expected: 'each provider at most once' },
        });
      }
      seen.add(ep);
    });
  })
  .describe('Where and how the model runs on this machine.');

// ---------------------------------------------------------------- model

const dtype = z
  .enum(['float32'])
  .default(D.DEFAULT_DTYPE)
  .describe(doc('Element type of parameters.', D.DEFAULT_DTYPE));

export const mlpModelSchema = z
  .strictObject({
    kind: z.literal('mlp').describe('A multi-layer perceptron.'),
    dtype,
    inputSize: positiveInt()
      .optional()
      .describe('Number of input features. Default: inferred from the data.'),
    hidden: z
      .array(positiveInt())
      .default([...D.DEFAULT_MLP_HIDDEN])
      .describe(doc('Sizes of the hidden layers, in order ([] gives a linear model).', D.DEFAULT_MLP_HIDDEN)),
    activation: z
      .enum(['relu', 'tanh', 'gelu'])
      .default(D.DEFAULT_MLP_ACTIVATION)
      .describe(
        doc("Activation after each hidden layer: 'relu', 'tanh' or 'gelu'.", D.DEFAULT_MLP_ACTIVATION),
      ),
  })
  .describe('Multi-layer perceptron.');

export const cnnModelSchema = z
  .strictObject({
    kind: z.literal('cnn').describe('A small convolutional network for images.'),
    dtype,
    channels: z
      .array(positiveInt())
      .min(1)
      .default([...D.DEFAULT_CNN_CHANNELS])
      .describe(
        doc(
          'Output channels of the 3x3 convolution layers, in order; a 2x2 max-pool follows the last one.',
          D.DEFAULT_CNN_CHANNELS,
        ),
      ),
    hidden: positiveInt()
      .default(D.DEFAULT_CNN_HIDDEN)
      .describe(doc('Width of the fully connected layer before the output.', D.DEFAULT_CNN_HIDDEN)),
  })
  .describe('Convolutional network: conv layers, max-pool, one hidden fully connected layer.');

export const charTransformerModelSchema = z
  .strictObject({
    kind: z.literal('char-transformer').describe('A decoder-only transformer over characters or bytes.'),
    dtype,
    layers: positiveInt()
      .default(D.DEFAULT_TRANSFORMER_LAYERS)
      .describe(doc('Number of transformer blocks.', D.DEFAULT_TRANSFORMER_LAYERS)),
    heads: positiveInt()
      .default(D.DEFAULT_TRANSFORMER_HEADS)
      .describe(doc('Attention heads per block; must divide width.', D.DEFAULT_TRANSFORMER_HEADS)),
    width: positiveInt()
      .default(D.DEFAULT_TRANSFORMER_WIDTH)
      .describe(doc('Embedding width (model dimension).', D.DEFAULT_TRANSFORMER_WIDTH)),
    context: positiveInt()
      .default(D.DEFAULT_TRANSFORMER_CONTEXT)
      .describe(doc('Context length in tokens.', D.DEFAULT_TRANSFORMER_CONTEXT)),
    dropout: z
      .number()
      .min(0)
      .lt(1)
      .default(D.DEFAULT_TRANSFORMER_DROPOUT)
      .describe(doc('Dropout probability in [0, 1).', D.DEFAULT_TRANSFORMER_DROPOUT)),
    bias: z
      .boolean()
      .default(D.DEFAULT_TRANSFORMER_BIAS)
      .describe(doc('Whether linear layers and layer norms have a bias.', D.DEFAULT_TRANSFORMER_BIAS)),
    tieWeights: z
      .boolean()
      .default(D.DEFAULT_TRANSFORMER_TIE_WEIGHTS)
      .describe(
        doc(
          'Whether the output projection shares the token-embedding matrix.',
          D.DEFAULT_TRANSFORMER_TIE_WEIGHTS,
        ),
      ),
  })
  .superRefine((m, ctx) => {
    if (m.width % m.heads !== 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['heads'],
        message: `heads must divide width (${m.width} / ${m.heads} is not a whole number)`,
        input: m.heads,
        params: { expected: `a divisor of width ${m.width}` },
      });
    }
  })
  .describe('Decoder-only character-level transformer (nanoGPT style).');

export const onnxModelSchema = z
  .strictObject({
    kind: z.literal('onnx').describe('An ONNX model file: its forward graph is differentiated and trained.'),
    dtype,
    path: filePath().describe('The .onnx file, relative to the config file. Required; the file must exist.'),
    trainable: z
      .array(namePattern())
      .optional()
      .describe('Patterns of the initializers to train. Default: every floating-point initializer.'),
    frozen: z
      .array(namePattern())
      .default([...D.DEFAULT_ONNX_FROZEN])
      .describe(
        doc('Patterns of initializers kept fixed, even when trainable matches them.', D.DEFAULT_ONNX_FROZEN),
      ),
    output: z
      .string()
      .min(1)
      .optional()
      .describe('Name of the graph output the loss is attached to. Default: the first output.'),
    loss: z
      .enum(['cross-entropy', 'mse'])
      .default(D.DEFAULT_ONNX_LOSS)
      .describe(doc("Loss on that output: 'cross-entropy' (logits) or 'mse'.", D.DEFAULT_ONNX_LOSS)),
  })
  .describe('Any ONNX model with float initializers.');

export const modelSchema = z
  .discriminatedUnion('kind', [mlpModelSchema, cnnModelSchema, charTransformerModelSchema, onnxModelSchema])
  .describe("The model to train, chosen by kind: 'mlp', 'cnn', 'char-transformer' or 'onnx'. Required.");

// ---------------------------------------------------------------- data

const seed = int()
  .min(0)
  .max(2 ** 32 - 1)
  .default(D.DEFAULT_DATA_SEED)
  .describe(doc('Seed for shuffling, splits and synthetic data.', D.DEFAULT_DATA_SEED));

export const textDataSchema = z
  .strictObject({
    format: z.literal('text').describe('A plain text file for character-level language modelling.'),
    seed,
    path: filePath().describe('The text file, relative to the config file. Required; the file must exist.'),
    byteLevel: z
      .boolean()
      .default(D.DEFAULT_TEXT_BYTE_LEVEL)
      .describe(
        doc(
          'Use bytes (a fixed 256-symbol vocabulary) instead of the characters found in the file.',
          D.DEFAULT_TEXT_BYTE_LEVEL,
        ),
      ),
    validFraction: fraction()
      .default(D.DEFAULT_TEXT_VALID_FRACTION)
      .describe(
        doc(
          'Fraction of the file, taken from its end, held out for validation.',
          D.DEFAULT_TEXT_VALID_FRACTION,
        ),
      ),
  })
  .describe('Plain text.');

export const mnistDataSchema = z
  .strictObject({
    format: z.literal('mnist').describe('MNIST-style idx files (optionally gzipped).'),
    seed,
    trainImages: filePath().describe('idx3 file of training images. Required; the file must exist.'),
    trainLabels: filePath().describe('idx1 file of training labels. Required; the file must exist.'),
    testImages: filePath()
      .optional()
      .describe('idx3 file of test images, used for evaluation. Default: none (evaluate on training data).'),
    testLabels: filePath()
      .optional()
      .describe('idx1 file of test labels; required when testImages is set. Default: none.'),
  })
  .superRefine((d, ctx) => {
    if ((d.testImages === undefined) !== (d.testLabels === undefined)) {
      const missing = d.testImages === undefined ? 'testImages' : 'testLabels';
      const other = missing === 'testImages' ? 'testLabels' : 'testImages';
      ctx.addIssue({
        code: 'custom',
        path: [missing],
        message: `${missing} is required when ${other} is set`,
        input: undefined,
        params: { expected: 'both testImages and testLabels, or neither' },
      });
    }
  })
  .describe('MNIST idx files.');

export const csvDataSchema = z
  .strictObject({
    format: z.literal('csv').describe('A CSV file with a header row.'),
    seed,
    path: filePath().describe('The CSV file, relative to the config file. Required; the file must exist.'),
    target: z.string().min(1).describe('Name of the column to predict. Required.'),
    categorical: z
      .array(z.string().min(1))
      .optional()
      .describe('Columns to one-hot encode. Default: the non-numeric columns, detected from the data.'),
    ignore: z.array(z.string().min(1)).optional().describe('Columns to leave out. Default: none.'),
    validFraction: fraction()
      .default(D.DEFAULT_CSV_VALID_FRACTION)
      .describe(doc('Fraction of rows held out for validation.', D.DEFAULT_CSV_VALID_FRACTION)),
    task: z
      .enum(['classification', 'regression'])
      .default(D.DEFAULT_CSV_TASK)
      .describe(
        doc("'classification' (cross-entropy) or 'regression' (mean squared error).", D.DEFAULT_CSV_TASK),
      ),
  })
  .superRefine((d, ctx) => {
    const idx = d.ignore?.indexOf(d.target) ?? -1;
    if (idx >= 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['ignore', idx],
        message: 'the target column cannot be ignored',
        input: d.target,
        params: { expected: `a column other than the target '${d.target}'` },
      });
    }
  })
  .describe('CSV table.');

export const syntheticDataSchema = z
  .strictObject({
    format: z.literal('synthetic').describe('Generated classification data (no files), drawn from the seed.'),
    seed,
    examples: positiveInt()
      .default(D.DEFAULT_SYNTHETIC_EXAMPLES)
      .describe(doc('Number of examples generated.', D.DEFAULT_SYNTHETIC_EXAMPLES)),
    features: positiveInt()
      .default(D.DEFAULT_SYNTHETIC_FEATURES)
      .describe(doc('Input features per example.', D.DEFAULT_SYNTHETIC_FEATURES)),
    classes: int()
      .min(2)
      .default(D.DEFAULT_SYNTHETIC_CLASSES)
      .describe(doc('Number of classes.', D.DEFAULT_SYNTHETIC_CLASSES)),
    shard: nonNegativeInt()
      .default(0)
      .describe(
        doc(
          "This node's share of the generated data: nodes with different shards train on different examples of the same task.",
          0,
        ),
      ),
  })
  .describe('Synthetic data.');

export const datasetDataSchema = z
  .strictObject({
    format: z
      .literal('dataset')
      .optional()
      .describe("May be left out: naming a dataset is enough (e.g. 'data: {dataset: mnist}')."),
    dataset: z
      .enum(DATASET_NAMES)
      .describe(
        "A dataset of the registry, read from the per-user cache ($XDG_CACHE_HOME/enjambre, default ~/.cache/enjambre): download it first with 'enjambre data get <name>'. Required.",
      ),
    seed,
    byteLevel: z
      .boolean()
      .optional()
      .describe("Text datasets: as 'byteLevel' of format 'text'. Default: that format's default."),
    validFraction: fraction()
      .optional()
      .describe("Text and CSV datasets: as 'validFraction' of their format. Default: that format's default."),
  })
  .superRefine((d, ctx) => {
    const format = DATASETS[d.dataset].spec.format;
    const unsupported = [
      ...(d.byteLevel !== undefined && format !== 'text' ? ['byteLevel'] : []),
      ...(d.validFraction !== undefined && format === 'mnist' ? ['validFraction'] : []),
    ];
    for (const key of unsupported) {
      ctx.addIssue({
        code: 'custom',
        path: [key],
        message: `not an option of dataset '${d.dataset}' (format '${format}')`,
        input: d[key as keyof typeof d],
        params: { expected: 'no such key for this dataset' },
      });
    }
  })
  .describe('A dataset of the registry, by name.');

export const dataSchema = z
  .discriminatedUnion('format', [
    textDataSchema,
    mnistDataSchema,
    csvDataSchema,
    syntheticDataSchema,
    datasetDataSchema,
  ])
  .describe(
    "Training data: a dataset of the registry by name ('dataset: mnist'), or files chosen by format: 'text', 'mnist', 'csv' or 'synthetic'. Paths are relative to the config file. Required.",
  );

// ---------------------------------------------------------------- training

export const optimizerSchema = z
  .strictObject({
    kind: z
      .enum(['adamw', 'sgd'])
      .default(D.DEFAULT_OPTIMIZER)
      .describe(doc("Inner optimizer: 'adamw' or 'sgd'.", D.DEFAULT_OPTIMIZER)),
    lr: z
      .number()
      .gt(0)
      .max(10)
      .default(D.DEFAULT_LR)
      .describe(doc('Learning rate (the peak rate when a schedule is used).', D.DEFAULT_LR)),
    beta1: z
      .number()
      .min(0)
      .lt(1)
      .default(D.DEFAULT_BETA1)
      .describe(doc('AdamW first-moment decay, in [0, 1).', D.DEFAULT_BETA1)),
    beta2: z
      .number()
      .min(0)
      .lt(1)
      .default(D.DEFAULT_BETA2)
      .describe(doc('AdamW second-moment decay, in [0, 1).', D.DEFAULT_BETA2)),
    eps: z.number().gt(0).lt(1).default(D.DEFAULT_EPS).describe(doc('AdamW epsilon.', D.DEFAULT_EPS)),
    weightDecay: z
      .number()
      .min(0)
      .default(D.DEFAULT_WEIGHT_DECAY)
      .describe(doc('Decoupled weight decay (AdamW) or L2 penalty (SGD).', D.DEFAULT_WEIGHT_DECAY)),
    weightDecayParams: z
      .union([
        z.enum(['all', 'matrices', 'none']),
        z
          .array(
            z
              .string()
              .min(1)
              .refine((p) => isValidParamPattern(p), {
                message: 'a /regex/ pattern must be a valid regular expression',
              }),
          )
          .min(1),
      ])
      .default(D.DEFAULT_WEIGHT_DECAY_PARAMS as 'matrices')
      .describe(
        doc(
          "Parameters that weight decay applies to: 'all', 'matrices' (rank ≥ 2: not biases or normalization gains), 'none', or a list of name patterns: a glob (`*` any run of characters, `?` one character, matched against the whole name) or a regular expression between slashes (`/^h\\.\\d+\\.attn/`, searched anywhere in the name). Each pattern must match a trainable parameter.",
          D.DEFAULT_WEIGHT_DECAY_PARAMS,
        ),
      ),
    momentum: z
      .number()
      .min(0)
      .lt(1)
      .default(D.DEFAULT_MOMENTUM)
      .describe(doc('SGD momentum, in [0, 1).', D.DEFAULT_MOMENTUM)),
    nesterov: z
      .boolean()
      .default(D.DEFAULT_NESTEROV)
      .describe(doc('SGD: use Nesterov momentum.', D.DEFAULT_NESTEROV)),
  })
  .describe('The inner (local) optimizer.');

export const lrScheduleSchema = z
  .strictObject({
    kind: z
      .enum(['constant', 'cosine'])
      .default(D.DEFAULT_LR_SCHEDULE)
      .describe(
        doc("'constant', or 'cosine' decay from lr to minLr over training.maxSteps.", D.DEFAULT_LR_SCHEDULE),
      ),
    warmupSteps: nonNegativeInt()
      .default(D.DEFAULT_WARMUP_STEPS)
      .describe(doc('Steps of linear warm-up from 0 to lr.', D.DEFAULT_WARMUP_STEPS)),
    minLr: z
      .number()
      .min(0)
      .optional()
      .describe(`Final learning rate of the cosine schedule. Default: ${D.DEFAULT_MIN_LR_RATIO} × lr.`),
  })
  .describe('Learning-rate schedule of the inner optimizer.');

export const trainingSchema = z
  .strictObject({
    batchSize: positiveInt()
      .default(D.DEFAULT_BATCH_SIZE)
      .describe(doc('Examples (or sequences) per optimizer step.', D.DEFAULT_BATCH_SIZE)),
    optimizer: optimizerSchema.prefault({}),
    lrSchedule: lrScheduleSchema.prefault({}),
    gradClip: z
      .number()
      .gt(0)
      .optional()
      .describe('Clip gradients to this global L2 norm. Default: no clipping.'),
    maxSteps: positiveInt()
      .optional()
      .describe('Stop after this many optimizer steps. Default: train until stopped.'),
    stepsPerRun: positiveInt()
      .max(100_000)
      .default(D.DEFAULT_STEPS_PER_RUN)
      .describe(
        doc('Optimizer steps looped inside one onnxruntime session run (K).', D.DEFAULT_STEPS_PER_RUN),
      ),
    evalEvery: nonNegativeInt()
      .default(D.DEFAULT_EVAL_EVERY)
      .describe(doc('Steps between evaluations on the validation data (0: never).', D.DEFAULT_EVAL_EVERY)),
    evalBatches: positiveInt()
      .default(D.DEFAULT_EVAL_BATCHES)
      .describe(doc('Batches per evaluation.', D.DEFAULT_EVAL_BATCHES)),
    checkpointEvery: nonNegativeInt()
      .default(D.DEFAULT_CHECKPOINT_EVERY)
      .describe(doc('Steps between checkpoints (0: only on exit).', D.DEFAULT_CHECKPOINT_EVERY)),
  })
  .superRefine((t, ctx) => {
    const { minLr, warmupSteps, kind } = t.lrSchedule;
    if (minLr !== undefined && minLr > t.optimizer.lr) {
      ctx.addIssue({
        code: 'custom',
        path: ['lrSchedule', 'minLr'],
        message: 'minLr is larger than the learning rate',
        input: minLr,
        params: { expected: `at most optimizer.lr = ${t.optimizer.lr}` },
      });
    }
    if (t.maxSteps !== undefined && warmupSteps >= t.maxSteps) {
      ctx.addIssue({
        code: 'custom',
        path: ['lrSchedule', 'warmupSteps'],
        message: 'warm-up does not end before training does',
        input: warmupSteps,
        params: { expected: `fewer than maxSteps = ${t.maxSteps}` },
      });
    }
    if (kind === 'cosine' && t.maxSteps === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['maxSteps'],
        message: 'the cosine schedule needs maxSteps to know where it ends',
        input: undefined,
        params: { expected: 'a step count (an integer >= 1)' },
      });
    }
  })
  .describe('Local training: batch, optimizer, schedule, evaluation and checkpoints.');

// ---------------------------------------------------------------- swarm

export const CODECS = ['sign', 'topk', 'int8', 'fp16', 'fp32'] as const;

export const averagingSchema = z
  .strictObject({
    innerSteps: positiveInt()
      .default(D.DEFAULT_INNER_STEPS)
      .describe(doc('Local optimizer steps per averaging round (H).', D.DEFAULT_INNER_STEPS)),
    codec: z
      .enum(CODECS)
      .default(D.DEFAULT_CODEC)
      .describe(
        doc(
          "Compression of the pseudo-gradients: 'sign' (1 bit per weight), 'topk', 'int8', 'fp16' or 'fp32'.",
          D.DEFAULT_CODEC,
        ),
      ),
    topkFraction: fraction()
      .default(D.DEFAULT_TOPK_FRACTION)
      .describe(doc('Top-k codec: fraction of values kept per chunk, in (0, 1).', D.DEFAULT_TOPK_FRACTION)),
    outerLr: z
      .number()
      .gt(0)
      .max(10)
      .optional()
      .describe(
        `Outer Nesterov learning rate applied to the averaged update. Default: ${D.DEFAULT_OUTER_LR} (${D.DEFAULT_TOPK_OUTER_LR} with the topk codec).`,
      ),
    outerMomentum: z
      .number()
      .min(0)
      .lt(1)
      .optional()
      .describe(
        `Outer Nesterov momentum, in [0, 1). Default: ${D.DEFAULT_OUTER_MOMENTUM} (${D.DEFAULT_TOPK_OUTER_MOMENTUM} with the topk codec).`,
      ),
    aggregator: z
      .enum(['centered-clip', 'mean'])
      .default(D.DEFAULT_AGGREGATOR)
      .describe(
        doc(
          "How received updates are combined: 'centered-clip' (robust to bad peers) or 'mean'.",
          D.DEFAULT_AGGREGATOR,
        ),
      ),
    roundTimeoutMs: positiveInt()
      .optional()
      .describe(
        `How long to wait for other peers' updates each round, in ms. Default: max(${D.DEFAULT_ROUND_TIMEOUT_FLOOR_MS}, min(${D.DEFAULT_ROUND_TIMEOUT_CAP_MS}, ${D.DEFAULT_ROUND_TIMEOUT_FRACTION} × the inner phase's duration)).`,
      ),
    inlineMaxBytes: positiveInt()
      .max(4 * 1024 * 1024)
      .default(D.DEFAULT_INLINE_MAX_BYTES)
      .describe(
        doc(
          'Largest update payload sent inline on gossipsub; larger ones are fetched by hash over a direct stream.',
          D.DEFAULT_INLINE_MAX_BYTES,
        ),
      ),
    maxSamplesPerUpdate: positiveInt()
      .optional()
      .describe(
        "A peer's claimed sample count weighs at most this much in aggregation. Default: no fixed cap (no claim weighs more than the median claim of its round).",
      ),
    maxRoundsAhead: positiveInt()
      .max(1000)
      .default(D.DEFAULT_MAX_ROUNDS_AHEAD)
      .describe(
        doc(
          'Claims of peers to be more than this many rounds ahead are ignored (a swarm moves to another state only when a strict majority of the active peers vouch for it).',
          D.DEFAULT_MAX_ROUNDS_AHEAD,
        ),
      ),
    localParams: z
      .array(namePattern())
      .default([...D.DEFAULT_LOCAL_PARAMS])
      .describe(
        doc(
          'Patterns of parameters trained locally but never averaged (personal layers).',
          D.DEFAULT_LOCAL_PARAMS,
        ),
      ),
  })
  .describe('The averaging protocol (DiLoCo-style rounds of compressed pseudo-gradients).');

export const swarmSchema = z
  .strictObject({
    runId: z
      .string()
      .min(1)
      .max(64)
      .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, {
        message:
          'run id may only contain letters, digits, dot, dash and underscore, starting with a letter or digit',
      })
      .optional()
      .describe(
        'Name of the training run to join; peers with the same runId train together. Required to join.',
      ),
    bootstrap: z
      .array(multiaddrString(true, EXAMPLE_PEER_ADDR))
      .default([...D.DEFAULT_BOOTSTRAP])
      .describe(doc('Multiaddrs (with /p2p/<peer id>) of peers to connect to first.', D.DEFAULT_BOOTSTRAP)),
    listen: z
      .array(multiaddrString(false, EXAMPLE_LISTEN_ADDR))
      .default([...D.DEFAULT_LISTEN])
      .describe(doc('Multiaddrs to listen on (port 0: any free port).', D.DEFAULT_LISTEN)),
    announce: z
      .array(multiaddrString(false, EXAMPLE_LISTEN_ADDR))
      .default([...D.DEFAULT_ANNOUNCE])
      .describe(
        doc(
          'Multiaddrs to announce to other peers instead of the listen addresses (behind NAT).',
          D.DEFAULT_ANNOUNCE,
        ),
      ),
    mdns: z
      .boolean()
      .default(D.DEFAULT_MDNS)
      .describe(doc('Discover peers on the local network with mDNS.', D.DEFAULT_MDNS)),
    peerSearchTimeoutMs: positiveInt()
      .max(3_600_000)
      .default(D.DEFAULT_PEER_SEARCH_TIMEOUT_MS)
      .describe(
        doc(
          'How long a joining peer looks for peers of its run before it says it found none, in ms (and `join --require-peers` gives up).',
          D.DEFAULT_PEER_SEARCH_TIMEOUT_MS,
        ),
      ),
    swarmKeyFile: filePath()
      .optional()
      .describe('Pre-shared key file of a private swarm; the file must exist. Default: none (public swarm).'),
    identityFile: filePath()
      .optional()
      .describe(
        `This node's private key, created on first start. Default: <workDir>/${D.DEFAULT_IDENTITY_FILE_NAME}.`,
      ),
    checkpointEveryRounds: nonNegativeInt()
      .default(D.DEFAULT_CHECKPOINT_EVERY_ROUNDS)
      .describe(
        doc(
          'Rounds between checkpoints of this peer (<workDir>/swarm-checkpoint.safetensors, written atomically; 0: only when it leaves). `join --resume` continues from it.',
          D.DEFAULT_CHECKPOINT_EVERY_ROUNDS,
        ),
      ),
    maxConnections: positiveInt()
      .default(D.DEFAULT_MAX_CONNECTIONS)
      .describe(doc('Most open connections of this node.', D.DEFAULT_MAX_CONNECTIONS)),
    maxConnectionsPerIp: positiveInt()
      .default(D.DEFAULT_MAX_CONNECTIONS_PER_IP)
      .describe(doc('Most connections from one remote IP address.', D.DEFAULT_MAX_CONNECTIONS_PER_IP)),
    allowPrivateAddresses: z
      .boolean()
      .optional()
      .describe(
        'Whether loopback and private-range addresses that peers gossip about themselves are dialled. Default: loopback when this node listens on loopback; private ranges when it listens on one or mDNS is on.',
      ),
    averaging: averagingSchema.prefault({}),
  })
  .describe('Peer-to-peer networking and the averaging protocol.');

// ---------------------------------------------------------------- metrics

export const metricsSchema = z
  .strictObject({
    prometheusPort: int()
      .min(1)
      .max(65535)
      .optional()
      .describe('Serve Prometheus metrics on this TCP port. Default: off.'),
  })
  .describe('Metrics export.');

// ---------------------------------------------------------------- root

export const configSchema = z
  .strictObject({
    version: z
      .literal(D.CONFIG_VERSION)
      .default(D.CONFIG_VERSION)
      .describe(doc('Version of the config file format.', D.CONFIG_VERSION)),
    node: nodeSchema.prefault({}),
    hardware: hardwareSchema.prefault({}),
    model: modelSchema,
    data: dataSchema,
    training: trainingSchema.prefault({}),
    swarm: swarmSchema.prefault({}),
    metrics: metricsSchema.prefault({}),
  })
  .describe('Enjambre node config.');

/** What a config file may contain (defaults optional). */
export type ConfigInput = z.input<typeof configSchema>;
/** The schema's output: defaults filled, but machine-dependent defaults and paths not yet resolved. */
export type ParsedConfig = z.output<typeof configSchema>;
