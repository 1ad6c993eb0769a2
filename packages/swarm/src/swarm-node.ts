/**
 * The swarm node: a libp2p host plus the enjambre protocols (gossip topics with validation, blob exchange,
 * state sync, byte accounting, typed events).
 */
import { BlobService, type BlobServiceOptions } from './blob-protocol.ts';
import type { BlobStore } from './blob-store.ts';
import {
  AbortError,
  describeIncompatibility as describe,
  IncompatiblePeerError,
  InvalidOptionError,
  PeerTimeoutError,
  PublishError,
  SwarmError,
  toError,
  WireDecodeError,
} from './errors.ts';
import { TypedEventTarget } from './events.ts';
import { askHello, serveHello, stopHello } from './hello.ts';
import type { GossipMessage, GossipVerdict, Host } from './host.ts';
import { createLibp2pHost, type HostOptions } from './libp2p-node.ts';
import type { Misbehaviour } from './protocol/core/transport.ts';
import {
  type FetchSnapshotOptions,
  type RefusalEvent,
  type RunIdentity,
  type SnapshotProvider,
  type SnapshotResult,
  StateSync,
} from './state-sync.ts';
import { type RunTopics, type TopicKind, topicsFor } from './topics.ts';
import {
  assertCompatHash,
  DEFAULT_MAX_MESSAGE_BYTES,
  decodeMessage,
  encodeMessage,
  type HeartbeatMessage,
  type LeaveMessage,
  MAX_ADDR_BYTES,
  MAX_HEARTBEAT_ADDRS,
  type UpdateMessage,
  type UpdatePayload,
  type WireMessage,
} from './wire.ts';

/**
 * Default size under which an update payload travels inline in the gossip message (16 KiB). Larger
 * ones are announced by hash and fetched once per peer: gossipsub's forwarding sends a large inline
 * message to a peer several times over (docs/swarm-benchmarks.md).
 */
export const DEFAULT_INLINE_THRESHOLD_BYTES = 16 * 1024;
/**
 * Application penalties (points off the gossip score, see SCORE_THRESHOLDS: −80 graylists), per
 * misbehaviour. Four malformed updates, two bad snapshots, or eight re-sent updates within a few minutes
 * graylist a peer; penalties halve every PENALTY_HALF_LIFE_MS.
 */
export const PENALTY_POINTS: Record<Misbehaviour, number> = {
  'malformed-update': 20,
  'duplicate-update': 10,
  'bad-snapshot': 40,
  'oversized-announcement': 40,
  'unfetchable-update': 5,
  'request-spam': 10,
};
/** Payloads announced by one sender that are fetched at the same time, at most. */
export const MAX_FETCHES_PER_SENDER = 2;
/** One heartbeat in this many carries the node's listen addresses. */
const ADDRS_EVERY_HEARTBEATS = 5;
/** Interval at which {@link SwarmNode.waitForTopicPeers} re-checks, ms. */
const POLL_MS = 25;

/** Messages delivered on each topic. */
export interface TopicMessages {
  updates: UpdateMessage;
  heartbeats: HeartbeatMessage | LeaveMessage;
}

/** A validated gossip message delivered to this node. */
export type SwarmMessageEvent = {
  [K in TopicKind]: { topic: K; message: TopicMessages[K]; from: string };
}[TopicKind];

/** Events of a {@link SwarmNode}. */
export interface SwarmEvents extends Record<string, unknown> {
  'peer:connect': { peer: string };
  'peer:disconnect': { peer: string };
  /** A gossip message passed validation. */
  message: SwarmMessageEvent;
  /** A peer runs another run id or model/config hash (seen in gossip or state sync, either direction). */
  refused: RefusalEvent;
  /** A gossip message was rejected (malformed, wrong topic, forged sender, or refused by a validator). */
  rejected: { peer: string; topic: TopicKind; reason: string };
  /** A peer was penalised; `penalty` is its current total (−penalty is its application score). */
  penalized: { peer: string; why: Misbehaviour; penalty: number };
}

/** Validator hook: runs after the built-in checks; `reject` lowers the sender's score and stops forwarding. */
export type MessageValidator<K extends TopicKind> = (
  message: TopicMessages[K],
  from: string,
) => GossipVerdict | Promise<GossipVerdict>;

/** Options of {@link createSwarmNode}. */
export interface SwarmNodeOptions extends HostOptions {
  /** Run id: names the topics; 1..64 chars of [A-Za-z0-9._-]. Required. */
  runId: string;
  /** Model/config compatibility hash, lowercase hex (1..64 bytes). Required. */
  compatHash: string;
  /** Update payloads up to this size go inline; larger ones by hash. Default {@link DEFAULT_INLINE_THRESHOLD_BYTES}. */
  inlineThresholdBytes?: number;
  /** Blob store and blob protocol options (sizes, chunk size, peer timeout). Defaults in {@link BlobServiceOptions}. */
  blobs?: BlobServiceOptions;
  /** Idle timeout of a state-sync exchange, ms. Default 10 000. */
  peerTimeoutMs?: number;
  /** Largest snapshot served or accepted, bytes. Default 1 GiB. */
  maxSnapshotBytes?: number;
  /**
   * Run the compatibility handshake (over the state protocol) with every newly connected peer; a peer with
   * another run id or model/config hash is refused on both sides (`refused` event), disconnected and denied.
   * Default `true`.
   */
  handshakeOnConnect?: boolean;
  /** Start the node before returning. Default `true`. */
  start?: boolean;
  /** Aborting this signal stops the node. */
  signal?: AbortSignal;
}

/** Input of {@link SwarmNode.publishUpdate}: the sender, run id and compatibility hash are filled in. */
export interface UpdateInput {
  round: number;
  samples: number;
  /** sha256 (hex) of the anchor the update started from. */
  anchorHash: string;
  codec: string;
  /** Encoded update bytes; sent inline when small, otherwise stored and announced by hash. */
  bytes: Uint8Array;
}

/** Input of {@link SwarmNode.publishHeartbeat}. */
export type HeartbeatInput = Omit<HeartbeatMessage, 'type' | 'runId' | 'compatHash'>;

/** Byte counters of this node, since start. */
export interface TrafficStats {
  /**
   * Gossip bytes sent: application message bytes × peers each publish was sent to. Forwarding of other
   * peers' messages and gossipsub control traffic are not counted.
   */
  gossipSent: number;
  /** Gossip bytes received: application bytes of every message that reached validation (duplicates excluded). */
  gossipReceived: number;
  /** Bytes written on direct protocol streams (blob, state), headers included, encryption/muxing excluded. */
  streamSent: number;
  /** Bytes read on direct protocol streams. */
  streamReceived: number;
  totalSent: number;
  totalReceived: number;
}

/** Result of a publish. */
export interface PublishReport {
  /** Peers the message was sent to directly. */
  recipients: number;
  /** Encoded size in bytes. */
  bytes: number;
}

/**
 * Learns the run (id and model/config hash) of the peers at `bootstrap` through the hello
 * protocol, with a short-lived node of its own: what an observer needs when all it has is an
 * address. Resolves with the first answer.
 */
export async function discoverRun(
  options: Omit<SwarmNodeOptions, 'runId' | 'compatHash' | 'start'> & { timeoutMs?: number },
): Promise<RunIdentity & { peer: string }> {
  const probe = await createSwarmNode({
    ...options,
    runId: 'discovery',
    compatHash: '00',
    handshakeOnConnect: false,
  });
  try {
    const deadline = Date.now() + (options.timeoutMs ?? 15_000);
    const failures: string[] = [];
    while (Date.now() < deadline) {
      for (const peer of probe.connectedPeers()) {
        try {
          return { ...(await askHello(probe.host, peer, 5_000, options.signal)), peer };
        } catch (err) {
          failures.push(`${peer}: ${toError(err).message}`);
        }
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new SwarmError(
      `no peer at ${(options.bootstrap ?? []).join(', ') || '(no bootstrap address)'} told its run${failures.length ? ` (${failures.slice(-3).join('; ')})` : ''}`,
    );
  } finally {
    await probe.stop();
  }
}

/** Creates (and by default starts) a swarm node. */
export async function createSwarmNode(options: SwarmNodeOptions): Promise<SwarmNode> {
  if (options.signal?.aborted) throw new AbortError('createSwarmNode', { cause: options.signal.reason });
  const topics = topicsFor(options.runId);
  assertCompatHash(options.compatHash);
  const host = await createLibp2pHost({ ...options, scoredTopics: [topics.updates, topics.heartbeats] });
  const node = new SwarmNode(host, options, topics);
  if (options.start !== false) await node.start();
  return node;
}

/** A peer of an enjambre run. Create with {@link createSwarmNode}. */
export class SwarmNode extends TypedEventTarget<SwarmEvents> {
  readonly runId: string;
  readonly compatHash: string;
  readonly topics: RunTopics;
  private readonly blobService: BlobService;
  private readonly stateSync: StateSync;
  private readonly validators: { [K in TopicKind]?: MessageValidator<K> } = {};
  private readonly decoded = new WeakMap<Uint8Array, WireMessage>();
  private readonly reportedRefusals = new Set<string>();
  private readonly maxMessageBytes: number;
  private readonly inlineThresholdBytes: number;
  private readonly offHost: Array<() => void> = [];
  private onAbort: (() => void) | undefined;
  private heartbeatsSent = 0;
  private readonly fetchesBySender = new Map<string, number>();

  /** @internal use {@link createSwarmNode}. */
  constructor(
    /** The underlying host (advanced use: custom protocols, diagnostics). */
    readonly host: Host,
    private readonly options: SwarmNodeOptions,
    topics: RunTopics,
  ) {
    super();
    this.runId = options.runId;
    this.compatHash = options.compatHash;
    this.topics = topics;
    this.maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    this.inlineThresholdBytes = options.inlineThresholdBytes ?? DEFAULT_INLINE_THRESHOLD_BYTES;
    if (this.inlineThresholdBytes > this.maxMessageBytes - 1024) {
      throw new InvalidOptionError(
        'inlineThresholdBytes',
        `${this.inlineThresholdBytes} must be at most maxMessageBytes − 1024 (${this.maxMessageBytes - 1024})`,
      );
    }
    this.blobService = new BlobService(host, options.blobs);
    this.stateSync = new StateSync(
      host,
      { runId: this.runId, compatHash: this.compatHash },
      {
        peerTimeoutMs: options.peerTimeoutMs,
        maxSnapshotBytes: options.maxSnapshotBytes,
        onRefused: (e) => {
          this.host.denyPeer(e.peer);
          this.emit('refused', e);
        },
        onSpam: (peer) => this.penalize(peer, 'request-spam'),
      },
    );
  }

  /** This node's peer id. */
  get peerId(): string {
    return this.host.peerId;
  }

  /** The local content-addressed blob store (served to peers). */
  get blobs(): BlobStore {
    return this.blobService.store;
  }

  isStarted(): boolean {
    return this.host.isStarted();
  }

  /** Starts listening, discovery, gossip and the direct protocols. */
  async start(): Promise<void> {
    if (this.host.isStarted()) return;
    await this.host.start();
    this.offHost.push(
      this.host.events.on('peer:connect', (d) => {
        this.emit('peer:connect', d);
        if (this.options.handshakeOnConnect !== false) this.handshake(d.peer);
      }),
      this.host.events.on('peer:disconnect', (d) => this.emit('peer:disconnect', d)),
      this.host.events.on('gossip', (m) => this.deliver(m)),
    );
    await this.blobService.start();
    await this.stateSync.start();
    await serveHello(this.host, { runId: this.runId, compatHash: this.compatHash });
    for (const kind of ['updates', 'heartbeats'] as const) {
      const topic = this.topics[kind];
      this.host.setTopicValidator(topic, (m) => this.validate(kind, m));
      this.host.subscribe(topic);
    }
    const signal = this.options.signal;
    if (signal !== undefined) {
      this.onAbort = () => {
        void this.stop();
      };
      signal.addEventListener('abort', this.onAbort, { once: true });
    }
  }

  /** Stops the node (idempotent). */
  async stop(): Promise<void> {
    if (this.onAbort !== undefined) this.options.signal?.removeEventListener('abort', this.onAbort);
    this.onAbort = undefined;
    if (!this.host.isStarted()) return;
    for (const off of this.offHost.splice(0)) off();
    for (const kind of ['updates', 'heartbeats'] as const) {
      this.host.unsubscribe(this.topics[kind]);
      this.host.removeTopicValidator(this.topics[kind]);
    }
    await this.blobService.stop();
    await this.stateSync.stop();
    await stopHello(this.host);
    await this.host.stop();
  }

  /** Addresses others can dial (with `/p2p/<peerId>`). */
  multiaddrs(): string[] {
    return this.host.multiaddrs();
  }

  connectedPeers(): string[] {
    return this.host.connectedPeers();
  }

  /** Dials a multiaddr; resolves with the remote peer id. */
  dial(addr: string, options?: { signal?: AbortSignal }): Promise<string> {
    return this.host.dial(addr, options);
  }

  /** Peers currently known to be subscribed to the topic. */
  topicPeers(kind: TopicKind): string[] {
    return this.host.topicPeers(this.topics[kind]);
  }

  /** Peers in this node's gossip mesh for the topic (messages are forwarded to them). */
  meshPeers(kind: TopicKind): string[] {
    return this.host.meshPeers(this.topics[kind]);
  }

  /** Gossip peer score of `peer` (negative after rejected messages). */
  peerScore(peer: string): number {
    return this.host.peerScore(peer);
  }

  /** Lowers `peer`'s gossip score for a misbehaviour ({@link PENALTY_POINTS}). */
  penalize(peer: string, why: Misbehaviour): void {
    this.host.penalize(peer, PENALTY_POINTS[why]);
    this.emit('penalized', { peer, why, penalty: this.host.penalty(peer) });
  }

  /** Resolves once at least `count` peers are subscribed to the topic. Rejects on abort or after `timeoutMs`. */
  async waitForTopicPeers(
    kind: TopicKind,
    count: number,
    options: { signal?: AbortSignal; timeoutMs?: number } = {},
  ): Promise<string[]> {
    const deadline =
      options.timeoutMs === undefined ? Number.POSITIVE_INFINITY : Date.now() + options.timeoutMs;
    for (;;) {
      const peers = this.topicPeers(kind);
      if (peers.length >= count) return peers;
      if (options.signal?.aborted)
        throw new AbortError('waitForTopicPeers', { cause: options.signal.reason });
      if (Date.now() > deadline) {
        throw new PeerTimeoutError(
          '(any)',
          this.topics[kind],
          `fewer than ${count} subscribed peers after ${options.timeoutMs} ms`,
        );
      }
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  }

  /** Installs (or clears) the application validator of a topic, run after the built-in checks. */
  setValidator<K extends TopicKind>(kind: K, validator: MessageValidator<K> | undefined): void {
    (this.validators as Record<K, MessageValidator<K> | undefined>)[kind] = validator;
  }

  /** Calls `callback` for every validated message on the topic; returns an unsubscribe function. */
  subscribe<K extends TopicKind>(
    kind: K,
    callback: (message: TopicMessages[K], from: string) => void,
  ): () => void {
    return this.on('message', (e) => {
      if (e.topic === kind) callback(e.message as TopicMessages[K], e.from);
    });
  }

  /**
   * Publishes an update. Payloads up to `inlineThresholdBytes` go inline; larger ones are put in the blob
   * store and announced by sha256 + length, to be fetched with {@link resolveUpdatePayload}.
   */
  async publishUpdate(
    input: UpdateInput,
  ): Promise<PublishReport & { payload: UpdatePayload['kind']; hash?: string }> {
    let payload: UpdatePayload;
    if (input.bytes.length <= this.inlineThresholdBytes) {
      payload = { kind: 'inline', bytes: input.bytes };
    } else {
      const hash = this.blobService.store.put(input.bytes);
      payload = { kind: 'hash', hash, byteLength: input.bytes.length };
    }
    const { bytes: _bytes, ...rest } = input;
    const report = await this.publish({
      ...rest,
      type: 'update',
      runId: this.runId,
      compatHash: this.compatHash,
      sender: this.peerId,
      payload,
    });
    return { ...report, payload: payload.kind, hash: payload.kind === 'hash' ? payload.hash : undefined };
  }

  /** Publishes a heartbeat on the heartbeats topic. */
  publishHeartbeat(input: HeartbeatInput): Promise<PublishReport> {
    // Peers this one is not connected to learn where to fetch blobs and snapshots from it. Every
    // few heartbeats is often enough, and keeps the others small (they are forwarded many times).
    const withAddrs = this.heartbeatsSent++ % ADDRS_EVERY_HEARTBEATS === 0;
    return this.publish({
      ...(withAddrs ? { addrs: this.listenAddrsForHeartbeat() } : {}),
      ...input,
      type: 'heartbeat',
      runId: this.runId,
      compatHash: this.compatHash,
    });
  }

  /** The addresses a heartbeat can carry (the wire format bounds their number and length). */
  private listenAddrsForHeartbeat(): string[] {
    const encoder = new TextEncoder();
    return this.multiaddrs()
      .filter((a) => encoder.encode(a).length <= MAX_ADDR_BYTES)
      .slice(0, MAX_HEARTBEAT_ADDRS);
  }

  /** Announces this node's departure on the heartbeats topic. */
  publishLeave(round: number, reason = 'leaving'): Promise<PublishReport> {
    return this.publish({ type: 'leave', runId: this.runId, compatHash: this.compatHash, round, reason });
  }

  /** Encodes and publishes any wire message on its topic (updates → updates, others → heartbeats). */
  async publish(message: WireMessage): Promise<PublishReport> {
    const data = encodeMessage(message, { maxMessageBytes: this.maxMessageBytes });
    const kind: TopicKind = message.type === 'update' ? 'updates' : 'heartbeats';
    const { recipients } = await this.host.publish(this.topics[kind], data);
    return { recipients, bytes: data.length };
  }

  /** Publishes raw bytes on a topic, bypassing the encoder (diagnostics and tests of hostile peers). */
  async publishRaw(kind: TopicKind, data: Uint8Array): Promise<PublishReport> {
    if (data.length > this.maxMessageBytes) {
      throw new PublishError(`${data.length} bytes exceeds maxMessageBytes ${this.maxMessageBytes}`);
    }
    const { recipients } = await this.host.publish(this.topics[kind], data);
    return { recipients, bytes: data.length };
  }

  /**
   * The payload bytes of an update: inline bytes, or the blob fetched (and verified) from the sender and then
   * from the other peers of the updates topic (any holder serves it).
   */
  async resolveUpdatePayload(
    message: UpdateMessage,
    options: { signal?: AbortSignal; from?: string[]; maxBytes?: number } = {},
  ): Promise<Uint8Array> {
    const size =
      message.payload.kind === 'inline' ? message.payload.bytes.length : message.payload.byteLength;
    if (options.maxBytes !== undefined && size > options.maxBytes) {
      this.penalize(message.sender, 'oversized-announcement');
      throw new SwarmError(
        `update of ${message.sender} declares ${size} bytes, more than this model's bound of ${options.maxBytes}`,
      );
    }
    if (message.payload.kind === 'inline') return message.payload.bytes;
    const from = options.from ?? [
      message.sender,
      ...this.topicPeers('updates').filter((p) => p !== message.sender),
    ];
    const sender = message.sender;
    const running = this.fetchesBySender.get(sender) ?? 0;
    if (running >= MAX_FETCHES_PER_SENDER) {
      this.penalize(sender, 'request-spam');
      throw new SwarmError(
        `${sender} already has ${running} announced payloads being fetched; this one is not fetched`,
      );
    }
    this.fetchesBySender.set(sender, running + 1);
    try {
      return await this.blobService.fetch(message.payload.hash, {
        from,
        expectedLength: message.payload.byteLength,
        maxBytes: options.maxBytes,
        signal: options.signal,
      });
    } finally {
      const left = (this.fetchesBySender.get(sender) ?? 1) - 1;
      if (left > 0) this.fetchesBySender.set(sender, left);
      else this.fetchesBySender.delete(sender);
    }
  }

  /** Fetches a blob by sha256 from the candidate peers in turn (or the local store). See {@link BlobService.fetch}. */
  fetchBlob(
    hash: string,
    options: { from: string[]; expectedLength?: number; maxBytes?: number; signal?: AbortSignal },
  ): Promise<Uint8Array> {
    return this.blobService.fetch(hash, options);
  }

  /** Stores a blob locally (served to peers) and returns its sha256. */
  putBlob(bytes: Uint8Array): string {
    return this.blobService.store.put(bytes);
  }

  /** Registers the callback that returns this node's current snapshot (served over state sync). */
  setSnapshotProvider(provider: SnapshotProvider | undefined): void {
    this.stateSync.setProvider(provider);
  }

  /** Downloads a snapshot agreed by a quorum of peers. See {@link StateSync.fetchSnapshot}. */
  fetchSnapshot(peers: string[], options?: FetchSnapshotOptions): Promise<SnapshotResult> {
    return this.stateSync.fetchSnapshot(peers, options);
  }

  /** Asks one peer for its snapshot hash (handshake included). */
  async snapshotHash(
    peer: string,
    options: { signal?: AbortSignal } = {},
  ): Promise<{ hash: string; length: number }> {
    const { hash, length } = await this.stateSync.request(peer, false, options.signal);
    return { hash, length };
  }

  /** Byte counters since start; see {@link TrafficStats} for what is counted. */
  traffic(): TrafficStats {
    const t = this.host.traffic();
    return {
      ...t,
      totalSent: t.gossipSent + t.streamSent,
      totalReceived: t.gossipReceived + t.streamReceived,
    };
  }

  private handshake(peer: string): void {
    this.stateSync.handshake(peer).catch((err: unknown) => {
      if (err instanceof IncompatiblePeerError) {
        this.host.hangUp(peer).catch(() => {});
      }
      // other failures (peer gone, stream refused) are not a verdict on compatibility
    });
  }

  /** Checks that `peer` runs the same run id and model/config hash; throws {@link IncompatiblePeerError}. */
  checkCompatibility(peer: string, options: { signal?: AbortSignal } = {}): Promise<void> {
    return this.stateSync.handshake(peer, options.signal);
  }

  private reject(peer: string, topic: TopicKind, reason: string, why?: Misbehaviour): GossipVerdict {
    if (why !== undefined) this.penalize(peer, why);
    this.emit('rejected', { peer, topic, reason });
    return 'reject';
  }

  private async validate(kind: TopicKind, m: GossipMessage): Promise<GossipVerdict> {
    let msg: WireMessage;
    try {
      msg = decodeMessage(m.data, { maxMessageBytes: this.maxMessageBytes });
    } catch (err) {
      const reason = err instanceof WireDecodeError ? err.message : toError(err).message;
      return this.reject(m.from, kind, `malformed message: ${reason}`, 'malformed-update');
    }
    if (msg.runId !== this.runId || msg.compatHash !== this.compatHash) {
      const theirs = { runId: msg.runId, compatHash: msg.compatHash };
      const key = `${m.from}|${msg.runId}|${msg.compatHash}`;
      if (!this.reportedRefusals.has(key)) {
        this.reportedRefusals.add(key);
        const ours = { runId: this.runId, compatHash: this.compatHash };
        const err = describe(m.from, theirs, ours);
        this.emit('refused', {
          peer: m.from,
          direction: 'outbound',
          context: 'gossip',
          theirs,
          ours,
          message: err,
        });
      }
      return this.reject(
        m.from,
        kind,
        `incompatible: ${describe(m.from, theirs, { runId: this.runId, compatHash: this.compatHash })}`,
      );
    }
    const expected = kind === 'updates' ? msg.type === 'update' : msg.type !== 'update';
    if (!expected) return this.reject(m.from, kind, `message type '${msg.type}' does not belong on ${kind}`);
    if (msg.type === 'update' && msg.sender !== m.from) {
      return this.reject(m.from, kind, `update claims sender ${msg.sender} but was signed by ${m.from}`);
    }
    if (
      msg.type === 'update' &&
      msg.payload.kind === 'hash' &&
      msg.payload.byteLength > this.blobService.store.maxBlobBytes
    ) {
      return this.reject(
        m.from,
        kind,
        `announced payload of ${msg.payload.byteLength} bytes exceeds the blob limit`,
        'oversized-announcement',
      );
    }
    const user = this.validators[kind] as MessageValidator<TopicKind> | undefined;
    if (user !== undefined) {
      let verdict: GossipVerdict;
      try {
        verdict = await user(msg as TopicMessages[TopicKind], m.from);
      } catch (err) {
        return this.reject(m.from, kind, `validator threw: ${toError(err).message}`);
      }
      if (verdict === 'reject')
        return this.reject(m.from, kind, 'refused by the application validator', 'malformed-update');
      if (verdict !== 'accept') return 'ignore';
    }
    this.decoded.set(m.data, msg);
    return 'accept';
  }

  private deliver(m: GossipMessage): void {
    const kind: TopicKind | undefined =
      m.topic === this.topics.updates
        ? 'updates'
        : m.topic === this.topics.heartbeats
          ? 'heartbeats'
          : undefined;
    if (kind === undefined) return;
    let msg = this.decoded.get(m.data);
    if (msg === undefined) {
      try {
        msg = decodeMessage(m.data, { maxMessageBytes: this.maxMessageBytes });
      } catch {
        return;
      }
    }
    if (msg.type === 'heartbeat' && msg.addrs !== undefined && !this.host.connectedPeers().includes(m.from)) {
      // The message is signed by m.from, so these are its own claims about itself.
      this.host.addPeerAddresses(m.from, msg.addrs).catch(() => {});
    }
    this.emit('message', { topic: kind, message: msg, from: m.from } as SwarmMessageEvent);
  }
}
