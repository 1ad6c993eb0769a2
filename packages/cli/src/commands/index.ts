import type { ParseArgsConfig } from 'node:util';
import { gradcheck } from './gradcheck.ts';
import { ops } from './ops.ts';

export interface Command {
  name: string;
  summary: string;
  usage: string;
  options: NonNullable<ParseArgsConfig['options']>;
  run(values: Record<string, unknown>): Promise<number | undefined> | number | undefined;
}

export const COMMANDS: Record<string, Command> = Object.fromEntries([ops, gradcheck].map((c) => [c.name, c]));
