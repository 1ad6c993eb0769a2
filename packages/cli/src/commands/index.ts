import type { ParseArgsConfig } from 'node:util';
import { ops } from './ops.ts';

export interface Command {
  name: string;
  summary: string;
  usage: string;
  options: NonNullable<ParseArgsConfig['options']>;
  run(values: Record<string, unknown>): Promise<number | undefined> | number | undefined;
}

export const COMMANDS: Record<string, Command> = Object.fromEntries([ops].map((c) => [c.name, c]));
