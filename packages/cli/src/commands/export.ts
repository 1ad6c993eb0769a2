import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { exportCheckpoint } from '@enjambre/peer';
import { printJson, UsageError } from '../output.ts';
import type { Command } from './command.ts';

function shape(dims: readonly (number | string)[]): string {
  return `[${dims.join(', ')}]`;
}

export const exportCommand: Command = {
  name: 'export',
  usage: `Usage: enjambre export --checkpoint FILE --out model.onnx [--model ORIGINAL.onnx] [--json]

Rebuilds the model from an Enjambre checkpoint (.safetensors), puts the trained weights in it and
writes the forward graph in inference mode (Dropout off; no loss, gradients or optimizer state).
Any onnxruntime (Python, C++, web, Node) runs the result. Checkpoints of train, join and the demo
all export. A model trained on CSV data takes the raw feature columns (standardisation and one-hot
encoding are in the graph); one trained on text carries its vocabulary in the metadata
(enjambre.preprocessing, described in docs/user-guide.md); predict and generate use them.

  --checkpoint  the checkpoint to export (required), e.g. .enjambre/checkpoint.safetensors
  --out         the .onnx file to write (required)
  --model       for a model imported from an .onnx file (model kind onnx): that original file.
                The checkpoint holds its trained weights but not its graph.
  --json        print one JSON document on stdout`,
  options: {
    checkpoint: { type: 'string' },
    out: { type: 'string' },
    model: { type: 'string' },
    json: { type: 'boolean', default: false },
  },
  async run(values) {
    if (typeof values.checkpoint !== 'string') throw new UsageError('export needs --checkpoint FILE');
    if (typeof values.out !== 'string') throw new UsageError('export needs --out FILE.onnx');
    const r = await exportCheckpoint(values.checkpoint, {
      ...(typeof values.model === 'string' ? { onnxModel: values.model } : {}),
    });
    const out = path.resolve(values.out);
    await mkdir(path.dirname(out), { recursive: true });
    await writeFile(out, r.bytes);
    const { bytes, ...rest } = r;
    if (values.json) {
      printJson({ ...rest, out, bytes: bytes.length });
      return 0;
    }
    console.log(`Wrote ${values.out} (${bytes.length} bytes): ${r.summary}`);
    if (r.step !== undefined) console.log(`trained for ${r.step} steps`);
    for (const v of r.inputs) console.log(`  input  ${v.name} ${v.dtype} ${shape(v.shape)}`);
    for (const v of r.outputs) console.log(`  output ${v.name} ${v.dtype} ${shape(v.shape)}`);
    const p = r.preprocessing;
    if (p?.format === 'csv')
      console.log(
        `takes the raw columns ${p.columns.map((c) => c.name).join(', ')} (standardised and one-hot encoded inside the graph): enjambre predict --model ${values.out} --input ROWS.csv`,
      );
    if (p?.format === 'text')
      console.log(
        `takes token ids of a ${p.vocab.kind} vocabulary (in the metadata): enjambre generate --model ${values.out} --prompt TEXT`,
      );
    return 0;
  },
};
