import { type CheckStatus, runDoctor } from '@enjambre/peer';
import { printJson, UsageError } from '../output.ts';
import type { Command } from './command.ts';

const MARK: Record<CheckStatus, string> = { ok: 'ok  ', warn: 'warn', fail: 'FAIL' };

export const doctor: Command = {
  name: 'doctor',
  usage: `Usage: enjambre doctor [--config FILE] [--timeout MS] [--json]

Prints a checklist, each line ok, warn or FAIL with what was found and how to fix it: which
onnxruntime execution providers load (and why CUDA does not), NVIDIA GPUs, the Node.js version;
with a config also: the config is valid, its data files are readable, its listen ports are free,
its bootstrap peers accept connections, its swarm key file is valid and its work dir is writable.
Exits with code 1 when a check fails.

  --config    the node config to check (default: check the machine only)
  --timeout   ms a bootstrap peer has to accept a TCP connection (default 3000)
  --json      print one JSON document {ok, counts, checks, machine} on stdout`,
  options: {
    config: { type: 'string' },
    timeout: { type: 'string', default: '3000' },
    json: { type: 'boolean', default: false },
  },
  async run(values) {
    const timeout = Number(values.timeout);
    if (!Number.isInteger(timeout) || timeout < 1) {
      throw new UsageError(`--timeout must be a positive integer (ms), got ${values.timeout}`);
    }
    const report = await runDoctor({
      ...(typeof values.config === 'string' ? { configPath: values.config } : {}),
      connectTimeoutMs: timeout,
    });
    if (values.json) {
      printJson(report);
      return report.ok ? 0 : 1;
    }
    for (const c of report.checks) {
      console.log(`[${MARK[c.status]}] ${c.title}: ${c.detail}`);
      if (c.fix && c.status !== 'ok') console.log(`       fix: ${c.fix}`);
    }
    const { ok, warn, fail } = report.counts;
    console.log(
      `\n${ok} ok, ${warn} warning${warn === 1 ? '' : 's'}, ${fail} failed${report.config ? '' : '\n(pass --config FILE to check a node config too)'}`,
    );
    return report.ok ? 0 : 1;
  },
};
