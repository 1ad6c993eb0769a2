/**
 * Error classes of `@enjambre/swarm`. Every error has a stable `name` and a `code` string so that callers can
 * branch on it without parsing messages.
 */
import { EnjambreError } from '@enjambre/core';

export { AbortError, InvalidOptionError, toError } from '@enjambre/core';

/** Base class of every error thrown by this package. */
export class SwarmError extends EnjambreError {
  override name = 'SwarmError';
  override readonly code: string = 'ERR_SWARM';
}

/** A wire message (gossip or direct protocol frame) is malformed, too large or of an unknown version/type. */
export class WireDecodeError extends SwarmError {
  override name = 'WireDecodeError';
  override readonly code = 'ERR_WIRE_DECODE';
  /** The field that failed validation (dot path), e.g. `update.payload.length`. */
  readonly field: string;
  constructor(field: string, message: string) {
    super(`wire: ${field}: ${message}`);
    this.field = field;
  }
}

/** A value handed to an encoder does not fit the wire format (too long, out of range, not finite...). */
export class WireEncodeError extends SwarmError {
  override name = 'WireEncodeError';
  override readonly code = 'ERR_WIRE_ENCODE';
  /** The field that failed validation (dot path). */
  readonly field: string;
  constructor(field: string, message: string) {
    super(`wire: cannot encode ${field}: ${message}`);
    this.field = field;
  }
}

/** A key file (peer identity or swarm pre-shared key) cannot be read, parsed or written. */
export class KeyFileError extends SwarmError {
  override name = 'KeyFileError';
  override readonly code = 'ERR_KEY_FILE';
  readonly file: string;
  constructor(file: string, message: string, options?: { cause?: unknown }) {
    super(`key file ${file}: ${message}`, options);
    this.file = file;
  }
}

/** The node is not started (or already stopped) and the operation needs a running node. */
export class NodeNotStartedError extends SwarmError {
  override name = 'NodeNotStartedError';
  override readonly code = 'ERR_NODE_NOT_STARTED';
  constructor(operation: string) {
    super(`${operation}: the swarm node is not running`);
  }
}

/** Publishing a gossip message failed (too large, no peers, libp2p error). */
export class PublishError extends SwarmError {
  override name = 'PublishError';
  override readonly code = 'ERR_PUBLISH';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Dialling a peer or opening a protocol stream failed. */
export class DialError extends SwarmError {
  override name = 'DialError';
  override readonly code = 'ERR_DIAL';
  readonly peer: string;
  constructor(peer: string, message: string, options?: { cause?: unknown }) {
    super(`peer ${peer}: ${message}`, options);
    this.peer = peer;
  }
}

/** A remote peer misbehaved on a direct protocol (wrong bytes, too many bytes, bad frame, stalled). */
export class ProtocolError extends SwarmError {
  override name = 'ProtocolError';
  override readonly code: string = 'ERR_PROTOCOL';
  readonly peer: string;
  readonly protocol: string;
  constructor(peer: string, protocol: string, message: string, options?: { cause?: unknown }) {
    super(`${protocol} with peer ${peer}: ${message}`, options);
    this.peer = peer;
    this.protocol = protocol;
  }
}

/** A remote peer did not answer within the allowed time. */
export class PeerTimeoutError extends ProtocolError {
  override name = 'PeerTimeoutError';
  override readonly code = 'ERR_PEER_TIMEOUT';
}

/** A blob could not be obtained from any candidate peer; `attempts` says why each one failed. */
export class BlobFetchError extends SwarmError {
  override name = 'BlobFetchError';
  override readonly code = 'ERR_BLOB_FETCH';
  readonly hash: string;
  readonly attempts: ReadonlyArray<{ peer: string; error: Error }>;
  constructor(hash: string, attempts: ReadonlyArray<{ peer: string; error: Error }>) {
    const detail =
      attempts.length === 0
        ? 'no candidate peers were given'
        : attempts.map((a) => `${a.peer}: ${a.error.message}`).join('; ');
    super(`blob ${hash}: could not fetch from any peer (${detail})`);
    this.hash = hash;
    this.attempts = attempts;
  }
}

/** A blob is larger than the configured bound or the store cannot hold it. */
export class BlobTooLargeError extends SwarmError {
  override name = 'BlobTooLargeError';
  override readonly code = 'ERR_BLOB_TOO_LARGE';
  constructor(message: string) {
    super(message);
  }
}

/**
 * A peer runs a different run id or model/config compatibility hash. Raised on the side that asked (and
 * reported as a `refused` event on both sides).
 */
export class IncompatiblePeerError extends SwarmError {
  override name = 'IncompatiblePeerError';
  override readonly code = 'ERR_INCOMPATIBLE_PEER';
  readonly peer: string;
  readonly theirs: { runId: string; compatHash: string };
  readonly ours: { runId: string; compatHash: string };
  constructor(
    peer: string,
    theirs: { runId: string; compatHash: string },
    ours: { runId: string; compatHash: string },
  ) {
    super(describeIncompatibility(peer, theirs, ours));
    this.peer = peer;
    this.theirs = theirs;
    this.ours = ours;
  }
}

/** Human-readable description of a run/compatibility mismatch. */
export function describeIncompatibility(
  peer: string,
  theirs: { runId: string; compatHash: string },
  ours: { runId: string; compatHash: string },
): string {
  if (theirs.runId !== ours.runId) {
    return `peer ${peer} is in run '${theirs.runId}', we are in run '${ours.runId}'`;
  }
  return `peer ${peer} runs model/config hash ${theirs.compatHash}, we run ${ours.compatHash}`;
}

/** A snapshot could not be agreed on by a quorum of peers. */
export class SnapshotQuorumError extends SwarmError {
  override name = 'SnapshotQuorumError';
  override readonly code = 'ERR_SNAPSHOT_QUORUM';
  /** Peer answers grouped by snapshot hash; failures listed in `failures`. */
  readonly hashes: ReadonlyArray<{ hash: string; peers: string[] }>;
  readonly failures: ReadonlyArray<{ peer: string; error: Error }>;
  constructor(
    quorum: number,
    hashes: ReadonlyArray<{ hash: string; peers: string[] }>,
    failures: ReadonlyArray<{ peer: string; error: Error }>,
  ) {
    const groups = hashes.map((h) => `${h.hash.slice(0, 16)}… from [${h.peers.join(', ')}]`).join('; ');
    const failed = failures.map((f) => `${f.peer}: ${f.error.message}`).join('; ');
    super(
      `snapshot: no hash was reported by at least ${quorum} peers` +
        (groups ? `; answers: ${groups}` : '; no answers') +
        (failed ? `; failures: ${failed}` : ''),
    );
    this.hashes = hashes;
    this.failures = failures;
  }
}

/** A snapshot was requested but the peer has no snapshot provider registered. */
export class NoSnapshotError extends SwarmError {
  override name = 'NoSnapshotError';
  override readonly code = 'ERR_NO_SNAPSHOT';
  constructor(message: string) {
    super(message);
  }
}
