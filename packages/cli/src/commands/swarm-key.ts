import { existsSync } from 'node:fs';
import { writeSwarmKeyFile } from '@enjambre/swarm';
import { UsageError } from '../output.ts';
import type { Command } from './command.ts';

export const swarmKey: Command = {
  name: 'swarm-key',
  usage: `Usage: enjambre swarm-key --out FILE [--force]

Writes a new random pre-shared key (libp2p PSK v1 format, file mode 0600). Only peers whose
config names a copy of this file in swarm.swarmKeyFile can connect to each other: share it
with your peers over a channel you trust.

  --out     the key file to write (required)
  --force   overwrite the file when it exists`,
  options: { out: { type: 'string' }, force: { type: 'boolean', default: false } },
  async run(values) {
    if (typeof values.out !== 'string') throw new UsageError('swarm-key needs --out FILE');
    if (existsSync(values.out) && !values.force) {
      throw new UsageError(
        `${values.out} exists; pass --force to replace it (peers holding the old key will be shut out)`,
      );
    }
    await writeSwarmKeyFile(values.out);
    console.log(`wrote ${values.out}; set swarm.swarmKeyFile to it in every peer's config`);
    return 0;
  },
};
