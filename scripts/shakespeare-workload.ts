/**
 * The shakespeare-char workload of the swarm benchmarks (nanoGPT's CPU config), shared by
 * scripts/bench-swarm.ts (real peers) and scripts/sim-rounds.ts (rounds in one process) so that
 * both train and evaluate exactly the same thing.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { benchmarkDataset } from './datasets.ts';

/** Validation characters kept: context + a multiple of both batch sizes (every window evaluated once). */
export const SHAKESPEARE_VAL_CHARS = 64 + 48 * 250;

/**
 * Writes the benchmark's text file under `outDir`: nanoGPT's split (the first 90% of tiny
 * Shakespeare trains), followed by the first {@link SHAKESPEARE_VAL_CHARS} characters of its
 * validation split (the whole split would make every final evaluation take minutes per process).
 * Tiny Shakespeare comes from the dataset cache (`dataFrom`: a mirror, see scripts/datasets.ts).
 */
export async function writeShakespeareFile(
  dataFrom: string | undefined,
  outDir: string,
): Promise<{ path: string; validFraction: number }> {
  const { files } = await benchmarkDataset('tinyshakespeare', dataFrom);
  const text = await readFile(files['input.txt'], 'utf8');
  const cut = Math.floor(text.length * 0.9);
  const content = text.slice(0, cut) + text.slice(cut, cut + SHAKESPEARE_VAL_CHARS);
  const path = join(outDir, 'shakespeare-bench.txt');
  await mkdir(outDir, { recursive: true });
  await writeFile(path, content);
  return { path, validFraction: (SHAKESPEARE_VAL_CHARS - 0.5) / content.length };
}

/** nanoGPT's warm-up (100 of 2000 steps), scaled to a run of `steps`. */
export const shakespeareWarmup = (steps: number) => Math.round((100 * steps) / 2000);

/** The config (as a plain object, without node/swarm/seed) of one node of the workload. */
export function shakespeareConfig(
  file: { path: string; validFraction: number },
  opts: { steps: number; batchSize: number; threads: number },
) {
  return {
    model: {
      kind: 'char-transformer',
      layers: 4,
      heads: 4,
      width: 128,
      context: 64,
      dropout: 0,
      bias: true,
      tieWeights: false,
    },
    data: { format: 'text', path: file.path, validFraction: file.validFraction },
    hardware: { intraOpThreads: opts.threads },
    training: {
      batchSize: opts.batchSize,
      optimizer: { kind: 'adamw', lr: 1.0e-3, beta1: 0.9, beta2: 0.99, weightDecay: 0.1 },
      lrSchedule: { kind: 'cosine', warmupSteps: shakespeareWarmup(opts.steps), minLr: 1.0e-4 },
      gradClip: 1.0,
      maxSteps: opts.steps,
      // One optimizer step per onnxruntime call, as in the first runs: before the graphs ran in a
      // worker thread, 10 steps of this model (seconds with 4 processes on 2 cores) starved libp2p
      // long enough that no update reached anyone (docs/swarm-benchmarks.md, problem 4).
      stepsPerRun: 1,
      evalEvery: 0,
      evalBatches: 20,
    },
  };
}
