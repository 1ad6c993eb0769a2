import path from 'node:path';
import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { type MachineProbe, parseConfig, renderConfigTemplate, WORKLOADS } from '../src/index.ts';

const SHARED = path.resolve(import.meta.dirname, '../../../fixtures/datasets');
const HERE = import.meta.dirname;

const probes: Record<string, MachineProbe> = {
  laptop: { cores: 2, gpus: [], cudaLoads: false, hostname: 'laptop' },
  gpuBox: {
    cores: 16,
    gpus: [{ name: 'NVIDIA H200', memoryMB: 143_771 }],
    cudaLoads: true,
    hostname: 'gpu-1',
  },
  gpuNoCuda: { cores: 8, gpus: [{ name: 'NVIDIA T4' }], cudaLoads: false, webgpuLoads: true },
};

describe('renderConfigTemplate', () => {
  for (const [probeName, probe] of Object.entries(probes)) {
    for (const workload of WORKLOADS) {
      it(`${workload} on ${probeName} validates`, () => {
        const text = renderConfigTemplate({
          probe,
          workload,
          dataDir: path.relative(HERE, SHARED),
          runId: 'test-run',
          prometheusPort: 9464,
        });
        const config = parseConfig(text, {
          baseDir: HERE,
          fileName: 'template.yaml',
          hostname: 'fallback',
          cores: 3,
        });
        expect(config.hardware.intraOpThreads).toBe(probe.cores);
        expect(config.node.name).toBe(probe.hostname ?? 'fallback');
        expect(config.swarm.runId).toBe('test-run');
        expect(config.metrics.prometheusPort).toBe(9464);
      });
    }
  }

  it('picks execution providers from the probe', () => {
    const providers = (probe: MachineProbe) =>
      parseConfig(renderConfigTemplate({ probe }), { baseDir: HERE }).hardware.executionProviders;
    expect(providers(probes.laptop)).toEqual(['cpu']);
    expect(providers(probes.gpuBox)).toEqual(['cuda', 'cpu']);
    expect(providers(probes.gpuNoCuda)).toEqual(['webgpu', 'cpu']);
  });

  it('explains every field in a comment', () => {
    const text = renderConfigTemplate({
      probe: probes.gpuBox,
      workload: 'shakespeare-char',
      dataDir: SHARED,
    });
    const lines = text.split('\n');
    let fields = 0;
    lines.forEach((line, i) => {
      const field = /^\s*(?:# )?([A-Za-z]+):/.exec(line);
      if (field === null || (line.trimStart().startsWith('# ') && !/^\s*# [A-Za-z]+:$/.test(line))) return;
      fields++;
      expect(lines[i - 1].trimStart().startsWith('#'), `no comment above line ${i + 1}: ${line}`).toBe(true);
    });
    expect(fields).toBeGreaterThan(50);
    // Optional fields without a default are present, commented out.
    expect(text).toMatch(/^ {2}# memoryBudgetMB:$/m);
    expect(text).toMatch(/^ {4}# outerLr:$/m);
    expect(text).toContain('NVIDIA H200');
    expect(text).toContain('point them at your own files');
  });

  it('is plain YAML whose values match the parsed config', () => {
    const text = renderConfigTemplate({ probe: probes.laptop, workload: 'iris', dataDir: SHARED });
    const raw = YAML.parse(text);
    expect(raw.data).toMatchObject({ format: 'csv', target: 'species' });
    const config = parseConfig(text, { baseDir: HERE });
    expect(config.training.batchSize).toBe(raw.training.batchSize);
    expect(config.data).toMatchObject({ path: path.join(SHARED, 'iris/iris.csv') });
  });
});
