import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../src/commands/index.ts';
import { CLI } from './cli.ts';

/** Modules of tsx, which runs the sources here (the built CLI has none). */
const TS_LOADER = /\/node_modules\/(tsx|esbuild|get-tsconfig|resolve-pkg-maps)\//;
const RECORD_IMPORTS = path.resolve(import.meta.dirname, 'fixtures/record-imports.mjs');
const VERSION = (
  JSON.parse(readFileSync(path.resolve(import.meta.dirname, '../package.json'), 'utf8')) as {
    version: string;
  }
).version;

/** Runs the CLI from its sources and returns its output and every module URL it loaded. */
function runRecordingImports(args: string[]) {
  const log = path.join(mkdtempSync(path.join(tmpdir(), 'enjambre-imports-')), 'imports.txt');
  const r = spawnSync(process.execPath, ['--import', RECORD_IMPORTS, ...CLI, ...args], {
    encoding: 'utf8',
    env: { ...process.env, IMPORT_LOG: log },
    timeout: 60_000,
  });
  const loaded = readFileSync(log, 'utf8').trim().split('\n');
  return { ...r, loaded };
}

describe('the command table', () => {
  it("loads, for each name, the module of the command of that name, with that command's usage", async () => {
    expect(Object.keys(COMMANDS).length).toBeGreaterThan(0);
    for (const [name, entry] of Object.entries(COMMANDS)) {
      expect(entry.summary, name).toMatch(/^[a-z].{10,80}$/);
      const command = await entry.load();
      expect(command.name).toBe(name);
      expect(command.usage).toMatch(new RegExp(`^Usage: enjambre ${name}\\b`));
    }
  });

  it("--version and --help load no command's module, nor any other package", () => {
    for (const args of [['--version'], ['--help']]) {
      const r = runRecordingImports(args);
      expect(r.status, r.stderr).toBe(0);
      if (args[0] === '--version') expect(r.stdout.trim()).toBe(VERSION);
      else for (const name of Object.keys(COMMANDS)) expect(r.stdout).toContain(`  ${name.padEnd(10)} `);
      const ours = r.loaded.filter((u) => u.includes('/packages/cli/src/'));
      expect(ours.map((u) => path.basename(u)).sort()).toEqual(['index.ts', 'main.ts', 'output.ts']);
      // Besides, only Node's own modules, the argument parser, the TypeScript loader and
      // @enjambre/core (the error classes output.ts prints; no dependencies): no libp2p,
      // onnxruntime or other workspace package.
      const others = r.loaded.filter(
        (u) =>
          !u.startsWith('node:') &&
          !u.includes('/packages/cli/src/') &&
          !u.includes('/packages/core/') &&
          !u.includes('/node_modules/commander/'),
      );
      expect(
        others.filter((u) => !TS_LOADER.test(u)),
        args[0],
      ).toEqual([]);
    }
  });

  it("a command's --help loads that command's module only", () => {
    const r = runRecordingImports(['ops', '--help']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^Usage: enjambre ops/);
    const commands = r.loaded.filter((u) => u.includes('/packages/cli/src/commands/'));
    expect(commands.map((u) => path.basename(u)).sort()).toEqual(['index.ts', 'ops.ts']);
  });
});
