import { supportedOps } from '@enjambre/autograd';
import { printJson } from '../output.ts';
import type { Command } from './command.ts';

export const ops: Command = {
  name: 'ops',
  usage: `Usage: enjambre ops [--json]

Lists the ONNX op types that have a gradient rule. A model can be trained when every op on
the path from its trainable parameters to its loss is in this list.

  --json   print {"ops": [...]} on stdout`,
  options: { json: { type: 'boolean', default: false } },
  run(values) {
    const list = supportedOps();
    if (values.json) printJson({ ops: list, count: list.length });
    else console.log(`${list.length} differentiable op types:\n${list.map((o) => `  ${o}`).join('\n')}`);
    return 0;
  },
};
