import { gradcheckModel } from '@enjambre/peer';
import { printJson, table, UsageError } from '../output.ts';
import type { Command } from './command.ts';

export const gradcheck: Command = {
  name: 'gradcheck',
  usage: `Usage: enjambre gradcheck --model <mlp|cnn|char-transformer|path.onnx> [--samples N] [--json]

Compares the autodiff gradient of every trainable parameter with central finite differences
of the loss, on a random batch, and prints the largest relative error per parameter. Runs in
float64 when every op of the model has a float64 kernel on the CPU provider, else in float32.
Run it on your own .onnx model to see whether Enjambre can train it.

  --model     a zoo model name or an .onnx file (required)
  --samples   coordinates checked per parameter (default 8)
  --seed      seed of the random batch and coordinates (default 1)
  --json      print one JSON document on stdout`,
  options: {
    model: { type: 'string' },
    samples: { type: 'string', default: '8' },
    seed: { type: 'string', default: '1' },
    json: { type: 'boolean', default: false },
  },
  async run(values) {
    if (typeof values.model !== 'string') throw new UsageError('gradcheck needs --model');
    const samples = Number(values.samples);
    if (!Number.isInteger(samples) || samples < 1)
      throw new UsageError(`--samples must be a positive integer, got ${values.samples}`);
    const r = await gradcheckModel(values.model, { samplesPerParam: samples, seed: Number(values.seed) });
    if (values.json) {
      printJson(r);
    } else {
      console.log(
        `${r.summary}\nprecision ${r.dtype}; a coordinate passes when |analytic - numeric| <= ${r.atol} + ${r.rtol}·|gradient|\n`,
      );
      console.log(
        table(
          ['parameter', 'size', 'checked', 'max rel error', 'max abs error', 'result'],
          r.params.map((p) => [
            p.name,
            p.size,
            p.checked,
            p.maxRelError.toExponential(2),
            p.maxAbsError.toExponential(2),
            p.passed ? 'ok' : 'FAIL',
          ]),
        ),
      );
      console.log(`\n${r.passed ? 'PASS' : 'FAIL'}: max relative error ${r.maxRelError.toExponential(2)}`);
      if (r.dtype === 'float32') {
        console.log(
          'float32: the loss carries ~1e-7 relative rounding noise and finite steps cross ReLU/max-pool kinks,\n' +
            'so whole-model checks are coarse; the per-op checks in the test suite are exact.',
        );
      }
    }
    return r.passed ? 0 : 1;
  },
};
