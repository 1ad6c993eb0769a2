import { createWriteStream, mkdirSync } from 'node:fs';
import { join as joinPath } from 'node:path';
import { loadConfig } from '@enjambre/config';
import { runSwarmPeer, setupTraining } from '@enjambre/peer';
import { log, Notices } from '../log.ts';
import { EXIT, printJsonLine, UsageError } from '../output.ts';
import { surviveClosedOutput } from '../pipes.ts';
import { bytes, interruptSignal, ProgressLine } from '../progress.ts';
import type { Command } from './command.ts';

export const join: Command = {
  name: 'join',
  usage: `Usage: enjambre join --config FILE [--max-rounds N] [--bootstrap ADDR]... [--listen ADDR]... [--resume] [--json]

Joins the swarm of the config's swarm.runId: takes the running swarm's state from peers whose
snapshots agree (or starts it), then trains rounds of swarm.averaging.innerSteps local steps,
exchanging compressed updates with the other peers. Shows round, loss, peers and traffic.
Writes a checkpoint (<node.workDir>/swarm-checkpoint.safetensors) every
swarm.checkpointEveryRounds rounds; Ctrl-C (or SIGTERM) announces the departure, writes a
checkpoint and exits. Every round is also appended as one JSON line to
<node.workDir>/metrics-<runId>.jsonl, for plotting.

  --config       the node's config file (required)
  --max-rounds   stop after this round of the swarm (default: run until stopped)
  --bootstrap    a peer to dial (multiaddr with /p2p/<id>); replaces swarm.bootstrap; repeatable
  --listen       a listen multiaddr; replaces swarm.listen; repeatable
  --min-peers N  when no swarm runs yet, wait (up to 60 s) until N peers, this one included, are
                 seen before the first round, so that peers started together begin together
  --resume       continue from this node's swarm checkpoint when it exists (round, weights,
                 optimizer state), then catch up with the swarm if it has moved on
  --require-peers N
                 exit with code 3 unless N peers of the run, this one included, are found within
                 swarm.peerSearchTimeoutMs (default 30 s); without it, a peer that finds no other
                 says so and trains alone
  --json         print a final JSON line on stdout`,
  options: {
    config: { type: 'string' },
    'max-rounds': { type: 'string' },
    bootstrap: { type: 'string', multiple: true },
    listen: { type: 'string', multiple: true },
    'min-peers': { type: 'string', default: '1' },
    resume: { type: 'boolean', default: false },
    'require-peers': { type: 'string' },
    json: { type: 'boolean', default: false },
  },
  async run(values) {
    if (typeof values.config !== 'string') throw new UsageError('join needs --config FILE');
    const maxRounds = values['max-rounds'] === undefined ? undefined : Number(values['max-rounds']);
    if (maxRounds !== undefined && (!Number.isInteger(maxRounds) || maxRounds < 1)) {
      throw new UsageError(`--max-rounds must be a positive integer, got ${values['max-rounds']}`);
    }
    surviveClosedOutput();
    const requirePeers = values['require-peers'] === undefined ? undefined : Number(values['require-peers']);
    if (requirePeers !== undefined && (!Number.isInteger(requirePeers) || requirePeers < 1)) {
      throw new UsageError(`--require-peers must be a positive integer, got ${values['require-peers']}`);
    }
    const progress = new ProgressLine();
    const notices = new Notices();
    const interrupt = interruptSignal((sig) =>
      progress.note(`${sig}: leaving the swarm and writing a checkpoint…`),
    );
    const tooFew = new AbortController();
    const signal = AbortSignal.any([interrupt, tooFew.signal]);
    const config = await loadConfig(values.config);
    if (!config.swarm.runId)
      throw new UsageError(`${values.config}: swarm.runId is required to join a swarm`);
    const setup = await setupTraining(config, {
      onNotice: (n) => notices.notice(n.message),
      signal,
      // Training in a worker thread leaves the event loop to libp2p.
      offThread: true,
    });
    const bootstrap = (values.bootstrap as string[] | undefined) ?? config.swarm.bootstrap;
    mkdirSync(config.node.workDir, { recursive: true });
    const metricsFile = joinPath(config.node.workDir, `metrics-${config.swarm.runId}.jsonl`);
    const metrics = createWriteStream(metricsFile, { flags: 'a' });
    metrics.on('error', (e) => log().warn(`cannot write ${metricsFile}: ${e.message}`));
    const search = new PeerSearch({
      runId: config.swarm.runId,
      bootstrap,
      mdns: config.swarm.mdns,
      timeoutMs: config.swarm.peerSearchTimeoutMs,
      required: requirePeers,
      onTooFew: () => tooFew.abort(new Error('too few peers')),
    });
    try {
      progress.note(`${setup.model.summary}; provider ${setup.provider}; run ${config.swarm.runId}`);
      const result = await runSwarmPeer(setup, {
        maxRounds,
        bootstrap,
        listen: values.listen as string[] | undefined,
        minPeers: Number(values['min-peers']),
        resume: values.resume === true,
        signal,
        onCheckpoint: (path, round) => progress.note(`checkpoint ${path} (round ${round})`),
        onListening: (addrs, id) => {
          progress.note(`peer ${id}\nlistening on ${addrs.join(' ')}`);
          search.start();
        },
        onPeers: (peers) => search.update(peers),
        onNotice: (m) => {
          if (/ is in run | runs model\/config hash /.test(m)) search.refused(m);
          notices.notice(m);
        },
        onProgress: (p) => progress.update(`round ${p.round}  step ${p.steps}  loss ${p.loss.toFixed(4)}`),
        onRound: (r) => {
          metrics.write(
            `${JSON.stringify({
              time: new Date().toISOString(),
              round: r.round,
              loss: r.loss,
              valLoss: r.valLoss ?? null,
              valAccuracy: r.valAccuracy ?? null,
              contributors: r.contributors,
              late: r.late,
              peers: r.peersSeen,
              steps: r.steps,
              innerMs: r.innerMs,
              waitMs: r.waitMs,
              updateBytes: r.updateBytes,
              bytesSent: r.bytesSent,
              bytesReceived: r.bytesReceived,
            })}\n`,
          );
          progress.note(
            `round ${r.round}: loss ${r.loss.toFixed(4)}${r.valLoss === undefined ? '' : `, val ${r.valLoss.toFixed(4)}`}${r.valAccuracy === undefined ? '' : ` (${(100 * r.valAccuracy).toFixed(1)}%)`}, ${r.contributors} update(s)${r.late ? ` (${r.late} late)` : ''} [${r.method}], peers ${r.peersSeen}, out ${bytes(r.bytesSent)} in ${bytes(r.bytesReceived)}, ${(r.innerMs / 1000).toFixed(1)}s train + ${(r.waitMs / 1000).toFixed(1)}s wait, ${r.steps} steps, anchor ${r.anchorHash.slice(0, 8)}`,
          );
        },
      });
      progress.done();
      notices.close();
      if (search.failed) return EXIT.peersNotFound;
      const summary = {
        rounds: result.rounds,
        valLoss: result.valLoss,
        valAccuracy: result.valAccuracy ?? null,
        bytesSent: result.bytesSent,
        bytesReceived: result.bytesReceived,
        traffic: result.traffic,
        peersSeen: result.peersSeen,
        anchorHash: result.anchorHash,
        executionProvider: result.executionProvider,
        checkpoint: result.checkpoint,
        interrupted: result.interrupted,
      };
      if (values.json) printJsonLine(summary);
      else
        console.log(
          `${result.interrupted ? 'left' : 'done'} at round ${result.rounds}: validation loss ${result.valLoss.toFixed(4)}${result.valAccuracy === undefined ? '' : `, accuracy ${(100 * result.valAccuracy).toFixed(2)}%`}; sent ${bytes(result.bytesSent)}, received ${bytes(result.bytesReceived)}; anchor ${result.anchorHash.slice(0, 16)}…\ncheckpoint: ${result.checkpoint}`,
        );
      return 0;
    } finally {
      await new Promise((r) => metrics.end(r));
      search.stop();
      notices.close();
      await setup.data.close();
    }
  },
};

/**
 * Watches for the peers of this run: when none (or fewer than `--require-peers`) are found in
 * `swarm.peerSearchTimeoutMs`, says so and names the likely cause; with `required`, fails the run.
 */
class PeerSearch {
  private timer: NodeJS.Timeout | undefined;
  private peers: string[] = [];
  private readonly refusals: string[] = [];
  failed = false;

  constructor(
    private readonly o: {
      runId: string;
      bootstrap: string[];
      mdns: boolean;
      timeoutMs: number;
      required?: number;
      onTooFew(): void;
    },
  ) {}

  start(): void {
    this.timer = setTimeout(() => this.check(), this.o.timeoutMs);
    this.timer.unref();
  }

  stop(): void {
    clearTimeout(this.timer);
  }

  update(peers: string[]): void {
    this.peers = peers;
  }

  /** A peer of another run or another model/settings was met (and refused). */
  refused(message: string): void {
    if (this.refusals.length === 0 && / runs model\/config hash /.test(message)) {
      // The hash covers these settings (config trainingConfigFingerprint): one of them differs.
      log().warn(
        { kind: 'peer-mismatch' },
        `a peer of run '${this.o.runId}' trains another model or with other settings: every peer of a run needs the same model section, data format (and CSV task and target, text byteLevel), training optimizer, lrSchedule and gradClip, and swarm.averaging (roundTimeoutMs and inlineMaxBytes aside); compare its config with this one`,
      );
    }
    if (this.refusals.length < 8) this.refusals.push(message);
  }

  private check(): void {
    const found = this.peers.length + 1;
    const wanted = this.o.required ?? 2;
    if (found >= wanted) return;
    const seconds = `${Math.round(this.o.timeoutMs / 1000)} s`;
    const what =
      this.o.required === undefined
        ? `found no other peer of run '${this.o.runId}' in ${seconds}; training alone until peers come`
        : `found ${found} of the ${this.o.required} peers required by --require-peers (this one included) of run '${this.o.runId}' in ${seconds}`;
    const where =
      this.o.bootstrap.length > 0
        ? `check the bootstrap address ${this.o.bootstrap.join(', ')} (its host, port and /p2p/ peer id, and that a peer runs there)`
        : `no bootstrap address is set${this.o.mdns ? ' and mDNS found no peer on this network' : ' and mDNS is off'}: give one with --bootstrap or swarm.bootstrap`;
    const cause =
      this.refusals.length > 0
        ? `peers were met but run another run or model: ${this.refusals.join('; ')}`
        : `${where}; that the other peers use the run id '${this.o.runId}'; and that the network (firewall, NAT) lets TCP through`;
    const line = `${what}: ${cause}`;
    if (this.o.required === undefined) {
      log().warn({ kind: 'peer-search', found }, line);
      return;
    }
    log().error({ kind: 'peer-search', found }, line);
    this.failed = true;
    this.o.onTooFew();
  }
}
