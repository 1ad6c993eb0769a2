import { resolve } from 'node:path';

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
