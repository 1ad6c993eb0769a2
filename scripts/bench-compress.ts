/**
 * Codec benchmark: encode / decode throughput on a 4M-value update, compression ratio against fp32 and
 * relative reconstruction error. Baseline in the same run: a plain Float32Array copy (`slice()`).
 * Run: npx tsx scripts/bench-compress.ts
 */
import { performance } from 'node:perf_hooks';
import { decode, type EncodeOptions, encode } from '@enjambre/compress';
import { uniformSource } from '@enjambre/core';

const N = 4 * 1024 * 1024;
const REPS = 7;

function gaussianUpdate(n: number, seed: number): Float32Array {
  const rand = uniformSource(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++)
    out[i] = Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand()) * 1e-3;
  return out;
}

function median(times: number[]): number {
  const s = [...times].sort((x, y) => x - y);
  return s[s.length >> 1];
}

function time<T>(f: () => T): { ms: number; result: T } {
  let result = f(); // warm-up
  const times: number[] = [];
  for (let r = 0; r < REPS; r++) {
    const t0 = performance.now();
    result = f();
    times.push(performance.now() - t0);
  }
  return { ms: median(times), result };
}

const u = gaussianUpdate(N, 1);
const mb = (4 * N) / 1e6;
const copy = time(() => u.slice());
const copyMBs = mb / (copy.ms / 1000);

const codecs: [string, EncodeOptions][] = [
  ['fp32', { codec: 'fp32' }],
  ['fp16', { codec: 'fp16' }],
  ['int8 (block 256)', { codec: 'int8' }],
  ['sign (chunk 4096)', { codec: 'sign' }],
  ['topk 1% (k=41/4096)', { codec: 'topk' }],
  ['topk 10% (k=410/4096)', { codec: 'topk', fraction: 0.1 }],
];

let norm = 0;
for (let i = 0; i < N; i++) norm += u[i] * u[i];
norm = Math.sqrt(norm);

const rows: string[][] = [];
for (const [name, options] of codecs) {
  const enc = time(() => encode(u, options));
  const bytes = enc.result;
  const dec = time(() => decode(bytes, { expectedLength: N }));
  const d = dec.result;
  let err = 0;
  for (let i = 0; i < N; i++) err += (d[i] - u[i]) ** 2;
  const encMBs = mb / (enc.ms / 1000);
  const decMBs = mb / (dec.ms / 1000);
  rows.push([
    name,
    encMBs.toFixed(0),
    (encMBs / copyMBs).toFixed(3),
    decMBs.toFixed(0),
    (decMBs / copyMBs).toFixed(3),
    ((4 * N) / bytes.length).toFixed(2) + '×',
    (Math.sqrt(err) / norm).toExponential(2),
  ]);
}

const header = [
  'codec',
  'encode MB/s',
  'enc / copy',
  'decode MB/s',
  'dec / copy',
  'ratio vs fp32',
  'rel. error',
];
const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
const line = (cells: string[]) => `| ${cells.map((x, c) => x.padEnd(widths[c])).join(' | ')} |`;
console.log(`update: ${N} float32 values (${mb.toFixed(1)} MB), gaussian σ=1e-3; median of ${REPS} runs`);
console.log(`baseline Float32Array.slice(): ${copyMBs.toFixed(0)} MB/s (${copy.ms.toFixed(2)} ms)\n`);
console.log(line(header));
console.log(line(widths.map((w) => '-'.repeat(w))));
for (const r of rows) console.log(line(r));
console.log(`\nnode ${process.version}, ${process.platform}/${process.arch}`);
