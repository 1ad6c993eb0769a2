/**
 * The onnxruntime thread of {@link WorkerRunner}: holds the sessions and runs them, so that a long
 * graph run blocks this thread and not the node's event loop (libp2p, timers, the inspector).
 */
import { parentPort } from 'node:worker_threads';
import { createRunner, type Runner } from '../session.ts';
import type { Reply, Request } from './protocol.ts';

const port = parentPort;
if (port === null) throw new Error('runtime/worker: must run in a worker thread');
const sessions = new Map<number, Runner>();
let nextSession = 1;

function send(reply: Reply, transfer: ArrayBuffer[] = []): void {
  port!.postMessage(reply, transfer);
}

async function handle(req: Request): Promise<void> {
  try {
    if (req.kind === 'create') {
      const runner = await createRunner(req.model, req.options);
      const session = nextSession++;
      sessions.set(session, runner);
      send({
        kind: 'created',
        call: req.call,
        session,
        provider: runner.provider,
        notices: [...runner.notices],
        inputNames: [...runner.inputNames],
        outputNames: [...runner.outputNames],
      });
    } else if (req.kind === 'run') {
      const runner = sessions.get(req.session);
      if (!runner) throw new Error(`no session ${req.session} in the onnxruntime thread`);
      const outputs = await runner.run(req.feeds, { fetches: req.fetches });
      // Outputs own their memory (see Runner.run): hand the buffers over instead of copying them.
      const buffers = new Set<ArrayBuffer>();
      for (const t of Object.values(outputs))
        if (t.data.buffer instanceof ArrayBuffer) buffers.add(t.data.buffer);
      send({ kind: 'ran', call: req.call, outputs }, [...buffers]);
    } else {
      await sessions.get(req.session)?.release();
      sessions.delete(req.session);
      send({ kind: 'released', call: req.call });
    }
  } catch (e) {
    send({ kind: 'failed', call: req.call, message: e instanceof Error ? e.message : String(e) });
  }
}

port.on('message', (req: Request) => {
  void handle(req);
});
