import type { ParseArgsConfig } from 'node:util';
import { data } from './data.ts';
import { demo } from './demo.ts';
import { doctor } from './doctor.ts';
import { exportCommand } from './export.ts';
import { gradcheck } from './gradcheck.ts';
import { init } from './init.ts';
import { join } from './join.ts';
import { ops } from './ops.ts';
import { status } from './status.ts';
import { swarmKey } from './swarm-key.ts';
import { train } from './train.ts';

export interface Command {
  name: string;
  summary: string;
  usage: string;
  options: NonNullable<ParseArgsConfig['options']>;
  run(values: Record<string, unknown>): Promise<number | undefined> | number | undefined;
  /** Rewrites the arguments before parsing (options with an optional value). */
  preprocess?(args: string[]): string[];
}

export const COMMANDS: Record<string, Command> = Object.fromEntries(
  [ops, gradcheck, init, doctor, train, join, status, demo, swarmKey, exportCommand, data].map((c) => [
    c.name,
    c,
  ]),
);
