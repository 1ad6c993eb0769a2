import type { Command } from './command.ts';
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

export type { Command } from './command.ts';

export const COMMANDS: Record<string, Command> = Object.fromEntries(
  [ops, gradcheck, init, doctor, train, join, status, demo, swarmKey, exportCommand].map((c) => [c.name, c]),
);
