import { DEFAULT_GENERATE_TOKENS, generateText, loadExportedModel } from '@enjambre/peer';
import { printJson, UsageError } from '../output.ts';
import type { Command } from './command.ts';

function number(values: Record<string, unknown>, flag: string, ok: (n: number) => boolean, what: string) {
  const raw = values[flag];
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (typeof raw !== 'string' || raw.trim() === '' || !ok(n))
    throw new UsageError(`--${flag} must be ${what}, got ${String(raw)}`);
  return n;
}

export const generate: Command = {
  name: 'generate',
  usage: `Usage: enjambre generate --model MODEL.onnx --prompt TEXT [--tokens N] [--temperature T] [--top-k K] [--seed S] [--json]

Continues a prompt with a character-level language model exported from a checkpoint trained on
text (\`enjambre export\`). The vocabulary comes from the model's metadata; every character of the
prompt must be in it.

  --model        the exported .onnx file (required)
  --prompt       the text to continue (required)
  --tokens       characters to generate (default ${DEFAULT_GENERATE_TOKENS})
  --temperature  sampling temperature, 0 for the most likely character each time (default 1)
  --top-k        sample among the K most likely characters only (default: all)
  --seed         seed of the sampler: the same seed gives the same text (default 0)
  --json         print one JSON document: {"prompt", "text"} instead of streaming the text`,
  options: {
    model: { type: 'string' },
    prompt: { type: 'string' },
    tokens: { type: 'string' },
    temperature: { type: 'string' },
    'top-k': { type: 'string' },
    seed: { type: 'string' },
    json: { type: 'boolean', default: false },
  },
  async run(values) {
    if (typeof values.model !== 'string') throw new UsageError('generate needs --model FILE.onnx');
    if (typeof values.prompt !== 'string') throw new UsageError('generate needs --prompt TEXT');
    const tokens = number(values, 'tokens', (n) => Number.isInteger(n) && n >= 1, 'a positive integer');
    const temperature = number(values, 'temperature', (n) => Number.isFinite(n) && n >= 0, 'a number ≥ 0');
    const topK = number(values, 'top-k', (n) => Number.isInteger(n) && n >= 0, 'an integer ≥ 0');
    const seed = number(
      values,
      'seed',
      (n) => Number.isInteger(n) && n >= 0 && n < 2 ** 32,
      'an integer in [0, 2^32)',
    );
    const model = await loadExportedModel(values.model);
    try {
      const stream = !values.json;
      if (stream) process.stdout.write(values.prompt);
      const text = await generateText(model, {
        prompt: values.prompt,
        tokens,
        temperature,
        topK,
        seed,
        ...(stream ? { onText: (t: string) => process.stdout.write(t) } : {}),
      });
      if (stream) process.stdout.write('\n');
      else printJson({ prompt: values.prompt, text });
      return 0;
    } finally {
      await model.runner.release();
    }
  },
};
