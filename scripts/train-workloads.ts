/**
 * The reference training workloads of docs/workloads.md as Enjambre builds them,
 * with fixed random batches held in memory. Shared by scripts/bench-train.ts and
 * scripts/prof-train.ts.
 */
import {
  type CompiledTraining,
  type CompileOptions,
  compileTraining,
  type HostTensor,
} from '@enjambre/autograd';
import { type BuiltModel, createModel, initRng } from '@enjambre/models';
import type { TrainBatch } from '@enjambre/runtime';

export const WORKLOAD_IDS = ['mnist-mlp', 'mnist-cnn', 'shakespeare-char'] as const;
export type WorkloadId = (typeof WORKLOAD_IDS)[number];

export interface Workload {
  id: WorkloadId;
  /** One line: model and batch. */
  description: string;
  batch: number;
  /** FLOPs of one training step (forward + backward + update), from workloads.md. */
  flopsPerStep: number;
  model: BuiltModel;
}

const MNIST = {
  inputs: { dtype: 'float32', shape: [784] },
  labels: { dtype: 'int64', shape: [] },
  numClasses: 10,
} as const;

export function buildWorkload(id: WorkloadId): Workload {
  switch (id) {
    case 'mnist-mlp':
      return {
        id,
        description: 'MLP 784-256-256-10 ReLU, batch 64, AdamW',
        batch: 64,
        flopsPerStep: 77.5e6,
        model: createModel({ kind: 'mlp', hidden: [256, 256] }, MNIST),
      };
    case 'mnist-cnn':
      return {
        id,
        description: 'conv32-conv64-maxpool-fc128-fc10, batch 64, AdamW',
        batch: 64,
        flopsPerStep: 4.58e9,
        model: createModel({ kind: 'cnn', channels: [32, 64], hidden: 128 }, MNIST),
      };
    case 'shakespeare-char':
      return {
        id,
        description: 'char transformer 4 layers × 4 heads, width 128, context 64, batch 12, dropout 0, AdamW',
        batch: 12,
        flopsPerStep: 3.96e9,
        model: createModel(
          { kind: 'char-transformer', layers: 4, heads: 4, width: 128, context: 64, dropout: 0 },
          {
            inputs: { dtype: 'int64', shape: [64] },
            labels: { dtype: 'int64', shape: [64] },
            vocabSize: 65,
          },
        ),
      };
  }
}

export function compileWorkload(w: Workload, stepsPerRun: number): CompiledTraining {
  const opts: CompileOptions = { optimizer: { kind: 'adamw' }, stepsPerRun };
  return compileTraining(w.model, opts);
}

/** `count` random batches (seeded): uniform pixels for MNIST, uniform token ids for text. */
export function randomBatches(w: Workload, count: number, seed = 1): TrainBatch[] {
  const rng = initRng(seed, `bench/${w.id}`);
  const input = w.model.dataInputs[0];
  const out: TrainBatch[] = [];
  for (let i = 0; i < count; i++) {
    if (w.id === 'shakespeare-char') {
      const n = w.batch * 64;
      const ids = (): HostTensor => ({
        dtype: 'int64',
        dims: [w.batch, 64],
        data: BigInt64Array.from({ length: n }, () => BigInt(rng.u32() % 65)),
      });
      out.push({ inputs: { [input]: ids() }, labels: ids() });
    } else {
      const x = new Float32Array(w.batch * 784);
      for (let j = 0; j < x.length; j++) x[j] = rng.u32() / 2 ** 32;
      const y = BigInt64Array.from({ length: w.batch }, () => BigInt(rng.u32() % 10));
      out.push({
        inputs: { [input]: { dtype: 'float32', dims: [w.batch, 784], data: x } },
        labels: { dtype: 'int64', dims: [w.batch], data: y },
      });
    }
  }
  return out;
}

/** The model's initial trainable parameters (copies). */
export function initialParams(w: Workload, c: CompiledTraining): Record<string, HostTensor> {
  const byName = new Map(w.model.graph.initializers.map((t) => [t.name, t]));
  const out: Record<string, HostTensor> = {};
  for (const p of c.params) {
    const t = byName.get(p.name)!;
    out[p.name] = { dtype: t.dtype, dims: t.dims, data: t.data.slice() } as HostTensor;
  }
  return out;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
