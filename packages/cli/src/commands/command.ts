import type { ParseArgsConfig } from 'node:util';

/** One `enjambre <name>` subcommand (its one-line summary is in the table of commands/index.ts). */
export interface Command {
  name: string;
  usage: string;
  options: NonNullable<ParseArgsConfig['options']>;
  run(values: Record<string, unknown>): Promise<number | undefined> | number | undefined;
  /** Rewrites the arguments before parsing (options with an optional value). */
  preprocess?(args: string[]): string[];
}
