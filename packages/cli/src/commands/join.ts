import { loadConfig } from '@enjambre/config';
import { runSwarmPeer, setupTraining } from '@enjambre/peer';
import { printJsonLine, UsageError } from '../output.ts';
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
checkpoint and exits.

  --config       the node's config file (required)
  --max-rounds   stop after this round of the swarm (default: run until stopped)
  --bootstrap    a peer to dial (multiaddr with /p2p/<id>); replaces swarm.bootstrap; repeatable
  --listen       a listen multiaddr; replaces swarm.listen; repeatable
  --min-peers N  when no swarm runs yet, wait (up to 60 s) until N peers, this one included, are
                 seen before the first round, so that peers started together begin together
  --resume       continue from this node's swarm checkpoint when it exists (round, weights,
                 optimizer state), then catch up with the swarm if it has moved on
  --json         print a final JSON line on stdout`,
  options: {
    config: { type: 'string' },
    'max-rounds': { type: 'string' },
    bootstrap: { type: 'string', multiple: true },
    listen: { type: 'string', multiple: true },
    'min-peers': { type: 'string', default: '1' },
    resume: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  },
  async run(values) {
    if (typeof values.config !== 'string') throw new UsageError('join needs --config FILE');
    const maxRounds = values['max-rounds'] === undefined ? undefined : Number(values['max-rounds']);
    if (maxRounds !== undefined && (!Number.isInteger(maxRounds) || maxRounds < 1)) {
      throw new UsageError(`--max-rounds must be a positive integer, got ${values['max-rounds']}`);
    }
    surviveClosedOutput();
    const progress = new ProgressLine();
    const signal = interruptSignal((sig) =>
      progress.note(`${sig}: leaving the swarm and writing a checkpoint…`),
    );
    const config = await loadConfig(values.config);
    if (!config.swarm.runId)
      throw new UsageError(`${values.config}: swarm.runId is required to join a swarm`);
    const setup = await setupTraining(config, {
      onNotice: (n) => progress.note(`note: ${n.message}`),
      signal,
      // Training in a worker thread leaves the event loop to libp2p.
      offThread: true,
    });
    try {
      progress.note(`${setup.model.summary}; provider ${setup.provider}; run ${config.swarm.runId}`);
      const result = await runSwarmPeer(setup, {
        maxRounds,
        bootstrap: values.bootstrap as string[] | undefined,
        listen: values.listen as string[] | undefined,
        minPeers: Number(values['min-peers']),
        resume: values.resume === true,
        signal,
        onCheckpoint: (path, round) => progress.note(`checkpoint ${path} (round ${round})`),
        onListening: (addrs, id) => progress.note(`peer ${id}\nlistening on ${addrs.join(' ')}`),
        onNotice: (m) => progress.note(`note: ${m}`),
        onProgress: (p) => progress.update(`round ${p.round}  step ${p.steps}  loss ${p.loss.toFixed(4)}`),
        onRound: (r) =>
          progress.note(
            `round ${r.round}: loss ${r.loss.toFixed(4)}${r.valLoss === undefined ? '' : `, val ${r.valLoss.toFixed(4)}`}${r.valAccuracy === undefined ? '' : ` (${(100 * r.valAccuracy).toFixed(1)}%)`}, ${r.contributors} update(s)${r.late ? ` (${r.late} late)` : ''} [${r.method}], peers ${r.peersSeen}, out ${bytes(r.bytesSent)} in ${bytes(r.bytesReceived)}, ${(r.innerMs / 1000).toFixed(1)}s train + ${(r.waitMs / 1000).toFixed(1)}s wait, ${r.steps} steps, anchor ${r.anchorHash.slice(0, 8)}`,
          ),
      });
      progress.done();
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
      await setup.data.close();
    }
  },
};
