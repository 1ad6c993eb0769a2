import { loadExportedModel, predictCsv } from '@enjambre/peer';
import { printJson, UsageError } from '../output.ts';
import type { Command } from './command.ts';

export const predict: Command = {
  name: 'predict',
  usage: `Usage: enjambre predict --model MODEL.onnx --input ROWS.csv [--json]

Runs a model exported from a checkpoint trained on CSV data (\`enjambre export\`) on the rows of a
CSV file with a header, as they are: the model finds its feature columns by name (the target
column and other columns are ignored), fills missing values, standardises and one-hot encodes
inside the graph as training did. Prints one prediction per row (the class, with its
probability, or the predicted value).

  --model   the exported .onnx file (required)
  --input   the CSV file of rows to predict (required)
  --json    print one JSON document: {"predictions": [{"line", "prediction", "probabilities"}]}`,
  options: {
    model: { type: 'string' },
    input: { type: 'string' },
    json: { type: 'boolean', default: false },
  },
  async run(values) {
    if (typeof values.model !== 'string') throw new UsageError('predict needs --model FILE.onnx');
    if (typeof values.input !== 'string') throw new UsageError('predict needs --input FILE.csv');
    const model = await loadExportedModel(values.model);
    try {
      const predictions = await predictCsv(model, values.input);
      if (values.json) {
        printJson({ model: values.model, input: values.input, predictions });
        return 0;
      }
      for (const p of predictions) {
        const confidence =
          p.probabilities && typeof p.prediction === 'string'
            ? `  (${(100 * p.probabilities[p.prediction]).toFixed(1)}%)`
            : '';
        console.log(`line ${p.line}: ${p.prediction}${confidence}`);
      }
      return 0;
    } finally {
      await model.runner.release();
    }
  },
};
