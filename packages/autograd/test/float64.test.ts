import { lowerErfToFloat64, toFloat64 } from '@enjambre/autograd';
import { GraphBuilder, makeModel } from '@enjambre/onnx';
import { describe, expect, it } from 'vitest';
import { ortRunner } from './ort-runner.ts';

/** erf to 16 digits (from tables of the error function; e.g. Abramowitz & Stegun table 7.1 and its successors). */
const ERF: [number, number][] = [
  [0, 0],
  [0.1, 0.1124629160182849],
  [0.5, 0.5204998778130465],
  [1, 0.8427007929497149],
  [-1.5, -0.9661051464753108],
  [2, 0.9953222650189527],
  [-3, -0.9999779095030014],
  [4, 0.9999999845827421],
  [7, 1],
];

describe('float64 lowering', () => {
  it('toFloat64 turns float32 values, constants and casts into float64, and keeps integers', () => {
    const b = new GraphBuilder('g');
    const x = b.input('x', 'float32', [2]);
    const ids = b.input('ids', 'int64', [2]);
    const w = b.initializer('w', 'float32', [2], Float32Array.of(0.5, 2));
    const y = b.op('Cast', [b.op('Mul', [x, w])], { to: 1 });
    b.graph.outputs = [{ name: y, type: { dtype: 'float32' } }];
    const g = toFloat64(b.graph);
    expect(g.inputs.map((v) => v.type.dtype)).toEqual(['float64', 'int64']);
    expect(g.initializers[0].data).toBeInstanceOf(Float64Array);
    expect(g.nodes.find((n) => n.op === 'Cast')?.attrs.to).toEqual({ type: 'int', value: 11 });
    expect(ids).toBe('ids');
  });

  it('lowerErfToFloat64 computes erf to a few ulp with primitive ops', async () => {
    const b = new GraphBuilder('erf');
    const x = b.input('x', 'float64', [ERF.length]);
    const y = b.op('Erf', [x]);
    b.graph.outputs = [{ name: y, type: { dtype: 'float64', shape: [ERF.length] } }];
    const lowered = lowerErfToFloat64(b.graph);
    expect(lowered.nodes.some((n) => n.op === 'Erf')).toBe(false);
    const out = await (await ortRunner(makeModel(lowered))).run({
      x: { dtype: 'float64', dims: [ERF.length], data: Float64Array.from(ERF, ([v]) => v) },
    });
    const got = out[y].data as Float64Array;
    ERF.forEach(([, expected], i) => {
      expect(Math.abs(got[i] - expected), `erf(${ERF[i][0]})`).toBeLessThan(4e-15);
    });
  });
});
