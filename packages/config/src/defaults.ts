/**
 * Every default of the node config, in one place. The schema, the generated JSON Schema, the
 * markdown reference and the config template all read these constants, so they cannot drift.
 */

/** Version of the config file format this package reads. */
export const CONFIG_VERSION = 1;

// node
/** Working directory for checkpoints, identity and caches, relative to the config file. */
export const DEFAULT_WORK_DIR = '.enjambre';

// hardware
/** Execution providers in order of preference; `cpu` is always tried last. */
export const DEFAULT_EXECUTION_PROVIDERS: readonly ('cuda' | 'webgpu' | 'cpu')[] = ['cpu'];
/** CUDA device ordinal. */
export const DEFAULT_CUDA_DEVICE_ID = 0;
/** Threads used between independent graph nodes. */
export const DEFAULT_INTER_OP_THREADS = 1;

// model
/** Element type of parameters and activations. */
export const DEFAULT_DTYPE = 'float32';
/** Hidden layer sizes of the MLP. */
export const DEFAULT_MLP_HIDDEN: readonly number[] = [256, 256];
/** Activation of the MLP's hidden layers. */
export const DEFAULT_MLP_ACTIVATION = 'relu';
/** Output channels of the CNN's convolution layers. */
export const DEFAULT_CNN_CHANNELS: readonly number[] = [32, 64];
/** Width of the CNN's fully connected hidden layer. */
export const DEFAULT_CNN_HIDDEN = 128;
/** Char-transformer: number of decoder blocks. */
export const DEFAULT_TRANSFORMER_LAYERS = 4;
/** Char-transformer: attention heads per block. */
export const DEFAULT_TRANSFORMER_HEADS = 4;
/** Char-transformer: embedding width. */
export const DEFAULT_TRANSFORMER_WIDTH = 128;
/** Char-transformer: context length in tokens. */
export const DEFAULT_TRANSFORMER_CONTEXT = 64;
/** Char-transformer: dropout probability. */
export const DEFAULT_TRANSFORMER_DROPOUT = 0;
/** Char-transformer: whether linear layers and layer norms have a bias. */
export const DEFAULT_TRANSFORMER_BIAS = true;
/** Char-transformer: whether the output projection shares the token embedding. */
export const DEFAULT_TRANSFORMER_TIE_WEIGHTS = false;
/** ONNX model: patterns of initializers that stay fixed. */
export const DEFAULT_ONNX_FROZEN: readonly string[] = [];
/** ONNX model: loss attached to the output. */
export const DEFAULT_ONNX_LOSS = 'cross-entropy';

// data
/** Seed for shuffling, splits and synthetic data. */
export const DEFAULT_DATA_SEED = 1;
/** Text: read bytes (256 symbols) instead of the characters found in the file. */
export const DEFAULT_TEXT_BYTE_LEVEL = false;
/** Text: fraction held out, taken from the end of the file, for validation. */
export const DEFAULT_TEXT_VALID_FRACTION = 0.1;
/** CSV: fraction of rows held out for validation. */
export const DEFAULT_CSV_VALID_FRACTION = 0.2;
/** CSV: kind of prediction task. */
export const DEFAULT_CSV_TASK = 'classification';
/** Synthetic: number of generated examples. */
export const DEFAULT_SYNTHETIC_EXAMPLES = 4096;
/** Synthetic: number of input features per example. */
export const DEFAULT_SYNTHETIC_FEATURES = 16;
/** Synthetic: number of classes. */
export const DEFAULT_SYNTHETIC_CLASSES = 4;

// training
/** Examples per optimizer step. */
export const DEFAULT_BATCH_SIZE = 64;
/** Inner optimizer. */
export const DEFAULT_OPTIMIZER = 'adamw';
/** Learning rate (peak rate when a schedule is used). */
export const DEFAULT_LR = 1e-3;
/** AdamW first-moment decay. */
export const DEFAULT_BETA1 = 0.9;
/** AdamW second-moment decay. */
export const DEFAULT_BETA2 = 0.999;
/** AdamW epsilon. */
export const DEFAULT_EPS = 1e-8;
/** Decoupled weight decay (AdamW) or L2 penalty (SGD). */
export const DEFAULT_WEIGHT_DECAY = 0.01;
/**
 * Which parameters weight decay applies to: `'matrices'` (rank ≥ 2: weights and embeddings, not
 * biases or normalization gains, as in nanoGPT and most transformer recipes), `'all'` (as
 * `torch.optim.AdamW` applied to every parameter), `'none'`, or a list of name patterns.
 */
export const DEFAULT_WEIGHT_DECAY_PARAMS: 'all' | 'matrices' | 'none' | readonly string[] = 'matrices';
/** SGD momentum. */
export const DEFAULT_MOMENTUM = 0.9;
/** SGD: Nesterov momentum. */
export const DEFAULT_NESTEROV = false;
/** Learning-rate schedule. */
export const DEFAULT_LR_SCHEDULE = 'constant';
/** Steps of linear warm-up from 0 to the learning rate. */
export const DEFAULT_WARMUP_STEPS = 0;
/** Cosine schedule: the final learning rate is this fraction of `lr` unless `minLr` is set. */
export const DEFAULT_MIN_LR_RATIO = 0.1;
/** Optimizer steps per session run (K steps looped inside one graph). */
export const DEFAULT_STEPS_PER_RUN = 10;
/** Steps between evaluations on the validation split (0: never). */
export const DEFAULT_EVAL_EVERY = 250;
/** Batches per evaluation. */
export const DEFAULT_EVAL_BATCHES = 20;
/** Steps between checkpoints (0: only on exit). */
export const DEFAULT_CHECKPOINT_EVERY = 1000;

// swarm
/** Addresses to listen on. */
export const DEFAULT_LISTEN: readonly string[] = ['/ip4/0.0.0.0/tcp/0'];
/** Extra addresses to announce to peers. */
export const DEFAULT_ANNOUNCE: readonly string[] = [];
/** Bootstrap peers. */
export const DEFAULT_BOOTSTRAP: readonly string[] = [];
/** Discover peers on the local network with mDNS. */
export const DEFAULT_MDNS = true;
/** Rounds between a swarm peer's checkpoints (0: only when it leaves). */
export const DEFAULT_CHECKPOINT_EVERY_ROUNDS = 10;
/**
 * How long a joining peer looks for peers of its run before it says it found none (and why that
 * may be), and before `join --require-peers` gives up.
 */
export const DEFAULT_PEER_SEARCH_TIMEOUT_MS = 30_000;
/** File name of the node's private key inside the work directory. */
export const DEFAULT_IDENTITY_FILE_NAME = 'identity.key';
/** Inner optimizer steps per averaging round (H). */
export const DEFAULT_INNER_STEPS = 50;
/** Codec for pseudo-gradients. */
export const DEFAULT_CODEC = 'sign';
/** Top-k codec: fraction of values kept per chunk. */
export const DEFAULT_TOPK_FRACTION = 0.01;
/** Outer Nesterov learning rate (all codecs but top-k). */
export const DEFAULT_OUTER_LR = 0.7;
/** Outer Nesterov momentum (all codecs but top-k). */
export const DEFAULT_OUTER_MOMENTUM = 0.9;
/** Outer learning rate with the top-k codec (momentum with top-k diverged in simulation). */
export const DEFAULT_TOPK_OUTER_LR = 1.0;
/** Outer momentum with the top-k codec. */
export const DEFAULT_TOPK_OUTER_MOMENTUM = 0;
/** Robust aggregator of received updates. */
export const DEFAULT_AGGREGATOR = 'centered-clip';
/** Upper bound of the default round timeout. */
export const DEFAULT_ROUND_TIMEOUT_CAP_MS = 30_000;
/** Default round timeout as a fraction of the inner phase's duration (between the floor and the cap). */
export const DEFAULT_ROUND_TIMEOUT_FRACTION = 0.25;
/**
 * Lower bound of the default round timeout. 0.25 × the inner phase alone came out at 1 s for short
 * inner phases, shorter than the skew between peers on shared or unequal machines
 * (docs/swarm-benchmarks.md): rounds closed without updates that were seconds away. The wait ends
 * as soon as every active peer's update is in, so a longer bound costs only when a peer hangs.
 */
export const DEFAULT_ROUND_TIMEOUT_FLOOR_MS = 10_000;

/**
 * The default round timeout after an inner phase of `innerPhaseMs`:
 * max(10 s, min(30 s, 0.25 × the inner phase)). The one definition of the rule; the averaging
 * protocol and {@link roundTimeoutMs} in resolve.ts both use it.
 */
export function defaultRoundTimeoutMs(innerPhaseMs: number): number {
  const derived = Math.ceil(Math.max(0, innerPhaseMs) * DEFAULT_ROUND_TIMEOUT_FRACTION);
  return Math.max(DEFAULT_ROUND_TIMEOUT_FLOOR_MS, Math.min(DEFAULT_ROUND_TIMEOUT_CAP_MS, derived));
}
/**
 * Largest payload sent inline on gossipsub; larger ones are fetched by hash, once per peer.
 * Inline, gossipsub's forwarding put each 36 kB MNIST update on the wire 5 to 7 times
 * (docs/swarm-benchmarks.md); by hash, 1.4 times.
 */
export const DEFAULT_INLINE_MAX_BYTES = 16_384;
/** Claims of rounds more than this far ahead of a peer are ignored (no vote, no catch-up). */
export const DEFAULT_MAX_ROUNDS_AHEAD = 10;
/** Most open connections of a node. */
export const DEFAULT_MAX_CONNECTIONS = 64;
/** Most connections from one remote IP address (loopback exempt in a local swarm). */
export const DEFAULT_MAX_CONNECTIONS_PER_IP = 8;
/** Parameters trained but never averaged. */
export const DEFAULT_LOCAL_PARAMS: readonly string[] = [];

/** Largest config file read, in bytes. */
export const MAX_CONFIG_FILE_BYTES = 1 << 20;
