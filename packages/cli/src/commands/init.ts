import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  renderConfigTemplate,
  suggestedExecutionProviders,
  WORKLOADS,
  type WorkloadId,
} from '@enjambre/config';
import { type MachineReport, probeMachine } from '@enjambre/peer';
import { printJson, UsageError } from '../output.ts';
import type { Command } from './command.ts';

/** Where `enjambre init` writes the config when no --out is given. */
export const DEFAULT_INIT_OUT = 'enjambre.yaml';
const MAX_NODE_NAME = 64;
const PROVIDER_TITLES: Record<string, string> = { cuda: 'CUDA', webgpu: 'WebGPU', cpu: 'CPU' };

function gib(bytes: number): string {
  return `${(bytes / 1024 ** 3).toFixed(1)} GiB`;
}

function describe(m: MachineReport): string[] {
  const lines = [
    `CPU:     ${m.cpuModel}, ${m.cores} cores`,
    `Memory:  ${gib(m.memoryBytes)}`,
    `Node.js: ${m.nodeVersion} (${m.platform}-${m.arch})`,
  ];
  const smi = m.nvidiaSmi;
  if (smi.status === 'absent') lines.push('GPUs:    none found (nvidia-smi is not installed)');
  else if (smi.status === 'failed') lines.push(`GPUs:    unknown (${smi.error})`);
  else if (smi.gpus.length === 0) lines.push('GPUs:    none (nvidia-smi lists no GPU)');
  else {
    for (const g of smi.gpus) {
      lines.push(
        `GPU:     ${g.name}${g.memoryMB !== undefined ? `, ${g.memoryMB} MiB` : ''}, driver ${g.driverVersion}`,
      );
    }
  }
  for (const p of m.providers) {
    const why = p.notice ? `no (${p.notice.code})` : 'yes';
    lines.push(`${`${PROVIDER_TITLES[p.provider] ?? p.provider} provider:`.padEnd(17)}${why}`);
  }
  return lines;
}

export const init: Command = {
  name: 'init',
  usage: `Usage: enjambre init [--out FILE] [--workload NAME] [--force] [--json]

Probes this machine (CPU, memory, NVIDIA GPUs through nvidia-smi, which onnxruntime execution
providers load) and writes a node config with every field commented, ready to edit.

  --out        the config file to write (default ${DEFAULT_INIT_OUT})
  --workload   the reference workload to start from: ${WORKLOADS.join(', ')}
               (default synthetic: generated data, no files needed)
  --data-dir   folder of the datasets in the reference layout, relative to the config (default data)
  --force      overwrite the file when it exists
  --json       print one JSON document (the probe, the file and the next command) on stdout`,
  options: {
    out: { type: 'string', default: DEFAULT_INIT_OUT },
    workload: { type: 'string', default: 'synthetic' },
    'data-dir': { type: 'string' },
    force: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  },
  async run(values) {
    const workload = values.workload as string;
    if (!(WORKLOADS as readonly string[]).includes(workload)) {
      throw new UsageError(`--workload must be one of ${WORKLOADS.join(', ')}, got '${workload}'`);
    }
    const out = path.resolve(values.out as string);
    if (existsSync(out) && !values.force) {
      throw new UsageError(
        `${values.out} already exists: pass --force to overwrite it, or --out another file`,
      );
    }
    const machine = await probeMachine();
    const hostname = machine.probe.hostname;
    const probe = {
      ...machine.probe,
      // A hostname too long for node.name is left to the default at load time.
      hostname: hostname && hostname.length <= MAX_NODE_NAME ? hostname : undefined,
    };
    const text = renderConfigTemplate({
      probe,
      workload: workload as WorkloadId,
      ...(typeof values['data-dir'] === 'string' ? { dataDir: values['data-dir'] } : {}),
    });
    await mkdir(path.dirname(out), { recursive: true });
    await writeFile(out, text, { flag: values.force ? 'w' : 'wx' });

    const shown = path.relative(process.cwd(), out) || out;
    const quoted = /\s/.test(shown) ? JSON.stringify(shown) : shown;
    const next = [`enjambre doctor --config ${quoted}`, `enjambre train --config ${quoted}`];
    if (values.json) {
      const { probe: _probe, ...report } = machine;
      printJson({
        config: out,
        workload,
        executionProviders: suggestedExecutionProviders(probe),
        machine: { ...report, memoryGiB: Number((machine.memoryBytes / 1024 ** 3).toFixed(2)) },
        next,
      });
      return 0;
    }
    console.log(describe(machine).join('\n'));
    console.log(
      `\nWrote ${shown} (workload ${workload}, execution providers ${suggestedExecutionProviders(probe).join(', ')}).`,
    );
    if (workload !== 'synthetic') {
      console.log('Its data paths follow the reference layout: edit them to point at your files.');
    }
    console.log(`\nNext: check it with\n  ${next[0]}\nthen train with\n  ${next[1]}`);
    if (machine.nvidiaSmi.gpus.length > 0 && !machine.probe.cudaLoads) {
      console.log(
        '\nAn NVIDIA GPU is present but the CUDA provider does not load: `enjambre doctor` says why and how to fix it.',
      );
    }
    return 0;
  },
};
