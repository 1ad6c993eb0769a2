import YAML from 'yaml';
import * as D from './defaults.ts';
import { configJsonSchema, type JsonSchemaNode, pickVariant } from './json-schema.ts';
import type { ConfigInput } from './schema.ts';
import type { ExecutionProvider } from './types.ts';

/** What a probe of the machine found; the template's hardware section is filled from it. */
export interface MachineProbe {
  /** Logical CPU cores. */
  cores: number;
  /** GPUs found (for example by `nvidia-smi`); empty when none. */
  gpus: readonly { name: string; memoryMB?: number }[];
  /** Whether onnxruntime's CUDA execution provider loaded. */
  cudaLoads: boolean;
  /** Whether onnxruntime's WebGPU execution provider found an adapter. Default: false. */
  webgpuLoads?: boolean;
  /** The machine's hostname; becomes `node.name` unless `nodeName` is given. */
  hostname?: string;
}

/** The reference workloads a template (and the examples folder) can start from. */
export const WORKLOADS = [
  'synthetic',
  'mnist-mlp',
  'mnist-cnn',
  'shakespeare-char',
  'shakespeare-char-gpu',
  'iris',
  'penguins',
] as const;
export type WorkloadId = (typeof WORKLOADS)[number];

/** Answers to `enjambre init`: everything the template needs. */
export interface TemplateAnswers {
  /** The machine probe (cores, GPUs, whether CUDA loads). */
  probe: MachineProbe;
  /** Reference workload giving the model, data and training sections. Default: `'synthetic'` (no files needed). */
  workload?: WorkloadId;
  /**
   * Folder holding the datasets in the reference layout (`mnist/train-images-idx3-ubyte.gz`,
   * `tinyshakespeare/input.txt`, `iris/iris.csv`, `penguins/penguins.csv`), relative to the config file.
   * Default: `'data'`.
   */
  dataDir?: string;
  /** `node.name`. Default: the probe's hostname, else left to the machine's hostname at load time. */
  nodeName?: string;
  /** `swarm.runId`. Default: left unset (solo training). */
  runId?: string;
  /** `swarm.bootstrap`. Default: none. */
  bootstrap?: readonly string[];
  /** `metrics.prometheusPort`. Default: off. */
  prometheusPort?: number;
}

type Section = Record<string, unknown>;

/** Model, data and training sections of a reference workload (see docs/workloads). */
export function workloadPreset(
  workload: WorkloadId,
  dataDir = 'data',
): { model: Section; data: Section; training: Section } {
  const at = (p: string) => `${dataDir.replace(/\/+$/, '')}/${p}`;
  const mnist = {
    format: 'mnist',
    trainImages: at('mnist/train-images-idx3-ubyte.gz'),
    trainLabels: at('mnist/train-labels-idx1-ubyte.gz'),
    testImages: at('mnist/t10k-images-idx3-ubyte.gz'),
    testLabels: at('mnist/t10k-labels-idx1-ubyte.gz'),
  };
  const shakespeare = { format: 'text', path: at('tinyshakespeare/input.txt'), validFraction: 0.1 };
  switch (workload) {
    case 'synthetic':
      return {
        model: { kind: 'mlp', hidden: [64] },
        data: { format: 'synthetic', examples: D.DEFAULT_SYNTHETIC_EXAMPLES },
        training: { batchSize: 32, maxSteps: 1000 },
      };
    case 'mnist-mlp':
      return {
        model: { kind: 'mlp', hidden: [256, 256], activation: 'relu' },
        data: mnist,
        training: { batchSize: 64, optimizer: { kind: 'adamw', lr: 1e-3 }, maxSteps: 1000 },
      };
    case 'mnist-cnn':
      return {
        model: { kind: 'cnn', channels: [32, 64], hidden: 128 },
        data: mnist,
        training: { batchSize: 64, optimizer: { kind: 'adamw', lr: 1e-3 }, maxSteps: 1000 },
      };
    case 'shakespeare-char':
      return {
        model: { kind: 'char-transformer', layers: 4, heads: 4, width: 128, context: 64, dropout: 0 },
        data: shakespeare,
        training: {
          batchSize: 12,
          optimizer: { kind: 'adamw', lr: 1e-3, beta2: 0.99, weightDecay: 0.1 },
          lrSchedule: { kind: 'cosine', warmupSteps: 100, minLr: 1e-4 },
          gradClip: 1,
          maxSteps: 2000,
        },
      };
    case 'shakespeare-char-gpu':
      return {
        model: { kind: 'char-transformer', layers: 6, heads: 6, width: 384, context: 256, dropout: 0.2 },
        data: shakespeare,
        training: {
          batchSize: 64,
          optimizer: { kind: 'adamw', lr: 1e-3, beta2: 0.99, weightDecay: 0.1 },
          lrSchedule: { kind: 'cosine', warmupSteps: 100, minLr: 1e-4 },
          gradClip: 1,
          maxSteps: 5000,
        },
      };
    case 'iris':
      return {
        model: { kind: 'mlp', hidden: [16] },
        data: { format: 'csv', path: at('iris/iris.csv'), target: 'species', validFraction: 0.2 },
        training: { batchSize: 16, optimizer: { lr: 1e-2 }, maxSteps: 300, evalEvery: 50 },
      };
    case 'penguins':
      return {
        model: { kind: 'mlp', hidden: [32] },
        data: {
          format: 'csv',
          path: at('penguins/penguins.csv'),
          target: 'species',
          categorical: ['island', 'sex'],
          validFraction: 0.2,
        },
        training: { batchSize: 16, optimizer: { lr: 1e-2 }, maxSteps: 500, evalEvery: 50 },
      };
  }
}

/** Execution providers worth trying on a probed machine, best first. */
export function suggestedExecutionProviders(probe: MachineProbe): ExecutionProvider[] {
  const providers: ExecutionProvider[] = [];
  if (probe.gpus.length > 0 && probe.cudaLoads) providers.push('cuda');
  if (probe.gpus.length > 0 && probe.webgpuLoads === true) providers.push('webgpu');
  providers.push('cpu');
  return providers;
}

const COMMENT_WIDTH = 100;

function wrapComment(text: string, indent: string): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter((w) => w.length > 0)) {
    if (line.length > 0 && indent.length + 2 + line.length + 1 + word.length > COMMENT_WIDTH) {
      lines.push(`${indent}# ${line}`);
      line = word;
    } else {
      line = line.length > 0 ? `${line} ${word}` : word;
    }
  }
  if (line.length > 0) lines.push(`${indent}# ${line}`);
  return lines;
}

function scalar(value: unknown): string {
  return YAML.stringify(value, {
    collectionStyle: 'flow',
    flowCollectionPadding: false,
    lineWidth: 0,
  }).trimEnd();
}

function isObjectNode(node: JsonSchemaNode): boolean {
  return node.type === 'object' || node.oneOf !== undefined || node.anyOf !== undefined;
}

function renderFields(
  node: JsonSchemaNode,
  values: Section,
  indent: string,
  out: string[],
  top: boolean,
): void {
  const variant = pickVariant(node, values) ?? node;
  for (const [key, child] of Object.entries(variant.properties ?? {})) {
    if (top) out.push('');
    if (child.description !== undefined) out.push(...wrapComment(child.description, indent));
    const value = values[key];
    if (isObjectNode(child)) {
      out.push(`${indent}${key}:`);
      renderFields(child, (value as Section | undefined) ?? {}, `${indent}  `, out, false);
      continue;
    }
    const shown = value !== undefined ? value : child.default;
    if (shown !== undefined) out.push(`${indent}${key}: ${scalar(shown)}`);
    else out.push(`${indent}# ${key}:`);
  }
}

/** The config (as input data) that {@link renderConfigTemplate} writes out, before comments. */
export function templateValues(answers: TemplateAnswers): ConfigInput {
  const { probe } = answers;
  const preset = workloadPreset(answers.workload ?? 'synthetic', answers.dataDir ?? 'data');
  const name = answers.nodeName ?? probe.hostname;
  return {
    node: { ...(name !== undefined ? { name } : {}), workDir: D.DEFAULT_WORK_DIR },
    hardware: {
      executionProviders: suggestedExecutionProviders(probe),
      cudaDeviceId: D.DEFAULT_CUDA_DEVICE_ID,
      intraOpThreads: Math.max(1, Math.floor(probe.cores)),
      interOpThreads: D.DEFAULT_INTER_OP_THREADS,
    },
    model: preset.model,
    data: preset.data,
    training: preset.training,
    swarm: {
      ...(answers.runId !== undefined ? { runId: answers.runId } : {}),
      bootstrap: [...(answers.bootstrap ?? [])],
    },
    metrics: answers.prometheusPort !== undefined ? { prometheusPort: answers.prometheusPort } : {},
  } as ConfigInput;
}

/**
 * A commented YAML config for a node: every field with a comment explaining it and its default,
 * values filled from the answers and the machine probe. The result validates with `parseConfig`
 * (given data files that exist under `dataDir`, for workloads that read files).
 */
export function renderConfigTemplate(answers: TemplateAnswers): string {
  const { probe } = answers;
  const workload = answers.workload ?? 'synthetic';
  const gpus =
    probe.gpus.length === 0
      ? 'no GPU'
      : probe.gpus
          .map((g) => `${g.name}${g.memoryMB !== undefined ? ` (${g.memoryMB} MiB)` : ''}`)
          .join(', ');
  const out: string[] = [
    '# Enjambre node config (YAML).',
    `# Workload: ${workload}. Machine: ${probe.cores} CPU cores; ${gpus}; CUDA provider ${probe.cudaLoads ? 'loads' : 'does not load'}.`,
    '# Relative paths are relative to this file. A key with no value means "use the default".',
    '# Full reference: docs/config-reference.md in the Enjambre repository.',
  ];
  if (workload !== 'synthetic') {
    out.push('# The data paths below follow the reference layout: point them at your own files.');
  }
  const values = templateValues(answers) as Section;
  renderFields(configJsonSchema(), values, '', out, true);
  return `${out.join('\n')}\n`;
}
