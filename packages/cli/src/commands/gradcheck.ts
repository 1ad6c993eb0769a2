import { gradcheckModel } from '@enjambre/peer';
import { printJson, table, UsageError } from '../output.ts';
import type { Command } from './command.ts';

export const gradcheck: Command = {
  name: 'gradcheck',
  usage: `Usage: enjambre gradcheck --model <mlp|cnn|char-transformer|path.onnx> [options] [--json]

Compares the autodiff gradient of every trainable parameter with central finite differences
of the model's own loss (cross-entropy for classifiers and language models) on a random batch:
labels over every class, token ids over the whole vocabulary. Prints the largest relative error
per parameter and exits 1 when one reaches the bound (1e-6 in float64, 5e-3 in float32).
Runs in float64 when every op of the model has a float64 kernel on the CPU provider, else in
float32 (coarser: the loss itself carries float32 rounding noise). Run it on your own .onnx
model to see whether Enjambre can train it.

  --model      a zoo model name or an .onnx file (required)
  --samples    comparisons per parameter (default 8)
  --precision  float32 or float64 (default: float64 when the ops allow it)
  --loss       loss of an .onnx model: cross-entropy or mse (default: from its metadata, else cross-entropy)
  --seed       seed of the random batch and coordinates (default 1)
  --json       print one JSON document on stdout`,
  options: {
    model: { type: 'string' },
    samples: { type: 'string', default: '8' },
    precision: { type: 'string' },
    loss: { type: 'string' },
    seed: { type: 'string', default: '1' },
    json: { type: 'boolean', default: false },
  },
  async run(values) {
    if (typeof values.model !== 'string') throw new UsageError('gradcheck needs --model');
    const samples = Number(values.samples);
    if (!Number.isInteger(samples) || samples < 1)
      throw new UsageError(`--samples must be a positive integer, got ${values.samples}`);
    const seed = Number(values.seed);
    if (!Number.isInteger(seed)) throw new UsageError(`--seed must be an integer, got ${values.seed}`);
    const precision = values.precision;
    if (precision !== undefined && precision !== 'float32' && precision !== 'float64')
      throw new UsageError(`--precision must be float32 or float64, got ${precision}`);
    const loss = values.loss;
    if (loss !== undefined && loss !== 'cross-entropy' && loss !== 'mse')
      throw new UsageError(`--loss must be cross-entropy or mse, got ${loss}`);
    const r = await gradcheckModel(values.model, { samplesPerParam: samples, seed, precision, loss });
    if (values.json) {
      printJson(r);
    } else {
      console.log(
        `${r.summary}\nprecision ${r.dtype}, loss ${r.lossKind} = ${r.loss.toPrecision(6)}; a parameter passes when every relative error < ${r.rtol}\n`,
      );
      for (const note of r.notes) console.log(`note: ${note}`);
      console.log(
        table(
          ['parameter', 'size', 'checked', 'max rel error', 'max abs error', 'result'],
          r.params.map((p) => [
            p.name,
            p.size,
            p.checked,
            p.maxRelError.toExponential(2),
            p.maxAbsError.toExponential(2),
            (p.passed ? 'ok' : 'FAIL') + (p.belowNoise ? ' (below float32 noise)' : ''),
          ]),
        ),
      );
      console.log(`\n${r.passed ? 'PASS' : 'FAIL'}: max relative error ${r.maxRelError.toExponential(2)}`);
    }
    return r.passed ? 0 : 1;
  },
};
