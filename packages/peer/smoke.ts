import { parseConfig } from '@enjambre/config';
import { readFileSync } from 'node:fs';
import { runSwarmPeer, setupTraining } from '@enjambre/peer';
const text = readFileSync('/tmp/sw/base.yaml', 'utf8');
const N = 3;
let boot: string | undefined;
const runs = [];
for (let i = 0; i < N; i++) {
  const config = parseConfig(text.replace('PEER', `p${i}`), { baseDir: '/tmp/sw', fileName: 'base.yaml' });
  const setup = await setupTraining(config, { peerIndex: i });
  const ready = new Promise<void>((res) => {
    runs.push(runSwarmPeer(setup, { maxRounds: 12, bootstrap: boot ? [boot] : [], joinWaitMs: 500,
      onListening: (a, id) => { if (!boot) boot = `${a[0]}`; res(); },
      onRound: (r) => console.log(`p${i} round ${r.round} loss ${r.loss.toFixed(3)} val ${r.valLoss?.toFixed(3)} acc ${r.valAccuracy?.toFixed(3)} contrib ${r.contributors} wait ${r.waitMs} complete ${r.complete} bytes ${r.updateBytes} ${r.anchorHash.slice(0,8)}`),
      onNotice: (m) => console.log(`p${i} notice: ${m}`) }).then((x) => ({ i, ...x })));
  });
  await ready;
}
const results = await Promise.all(runs);
for (const r of results) console.log(JSON.stringify({ i: r.i, rounds: r.rounds, val: r.valLoss, acc: r.valAccuracy, sent: r.bytesSent, hash: r.anchorHash.slice(0, 12), peers: r.peersSeen }));
process.exit(0);
