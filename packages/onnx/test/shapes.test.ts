import { describe, expect, it } from 'vitest';
import {
  type AttrInput,
  broadcastShapes,
  type Dim,
  float,
  GraphBuilder,
  inferTypes,
  ShapeInferenceError,
} from '../src/index.ts';

/** Builds one op on inputs of the given shapes and returns the inferred shape of its output(s). */
function infer(
  op: string,
  shapes: Dim[][],
  attrs: Record<string, AttrInput> = {},
  extra: (b: GraphBuilder) => string[] = () => [],
  outputs = 1,
): (Dim[] | undefined)[] {
  const b = new GraphBuilder('g');
  const ins = shapes.map((s, i) => b.input(`in${i}`, 'float32', s));
  const outs = b.opN(op, [...ins, ...extra(b)], outputs, attrs);
  const table = inferTypes(b.graph);
  return outs.map((o) => table.types.get(o)?.shape);
}
const one = (...args: Parameters<typeof infer>) => infer(...args)[0];

describe('broadcastShapes', () => {
  it('follows numpy rules, including rank extension', () => {
    expect(broadcastShapes([2, 1, 4], [3, 1])).toEqual([2, 3, 4]);
    expect(broadcastShapes([4], [2, 3, 4])).toEqual([2, 3, 4]);
    expect(broadcastShapes([], [3])).toEqual([3]);
    expect(broadcastShapes([5, 1], [1, 6])).toEqual([5, 6]);
  });
  it('keeps symbolic dims against 1 and against themselves, and prefers the number', () => {
    expect(broadcastShapes(['batch', 1], [3])).toEqual(['batch', 3]);
    expect(broadcastShapes(['batch', 3], ['batch', 1])).toEqual(['batch', 3]);
    expect(broadcastShapes(['n'], [4])).toEqual([4]);
  });
  it('rejects incompatible sizes', () => {
    expect(() => broadcastShapes([2, 3], [4], 'node x')).toThrow(ShapeInferenceError);
    expect(() => broadcastShapes([2, 3], [4], 'node x')).toThrow(/\[2,3\] and \[4\]/);
  });
  it('elementwise ops broadcast all their inputs', () => {
    expect(one('Sum', [[2, 1, 3], [3], [4, 1]])).toEqual([2, 4, 3]);
    expect(one('Where', [[3, 1], [3, 4], [4]])).toEqual([3, 4]);
  });
});

describe('MatMul and Gemm shapes', () => {
  it.each([
    [
      [2, 3, 4, 5],
      [5, 6],
      [2, 3, 4, 6],
    ],
    [[5], [5, 6], [6]],
    [[2, 3, 4], [4], [2, 3]],
    [[4], [4], []],
    [
      [3, 4],
      [2, 4, 5],
      [2, 3, 5],
    ],
    [
      [2, 1, 3, 4],
      [3, 4, 2],
      [2, 3, 3, 2],
    ],
    [
      ['batch', 8],
      [8, 16],
      ['batch', 16],
    ],
  ] as Dim[][][])('%j @ %j → %j', (a, b, out) => {
    expect(one('MatMul', [a, b])).toEqual(out);
  });
  it('rejects mismatched inner dimensions', () => {
    expect(() =>
      one('MatMul', [
        [2, 3],
        [4, 5],
      ]),
    ).toThrow(/inner dimensions 3 and 4/);
  });
  it('Gemm honours transA/transB', () => {
    expect(
      one(
        'Gemm',
        [
          [5, 3],
          [4, 5],
        ],
        { transA: 1, transB: 1 },
      ),
    ).toEqual([3, 4]);
    expect(one('Gemm', [['batch', 5], [5, 4], [4]])).toEqual(['batch', 4]);
  });
});

describe('Reshape', () => {
  const reshape = (input: Dim[], target: number[]) => one('Reshape', [input], {}, (b) => [b.ints(target)]);
  it('fills 0 from the input and infers -1', () => {
    expect(reshape([2, 3, 4], [0, -1])).toEqual([2, 12]);
    expect(reshape([2, 3, 4], [4, -1, 2])).toEqual([4, 3, 2]);
    expect(reshape([2, 3, 4], [-1])).toEqual([24]);
  });
  it('keeps a symbolic batch through 0 and -1', () => {
    expect(reshape(['batch', 3, 4], [0, -1])).toEqual(['batch', 12]);
    expect(reshape(['batch', 3, 4], [-1, 12])).toEqual(['batch', 12]);
    expect(reshape(['batch', 12], [-1, 3, 4])).toEqual(['batch', 3, 4]);
  });
  it('rejects a size that does not divide', () => {
    expect(() => reshape([2, 3, 4], [5, -1])).toThrow(ShapeInferenceError);
  });
  it('Flatten, Transpose, Squeeze, Unsqueeze', () => {
    expect(one('Flatten', [[2, 3, 4, 5]], { axis: 2 })).toEqual([6, 20]);
    expect(one('Flatten', [['batch', 3, 4]])).toEqual(['batch', 12]);
    expect(one('Transpose', [[2, 3, 4]], { perm: [2, 0, 1] })).toEqual([4, 2, 3]);
    expect(one('Transpose', [[2, 3, 4]])).toEqual([4, 3, 2]);
    expect(one('Squeeze', [[3, 1, 4, 1]], {}, (b) => [b.ints([1])])).toEqual([3, 4, 1]);
    expect(one('Squeeze', [[3, 1, 4, 1]])).toEqual([3, 4]);
    expect(one('Unsqueeze', [[3, 4]], {}, (b) => [b.ints([0, -1])])).toEqual([1, 3, 4, 1]);
  });
});

describe('Conv and pooling output sizes', () => {
  it('stride 2 with padding rounds down', () => {
    expect(
      one(
        'Conv',
        [
          [2, 2, 7, 6],
          [3, 2, 3, 3],
        ],
        { strides: [2, 2], pads: [1, 1, 1, 1] },
      ),
    ).toEqual([2, 3, 4, 3]);
  });
  it('dilation and asymmetric pads', () => {
    // effective kernel 3; H: (7+0+1-3)/1+1 = 6; W: (7+1+0-3)/2+1 = 3
    expect(
      one(
        'Conv',
        [
          [1, 2, 7, 7],
          [4, 2, 2, 2],
        ],
        { dilations: [2, 2], pads: [0, 1, 1, 0], strides: [1, 2] },
      ),
    ).toEqual([1, 4, 6, 3]);
  });
  it('1-D conv and a symbolic batch', () => {
    expect(
      one(
        'Conv',
        [
          ['batch', 3, 9],
          [2, 3, 3],
        ],
        { strides: [2] },
      ),
    ).toEqual(['batch', 2, 4]);
  });
  it('MaxPool floor and ceil mode, with the indices output', () => {
    expect(one('MaxPool', [[1, 2, 7, 6]], { kernel_shape: [3, 3], strides: [2, 2] })).toEqual([1, 2, 3, 2]);
    expect(one('MaxPool', [[1, 2, 7, 6]], { kernel_shape: [3, 3], strides: [2, 2], ceil_mode: 1 })).toEqual([
      1, 2, 3, 3,
    ]);
    const [y, idx] = infer('MaxPool', [[2, 2, 4, 6]], { kernel_shape: [2, 2], strides: [2, 2] }, () => [], 2);
    expect(y).toEqual([2, 2, 2, 3]);
    expect(idx).toEqual([2, 2, 2, 3]);
  });
  it('rejects auto_pad SAME_UPPER with a clear error', () => {
    expect(() =>
      one(
        'Conv',
        [
          [1, 1, 5, 5],
          [1, 1, 3, 3],
        ],
        { auto_pad: 'SAME_UPPER' },
      ),
    ).toThrow(/auto_pad/);
  });
});

describe('Slice, Split, Concat, Gather, reductions', () => {
  const slice = (input: Dim[], starts: number[], ends: number[], axes?: number[], steps?: number[]) =>
    one('Slice', [input], {}, (b) => [
      b.ints(starts),
      b.ints(ends),
      ...(axes ? [b.ints(axes)] : []),
      ...(steps ? [b.ints(steps)] : []),
    ]);
  it('Slice with negative starts, clamping and steps', () => {
    expect(slice([5, 6], [-3, 1], [100, -1], [0, 1])).toEqual([3, 4]);
    expect(slice([4, 5], [1, 2], [3, 5])).toEqual([2, 3]);
    expect(slice([10], [1], [8], [0], [3])).toEqual([3]);
    expect(slice([10], [-1], [-100], [0], [-1])).toEqual([10]);
    expect(slice([10], [5], [2], [0])).toEqual([0]);
    expect(slice(['batch', 6], [2], [4], [1])).toEqual(['batch', 2]);
  });
  it('Split by sizes and by num_outputs', () => {
    expect(infer('Split', [[2, 6]], { axis: 1 }, (b) => [b.ints([1, 2, 3])], 3)).toEqual([
      [2, 1],
      [2, 2],
      [2, 3],
    ]);
    expect(infer('Split', [['batch', 4]], { axis: -1, num_outputs: 2 }, () => [], 2)).toEqual([
      ['batch', 2],
      ['batch', 2],
    ]);
  });
  it('Concat adds sizes, keeping the symbolic batch', () => {
    expect(
      one(
        'Concat',
        [
          ['batch', 2],
          ['batch', 3],
        ],
        { axis: 1 },
      ),
    ).toEqual(['batch', 5]);
  });
  it('Gather puts the index shape in place of the axis', () => {
    const gather = (data: Dim[], idx: Dim[], axis: number) => {
      const b = new GraphBuilder('g');
      const d = b.input('d', 'float32', data);
      const i = b.input('i', 'int64', idx);
      const out = b.op('Gather', [d, i], { axis });
      return inferTypes(b.graph).types.get(out)?.shape;
    };
    expect(gather([5, 3], ['batch', 7], 0)).toEqual(['batch', 7, 3]);
    expect(gather([3, 5, 2], [4], 1)).toEqual([3, 4, 2]);
    expect(gather([2, 4, 3], [], 1)).toEqual([2, 3]);
  });
  it('reductions with axes as an input or attribute, keepdims 0/1', () => {
    const red = (op: string, s: Dim[], axes: number[] | null, keepdims: number) =>
      one(op, [s], { keepdims }, (b) => (axes ? [b.ints(axes)] : []));
    expect(red('ReduceSum', [2, 3, 4], [1], 0)).toEqual([2, 4]);
    expect(red('ReduceMean', [2, 3, 4], [0, -1], 1)).toEqual([1, 3, 1]);
    expect(red('ReduceMean', ['batch', 3, 4], null, 0)).toEqual([]);
    expect(one('ReduceMean', [[2, 3, 4]], { axes: [2], keepdims: 0 })).toEqual([2, 3]);
  });
});

describe('a symbolic batch through a small network', () => {
  it('keeps "batch" from input to logits', () => {
    const b = new GraphBuilder('mlp');
    const x = b.input('x', 'float32', ['batch', 1, 8, 8]);
    const w = b.initializer('w', 'float32', [4, 1, 3, 3], new Float32Array(36).fill(0.1));
    const c = b.op('Relu', [b.op('Conv', [x, w], { pads: [1, 1, 1, 1] })]);
    const p = b.op('MaxPool', [c], { kernel_shape: [2, 2], strides: [2, 2] });
    const f = b.op('Flatten', [p]);
    const fc = b.initializer('fc', 'float32', [64, 10], new Float32Array(640).fill(0.01));
    const logits = b.op('MatMul', [f, fc]);
    const norm = b.op('LayerNormalization', [logits, b.constant('float32', [10], new Array(10).fill(1))], {
      epsilon: float(1e-5),
    });
    const sm = b.op('Softmax', [norm], { axis: -1 });
    const t = inferTypes(b.graph).types;
    expect(t.get(c)?.shape).toEqual(['batch', 4, 8, 8]);
    expect(t.get(p)?.shape).toEqual(['batch', 4, 4, 4]);
    expect(t.get(f)?.shape).toEqual(['batch', 64]);
    expect(t.get(logits)?.shape).toEqual(['batch', 10]);
    expect(t.get(sm)).toEqual({ dtype: 'float32', shape: ['batch', 10] });
  });
});
