import { supportedOps } from '@enjambre/autograd';
import { GraphBuilder, makeModel } from '@enjambre/onnx';
import { describe, expect, it } from 'vitest';
import { buildCase } from './helpers.ts';
import { ortRunner } from './ort-runner.ts';
import { elementwiseCases, nnCases, shapeCases } from './rule-cases.ts';

describe('gradient rule coverage', () => {
  const cases = [...elementwiseCases, ...shapeCases, ...nnCases];

  it('every registered rule is exercised by at least one gradcheck case', () => {
    const covered = new Set(cases.flatMap((c) => buildCase(c).ops));
    const missing = supportedOps().filter((op) => !covered.has(op));
    expect(missing).toEqual([]);
  });

  it('every float32 case says why it is not float64', () => {
    const unexplained = cases.filter((c) => c.dtype === 'float32' && !c.why).map((c) => c.name);
    expect(unexplained).toEqual([]);
  });

  it('case names are unique', () => {
    const names = cases.map((c) => c.name);
    expect(new Set(names).size).toBe(names.length);
  });

  /**
   * Why some cases run in float32: onnxruntime-node 1.30's CPU provider has no float64 kernel for
   * these ops (Conv's gradient also needs ConvTranspose; Gelu's exact gradient needs Erf). If a
   * later onnxruntime adds one, this test fails and those cases can move to float64.
   */
  it.each([
    ['Erf', [[2, 3]], {}],
    [
      'Conv',
      [
        [1, 1, 3, 3],
        [1, 1, 2, 2],
      ],
      {},
    ],
    [
      'ConvTranspose',
      [
        [1, 1, 3, 3],
        [1, 1, 2, 2],
      ],
      {},
    ],
    ['GlobalAveragePool', [[1, 2, 3, 3]], {}],
  ] as [string, number[][], Record<string, number>][])(
    'onnxruntime CPU has no float64 %s kernel',
    async (op, shapes, attrs) => {
      const b = new GraphBuilder('g');
      const ins = shapes.map((s, i) => b.input(`in${i}`, 'float64', s));
      b.output(b.op(op, ins, attrs), 'float64');
      await expect(ortRunner(makeModel(b.graph))).rejects.toThrow(/Could not find an implementation/);
    },
  );
});
