import type { ParseArgsConfig } from 'node:util';
import { doctor } from './doctor.ts';
import { exportCommand } from './export.ts';
import { gradcheck } from './gradcheck.ts';
import { init } from './init.ts';
import { ops } from './ops.ts';

export interface Command {
  name: string;
  summary: string;
  usage: string;
  options: NonNullable<ParseArgsConfig['options']>;
  run(values: Record<string, unknown>): Promise<number | undefined> | number | undefined;
}

export const COMMANDS: Record<string, Command> = Object.fromEntries(
  [ops, gradcheck, init, doctor, exportCommand].map((c) => [c.name, c]),
);
