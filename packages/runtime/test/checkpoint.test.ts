import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { HostTensor } from '@enjambre/autograd';
import { uniformSource } from '@enjambre/core';
import { afterAll, describe, expect, it } from 'vitest';
import {
  CheckpointError,
  CheckpointWriteError,
  decodeSafetensors,
  encodeSafetensors,
  readCheckpoint,
  type TensorMap,
  writeCheckpoint,
} from '../src/index.ts';
import { generation } from './fixtures/ckpt-gen.ts';

const repoRoot = path.resolve(import.meta.dirname, '../../..');
const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(path.join(tmpdir(), 'enjambre-ckpt-'));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const rand = uniformSource(424242);

function randomTensors(): TensorMap {
  const n = (k: number) => Math.max(1, Math.floor(rand() * k));
  const [a, b] = [n(9), n(7)];
  return {
    'enc.w': {
      dtype: 'float32',
      dims: [a, b],
      data: Float32Array.from({ length: a * b }, () => rand() - 0.5),
    },
    'enc.b': { dtype: 'float64', dims: [b], data: Float64Array.from({ length: b }, () => rand() * 1e6) },
    'adam.m': {
      dtype: 'float16',
      dims: [a],
      data: Uint16Array.from({ length: a }, () => Math.floor(rand() * 0x7c00)),
    },
    counts: {
      dtype: 'int64',
      dims: [2, 2],
      data: BigInt64Array.from([-(2n ** 62n), 3n, BigInt(n(1e9)), 2n ** 40n]),
    },
    idx: { dtype: 'int32', dims: [3], data: Int32Array.from({ length: 3 }, () => n(2 ** 31) - 2 ** 30) },
    signs: { dtype: 'int8', dims: [5], data: Int8Array.from({ length: 5 }, () => n(256) - 128) },
    bytes: { dtype: 'uint8', dims: [1, 3], data: Uint8Array.from({ length: 3 }, () => n(256)) },
    mask: { dtype: 'bool', dims: [4], data: Uint8Array.from([1, 0, 0, 1]) },
    scalar: { dtype: 'float32', dims: [], data: Float32Array.of(rand() + 1) },
    empty: { dtype: 'float64', dims: [0, 3], data: new Float64Array(0) },
  };
}

function expectSameTensors(actual: TensorMap, expected: TensorMap): void {
  expect(Object.keys(actual).sort()).toEqual(Object.keys(expected).sort());
  for (const [name, t] of Object.entries(expected)) {
    const a = actual[name];
    expect(a.dtype, name).toBe(t.dtype);
    expect(a.dims, name).toEqual(t.dims);
    expect(a.data.constructor, name).toBe(t.data.constructor);
    expect(Buffer.from(a.data.buffer, a.data.byteOffset, a.data.byteLength).equals(bytesOf(t)), name).toBe(
      true,
    );
  }
}
const bytesOf = (t: HostTensor) => Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);

/** A safetensors file assembled by hand from the spec, independent of the encoder. */
function handMade(header: string, data: Uint8Array, pad = true): Uint8Array {
  let json = Buffer.from(header, 'utf8');
  if (pad && json.length % 8 !== 0) json = Buffer.concat([json, Buffer.alloc(8 - (json.length % 8), 0x20)]);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  return new Uint8Array(Buffer.concat([len, json, data]));
}

describe('safetensors encoding', () => {
  it('round-trips random tensors of every dtype and JSON metadata through a file', async () => {
    const file = path.join(tempDir(), 'model.safetensors');
    for (let round = 0; round < 5; round++) {
      const tensors = randomTensors();
      const spec = { layers: [rand(), rand()], name: 'mlp', nested: { ok: true } };
      await writeCheckpoint(file, tensors, {
        step: round * 17 + 3,
        round: `r${round}`,
        spec,
        vocab: ['a', 'é', '\n'],
        sampler: { seed: 9n, cursor: 12 },
        skipped: undefined,
      });
      const back = await readCheckpoint(file);
      expectSameTensors(back.tensors, tensors);
      expect(back.metadata).toEqual({
        step: String(round * 17 + 3),
        round: `r${round}`,
        spec: JSON.stringify(spec),
        vocab: '["a","é","\\n"]',
        sampler: '{"seed":"9","cursor":12}',
      });
      expect(JSON.parse(back.metadata.spec)).toEqual(spec);
    }
  });

  it('writes exactly the bytes the spec describes (hand-made reference file)', () => {
    const tensors: TensorMap = {
      'b.weight': { dtype: 'float32', dims: [2], data: Float32Array.of(1.5, -2) },
      a: { dtype: 'int64', dims: [1], data: BigInt64Array.of(7n) },
      m: { dtype: 'uint8', dims: [3], data: Uint8Array.of(1, 2, 3) },
    };
    const header =
      '{"__metadata__":{"step":"3"},' +
      '"a":{"dtype":"I64","shape":[1],"data_offsets":[0,8]},' +
      '"b.weight":{"dtype":"F32","shape":[2],"data_offsets":[8,16]},' +
      '"m":{"dtype":"U8","shape":[3],"data_offsets":[16,19]}}';
    const data = new Uint8Array(19);
    const dv = new DataView(data.buffer);
    dv.setBigInt64(0, 7n, true);
    dv.setFloat32(8, 1.5, true);
    dv.setFloat32(12, -2, true);
    data.set([1, 2, 3], 16);
    const ours = encodeSafetensors(tensors, { step: 3 });
    expect(Buffer.from(ours).equals(Buffer.from(handMade(header, data)))).toBe(true);
    // The header length is a multiple of 8 and the padding is spaces.
    const n = Number(new DataView(ours.buffer).getBigUint64(0, true));
    expect(n % 8).toBe(0);
    expect(Buffer.from(ours.subarray(8 + header.length, 8 + n)).toString()).toMatch(/^ *$/);
  });

  it('reads hand-made files written with other conventions (key order, no metadata, no padding)', () => {
    const data = new Uint8Array(4 + 16);
    const dv = new DataView(data.buffer);
    dv.setFloat32(0, 0.25, true);
    dv.setFloat64(4, Math.PI, true);
    dv.setFloat64(12, -Math.E, true);
    const header =
      '{"y":{"shape":[2,1],"data_offsets":[4,20],"dtype":"F64"},  "x":{"data_offsets":[0,4],"dtype":"F32","shape":[]}}';
    for (const pad of [true, false]) {
      const { tensors, metadata } = decodeSafetensors(handMade(header, data, pad));
      expect(metadata).toEqual({});
      expect(tensors.x).toEqual({ dtype: 'float32', dims: [], data: Float32Array.of(0.25) });
      expect(tensors.y.dims).toEqual([2, 1]);
      expect(Array.from(tensors.y.data as Float64Array)).toEqual([Math.PI, -Math.E]);
    }
  });

  it('rejects truncated and corrupt files with an error naming the file', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'ckpt.safetensors');
    await writeCheckpoint(file, randomTensors(), { step: 1 });
    const good = readFileSync(file);
    const n = Number(good.readBigUInt64LE(0));
    const cut = (len: number) => good.subarray(0, len);
    const corrupt = (at: number, bytes: number[]) => {
      const b = Buffer.from(good);
      b.set(bytes, at);
      return b;
    };
    const headerWith = (h: string, dataLen = good.length - 8 - n) =>
      handMade(h, good.subarray(8 + n, 8 + n + dataLen));
    const cases: [string, Uint8Array, RegExp][] = [
      ['empty file', cut(0), /truncated: 0 bytes/],
      ['cut in the length', cut(5), /truncated/],
      ['cut in the header', cut(8 + Math.floor(n / 2)), /truncated: the header announces/],
      ['cut in the data', cut(good.length - 3), /run past the end of the data.*truncated|cover/],
      ['trailing garbage', Buffer.concat([good, Buffer.from([1, 2, 3])]), /trailing bytes/],
      ['huge header length', corrupt(0, [0, 0, 0, 0, 0, 0, 0, 0x7f]), /exceeds the limit/],
      ['header not JSON', corrupt(8, [0x7b, 0x7b, 0x7b]), /not JSON|does not start/],
      ['header not UTF-8', corrupt(8 + 2, [0xff, 0xfe]), /not UTF-8/],
      ['header not an object', handMade('[1,2]', new Uint8Array(0)), /does not start with|not a JSON object/],
      [
        'overlapping offsets',
        handMade(
          '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}',
          new Uint8Array(12),
        ),
        /tensor b: data_offsets \[4, 12\] overlap/,
      ],
      [
        'hole between tensors',
        handMade(
          '{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}',
          new Uint8Array(12),
        ),
        /tensor b: a hole of 4 bytes/,
      ],
      [
        'size does not match dtype and shape',
        handMade('{"a":{"dtype":"F64","shape":[2],"data_offsets":[0,8]}}', new Uint8Array(8)),
        /tensor a: float64 of shape \[2\] needs 16 bytes but data_offsets span 8/,
      ],
      [
        'unknown dtype',
        handMade('{"a":{"dtype":"Q7","shape":[1],"data_offsets":[0,1]}}', new Uint8Array(1)),
        /unknown dtype "Q7"/,
      ],
      [
        'dtype not held by Enjambre',
        handMade('{"a":{"dtype":"BF16","shape":[1],"data_offsets":[0,2]}}', new Uint8Array(2)),
        /dtype BF16 is not supported/,
      ],
      [
        'negative shape',
        handMade('{"a":{"dtype":"U8","shape":[-1],"data_offsets":[0,1]}}', new Uint8Array(1)),
        /shape must be a list of non-negative integers/,
      ],
      [
        'overflowing shape',
        handMade(
          '{"a":{"dtype":"U8","shape":[4294967296,4294967296],"data_offsets":[0,1]}}',
          new Uint8Array(1),
        ),
        /too large|needs/,
      ],
      [
        'reversed offsets',
        handMade('{"a":{"dtype":"U8","shape":[1],"data_offsets":[1,0]}}', new Uint8Array(1)),
        /data_offsets must be \[begin, end\]/,
      ],
      [
        'metadata value not a string',
        headerWith('{"__metadata__":{"step":3}}', 0),
        /__metadata__.step is not a string/,
      ],
    ];
    for (const [what, bytes, pattern] of cases) {
      writeFileSync(file, bytes);
      const err = await readCheckpoint(file).catch((e: unknown) => e);
      expect(err, what).toBeInstanceOf(CheckpointError);
      expect((err as CheckpointError).message, what).toMatch(pattern);
      expect((err as CheckpointError).message, what).toContain(file);
      expect((err as CheckpointError).file).toBe(file);
    }
    // Random corruption of any byte never crashes the reader: either a valid file or a CheckpointError.
    for (let i = 0; i < 300; i++) {
      const b = Buffer.from(good.subarray(0, Math.min(good.length, 8 + n + 64)));
      for (let k = 0; k < 3; k++) b[Math.floor(rand() * b.length)] = Math.floor(rand() * 256);
      try {
        decodeSafetensors(b, 'fuzz');
      } catch (e) {
        expect(e).toBeInstanceOf(CheckpointError);
      }
    }
    await expect(readCheckpoint(path.join(dir, 'missing.safetensors'))).rejects.toThrow(
      /could not read checkpoint .*missing\.safetensors/,
    );
  });

  it('refuses to write tensors that do not match their dtype and dims', async () => {
    const file = path.join(tempDir(), 'bad.safetensors');
    const bad: [TensorMap, RegExp][] = [
      [
        { w: { dtype: 'float32', dims: [3], data: new Float32Array(2) } },
        /tensor w: dims \[3\] hold 3 elements/,
      ],
      [
        { w: { dtype: 'float32', dims: [2], data: new Float64Array(2) } },
        /tensor w: dtype float32 needs a Float32Array/,
      ],
      [
        { __metadata__: { dtype: 'uint8', dims: [1], data: new Uint8Array(1) } },
        /cannot be named __metadata__/,
      ],
    ];
    for (const [tensors, pattern] of bad) {
      await expect(writeCheckpoint(file, tensors)).rejects.toThrow(pattern);
      await expect(writeCheckpoint(file, tensors)).rejects.toBeInstanceOf(CheckpointWriteError);
    }
    expect(readdirSync(path.dirname(file))).toEqual([]);
    await expect(
      writeCheckpoint(path.join(file, 'no-such-dir', 'x.safetensors'), randomTensors()),
    ).rejects.toThrow(CheckpointError);
  });

  it('keeps the previous checkpoint when a write is aborted', async () => {
    const file = path.join(tempDir(), 'keep.safetensors');
    const old = randomTensors();
    await writeCheckpoint(file, old, { step: 1 });
    const ctl = new AbortController();
    ctl.abort();
    await expect(writeCheckpoint(file, randomTensors(), { step: 2 }, { signal: ctl.signal })).rejects.toThrow(
      /aborted/,
    );
    const back = await readCheckpoint(file);
    expect(back.metadata.step).toBe('1');
    expectSameTensors(back.tensors, old);
    expect(readdirSync(path.dirname(file))).toEqual(['keep.safetensors']);
  });
});

describe('crash safety', () => {
  it('a writer SIGKILLed at random moments never leaves a partial checkpoint', async () => {
    const child = path.resolve(import.meta.dirname, 'fixtures/ckpt-writer.ts');
    const g0 = generation(1);
    let killedMidWrite = 0;
    // Three independent lanes in parallel (a child's start-up dominates), two kills each.
    const lane = async (laneNo: number) => {
      const dir = tempDir();
      const target = path.join(dir, 'ckpt.safetensors');
      await writeCheckpoint(target, g0.tensors, g0.metadata);
      let known = 1;
      for (let k = 0; k < 2; k++) {
        const start = (laneNo * 2 + k + 1) * 1000;
        const proc = spawn(
          process.execPath,
          ['--conditions=@enjambre/source', '--import', 'tsx', child, target, String(start)],
          {
            cwd: repoRoot,
            stdio: ['ignore', 'pipe', 'pipe'],
          },
        );
        const exited = new Promise<void>((resolve) => proc.on('exit', () => resolve()));
        let stderr = '';
        proc.stderr!.on('data', (d) => {
          stderr += String(d);
        });
        await waitForLine(proc, 'ready', () => stderr);
        if ((laneNo + k) % 2 === 0) {
          // A random moment: anywhere in the first few writes.
          await new Promise((r) => setTimeout(r, Math.floor(rand() * 300)));
        } else {
          // The moment a temp file exists: the kill lands inside a write.
          while (!readdirSync(dir).some((f) => f.endsWith('.tmp'))) await new Promise((r) => setImmediate(r));
        }
        proc.kill('SIGKILL');
        await exited;
        if (readdirSync(dir).some((f) => f.endsWith('.tmp'))) killedMidWrite++;
        const back = await readCheckpoint(target);
        const gen = Number(back.metadata.gen);
        expect(gen === known || gen >= start, `generation ${gen} after kill ${k} of lane ${laneNo}`).toBe(
          true,
        );
        expectSameTensors(back.tensors, generation(gen).tensors);
        expect(JSON.parse(back.metadata.config)).toEqual({ layers: 1, seed: gen });
        known = gen;
      }
      // The next successful write removes the temp files the killed writers left.
      await writeCheckpoint(target, g0.tensors, g0.metadata);
      expect(readdirSync(dir)).toEqual(['ckpt.safetensors']);
    };
    await Promise.all([0, 1, 2].map(lane));
    expect(killedMidWrite).toBeGreaterThan(0);
  });
});

function waitForLine(proc: ChildProcess, line: string, stderr: () => string): Promise<void> {
  return new Promise((resolve, reject) => {
    let out = '';
    proc.stdout!.on('data', (d) => {
      out += String(d);
      if (out.split('\n').includes(line)) resolve();
    });
    proc.on('exit', (code) => reject(new Error(`writer exited (${code}) before "${line}": ${stderr()}`)));
  });
}

const python = spawnSync('python3', ['-c', 'import safetensors.numpy, numpy'], { encoding: 'utf8' });
const hasPythonSafetensors = python.status === 0;

describe('interoperability with the reference implementation', () => {
  // Written by Python `safetensors` 0.8.0 (numpy: save_file(..., metadata={"step": "42"})) on a machine
  // that has it; the same run checked that Python reads our files tensor for tensor, byte for byte.
  const pythonWritten = path.resolve(import.meta.dirname, 'fixtures/python-written.safetensors');
  const pythonTensors = (): TensorMap => ({
    w: { dtype: 'float32', dims: [2, 3], data: Float32Array.from([0, 1, 2, 3, 4, 5], (v) => v / 7) },
    d: { dtype: 'float64', dims: [3], data: Float64Array.of(Math.PI, -Math.E, 1e300) },
    i: { dtype: 'int64', dims: [3], data: BigInt64Array.of(-3n, 9n, 2n ** 40n) },
    n: { dtype: 'int32', dims: [2, 2], data: Int32Array.of(1, -2, 3, -4) },
    h: { dtype: 'float16', dims: [2], data: Uint16Array.of(0x3e00, 0xb400) }, // 1.5, -0.25
    s: { dtype: 'int8', dims: [3], data: Int8Array.of(-128, 127, 0) },
    u: { dtype: 'uint8', dims: [2], data: Uint8Array.of(0, 255) },
    b: { dtype: 'bool', dims: [3], data: Uint8Array.of(1, 0, 1) },
    e: { dtype: 'float32', dims: [0, 3], data: new Float32Array(0) },
    scalar: { dtype: 'float32', dims: [], data: Float32Array.of(2.5) },
  });

  it('reads a file written by Python safetensors, and writes the same bytes for the same tensors', async () => {
    const back = await readCheckpoint(pythonWritten);
    expect(back.metadata).toEqual({ step: '42' });
    expectSameTensors(back.tensors, pythonTensors());
    const ours = encodeSafetensors(pythonTensors(), { step: '42' });
    expect(Buffer.from(ours).equals(readFileSync(pythonWritten))).toBe(true);
  });

  it.skipIf(!hasPythonSafetensors)(
    `Python safetensors reads our file and we read its file${hasPythonSafetensors ? '' : ' (skipped: the safetensors Python package is not installed here; Debian bookworm has no python3-safetensors and PyPI is unreachable; the Python-written fixture and the hand-made spec files above check conformance instead)'}`,
    async () => {
      const dir = tempDir();
      const ours = path.join(dir, 'ours.safetensors');
      const theirs = path.join(dir, 'theirs.safetensors');
      const tensors = randomTensors();
      delete tensors.mask; // numpy bool round-trips fine, but keep the check to numeric dtypes
      await writeCheckpoint(ours, tensors, { step: 5 });
      const script = `
import sys, json, numpy as np
from safetensors.numpy import load_file, save_file
from safetensors import safe_open
t = load_file(sys.argv[1])
with safe_open(sys.argv[1], "np") as f: meta = f.metadata()
print(json.dumps({k: [str(v.dtype), list(v.shape), v.tobytes().hex()] for k, v in t.items()} | {"__meta": meta}))
save_file({"w": np.arange(6, dtype=np.float32).reshape(2, 3) / 7, "i": np.array([-3, 9], dtype=np.int64)}, sys.argv[2], metadata={"who": "python"})
`;
      const res = spawnSync('python3', ['-c', script, ours, theirs], { encoding: 'utf8' });
      expect(res.status, res.stderr).toBe(0);
      const seen = JSON.parse(res.stdout) as Record<string, [string, number[], string]> & {
        __meta: Record<string, string>;
      };
      expect(seen.__meta).toEqual({ step: '5' });
      for (const [name, t] of Object.entries(tensors)) {
        expect(seen[name][1], name).toEqual(t.dims);
        expect(seen[name][2], name).toBe(bytesOf(t).toString('hex'));
      }
      const back = await readCheckpoint(theirs);
      expect(back.metadata).toEqual({ who: 'python' });
      expect(Array.from(back.tensors.w.data as Float32Array)).toEqual(
        Array.from(Float32Array.from([0, 1, 2, 3, 4, 5], (v) => v / 7)),
      );
      expect(Array.from(back.tensors.i.data as BigInt64Array)).toEqual([-3n, 9n]);
    },
  );
});
