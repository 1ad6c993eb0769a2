import {
  DEFAULT_TRANSFORMER_BIAS,
  DEFAULT_TRANSFORMER_CONTEXT,
  DEFAULT_TRANSFORMER_DROPOUT,
  DEFAULT_TRANSFORMER_HEADS,
  DEFAULT_TRANSFORMER_LAYERS,
  DEFAULT_TRANSFORMER_TIE_WEIGHTS,
  DEFAULT_TRANSFORMER_WIDTH,
} from '@enjambre/config';
import {
  BATCH_DIM,
  checkDType,
  checkEnum,
  checkPositiveInt,
  checkSeed,
  finishModel,
  INPUT_NAME,
  LABELS_NAME,
} from './common.ts';
import { DataShapeError, ModelOptionError } from './errors.ts';
import { ModelBuilder } from './layers.ts';
import type { BuiltModel, DataInfo, ModelDType } from './types.ts';

/** Default GELU form. */
export const DEFAULT_TRANSFORMER_GELU: GeluForm = 'erf';
/** Standard deviation of nanoGPT's initialisation. */
export const TRANSFORMER_INIT_STD = 0.02;
/** Value added to attention scores of future positions (exp of it underflows to 0). */
export const MASKED_SCORE = -1e9;

/** `'erf'`: exact GELU built from Erf (float32 only on the CPU provider); `'tanh'`: the tanh approximation. */
export type GeluForm = 'erf' | 'tanh';

/** Options of the `char-transformer` model (nanoGPT-style decoder). */
export interface CharTransformerOptions {
  kind: 'char-transformer';
  /** Parameter dtype. Default `'float32'`; `'float64'` needs `gelu: 'tanh'` (Erf is float32-only). */
  dtype?: ModelDType;
  /** Transformer blocks. Default 4. */
  layers?: number;
  /** Attention heads per block; must divide width. Default 4. */
  heads?: number;
  /** Embedding width. Default 128. */
  width?: number;
  /** Context length T: the fixed sequence length of inputs and labels. Default 64; the data's sequence length when it has one. */
  context?: number;
  /** Vocabulary size. Default: the data's `vocabSize`. */
  vocabSize?: number;
  /** Dropout probability in [0, 1) after embeddings, attention weights, and each residual branch. Default 0. */
  dropout?: number;
  /** Whether linear layers and layer norms have biases. Default true. */
  bias?: boolean;
  /** Whether the LM head shares the token-embedding matrix. Default false. */
  tieWeights?: boolean;
  /** GELU form in the MLP. Default `'erf'`. */
  gelu?: GeluForm;
  /** Seed of the weight initialisation. Default 0. */
  seed?: number;
}

export interface ResolvedCharTransformerOptions {
  kind: 'char-transformer';
  dtype: ModelDType;
  layers: number;
  heads: number;
  width: number;
  context: number;
  vocabSize: number;
  dropout: number;
  bias: boolean;
  tieWeights: boolean;
  gelu: GeluForm;
  seed: number;
}

const NAME = 'char-transformer';

export function resolveCharTransformerOptions(
  options: CharTransformerOptions,
  data?: DataInfo,
): ResolvedCharTransformerOptions {
  const dtype = checkDType(options.dtype, NAME);
  const layers = checkPositiveInt(options.layers ?? DEFAULT_TRANSFORMER_LAYERS, 'layers', NAME);
  const heads = checkPositiveInt(options.heads ?? DEFAULT_TRANSFORMER_HEADS, 'heads', NAME);
  const width = checkPositiveInt(options.width ?? DEFAULT_TRANSFORMER_WIDTH, 'width', NAME);
  if (width % heads !== 0) {
    throw new ModelOptionError(
      `${NAME}: heads must divide width (${width} / ${heads} is not a whole number)`,
      'heads',
    );
  }
  if (data && data.inputs.dtype !== 'int64') {
    throw new DataShapeError(`${NAME}: the data's inputs are ${data.inputs.dtype}; expected int64 token ids`);
  }
  if (data && data.inputs.shape.length !== 1) {
    throw new DataShapeError(
      `${NAME}: the data's examples have shape [${data.inputs.shape}]; expected [context] token ids`,
    );
  }
  const dataContext = data?.inputs.shape[0];
  const context = checkPositiveInt(
    options.context ?? dataContext ?? DEFAULT_TRANSFORMER_CONTEXT,
    'context',
    NAME,
  );
  if (dataContext !== undefined && dataContext !== context) {
    throw new DataShapeError(
      `${NAME}: context is ${context} but the data's sequences have ${dataContext} tokens`,
    );
  }
  if (
    data &&
    (data.labels.shape.length !== 1 || data.labels.shape[0] !== context || data.labels.dtype !== 'int64')
  ) {
    throw new DataShapeError(
      `${NAME}: the data's labels are ${data.labels.dtype} [${data.labels.shape}]; expected int64 [${context}] next tokens`,
    );
  }
  const vocab = options.vocabSize ?? data?.vocabSize ?? data?.numClasses;
  if (vocab === undefined)
    throw new ModelOptionError(`${NAME}: vocabSize is required (the data gives none)`, 'vocabSize');
  const vocabSize = checkPositiveInt(vocab, 'vocabSize', NAME);
  const dropout = options.dropout ?? DEFAULT_TRANSFORMER_DROPOUT;
  if (typeof dropout !== 'number' || !(dropout >= 0 && dropout < 1)) {
    throw new ModelOptionError(
      `${NAME}: dropout must be a number in [0, 1), got ${JSON.stringify(dropout)}`,
      'dropout',
    );
  }
  const bias = options.bias ?? DEFAULT_TRANSFORMER_BIAS;
  const tieWeights = options.tieWeights ?? DEFAULT_TRANSFORMER_TIE_WEIGHTS;
  if (typeof bias !== 'boolean') throw new ModelOptionError(`${NAME}: bias must be true or false`, 'bias');
  if (typeof tieWeights !== 'boolean')
    throw new ModelOptionError(`${NAME}: tieWeights must be true or false`, 'tieWeights');
  const gelu = checkEnum(options.gelu, 'gelu', NAME, ['erf', 'tanh'], DEFAULT_TRANSFORMER_GELU);
  if (gelu === 'erf' && dtype === 'float64') {
    throw new ModelOptionError(
      `${NAME}: gelu 'erf' needs dtype float32 (onnxruntime's CPU Erf is float32-only); use gelu 'tanh' for float64`,
      'gelu',
    );
  }
  const seed = checkSeed(options.seed, NAME);
  return {
    kind: 'char-transformer',
    dtype,
    layers,
    heads,
    width,
    context,
    vocabSize,
    dropout,
    bias,
    tieWeights,
    gelu,
    seed,
  };
}

/**
 * A nanoGPT-style decoder. Input: int64 token ids [batch, context]; output: logits
 * [batch, context, vocabSize]; labels: int64 next tokens [batch, context]; loss: cross-entropy.
 *
 * Parameters: `wte` [vocab, width], `wpe` [context, width], per block `h.<i>.ln_1.*`,
 * `h.<i>.attn.{q,k,v,proj}.{weight,bias}` (weights [in, out]), `h.<i>.ln_2.*`,
 * `h.<i>.mlp.{fc,proj}.*`, then `ln_f.*` and `lm_head.weight` [width, vocab] (absent when tied).
 * Init as nanoGPT: N(0, 0.02) for weights and embeddings, N(0, 0.02/√(2·layers)) for the residual
 * projections, zero biases, unit layer-norm scales.
 */
export function buildCharTransformer(options: CharTransformerOptions, data?: DataInfo): BuiltModel {
  const o = resolveCharTransformerOptions(options, data);
  const m = new ModelBuilder(NAME, o.dtype, o.seed);
  const b = m.b;
  const { width: C, heads: H, context: T, vocabSize: V } = o;
  const D = C / H;
  const normal = { kind: 'normal' as const, std: TRANSFORMER_INIT_STD };
  const residual = { kind: 'normal' as const, std: TRANSFORMER_INIT_STD / Math.sqrt(2 * o.layers) };
  const bias = o.bias ? undefined : (false as const);

  b.input(INPUT_NAME, 'int64', [BATCH_DIM, T]);
  const wte = m.param('wte', [V, C], normal);
  const wpe = m.param('wpe', [T, C], normal);
  let x = b.op(
    'Add',
    [b.op('Gather', [wte, INPUT_NAME], { axis: 0 }, { hint: 'tok_emb' }), wpe],
    {},
    { hint: 'emb' },
  );
  x = m.dropout(x, o.dropout);

  // Causal mask: true where the key position is not after the query position.
  const mask = b.constant(
    'bool',
    [T, T],
    Array.from({ length: T * T }, (_, i) => (i % T <= Math.floor(i / T) ? 1 : 0)),
    'causal_mask',
  );
  const headsShape = b.ints([-1, T, H, D]);
  const mergedShape = b.ints([-1, T, C]);
  const scale = m.scalar(1 / Math.sqrt(D));
  const masked = m.scalar(MASKED_SCORE);

  for (let l = 0; l < o.layers; l++) {
    const p = `h.${l}`;
    // Attention.
    const h1 = m.layerNorm(x, `${p}.ln_1`, C, o.bias);
    const split = (name: string, perm: number[]) => {
      const y = m.linear(h1, `${p}.attn.${name}`, C, C, { weight: normal, bias });
      return b.op(
        'Transpose',
        [b.op('Reshape', [y, headsShape])],
        { perm },
        { hint: `${p}.attn.${name}.heads` },
      );
    };
    const q = split('q', [0, 2, 1, 3]); // [N, H, T, D]
    const k = split('k', [0, 2, 3, 1]); // [N, H, D, T]
    const v = split('v', [0, 2, 1, 3]); // [N, H, T, D]
    const scores = b.op('Mul', [b.op('MatMul', [q, k]), scale], {}, { hint: `${p}.attn.scores` });
    const causal = b.op('Where', [mask, scores, masked], {}, { hint: `${p}.attn.masked` });
    const att = m.dropout(b.op('Softmax', [causal], { axis: -1 }, { hint: `${p}.attn.weights` }), o.dropout);
    const ctx = b.op('Transpose', [b.op('MatMul', [att, v])], { perm: [0, 2, 1, 3] });
    const merged = b.op('Reshape', [ctx, mergedShape], {}, { hint: `${p}.attn.merged` });
    const attnOut = m.linear(merged, `${p}.attn.proj`, C, C, { weight: residual, bias });
    x = b.op('Add', [x, m.dropout(attnOut, o.dropout)], {}, { hint: `${p}.resid_1` });
    // MLP.
    const h2 = m.layerNorm(x, `${p}.ln_2`, C, o.bias);
    const fc = m.linear(h2, `${p}.mlp.fc`, C, 4 * C, { weight: normal, bias });
    const act = o.gelu === 'erf' ? m.geluErf(fc) : m.geluTanh(fc);
    const mlpOut = m.linear(act, `${p}.mlp.proj`, 4 * C, C, { weight: residual, bias });
    x = b.op('Add', [x, m.dropout(mlpOut, o.dropout)], {}, { hint: `${p}.resid_2` });
  }
  x = m.layerNorm(x, 'ln_f', C, o.bias);
  const head = o.tieWeights
    ? b.op('Transpose', [wte], { perm: [1, 0] }, { hint: 'lm_head.tied' })
    : m.param('lm_head.weight', [C, V], normal);
  const logits = b.op('MatMul', [x, head], {}, { hint: 'logits' });
  b.output(logits, o.dtype, [BATCH_DIM, T, V]);

  return finishModel({
    kind: 'char-transformer',
    graph: b.graph,
    dataInputs: [INPUT_NAME],
    output: logits,
    loss: 'cross-entropy',
    labels: { name: LABELS_NAME, dtype: 'int64', shape: [BATCH_DIM, T] },
    trainable: m.trainable,
    options: o,
    describe:
      `char-transformer ${o.layers} layers × ${o.heads} heads, width ${C}, context ${T}, vocab ${V}` +
      `${o.dropout > 0 ? `, dropout ${o.dropout}` : ''}${o.tieWeights ? ', tied' : ''}${o.bias ? '' : ', no bias'} ${o.dtype}`,
  });
}
