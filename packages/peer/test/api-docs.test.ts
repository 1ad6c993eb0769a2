import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../../..');
const DOC = join(ROOT, 'docs/api.md');
// Inside the repository so that `@enjambre/*` and onnxruntime-node resolve as for a user's
// project; under node_modules so that neither git nor the linter sees the files.
const DIR = join(ROOT, 'node_modules/.cache/enjambre-api-docs', String(process.pid));
afterAll(() => rmSync(DIR, { recursive: true, force: true }));

/** Each ```ts block of docs/api.md with the heading it appears under. */
function examples(): { heading: string; code: string }[] {
  const out: { heading: string; code: string }[] = [];
  let heading = '';
  const lines = readFileSync(DOC, 'utf8').split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].startsWith('## ')) heading = lines[i].slice(3);
    if (lines[i].trim() === '```ts') {
      const end = lines.indexOf('```', i + 1);
      out.push({ heading, code: lines.slice(i + 1, end).join('\n') });
      i = end;
    }
  }
  return out;
}

describe('docs/api.md: every ts example runs and checks its result', () => {
  const list = examples();

  it('has an example for each part of the public API the docs promise', () => {
    expect(list.map((e) => e.heading)).toEqual([
      'Load or build a model',
      'The gradient graph of any ONNX model',
      'Compile and run training',
      'Start a swarm peer from code',
    ]);
    // An example that checks nothing would pass whatever the library did.
    for (const e of list) expect(e.code, e.heading).toMatch(/assert\.\w+\(/);
  });

  it.each(list.map((e, i) => [e.heading, i] as const))('%s', (_heading, i) => {
    mkdirSync(DIR, { recursive: true });
    const file = join(DIR, `example-${i}.mts`);
    writeFileSync(file, list[i].code);
    const r = spawnSync(join(ROOT, 'node_modules/.bin/tsx'), [file], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 180_000,
    });
    expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(r.stdout.trim().length).toBeGreaterThan(0);
  });
});
