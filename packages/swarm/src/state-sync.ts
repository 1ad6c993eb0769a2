/**
 * `/enjambre/state/1.0.0`: a joining peer asks others for their current snapshot (an opaque byte array the
 * owner provides, e.g. θ_anchor + outer momentum + round) and accepts it only when a quorum of peers report the
 * same sha256.
 *
 * Request:  frame [u8 version = 1][u8 mode: 0 hash only, 1 hash + bytes][str8 runId][u8 len + compat hash]
 * Response: frame [u8 status] + per status:
 *   0 ok:           [32-byte sha256][f64 length], then (mode 1) `length` raw bytes and end of stream
 *   1 incompatible: [str8 runId][u8 len + compat hash] of the server (both sides report the refusal)
 *   2 unavailable:  [str16 reason] (no snapshot provider, provider failed, too large)
 */
import { pipe } from 'it-pipe';
import { fromString } from 'uint8arrays';
import { ByteReader, ByteWriter, toHex } from './binary.ts';
import { sha256Hex } from './blob-store.ts';
import {
  AbortError,
  IncompatiblePeerError,
  InvalidOptionError,
  NoSnapshotError,
  ProtocolError,
  SnapshotQuorumError,
  toError,
  WireDecodeError,
} from './errors.ts';
import type { ByteStream, Host } from './host.ts';
import { PeerRateLimiter, type RateLimit } from './rate-limit.ts';
import { chunks, DEFAULT_PEER_TIMEOUT_MS, frame, StreamReader } from './stream-io.ts';
import { MAX_COMPAT_HASH_BYTES, MAX_RUN_ID_BYTES } from './wire.ts';

/** Protocol id of the state-sync protocol. */
export const STATE_PROTOCOL = '/enjambre/state/1.0.0';
/** Default number of agreeing peers required by {@link StateSync.fetchSnapshot}. */
export const DEFAULT_SNAPSHOT_QUORUM = 2;
/** Default number of peers asked by {@link StateSync.fetchSnapshot}. */
export const DEFAULT_SNAPSHOT_PEERS = 3;
/** Default bound of a snapshot: 1 GiB. */
export const DEFAULT_MAX_SNAPSHOT_BYTES = 1024 * 1024 * 1024;
/**
 * Default per-peer limits on state requests: hash-only ones (handshakes, quorum checks) and full snapshots.
 * An honest re-sync asks each peer a few hashes and one or two snapshots.
 */
export const DEFAULT_HASH_REQUEST_LIMIT: RateLimit = { burst: 20, perSecond: 1 };
export const DEFAULT_SNAPSHOT_REQUEST_LIMIT: RateLimit = { burst: 4, perSecond: 0.1 };
/** Chunk size when serving a snapshot. */
export const SNAPSHOT_CHUNK_BYTES = 64 * 1024;

const VERSION = 1;
const MODE_HASH = 0;
const MODE_FULL = 1;
const STATUS_OK = 0;
const STATUS_INCOMPATIBLE = 1;
const STATUS_UNAVAILABLE = 2;

/** Returns the current snapshot bytes. */
export type SnapshotProvider = () => Uint8Array | Promise<Uint8Array>;

/** Identity of a run: both must match for peers to cooperate. */
export interface RunIdentity {
  runId: string;
  compatHash: string;
}

/** A refused peer (mismatched run id or compatibility hash). */
export interface RefusalEvent {
  peer: string;
  /** `inbound`: the peer asked us; `outbound`: we asked the peer (or received its gossip). */
  direction: 'inbound' | 'outbound';
  /** Where the mismatch was seen. */
  context: 'state' | 'gossip';
  theirs: RunIdentity;
  ours: RunIdentity;
  /** Human-readable explanation, e.g. "peer X runs model/config hash A, we run B". */
  message: string;
}

/** Options of {@link StateSync}. */
export interface StateSyncOptions {
  /** Idle timeout per peer, ms. Default {@link DEFAULT_PEER_TIMEOUT_MS}. */
  peerTimeoutMs?: number;
  /** Largest snapshot served or accepted, bytes. Default {@link DEFAULT_MAX_SNAPSHOT_BYTES}. */
  maxSnapshotBytes?: number;
  /** Called when a peer is refused for a run/compatibility mismatch (either side). */
  onRefused?: (event: RefusalEvent) => void;
  /** Per-peer limit of hash-only requests served. Default {@link DEFAULT_HASH_REQUEST_LIMIT}. */
  hashRequestLimit?: RateLimit;
  /** Per-peer limit of full snapshots served. Default {@link DEFAULT_SNAPSHOT_REQUEST_LIMIT}. */
  snapshotRequestLimit?: RateLimit;
  /** Called when a peer asks more often than the limits allow (its request is refused). */
  onSpam?: (peer: string) => void;
}

/** Options of {@link StateSync.fetchSnapshot}. */
export interface FetchSnapshotOptions {
  /** Peers whose hashes must agree. Default {@link DEFAULT_SNAPSHOT_QUORUM}. */
  quorum?: number;
  /** How many of the candidate peers are asked (in list order). Default {@link DEFAULT_SNAPSHOT_PEERS}. */
  maxPeers?: number;
  signal?: AbortSignal;
}

/** A snapshot agreed by a quorum. */
export interface SnapshotResult {
  bytes: Uint8Array;
  /** sha256 (hex) of `bytes`. */
  hash: string;
  /** Peers that reported this hash. */
  agreeing: string[];
  /** Peer the bytes were downloaded from. */
  source: string;
}

interface HashAnswer {
  hash: string;
  length: number;
}

/** Serves this node's snapshot and fetches snapshots from peers. */
export class StateSync {
  private provider: SnapshotProvider | undefined;
  private readonly peerTimeoutMs: number;
  private readonly maxSnapshotBytes: number;
  private cache: { bytes: Uint8Array; hash: string } | undefined;
  private readonly refusedPeers = new Map<string, RunIdentity>();
  private readonly hashLimiter: PeerRateLimiter;
  private readonly snapshotLimiter: PeerRateLimiter;

  constructor(
    private readonly host: Host,
    private readonly ours: RunIdentity,
    private readonly options: StateSyncOptions = {},
  ) {
    this.peerTimeoutMs = options.peerTimeoutMs ?? DEFAULT_PEER_TIMEOUT_MS;
    this.maxSnapshotBytes = options.maxSnapshotBytes ?? DEFAULT_MAX_SNAPSHOT_BYTES;
    this.hashLimiter = new PeerRateLimiter(options.hashRequestLimit ?? DEFAULT_HASH_REQUEST_LIMIT);
    this.snapshotLimiter = new PeerRateLimiter(
      options.snapshotRequestLimit ?? DEFAULT_SNAPSHOT_REQUEST_LIMIT,
    );
  }

  /** Registers (or clears, with undefined) the callback that returns this node's current snapshot. */
  setProvider(provider: SnapshotProvider | undefined): void {
    this.provider = provider;
    this.cache = undefined;
  }

  async start(): Promise<void> {
    await this.host.handle(STATE_PROTOCOL, (stream) => this.serve(stream));
  }

  async stop(): Promise<void> {
    await this.host.unhandle(STATE_PROTOCOL).catch(() => {});
  }

  private async snapshot(): Promise<{ bytes: Uint8Array; hash: string }> {
    if (this.provider === undefined)
      throw new NoSnapshotError('this peer has no snapshot provider registered');
    const bytes = await this.provider();
    if (!(bytes instanceof Uint8Array))
      throw new NoSnapshotError('the snapshot provider did not return bytes');
    if (bytes.length > this.maxSnapshotBytes) {
      throw new NoSnapshotError(
        `snapshot of ${bytes.length} bytes exceeds the limit ${this.maxSnapshotBytes}`,
      );
    }
    if (this.cache?.bytes !== bytes) this.cache = { bytes, hash: sha256Hex(bytes) };
    return this.cache;
  }

  private async serve(stream: ByteStream): Promise<void> {
    const reader = new StreamReader(stream, this.peerTimeoutMs);
    let mode: number;
    let theirs: RunIdentity;
    try {
      const r = new ByteReader(await reader.readFrame(512, 'state request'));
      const v = r.u8('state.request.version');
      if (v !== VERSION) throw new WireDecodeError('state.request.version', `unsupported version ${v}`);
      mode = r.u8('state.request.mode');
      if (mode !== MODE_HASH && mode !== MODE_FULL)
        throw new WireDecodeError('state.request.mode', `unknown ${mode}`);
      const runId = r.str8('state.request.runId', MAX_RUN_ID_BYTES);
      const n = r.u8('state.request.compatHash.length');
      if (n > MAX_COMPAT_HASH_BYTES)
        throw new WireDecodeError('state.request.compatHash', `length ${n} too long`);
      theirs = { runId, compatHash: toHex(r.raw('state.request.compatHash', n)) };
      r.end('state.request');
    } catch (err) {
      stream.abort(toError(err));
      return;
    }
    const w = new ByteWriter(128);
    if (theirs.runId !== this.ours.runId || theirs.compatHash !== this.ours.compatHash) {
      this.refused(stream.remotePeer, 'inbound', theirs);
      const compat = fromString(this.ours.compatHash, 'base16');
      w.u8('status', STATUS_INCOMPATIBLE).str8('runId', this.ours.runId, MAX_RUN_ID_BYTES);
      w.u8('compat.length', compat.length).raw('compat', compat);
      await stream.sink([frame(w.finish())]);
      return;
    }
    const limiter = mode === MODE_FULL ? this.snapshotLimiter : this.hashLimiter;
    if (!limiter.take(stream.remotePeer)) {
      this.options.onSpam?.(stream.remotePeer);
      w.u8('status', STATUS_UNAVAILABLE).str16('reason', 'too many state requests: try again later', 4096);
      await stream.sink([frame(w.finish())]);
      return;
    }
    let snap: { bytes: Uint8Array; hash: string };
    try {
      snap = await this.snapshot();
    } catch (err) {
      w.u8('status', STATUS_UNAVAILABLE).str16('reason', toError(err).message.slice(0, 1000), 4096);
      await stream.sink([frame(w.finish())]);
      return;
    }
    w.u8('status', STATUS_OK)
      .raw('hash', fromString(snap.hash, 'base16'))
      .uint53('length', snap.bytes.length);
    const head = frame(w.finish());
    await pipe(
      function* () {
        yield head;
        if (mode === MODE_FULL) yield* chunks(snap.bytes, SNAPSHOT_CHUNK_BYTES);
      },
      (source) => stream.sink(source),
    );
  }

  /** The identity of `peer` if it was refused for a run/compatibility mismatch. */
  refusedIdentity(peer: string): RunIdentity | undefined {
    return this.refusedPeers.get(peer);
  }

  /** Records a refusal (reported once per peer and identity) and returns the matching error. */
  private refused(
    peer: string,
    direction: 'inbound' | 'outbound',
    theirs: RunIdentity,
  ): IncompatiblePeerError {
    const err = new IncompatiblePeerError(peer, theirs, this.ours);
    const known = this.refusedPeers.get(peer);
    if (known?.runId === theirs.runId && known.compatHash === theirs.compatHash) return err;
    this.refusedPeers.set(peer, theirs);
    this.options.onRefused?.({
      peer,
      direction,
      context: 'state',
      theirs,
      ours: { ...this.ours },
      message: err.message,
    });
    return err;
  }

  /**
   * Compatibility handshake: resolves when `peer` runs the same run id and compatibility hash (whether or not
   * it has a snapshot), throws {@link IncompatiblePeerError} otherwise (both sides report a refusal).
   */
  async handshake(peer: string, signal?: AbortSignal): Promise<void> {
    try {
      await this.request(peer, false, signal);
    } catch (err) {
      if (err instanceof NoSnapshotError) return;
      throw err;
    }
  }

  /**
   * Asks `peer` for its snapshot hash (and the bytes when `full`). Throws {@link IncompatiblePeerError} when
   * the peer runs another run/model/config, {@link NoSnapshotError}, {@link ProtocolError} or {@link AbortError}.
   */
  async request(
    peer: string,
    full: boolean,
    signal?: AbortSignal,
  ): Promise<HashAnswer & { bytes?: Uint8Array }> {
    const known = this.refusedPeers.get(peer);
    if (known !== undefined) throw new IncompatiblePeerError(peer, known, this.ours);
    const stream = await this.host.openStream(peer, STATE_PROTOCOL, { signal });
    const reader = new StreamReader(stream, this.peerTimeoutMs, signal);
    try {
      const compat = fromString(this.ours.compatHash, 'base16');
      const w = new ByteWriter(128)
        .u8('version', VERSION)
        .u8('mode', full ? MODE_FULL : MODE_HASH)
        .str8('runId', this.ours.runId, MAX_RUN_ID_BYTES)
        .u8('compat.length', compat.length)
        .raw('compat', compat);
      await stream.sink([frame(w.finish())]);
      const r = new ByteReader(await reader.readFrame(8192, 'state response'));
      const status = r.u8('state.response.status');
      if (status === STATUS_INCOMPATIBLE) {
        const runId = r.str8('state.response.runId', MAX_RUN_ID_BYTES);
        const n = r.u8('state.response.compatHash.length');
        if (n > MAX_COMPAT_HASH_BYTES) throw new WireDecodeError('state.response.compatHash', `length ${n}`);
        throw this.refused(peer, 'outbound', {
          runId,
          compatHash: toHex(r.raw('state.response.compatHash', n)),
        });
      }
      if (status === STATUS_UNAVAILABLE) {
        throw new NoSnapshotError(`peer ${peer} has no snapshot: ${r.str16('state.response.reason', 4096)}`);
      }
      if (status !== STATUS_OK) throw reader.protocolError(`unknown status ${status}`);
      const hash = toHex(r.raw('state.response.hash', 32));
      const length = r.uint53('state.response.length');
      r.end('state.response');
      if (length > this.maxSnapshotBytes) {
        throw reader.protocolError(`snapshot of ${length} bytes exceeds the limit ${this.maxSnapshotBytes}`);
      }
      if (!full) return { hash, length };
      const out = new Uint8Array(length);
      let got = 0;
      while (got < length) {
        if (reader.buffered === 0 && !(await reader.pull('snapshot body'))) {
          throw reader.protocolError(`stream ended after ${got} of ${length} snapshot bytes`);
        }
        const part = reader.take(length - got);
        out.set(part, got);
        got += part.length;
      }
      await reader.expectEnd('snapshot body');
      const actual = sha256Hex(out);
      if (actual !== hash)
        throw reader.protocolError(`snapshot bytes hash to ${actual}, peer announced ${hash}`);
      return { hash, length, bytes: out };
    } catch (err) {
      stream.abort(toError(err));
      if (err instanceof WireDecodeError)
        throw new ProtocolError(peer, STATE_PROTOCOL, err.message, { cause: err });
      throw err;
    } finally {
      await stream.close().catch(() => {});
    }
  }

  /**
   * Asks up to `maxPeers` of `peers` for their snapshot hash, and downloads (and verifies) the snapshot whose
   * hash at least `quorum` of them report. Throws {@link SnapshotQuorumError} naming the disagreement,
   * {@link IncompatiblePeerError} when no peer answered and one refused us, or {@link AbortError}.
   */
  async fetchSnapshot(peers: string[], options: FetchSnapshotOptions = {}): Promise<SnapshotResult> {
    const quorum = options.quorum ?? DEFAULT_SNAPSHOT_QUORUM;
    const maxPeers = options.maxPeers ?? DEFAULT_SNAPSHOT_PEERS;
    if (!Number.isInteger(quorum) || quorum < 1) {
      throw new InvalidOptionError('quorum', `expected an integer ≥ 1, got ${quorum}`);
    }
    if (!Number.isInteger(maxPeers) || maxPeers < quorum) {
      throw new InvalidOptionError('maxPeers', `expected an integer ≥ quorum (${quorum}), got ${maxPeers}`);
    }
    const signal = options.signal;
    const candidates = [...new Set(peers)].filter((p) => p !== this.host.peerId).slice(0, maxPeers);
    const failures: { peer: string; error: Error }[] = [];
    const groups = new Map<string, string[]>();
    await Promise.all(
      candidates.map(async (peer) => {
        try {
          const a = await this.request(peer, false, signal);
          const g = groups.get(a.hash) ?? [];
          g.push(peer);
          groups.set(a.hash, g);
        } catch (err) {
          failures.push({ peer, error: toError(err) });
        }
      }),
    );
    if (signal?.aborted) throw new AbortError('fetchSnapshot', { cause: signal.reason });
    const ranked = [...groups.entries()]
      .map(([hash, ps]) => ({ hash, peers: ps }))
      .sort((a, b) => b.peers.length - a.peers.length);
    const best = ranked[0];
    if (best === undefined || best.peers.length < quorum) {
      const incompatible = failures.find((f) => f.error instanceof IncompatiblePeerError);
      if (ranked.length === 0 && incompatible !== undefined) throw incompatible.error;
      throw new SnapshotQuorumError(quorum, ranked, failures);
    }
    const downloadFailures: { peer: string; error: Error }[] = [];
    for (const peer of best.peers) {
      try {
        const a = await this.request(peer, true, signal);
        if (a.hash !== best.hash || a.bytes === undefined) {
          throw new ProtocolError(peer, STATE_PROTOCOL, `snapshot changed meanwhile (now ${a.hash})`);
        }
        return { bytes: a.bytes, hash: a.hash, agreeing: best.peers, source: peer };
      } catch (err) {
        if (err instanceof AbortError) throw err;
        downloadFailures.push({ peer, error: toError(err) });
      }
    }
    throw new SnapshotQuorumError(quorum, ranked, [...failures, ...downloadFailures]);
  }
}
