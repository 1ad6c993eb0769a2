import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { cpus } from 'node:os';
import type { HostTensor } from '@enjambre/autograd';
import { compileNamePatterns } from '@enjambre/config';
import { type StatusService, serveSwarmStatus, startMetricsServer } from '@enjambre/inspector';
import { checkCheckpointForResume, readCheckpoint, writeCheckpoint } from '@enjambre/runtime';
import {
  AveragingPeer,
  createSwarmNode,
  type InnerTrainer,
  type RoundReport,
  readSwarmKeyFile,
  type SharedTensor,
} from '@enjambre/swarm';
import { PeerSetupError, ResumeError } from './errors.ts';
import { OPTIMIZER_PREFIX, OUTER_PREFIX } from './export.ts';
import { checkpointMetadata, checkpointTensors, resumeExpectation } from './local.ts';
import { evaluationBatches, type TrainingSetup, toTrainBatch } from './setup.ts';

export interface SwarmRunOptions {
  /** Stop after this round (the swarm's round counter). Default: run until aborted. */
  maxRounds?: number;
  /** Evaluate the anchor on validation data every this many rounds (0: only at the end). Default 1. */
  evalEveryRounds?: number;
  /** Overrides of the config's listen addresses and bootstrap list (CLI flags, demos). */
  listen?: string[];
  bootstrap?: string[];
  /** Shortest time a starting peer listens for a running swarm, ms. */
  joinWaitMs?: number;
  /** Peers (this one included) to wait for before the first round when no swarm runs yet. */
  minPeers?: number;
  /** Called once the node listens, with its dialable addresses. */
  onListening?: (addrs: string[], peerId: string) => void;
  onRound?: (report: RoundReport & { valLoss?: number; valAccuracy?: number }) => void;
  onNotice?: (message: string) => void;
  onProgress?: (p: { round: number; steps: number; loss: number }) => void;
  /** Called whenever the trainer peers of this run that this peer knows change (their ids). */
  onPeers?: (peers: string[]) => void;
  /** Aborting ends the current round early, announces the departure and checkpoints. */
  signal?: AbortSignal;
  /**
   * Continue from this peer's swarm checkpoint when it exists (its round, anchor, outer momentum
   * and inner optimizer state); a swarm running ahead still wins when joining. Default false.
   */
  resume?: boolean;
  /** Called after each checkpoint is written. */
  onCheckpoint?: (path: string, round: number) => void;
}

/** Where a swarm peer keeps its checkpoint. */
export function swarmCheckpointPath(config: TrainingSetup['config']): string {
  return `${config.node.workDir}/swarm-checkpoint.safetensors`;
}

export interface SwarmRunResult {
  rounds: number;
  valLoss: number;
  valAccuracy?: number;
  bytesSent: number;
  bytesReceived: number;
  /** The same bytes split by channel: gossip messages published/received, direct streams (blobs, snapshots). */
  traffic: { gossipSent: number; gossipReceived: number; streamSent: number; streamReceived: number };
  /** Distinct trainer peers heard from during the run. */
  peersSeen: number;
  anchorHash: string;
  executionProvider: string;
  checkpoint: string;
  /** True when the run ended because the signal was aborted (SIGINT/SIGTERM). */
  interrupted: boolean;
  joinedFrom: string[];
}

/**
 * Runs this node as a peer of the swarm its config names: joins (taking the swarm's state when
 * it is already running), trains rounds of H local steps, exchanges compressed updates and
 * steps the shared anchor, until `maxRounds` or the signal. Leaves cleanly, with a checkpoint.
 */
export async function runSwarmPeer(
  setup: TrainingSetup,
  opts: SwarmRunOptions = {},
): Promise<SwarmRunResult> {
  const { config, trainer, compiled } = setup;
  const s = config.swarm;
  if (!s.runId) throw new PeerSetupError('swarm.runId is required to join a swarm');
  const node = await createSwarmNode({
    runId: s.runId,
    compatHash: setup.configHash,
    identityFile: s.identityFile,
    listen: opts.listen ?? s.listen,
    announce: s.announce,
    bootstrap: opts.bootstrap ?? s.bootstrap,
    mdns: s.mdns,
    swarmKey: s.swarmKeyFile ? await readSwarmKeyFile(s.swarmKeyFile) : undefined,
    inlineThresholdBytes: s.averaging.inlineMaxBytes,
    maxConnections: s.maxConnections,
    maxConnectionsPerIp: s.maxConnectionsPerIp,
    allowPrivateAddrs: s.allowPrivateAddresses,
    // Listeners go on before the first dial: a refusal can happen during start().
    start: false,
  });
  const aborted = () => opts.signal?.aborted ?? false;
  let metrics: { close(): Promise<void> } | undefined;
  let peersTimer: NodeJS.Timeout | undefined;
  let statusService: StatusService | undefined;
  try {
    node.on('refused', (e) => opts.onNotice?.(e.message));
    node.on('rejected', (e) => opts.onNotice?.(`rejected a ${e.topic} message from ${e.peer}: ${e.reason}`));
    await node.start();
    opts.onListening?.(node.multiaddrs(), node.peerId);
    const isLocal = compileNamePatterns(s.averaging.localParams ?? []);
    const shared: SharedTensor[] = compiled.params
      .filter((p) => !isLocal(p.name))
      .map((p) => ({ name: p.name, length: p.dims.reduce((a, b) => a * b, 1) }));
    const checkpoint = swarmCheckpointPath(config);
    // --- resume (join --resume): this peer's own last state, before the swarm is asked for its.
    const resumed = opts.resume ? await loadSwarmCheckpoint(setup, checkpoint, s.runId) : undefined;
    if (opts.resume && !resumed)
      opts.onNotice?.(`no checkpoint at ${checkpoint} to resume from; starting afresh`);
    const params = () => trainer.parameters();
    const inner = innerTrainer(setup, shared);
    const hardware = {
      provider: setup.provider,
      deviceName: cpus()[0]?.model ?? 'cpu',
      cores: cpus().length,
    };
    const peer = new AveragingPeer(
      node,
      inner,
      shared,
      shared.map((t) => Float32Array.from(params()[t.name].data as Float32Array)),
      {
        innerSteps: s.averaging.innerSteps,
        codec: s.averaging.codec,
        topkFraction: s.averaging.topkFraction,
        outerLr: s.averaging.outerLr,
        outerMomentum: s.averaging.outerMomentum,
        aggregator: s.averaging.aggregator,
        roundTimeoutMs: s.averaging.roundTimeoutMs,
        maxSamplesPerUpdate: s.averaging.maxSamplesPerUpdate,
        maxRoundsAhead: s.averaging.maxRoundsAhead,
        joinWaitMs: opts.joinWaitMs,
        minPeers: opts.minPeers,
        hardware,
        name: config.node.name,
      },
    );
    if (resumed) {
      const p = params();
      peer.restore({
        round: resumed.round,
        anchor: concatShared(shared.map((t) => p[t.name].data as Float32Array)),
        momentum: resumed.momentum,
      });
      opts.onNotice?.(`resumed from ${checkpoint} at round ${resumed.round}`);
    }
    // --- checkpoints: every swarm.checkpointEveryRounds rounds and on leaving, atomically.
    const saveCheckpoint = async () => {
      inner.loadShared(peer.anchorTensors());
      await mkdir(config.node.workDir, { recursive: true });
      const snapshot = peer.snapshot();
      await writeCheckpoint(
        checkpoint,
        {
          ...checkpointTensors(setup),
          [OUTER_MOMENTUM]: { dtype: 'float32', dims: [snapshot.momentum.length], data: snapshot.momentum },
        },
        checkpointMetadata(setup, setup.sampler.state(), {
          round: peer.round,
          anchorHash: peer.anchorHash(),
          runId: s.runId,
        }),
      );
      opts.onCheckpoint?.(checkpoint, peer.round);
    };
    peer.on('notice', (e) => opts.onNotice?.(e.message));
    peer.on('progress', (e) => opts.onProgress?.(e));
    let knownKey = '';
    peersTimer = setInterval(() => {
      const known = peer.knownPeers();
      if (known.join() !== knownKey) opts.onPeers?.(known);
      knownKey = known.join();
    }, 250);
    let lastLoss: number | null = null;
    let lastRate = 0;
    let samplesDone = 0;
    // Answers `enjambre status --json` in one exchange (this peer's view of the run).
    statusService = await serveSwarmStatus(node, () => {
      const t = node.traffic();
      return {
        round: peer.round,
        step: trainer.step,
        samplesDone,
        loss: lastLoss,
        samplesPerSec: lastRate,
        bytesIn: t.totalReceived,
        bytesOut: t.totalSent,
        hardware,
        role: 'trainer',
        name: config.node.name,
      };
    });
    if (config.metrics.prometheusPort !== undefined) {
      metrics = await startMetricsServer({
        port: config.metrics.prometheusPort,
        getMetrics: () => {
          const t = node.traffic();
          return {
            round: peer.round,
            step: trainer.step,
            loss: lastLoss,
            samplesPerSec: lastRate,
            bytesIn: t.totalReceived,
            bytesOut: t.totalSent,
            peersSeen: peer.knownPeers().length,
            info: {
              peer_id: node.peerId,
              name: config.node.name,
              provider: setup.provider,
              run_id: s.runId!,
            },
          };
        },
      });
    }

    const joined = await peer.join(opts.signal).catch((e) => {
      if (aborted()) return { joined: false, round: peer.round, from: [] as string[] };
      throw e;
    });
    if (joined.joined) opts.onNotice?.(`joined the running swarm at round ${joined.round}`);
    const evalEvery = opts.evalEveryRounds ?? 1;
    let last: { valLoss: number; valAccuracy?: number } | undefined;
    const evaluateAnchor = async (count?: number) => {
      inner.loadShared(peer.anchorTensors());
      const r = await trainer.evaluate(evaluationBatches(setup, count));
      last = { valLoss: r.loss, valAccuracy: r.accuracy };
      return last;
    };
    const more = () => !aborted() && (opts.maxRounds === undefined || peer.round < opts.maxRounds);
    while (more()) {
      let report: RoundReport;
      try {
        // Catching up or re-syncing may move this peer past the last round.
        await peer.sync(opts.signal);
        if (!more()) break;
        report = await peer.runRound(opts.signal);
      } catch (e) {
        if (aborted()) break;
        throw e;
      }
      lastLoss = report.loss;
      samplesDone += report.samples;
      lastRate = report.samples / Math.max(1e-3, report.innerMs / 1000);
      const ev =
        evalEvery > 0 && report.round % evalEvery === 0
          ? await evaluateAnchor(config.training.evalBatches)
          : {};
      opts.onRound?.({ ...report, ...ev });
      const every = s.checkpointEveryRounds;
      if (every > 0 && peer.round % every === 0 && more()) await saveCheckpoint();
    }
    if (!aborted()) await peer.settle(5_000, opts.signal).catch(() => undefined);
    const final = await evaluateAnchor();
    await saveCheckpoint();
    await peer.leave(aborted() ? 'interrupted' : 'finished');
    const t = node.traffic();
    return {
      rounds: peer.round,
      valLoss: final.valLoss,
      valAccuracy: final.valAccuracy,
      bytesSent: t.totalSent,
      bytesReceived: t.totalReceived,
      traffic: {
        gossipSent: t.gossipSent,
        gossipReceived: t.gossipReceived,
        streamSent: t.streamSent,
        streamReceived: t.streamReceived,
      },
      peersSeen: peer.seenPeers().length,
      anchorHash: peer.anchorHash(),
      executionProvider: setup.provider,
      checkpoint,
      interrupted: aborted(),
      joinedFrom: joined.from,
    };
  } finally {
    clearInterval(peersTimer);
    await statusService?.stop();
    await metrics?.close().catch(() => undefined);
    await node.stop().catch(() => undefined);
  }
}

/** The checkpoint tensor of the outer optimizer's momentum (one vector over the shared parameters). */
const OUTER_MOMENTUM = `${OUTER_PREFIX}momentum`;

function concatShared(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/**
 * Loads a swarm checkpoint of the same run and config into the trainer (parameters, inner
 * optimizer state) and returns the protocol's part (round, outer momentum); undefined when absent.
 */
async function loadSwarmCheckpoint(
  setup: TrainingSetup,
  file: string,
  runId: string,
): Promise<{ round: number; momentum: Float32Array } | undefined> {
  if (!existsSync(file)) return undefined;
  const ck = await readCheckpoint(file);
  if (ck.metadata.configHash !== setup.configHash) {
    throw new ResumeError(
      `${file} was written by a run with another model or training config (hash ${ck.metadata.configHash?.slice(0, 12)}…, this config ${setup.configHash.slice(0, 12)}…); move it away or join without --resume`,
    );
  }
  if (ck.metadata.runId !== runId) {
    throw new ResumeError(
      `${file} belongs to swarm run ${ck.metadata.runId}, not ${runId}; move it away or join without --resume`,
    );
  }
  const round = Number(ck.metadata.round);
  const momentum = ck.tensors[OUTER_MOMENTUM];
  if (!Number.isInteger(round) || round < 0 || momentum?.dtype !== 'float32') {
    throw new ResumeError(
      `${file} is not a swarm checkpoint (no round or ${OUTER_MOMENTUM}); it cannot resume a swarm peer`,
    );
  }
  // Every tensor finite and of this model's shape, the outer momentum included, before anything is
  // loaded (its length is checked against the shared parameters when the protocol restores it).
  const expected = resumeExpectation(setup);
  try {
    checkCheckpointForResume(
      ck,
      { ...expected, tensors: [...expected.tensors, { name: OUTER_MOMENTUM, dims: momentum.dims }] },
      file,
    );
  } catch (e) {
    throw new ResumeError((e as Error).message, { cause: e });
  }
  const params: Record<string, HostTensor> = {};
  const state: Record<string, HostTensor> = {};
  for (const [name, t] of Object.entries(ck.tensors)) {
    if (name.startsWith(OPTIMIZER_PREFIX)) state[name.slice(OPTIMIZER_PREFIX.length)] = t;
    else if (name !== OUTER_MOMENTUM) params[name] = t;
  }
  setup.trainer.setParameters(params);
  setup.trainer.setOptimizerState(state, Number(ck.metadata.step));
  if (ck.metadata.sampler) setup.sampler.restore(JSON.parse(ck.metadata.sampler));
  return { round, momentum: momentum.data as Float32Array };
}

/** Longest a single graph run may block the event loop while the node is in a swarm, ms. */
const MAX_RUN_MS = 1_000;

/** Adapts the node's Trainer and data to what the averaging protocol asks of a round. */
function innerTrainer(setup: TrainingSetup, shared: SharedTensor[]): InnerTrainer {
  const { trainer, compiled } = setup;
  const k = compiled.stepsPerRun;
  let msPerStep: number | undefined;
  return {
    loadShared(values) {
      const next: Record<string, HostTensor> = { ...trainer.parameters() };
      shared.forEach((t, i) => {
        const p = next[t.name];
        next[t.name] = { dtype: p.dtype, dims: p.dims, data: Float32Array.from(values[i]) };
      });
      trainer.setParameters(next);
    },
    readShared() {
      const p = trainer.parameters();
      return shared.map((t) => p[t.name].data as Float32Array);
    },
    async train({ maxSteps, shouldStop, signal, onProgress }) {
      let steps = 0;
      const losses: number[] = [];
      while (steps < maxSteps && !shouldStop()) {
        signal?.throwIfAborted();
        // onnxruntime-node runs a graph synchronously on the calling thread: on the event loop,
        // libp2p answers nobody while it runs. Unless the graphs run in a worker thread, runs of
        // K steps that would take too long fall back to single steps.
        let n = Math.min(k, maxSteps - steps);
        if (!setup.offThread && msPerStep !== undefined && msPerStep * n > MAX_RUN_MS) n = 1;
        const batches = Array.from({ length: n }, () =>
          toTrainBatch(compiled, setup.data.train.batch(setup.sampler.next())),
        );
        const t0 = performance.now();
        const r = await trainer.train(batches, signal);
        msPerStep = (performance.now() - t0) / n;
        losses.push(...r.losses);
        steps += n;
        onProgress?.({ steps, samples: steps * setup.batchSize, loss: mean(losses.slice(-n)) });
      }
      return { steps, samples: steps * setup.batchSize, loss: mean(losses.slice(-Math.max(1, k))) };
    },
    resetOptimizer() {
      trainer.resetOptimizerState();
    },
  };
}

function mean(xs: number[]): number {
  return xs.length === 0 ? Number.NaN : xs.reduce((a, b) => a + b, 0) / xs.length;
}
