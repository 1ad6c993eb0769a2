import { type CompileRunner, type GradcheckReport, gradcheck, type HostTensor } from '@enjambre/autograd';
import { uniformSource } from '@enjambre/core';
import { type DataType, type Graph, GraphBuilder, inferTypes, tensorValues } from '@enjambre/onnx';
import { ortRunner } from './ort-runner.ts';

export type FloatType = 'float32' | 'float64';

/** How to draw a random tensor: uniform in [lo, hi], optionally kept at least `gap` away from 0. */
export interface Dist {
  lo?: number;
  hi?: number;
  /** Redraw values with |v| < gap (keeps kinks such as Relu's 0 out of the finite-difference step). */
  gap?: number;
}

export function randomValues(rand: () => number, n: number, dist: Dist = {}): number[] {
  const lo = dist.lo ?? -1;
  const hi = dist.hi ?? 1;
  const gap = dist.gap ?? 0;
  return Array.from({ length: n }, () => {
    for (;;) {
      const v = lo + (hi - lo) * rand();
      if (Math.abs(v) >= gap) return v;
    }
  });
}

export function hostTensor(dtype: DataType, dims: number[], values: number[]): HostTensor {
  return { dtype, dims, data: tensorValues(dtype, values) };
}

export interface OpCase {
  dtype: FloatType;
  /** Trainable parameters (initializers with fresh random values). */
  params: Record<string, { dims: number[] } & Dist>;
  /** Fixed data inputs: float ones are random, int64/bool ones given explicitly. */
  data?: Record<string, { dims: number[]; dtype?: DataType; values?: number[] } & Dist>;
  /** Builds the op(s) under test from the named params/data; returns the output(s) the loss reads. */
  build(b: GraphBuilder, v: Record<string, string>): string | string[];
  seed?: number;
  samplesPerParam?: number;
  /** Opset or runner override (Gelu needs opset 20). */
  runner?: CompileRunner;
  /** Finite-difference step override. */
  epsilon?: number;
}

export interface BuiltCase {
  graph: Graph;
  loss: string;
  feeds: Record<string, HostTensor>;
  /** Op types of the forward graph before the loss was attached (for coverage accounting). */
  ops: string[];
}

/**
 * Builds a graph around the ops under test and attaches the loss Σ out ⊙ R, with R a fixed
 * random tensor per output (so every output element matters, each with a distinct weight).
 */
export function buildCase(c: OpCase): BuiltCase {
  const rand = uniformSource(c.seed ?? 1234);
  const b = new GraphBuilder('case');
  const names: Record<string, string> = {};
  const feeds: Record<string, HostTensor> = {};
  for (const [name, p] of Object.entries(c.params)) {
    const n = p.dims.reduce((a, d) => a * d, 1);
    names[name] = b.initializer(name, c.dtype, p.dims, tensorValues(c.dtype, randomValues(rand, n, p)));
  }
  for (const [name, d] of Object.entries(c.data ?? {})) {
    const dtype = d.dtype ?? c.dtype;
    const n = d.dims.reduce((a, x) => a * x, 1);
    names[name] = b.input(name, dtype, d.dims);
    feeds[name] = hostTensor(dtype, d.dims, d.values ?? randomValues(rand, n, d));
  }
  const built = c.build(b, names);
  const forwardOps = [...new Set(b.graph.nodes.map((n) => n.op))];
  const outs = Array.isArray(built) ? built : [built];
  const table = inferTypes(b.graph);
  const terms = outs.map((o, i) => {
    const t = table.types.get(o);
    const dims = t?.shape;
    if (!t || !dims?.every((d) => typeof d === 'number')) throw new Error(`output ${o} has no static shape`);
    const r = b.input(`R${i}`, t.dtype, dims as number[]);
    const n = (dims as number[]).reduce((a, x) => a * x, 1);
    feeds[r] = hostTensor(t.dtype, dims as number[], randomValues(rand, n, { lo: 0.5, hi: 1.5 }));
    return b.op('ReduceSum', [b.op('Mul', [o, r])], { keepdims: 0 });
  });
  const loss = terms.length === 1 ? terms[0] : b.op('Sum', terms);
  return { graph: b.graph, loss, feeds, ops: forwardOps };
}

/** Builds the case and compares its autodiff gradients with central finite differences. */
export async function checkOp(c: OpCase): Promise<GradcheckReport> {
  const { graph, loss, feeds } = buildCase(c);
  return gradcheck(
    graph,
    {
      loss,
      feeds,
      params: Object.keys(c.params),
      samplesPerParam: c.samplesPerParam ?? SAMPLES_PER_PARAM,
      seed: (c.seed ?? 1234) + 1,
      epsilon: c.epsilon,
    },
    c.runner ?? ortRunner,
  );
}

/**
 * Coordinates checked per parameter. Parameters in these tests are small (≤ 120 elements), so
 * 32 random coordinates touch most of them, including those whose true gradient is zero.
 */
export const SAMPLES_PER_PARAM = 32;

/** Relative-error bound used for float64 cases. */
export const TOL_F64 = 1e-6;
/**
 * Relative-error bound used for float32 cases: central differences with step 1e-2 on a
 * float32 loss are accurate to roughly 1e-3; 2e-2 leaves room for curvature (Erf, GELU).
 */
export const TOL_F32 = 2e-2;
