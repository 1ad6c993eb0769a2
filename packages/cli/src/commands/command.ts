import type { ParseArgsConfig } from 'node:util';

/** One `enjambre <name>` subcommand (its one-line summary is in the table of commands/index.ts). */
export interface Command {
  name: string;
  usage: string;
  options: NonNullable<ParseArgsConfig['options']>;
  /** One line for the parent's help (subcommands). */
  summary?: string;
  /** Subcommands (`enjambre data list`): each with its own options; the parent's `run` is not called. */
  subcommands?: Record<string, Command>;
  /** Positional arguments in commander's syntax (`'<name> [more...]'`); none are accepted without it. */
  positionals?: string;
  run(
    values: Record<string, unknown>,
    positionals: string[],
  ): Promise<number | undefined> | number | undefined;
  /** Rewrites the arguments before parsing (options with an optional value). */
  preprocess?(args: string[]): string[];
}
