import type { ParseArgsConfig } from 'node:util';

/** One `enjambre <name>` subcommand. */
export interface Command {
  name: string;
  summary: string;
  usage: string;
  options: NonNullable<ParseArgsConfig['options']>;
  run(values: Record<string, unknown>): Promise<number | undefined> | number | undefined;
  /** Rewrites the arguments before parsing (options with an optional value). */
  preprocess?(args: string[]): string[];
}
