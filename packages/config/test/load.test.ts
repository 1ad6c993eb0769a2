import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { uniformSource } from '@enjambre/core';
import { afterAll, describe, expect, it } from 'vitest';
import {
  ConfigError,
  configFromObject,
  DEFAULT_BATCH_SIZE,
  DEFAULT_IDENTITY_FILE_NAME,
  DEFAULT_MLP_HIDDEN,
  DEFAULT_OUTER_LR,
  DEFAULT_TOPK_OUTER_LR,
  loadConfig,
  parseConfig,
  requireRunId,
  roundTimeoutMs,
} from '../src/index.ts';

const SHARED = path.resolve(import.meta.dirname, '../../../fixtures/datasets');
const IRIS = path.join(SHARED, 'iris/iris.csv');
const PEER = '12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA';

const dir = mkdtempSync(path.join(tmpdir(), 'enjambre-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let counter = 0;
function writeConfig(text: string): string {
  const file = path.join(dir, `case-${counter++}.yaml`);
  writeFileSync(file, text);
  return file;
}

async function loadError(text: string): Promise<{ file: string; err: ConfigError }> {
  const file = writeConfig(text);
  try {
    await loadConfig(file);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw new Error(`expected a ConfigError, got ${String(err)}`);
    return { file, err };
  }
  throw new Error(`config was accepted:\n${text}`);
}

/** Every line of the message is one issue, starts with the file name and carries no stack. */
function expectOneLineIssues(err: ConfigError, file: string): string[] {
  const lines = err.message.split('\n');
  expect(lines.length).toBe(err.issues.length);
  expect(lines).toEqual(err.lines);
  for (const line of lines) {
    expect(line.startsWith(`${file}: `)).toBe(true);
    expect(line).not.toMatch(/\n|\r|^\s+at |\.ts:\d+/);
  }
  expect(err.name).toBe('ConfigError');
  expect(err.code).toBe('ERR_CONFIG_INVALID');
  return lines;
}

const base = `
model: {kind: mlp}
data: {format: synthetic}
`;

interface BadCase {
  name: string;
  yaml: string;
  /** The field every line must name (exactly one issue expected). */
  field: string;
  /** Fragments the line must contain. */
  includes: string[];
}

const badCases: BadCase[] = [
  {
    name: 'typo in a key',
    yaml: 'model: {kind: mlp, hiden: [128]}\ndata: {format: synthetic}',
    field: 'model.hiden',
    includes: ['unknown key', 'did you mean "hidden"?', 'got [128]', 'expected one of the keys'],
  },
  {
    name: 'unknown top-level section',
    yaml: `${base}trainning: {batchSize: 3}`,
    field: 'trainning',
    includes: ['did you mean "training"?'],
  },
  {
    name: 'unknown key with no close match',
    yaml: `${base}hardware: {quantumCores: 9}`,
    field: 'hardware.quantumCores',
    includes: ['unknown key (got 9; expected one of the keys executionProviders'],
  },
  {
    name: 'wrong type: string for a number',
    yaml: `${base}training: {batchSize: "sixty-four"}`,
    field: 'training.batchSize',
    includes: ['wrong type', 'got "sixty-four"', 'expected an integer >= 1'],
  },
  {
    name: 'wrong type: a list for a mapping',
    yaml: 'model: [mlp]\ndata: {format: synthetic}',
    field: 'model',
    includes: ['wrong type', 'got ["mlp"]', 'expected a mapping'],
  },
  {
    name: 'not a whole number',
    yaml: `${base}training: {batchSize: 12.5}`,
    field: 'training.batchSize',
    includes: ['not a whole number', 'got 12.5'],
  },
  {
    name: 'missing required section',
    yaml: 'model: {kind: mlp}',
    field: 'data',
    includes: ['required field is missing', 'got nothing'],
  },
  {
    name: 'missing discriminator',
    yaml: 'model: {hidden: [3]}\ndata: {format: synthetic}',
    field: 'model.kind',
    includes: ['required field is missing', 'expected one of "mlp", "cnn", "char-transformer", "onnx"'],
  },
  {
    name: 'unknown model kind',
    yaml: 'model: {kind: transformer}\ndata: {format: synthetic}',
    field: 'model.kind',
    includes: ['unknown kind', 'got "transformer"', '"char-transformer"'],
  },
  {
    name: 'unknown data format with a hint',
    yaml: 'model: {kind: mlp}\ndata: {format: cvs, path: x.csv}',
    field: 'data.format',
    includes: ['did you mean "csv"?'],
  },
  {
    name: 'heads do not divide width',
    yaml: 'model: {kind: char-transformer, heads: 3, width: 128}\ndata: {format: synthetic}',
    field: 'model.heads',
    includes: ['heads must divide width', 'got 3', 'expected a divisor of width 128'],
  },
  {
    name: 'negative learning rate',
    yaml: `${base}training: {optimizer: {lr: -0.001}}`,
    field: 'training.optimizer.lr',
    includes: ['value too small', 'got -0.001', 'expected a number in (0, 10]'],
  },
  {
    name: 'zero learning rate',
    yaml: `${base}training: {optimizer: {lr: 0}}`,
    field: 'training.optimizer.lr',
    includes: ['got 0'],
  },
  {
    name: 'port out of range',
    yaml: `${base}metrics: {prometheusPort: 70000}`,
    field: 'metrics.prometheusPort',
    includes: ['value too large', 'got 70000', 'expected an integer in [1, 65535]'],
  },
  {
    name: 'fraction of 1',
    yaml: `model: {kind: mlp}\ndata: {format: csv, path: ${IRIS}, target: species, validFraction: 1}`,
    field: 'data.validFraction',
    includes: ['got 1', 'expected a number in (0, 1)'],
  },
  {
    name: 'dropout of 1',
    yaml: 'model: {kind: char-transformer, dropout: 1}\ndata: {format: synthetic}',
    field: 'model.dropout',
    includes: ['expected a number in [0, 1)'],
  },
  {
    name: 'beta2 of 1',
    yaml: `${base}training: {optimizer: {beta2: 1}}`,
    field: 'training.optimizer.beta2',
    includes: ['expected a number in [0, 1)'],
  },
  {
    name: 'enum typo',
    yaml: `${base}swarm: {averaging: {codec: int4}}`,
    field: 'swarm.averaging.codec',
    includes: ['got "int4"', 'expected one of "sign", "topk", "int8", "fp16", "fp32"'],
  },
  {
    name: 'unknown execution provider',
    yaml: `${base}hardware: {executionProviders: [cuda, tpu]}`,
    field: 'hardware.executionProviders[1]',
    includes: ['got "tpu"'],
  },
  {
    name: 'duplicate execution provider',
    yaml: `${base}hardware: {executionProviders: [cpu, cpu]}`,
    field: 'hardware.executionProviders[1]',
    includes: ["'cpu' is listed twice"],
  },
  {
    name: 'negative CUDA device',
    yaml: `${base}hardware: {cudaDeviceId: -1}`,
    field: 'hardware.cudaDeviceId',
    includes: ['expected an integer >= 0'],
  },
  {
    name: 'missing text file',
    yaml: 'model: {kind: char-transformer}\ndata: {format: text, path: no-such-dir/input.txt}',
    field: 'data.path',
    includes: ['file not found', path.join(dir, 'no-such-dir/input.txt'), 'got "no-such-dir/input.txt"'],
  },
  {
    name: 'missing mnist labels',
    yaml: `model: {kind: mlp}\ndata: {format: mnist, trainImages: ${path.join(SHARED, 'mnist/train-images-idx3-ubyte.gz')}, trainLabels: labels.gz}`,
    field: 'data.trainLabels',
    includes: ['file not found', path.join(dir, 'labels.gz')],
  },
  {
    name: 'data path is a folder',
    yaml: `model: {kind: mlp}\ndata: {format: csv, path: ${SHARED}, target: species}`,
    field: 'data.path',
    includes: ['is a folder, not a file'],
  },
  {
    name: 'missing onnx model file',
    yaml: 'model: {kind: onnx, path: model.onnx}\ndata: {format: synthetic}',
    field: 'model.path',
    includes: ['file not found', path.join(dir, 'model.onnx')],
  },
  {
    name: 'missing swarm key file',
    yaml: `${base}swarm: {swarmKeyFile: swarm.key}`,
    field: 'swarm.swarmKeyFile',
    includes: ['file not found'],
  },
  {
    name: 'test images without test labels',
    yaml: `model: {kind: mlp}\ndata: {format: mnist, trainImages: ${path.join(SHARED, 'mnist/train-images-idx3-ubyte.gz')}, trainLabels: ${path.join(SHARED, 'mnist/train-labels-idx1-ubyte.gz')}, testImages: ${path.join(SHARED, 'mnist/t10k-images-idx3-ubyte.gz')}}`,
    field: 'data.testLabels',
    includes: ['testLabels is required when testImages is set'],
  },
  {
    name: 'target column ignored',
    yaml: `model: {kind: mlp}\ndata: {format: csv, path: ${IRIS}, target: species, ignore: [sepal_length, species]}`,
    field: 'data.ignore[1]',
    includes: ['the target column cannot be ignored'],
  },
  {
    name: 'bad multiaddr',
    yaml: `${base}swarm: {bootstrap: ["/ip4/127.0.0.1/tcp/4001/p2p/${PEER}", "/ip4/300.1.2.3/tcp/4001/p2p/${PEER}"]}`,
    field: 'swarm.bootstrap[1]',
    includes: ['invalid multiaddr', '300.1.2.3', 'expected a multiaddr'],
  },
  {
    name: 'multiaddr that is not one',
    yaml: `${base}swarm: {listen: ["tcp://0.0.0.0:4001"]}`,
    field: 'swarm.listen[0]',
    includes: ['invalid multiaddr', 'must start with "/"'],
  },
  {
    name: 'bootstrap without peer id',
    yaml: `${base}swarm: {bootstrap: ["/ip4/127.0.0.1/tcp/4001"]}`,
    field: 'swarm.bootstrap[0]',
    includes: ['no /p2p/<peer id> part'],
  },
  {
    name: 'bootstrap with a bogus peer id',
    yaml: `${base}swarm: {bootstrap: ["/ip4/127.0.0.1/tcp/4001/p2p/QmShort"]}`,
    field: 'swarm.bootstrap[0]',
    includes: ['does not look like a libp2p peer id'],
  },
  {
    name: 'run id with spaces',
    yaml: `${base}swarm: {runId: "my run"}`,
    field: 'swarm.runId',
    includes: ['run id may only contain', 'got "my run"'],
  },
  {
    name: 'minLr above lr',
    yaml: `${base}training: {maxSteps: 100, optimizer: {lr: 0.001}, lrSchedule: {kind: cosine, minLr: 0.01}}`,
    field: 'training.lrSchedule.minLr',
    includes: ['minLr is larger than the learning rate', 'at most optimizer.lr = 0.001'],
  },
  {
    name: 'cosine without maxSteps',
    yaml: `${base}training: {lrSchedule: {kind: cosine}}`,
    field: 'training.maxSteps',
    includes: ['cosine schedule needs maxSteps'],
  },
  {
    name: 'warm-up longer than training',
    yaml: `${base}training: {maxSteps: 100, lrSchedule: {warmupSteps: 100}}`,
    field: 'training.lrSchedule.warmupSteps',
    includes: ['expected fewer than maxSteps = 100'],
  },
  {
    name: 'topk fraction of 0',
    yaml: `${base}swarm: {averaging: {codec: topk, topkFraction: 0}}`,
    field: 'swarm.averaging.topkFraction',
    includes: ['expected a number in (0, 1)'],
  },
  {
    name: 'inline payload above the gossipsub limit',
    yaml: `${base}swarm: {averaging: {inlineMaxBytes: 8388608}}`,
    field: 'swarm.averaging.inlineMaxBytes',
    includes: ['expected an integer in [1, 4194304]'],
  },
  {
    name: 'empty hidden size',
    yaml: 'model: {kind: mlp, hidden: [128, 0]}\ndata: {format: synthetic}',
    field: 'model.hidden[1]',
    includes: ['got 0', 'expected an integer >= 1'],
  },
  {
    name: 'wrong config version',
    yaml: `version: 2\n${base}`,
    field: 'version',
    includes: ['got 2', 'expected 1'],
  },
  {
    name: 'empty pattern',
    yaml: `${base}swarm: {averaging: {localParams: [""]}}`,
    field: 'swarm.averaging.localParams[0]',
    includes: ['must not be empty'],
  },
  {
    name: 'odd key is quoted',
    yaml: `${base}node: {"work dir": x}`,
    field: 'node["work dir"]',
    includes: ['did you mean "workDir"?'],
  },
];

describe('loadConfig: bad files give one line per problem, naming the field', () => {
  for (const c of badCases) {
    it(c.name, async () => {
      const { file, err } = await loadError(c.yaml);
      const lines = expectOneLineIssues(err, file);
      expect(lines, lines.join('\n')).toHaveLength(1);
      expect(lines[0]).toContain(`${file}: ${c.field}: `);
      for (const fragment of c.includes) expect(lines[0]).toContain(fragment);
    });
  }

  it('reports every problem of a file at once', async () => {
    const { file, err } = await loadError(
      'model: {kind: mlp, activation: Relu}\ndata: {format: synthetic}\n' +
        'training: {batchSize: 0, optimizer: {kind: adam}}\nmetrics: {prometheusPort: 0}\nnode: {nmae: x}',
    );
    const lines = expectOneLineIssues(err, file);
    expect(lines).toHaveLength(5);
    const joined = lines.join('\n');
    expect(joined).toContain('model.activation: unknown value; did you mean "relu"?');
    expect(joined).toContain('training.optimizer.kind: unknown value; did you mean "adamw"?');
    expect(joined).toContain('training.batchSize: value too small');
    expect(joined).toContain('metrics.prometheusPort: value too small');
    expect(joined).toContain('node.nmae: unknown key; did you mean "name"?');
  });

  it('names line and column of YAML syntax errors', async () => {
    const { file, err } = await loadError('model:\n  kind: mlp\n hidden: [1]\ndata: {format: synthetic}\n');
    const [line] = expectOneLineIssues(err, file);
    expect(line).toMatch(
      new RegExp(
        `^${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: line 3, column \\d+: YAML syntax error: `,
      ),
    );
    expect(err.issues[0].line).toBe(3);
  });

  it('rejects unclosed flow collections, tabs and duplicate keys with positions', async () => {
    for (const text of [
      'model: {kind: mlp\ndata: 1\n',
      'model:\n\tkind: mlp\n',
      `${base}model: {kind: cnn}\n`,
    ]) {
      const { file, err } = await loadError(text);
      const lines = expectOneLineIssues(err, file);
      for (const line of lines) expect(line).toMatch(/: line \d+, column \d+: YAML syntax error: /);
    }
  });

  it('rejects empty files and top-level scalars', async () => {
    for (const text of ['', '# only a comment\n', '42\n', '- a\n- b\n']) {
      const { file, err } = await loadError(text);
      const lines = expectOneLineIssues(err, file);
      expect(lines).toHaveLength(1);
    }
  });

  it('reports an unreadable config file without a stack', async () => {
    const missing = path.join(dir, 'nope.yaml');
    await expect(loadConfig(missing)).rejects.toThrow(
      `${missing}: cannot read the config file: no such file`,
    );
    const sub = path.join(dir, 'a-folder.yaml');
    mkdirSync(sub);
    await expect(loadConfig(sub)).rejects.toThrow('is a folder, not a file');
  });

  it('honours an aborted signal', async () => {
    const file = writeConfig(base);
    await expect(loadConfig(file, { signal: AbortSignal.abort() })).rejects.toMatchObject({
      name: 'AbortError',
    });
  });

  it('does not let a __proto__ key pollute anything', async () => {
    const { file, err } = await loadError(`${base}__proto__: {polluted: true}\n`);
    expectOneLineIssues(err, file);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('survives alias bombs and deep nesting with a ConfigError', async () => {
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 12; i++)
      bomb.push(
        `${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [*${String.fromCharCode(96 + i)}, *${String.fromCharCode(96 + i)}, *${String.fromCharCode(96 + i)}, *${String.fromCharCode(96 + i)}, *${String.fromCharCode(96 + i)}, *${String.fromCharCode(96 + i)}, *${String.fromCharCode(96 + i)}, *${String.fromCharCode(96 + i)}, *${String.fromCharCode(96 + i)}]`,
      );
    const { file, err } = await loadError(`${bomb.join('\n')}\n`);
    expectOneLineIssues(err, file);
    const deep = `model: ${'['.repeat(5000)}${']'.repeat(5000)}\n`;
    const r = await loadError(deep);
    expectOneLineIssues(r.err, r.file);
  });
});

describe('loadConfig: good files', () => {
  it('fills defaults, machine defaults and absolute paths', async () => {
    const file = writeConfig(
      `model: {kind: mlp}\ndata: {format: csv, path: ${path.relative(dir, IRIS)}, target: species}\n`,
    );
    const config = await loadConfig(file, { hostname: 'probe-host', cores: 6 });
    expect(config.node.name).toBe('probe-host');
    expect(config.node.workDir).toBe(path.join(dir, '.enjambre'));
    expect(config.swarm.identityFile).toBe(path.join(dir, '.enjambre', DEFAULT_IDENTITY_FILE_NAME));
    expect(config.hardware.intraOpThreads).toBe(6);
    expect(config.hardware.executionProviders).toEqual(['cpu']);
    expect(config.model).toEqual({
      kind: 'mlp',
      dtype: 'float32',
      hidden: [...DEFAULT_MLP_HIDDEN],
      activation: 'relu',
    });
    expect(config.data).toMatchObject({
      format: 'csv',
      path: IRIS,
      validFraction: 0.2,
      task: 'classification',
      seed: 1,
    });
    expect(config.training.batchSize).toBe(DEFAULT_BATCH_SIZE);
    expect(config.training.lrSchedule.minLr).toBeCloseTo(1e-4, 12);
    expect(config.swarm.averaging).toMatchObject({
      codec: 'sign',
      outerLr: DEFAULT_OUTER_LR,
      outerMomentum: 0.9,
    });
    expect(config.swarm.listen).toEqual(['/ip4/0.0.0.0/tcp/0']);
    expect(config.metrics).toEqual({});
  });

  it('appends cpu to the provider list and uses codec-dependent outer defaults', () => {
    const config = parseConfig(
      `${base}hardware: {executionProviders: [cuda, webgpu]}\nswarm: {averaging: {codec: topk}}\n`,
      { baseDir: dir, fileName: 'x.yaml' },
    );
    expect(config.hardware.executionProviders).toEqual(['cuda', 'webgpu', 'cpu']);
    expect(config.swarm.averaging.outerLr).toBe(DEFAULT_TOPK_OUTER_LR);
    expect(config.swarm.averaging.outerMomentum).toBe(0);
  });

  it('treats a key with no value as "use the default"', () => {
    const config = parseConfig(`${base}training:\n  batchSize:\n  gradClip:\nmetrics:\n`, { baseDir: dir });
    expect(config.training.batchSize).toBe(DEFAULT_BATCH_SIZE);
    expect(config.training.gradClip).toBeUndefined();
  });

  it('resolves paths against baseDir, not the working directory', () => {
    const sub = path.join(dir, 'nested');
    mkdirSync(sub, { recursive: true });
    writeFileSync(path.join(sub, 'corpus.txt'), 'to be or not to be\n');
    const config = parseConfig(
      'model: {kind: char-transformer, heads: 8, width: 64}\ndata: {format: text, path: corpus.txt}\nswarm: {identityFile: keys/me.key}\n',
      { baseDir: sub },
    );
    expect(config.data).toMatchObject({
      format: 'text',
      path: path.join(sub, 'corpus.txt'),
      byteLevel: false,
    });
    expect(config.swarm.identityFile).toBe(path.join(sub, 'keys/me.key'));
  });

  it('accepts a config built in code, optionally without path checks', () => {
    const config = configFromObject(
      {
        model: { kind: 'onnx', path: 'model.onnx', trainable: ['fc*.weight'] },
        data: { format: 'text', path: 'in.txt' },
      },
      { baseDir: dir, checkPaths: false },
    );
    expect(config.model).toMatchObject({
      kind: 'onnx',
      path: path.join(dir, 'model.onnx'),
      frozen: [],
      loss: 'cross-entropy',
    });
    expect(() => configFromObject({ model: { kind: 'mlp' } })).toThrow(ConfigError);
  });

  it('accepts a full swarm section with valid multiaddrs', () => {
    const config = parseConfig(
      `${base}swarm:\n  runId: run-1\n  bootstrap: [/ip4/10.0.0.2/tcp/4001/p2p/${PEER}, /dns4/peer.example.org/tcp/4001/p2p/${PEER}]\n  listen: [/ip4/0.0.0.0/tcp/4001, /ip6/::/tcp/4001]\n  announce: [/ip4/203.0.113.9/tcp/4001]\n  mdns: false\n  averaging: {innerSteps: 100, codec: int8, aggregator: mean, roundTimeoutMs: 5000, localParams: ['head.*']}\n`,
      { baseDir: dir },
    );
    expect(config.swarm.bootstrap).toHaveLength(2);
    expect(config.swarm.averaging).toMatchObject({ innerSteps: 100, codec: 'int8', roundTimeoutMs: 5000 });
    expect(roundTimeoutMs(config, 1_000_000)).toBe(5000);
  });
});

describe('requireRunId', () => {
  it('returns the run id or names the missing field', () => {
    expect(requireRunId(parseConfig(`${base}swarm: {runId: abc}`, { baseDir: dir }))).toBe('abc');
    expect(() => requireRunId(parseConfig(base, { baseDir: dir }), 'node.yaml')).toThrow(
      'node.yaml: swarm.runId: a run id is required to join a swarm (got nothing;',
    );
  });
});

describe('roundTimeoutMs', () => {
  it('defaults to max(10 s, min(30 s, 0.25 × the inner phase))', () => {
    const config = parseConfig(base, { baseDir: dir });
    expect(roundTimeoutMs(config, 8000)).toBe(10_000);
    expect(roundTimeoutMs(config, 80_000)).toBe(20_000);
    expect(roundTimeoutMs(config, 80_001)).toBe(20_001);
    expect(roundTimeoutMs(config, 10 * 60_000)).toBe(30_000);
    expect(roundTimeoutMs(config, 0)).toBe(10_000);
  });
});

describe('hostile input', () => {
  // Seeded PRNG (the core generator) so that failures reproduce.
  function rng(seed: number): () => number {
    return uniformSource(seed);
  }

  it('random mutations of a valid file either load or give one-line ConfigErrors', () => {
    const valid = `model:\n  kind: char-transformer\n  heads: 4\n  width: 128\ndata:\n  format: synthetic\n  examples: 100\ntraining:\n  optimizer: {lr: 0.001, beta2: 0.99}\n  maxSteps: 10\nswarm:\n  runId: r\n  listen: [/ip4/0.0.0.0/tcp/0]\nmetrics: {prometheusPort: 9090}\n`;
    const alphabet = [
      '{',
      '}',
      '[',
      ']',
      ':',
      '-',
      ' ',
      '\n',
      '\t',
      '"',
      "'",
      '&',
      '*',
      '!',
      '#',
      'x',
      '0',
      '9',
      '.',
      ',',
      '\u0000',
      'é',
    ];
    const rand = rng(0xc0ffee);
    let errors = 0;
    for (let i = 0; i < 400; i++) {
      const chars = [...valid];
      const edits = 1 + Math.floor(rand() * 4);
      for (let e = 0; e < edits; e++) {
        const at = Math.floor(rand() * chars.length);
        const op = rand();
        if (op < 0.4) chars[at] = alphabet[Math.floor(rand() * alphabet.length)];
        else if (op < 0.7) chars.splice(at, 1);
        else chars.splice(at, 0, alphabet[Math.floor(rand() * alphabet.length)]);
      }
      const text = chars.join('');
      try {
        parseConfig(text, { baseDir: dir, fileName: 'fuzz.yaml' });
      } catch (err) {
        if (!(err instanceof ConfigError))
          throw new Error(`non-ConfigError on input ${JSON.stringify(text)}: ${err}`);
        errors++;
        expect(err.issues.length).toBeGreaterThan(0);
        for (const line of err.message.split('\n')) expect(line.startsWith('fuzz.yaml: ')).toBe(true);
        expect(err.message.split('\n')).toHaveLength(err.issues.length);
      }
    }
    expect(errors).toBeGreaterThan(100);
  });
});
