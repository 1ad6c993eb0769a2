import { describe, expect, it } from 'vitest';
import { checkOp, TOL_F32, TOL_F64 } from './helpers.ts';
import { shapeCases } from './rule-cases.ts';

describe('shape gradient rules match finite differences', () => {
  for (const c of shapeCases) {
    it(`${c.name} (${c.dtype})`, async () => {
      const report = await checkOp(c);
      if (process.env.GRADCHECK_LOG)
        process.stdout.write(
          `${c.name}: ${report.maxRelError.toExponential(2)} abs ${Math.max(...report.params.map((p) => p.maxAbsError)).toExponential(2)} ${JSON.stringify(report.params.map((p) => p.checked))}\n`,
        );
      expect(report.dtype).toBe(c.dtype);
      expect(report.maxRelError).toBeLessThan(c.tol ?? (c.dtype === 'float64' ? TOL_F64 : TOL_F32));
    });
  }
});
