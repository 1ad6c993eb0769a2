import { loadConfig, trainingConfigHash } from '@enjambre/config';
import { createObserver, fetchSwarmStatus } from '@enjambre/inspector';
import { discoverRun, readSwarmKeyFile } from '@enjambre/swarm';
import { log } from '../log.ts';
import { observe } from '../observe.ts';
import { printJson, UsageError } from '../output.ts';
import { interruptSignal } from '../progress.ts';
import type { Command } from './command.ts';

export const status: Command = {
  name: 'status',
  usage: `Usage: enjambre status --bootstrap ADDR... [--web [PORT]] [--json]
       enjambre status --config FILE [--bootstrap ADDR]... [--web [PORT]] [--json]

Joins the swarm as an observer peer (it does not train) and shows what the peers gossip in
their heartbeats: a refreshing terminal view by default, a local web dashboard with live
charts with --web, or one JSON snapshot with --json. The run to watch is the one the
bootstrap peers are in (they tell it), or the one of a node config (--config). With --json,
the first peer that answers tells its view of the run at once (heartbeats it heard, and its own).

  --config       a node config of the swarm: run id, compatibility hash, bootstrap, swarm key
  --swarm-key    the swarm key file of a private swarm (without --config)
  --bootstrap    a peer to dial (multiaddr with /p2p/<id>); repeatable; replaces the config's list
  --run-id       the swarm's run id (without --config)
  --compat-hash  the swarm's model/config hash (without --config; peers print it in \`join --json\`)
  --web [PORT]   serve the web dashboard on 127.0.0.1:PORT (default 8321)
  --wait SEC     with --json: rather than asking a peer, listen to the heartbeats this long
  --json         print one snapshot as JSON and exit`,
  options: {
    config: { type: 'string' },
    bootstrap: { type: 'string', multiple: true },
    'run-id': { type: 'string' },
    'compat-hash': { type: 'string' },
    'swarm-key': { type: 'string' },
    web: { type: 'string' },
    wait: { type: 'string' },
    json: { type: 'boolean', default: false },
  },
  /** `--web` takes an optional port: a bare `--web` becomes `--web=8321`. */
  preprocess(args) {
    return args.flatMap((a, i) =>
      a === '--web' && (args[i + 1] === undefined || args[i + 1].startsWith('--')) ? ['--web=8321'] : [a],
    );
  },
  async run(values) {
    let runId = values['run-id'] as string | undefined;
    let compatHash = values['compat-hash'] as string | undefined;
    let bootstrap = (values.bootstrap as string[] | undefined) ?? [];
    let swarmKey: Uint8Array | undefined;
    if (typeof values.config === 'string') {
      const config = await loadConfig(values.config);
      runId ??= config.swarm.runId;
      compatHash ??= trainingConfigHash(config);
      if (bootstrap.length === 0) bootstrap = config.swarm.bootstrap;
      if (config.swarm.swarmKeyFile) swarmKey = await readSwarmKeyFile(config.swarm.swarmKeyFile);
    }
    if (bootstrap.length === 0)
      throw new UsageError(
        'status needs at least one --bootstrap peer to dial (or a --config that lists some)',
      );
    if (typeof values['swarm-key'] === 'string') swarmKey = await readSwarmKeyFile(values['swarm-key']);
    if (values.json && values.wait === undefined) {
      const served = await fetchSwarmStatus({
        runId,
        compatHash,
        bootstrap,
        swarmKey,
        listen: ['/ip4/127.0.0.1/tcp/0'],
        mdns: false,
        timeoutMs: 10_000,
      });
      printJson(served.snapshot);
      log().info(`run ${served.runId} as peer ${served.peer} sees it`);
      return 0;
    }
    const waitSeconds = values.wait === undefined ? undefined : Number(values.wait);
    if (waitSeconds !== undefined && !(waitSeconds >= 0)) {
      throw new UsageError(`--wait takes a number of seconds, got ${values.wait}`);
    }
    if (!runId || !compatHash) {
      const run = await discoverRun({ bootstrap, swarmKey, listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false });
      runId ??= run.runId;
      compatHash ??= run.compatHash;
      log().info(
        `watching run ${runId} (model/config hash ${compatHash.slice(0, 12)}…, told by ${run.peer})`,
      );
    }
    const webPort = values.web === undefined ? undefined : Number(values.web);
    if (webPort !== undefined && (!Number.isInteger(webPort) || webPort < 0 || webPort > 65535)) {
      throw new UsageError(`--web takes a port number (0-65535), got ${values.web}`);
    }
    const signal = interruptSignal();
    const observer = await createObserver({
      runId,
      compatHash,
      bootstrap,
      swarmKey,
      listen: ['/ip4/127.0.0.1/tcp/0'],
      mdns: false,
      identityFile: undefined,
    });
    try {
      await observe(observer, {
        webPort,
        jsonAfterMs: values.json ? (waitSeconds ?? 0) * 1000 : undefined,
        terminal: !values.json,
        signal,
        onWeb: (url) => log().info(`web dashboard: ${url}`),
      });
    } finally {
      await observer.stop();
    }
    return 0;
  },
};
