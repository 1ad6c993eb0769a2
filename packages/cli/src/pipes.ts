/**
 * A long run must outlive its output: with `enjambre join … | head -1` or a `tee` that Ctrl-C
 * killed first, writing to stdout or stderr fails with EPIPE, and an unhandled stream error
 * would end the process before it leaves the swarm and writes its checkpoint. The output is
 * lost either way; the training is not.
 */
const CLOSED_PIPE_CODES = new Set(['EPIPE', 'ERR_STREAM_DESTROYED']);

export function surviveClosedOutput(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (!CLOSED_PIPE_CODES.has(err.code ?? '')) throw err;
    });
  }
}
