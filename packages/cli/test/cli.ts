import { spawn } from 'node:child_process';
import { resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../../..');

/**
 * Node's arguments that run the CLI from its TypeScript sources: tsx, and the export condition
 * that resolves the workspace packages to their sources too, so that no test runs a stale build.
 * Spawn `process.execPath` with `[...CLI, command, ...options]`.
 */
export const CLI = [
  '--conditions=@enjambre/source',
  '--import',
  'tsx',
  resolve(import.meta.dirname, '../src/main.ts'),
];

/** What a finished CLI process left: its exit code and everything it printed. */
export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI from sources in the repository root; `env` replaces the process environment when given. */
export function runCli(args: string[], env?: NodeJS.ProcessEnv): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...CLI, ...args], { cwd: ROOT, env: env ?? process.env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
