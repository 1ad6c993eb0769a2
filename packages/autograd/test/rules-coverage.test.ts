import { supportedOps } from '@enjambre/autograd';
import { describe, expect, it } from 'vitest';
import { buildCase } from './helpers.ts';
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
});
