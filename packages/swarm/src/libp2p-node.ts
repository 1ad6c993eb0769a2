/**
 * The one module that imports libp2p (v2 line). Everything libp2p-specific lives here: transports, encryption,
 * muxing, discovery, gossipsub configuration, private-swarm keys, peer identity files and the adaptation of
 * libp2p streams to the transport-neutral {@link ByteStream}. A move to libp2p v3 (`@libp2p/gossipsub`, message
 * streams) is a change of this file only.
 */
import './polyfill.ts';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { type GossipSub, gossipsub } from '@chainsafe/libp2p-gossipsub';
import { createTopicScoreParams } from '@chainsafe/libp2p-gossipsub/score';
import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import { DEFAULT_LISTEN } from '@enjambre/config';
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys';
import { identify } from '@libp2p/identify';
import {
  type Message,
  type PeerId,
  type PrivateKey,
  type Stream,
  StrictSign,
  TopicValidatorResult,
} from '@libp2p/interface';
import { mdns } from '@libp2p/mdns';
import { peerIdFromPrivateKey, peerIdFromString } from '@libp2p/peer-id';
import { generateKey, preSharedKey } from '@libp2p/pnet';
import { tcp } from '@libp2p/tcp';
import { multiaddr } from '@multiformats/multiaddr';
import { createLibp2p, type Libp2p } from 'libp2p';
import {
  DialError,
  InvalidOptionError,
  KeyFileError,
  NodeNotStartedError,
  PublishError,
  toError,
} from './errors.ts';
import { TypedEventTarget } from './events.ts';
import type {
  ByteStream,
  ByteStreamHandler,
  GossipValidator,
  GossipVerdict,
  Host,
  HostEvents,
  HostTraffic,
} from './host.ts';

/** Default listen address: every IPv4 interface, a free TCP port. */
export { DEFAULT_LISTEN };
/** Default time `start()` waits for the first dials of the bootstrap list (ms); dials go on in the background. */
export const DEFAULT_BOOTSTRAP_WAIT_MS = 3_000;
/** Default interval at which the bootstrap list is re-dialled while this node has no connection (ms). */
export const DEFAULT_REDIAL_INTERVAL_MS = 5_000;
/** Default mDNS query interval (ms). */
export const DEFAULT_MDNS_INTERVAL_MS = 10_000;
/** Default gossipsub heartbeat interval (ms). */
export const DEFAULT_GOSSIP_HEARTBEAT_MS = 1_000;
/** Bytes allowed on top of the application message for the gossipsub RPC envelope (signature, key, topic...). */
export const GOSSIP_RPC_OVERHEAD_BYTES = 16 * 1024;
/** Weight of each (squared) invalid message delivery in a topic's peer score. */
export const INVALID_MESSAGE_WEIGHT = -10;
/** Per-second decay of the invalid-message counter. */
export const INVALID_MESSAGE_DECAY = 0.9;

/**
 * Gossip score thresholds (gossipsub's defaults, stated here because docs/reliability.md relies on them):
 * below `gossip` a peer's gossip is ignored, below `publish` nothing is published to it, below `graylist`
 * every message from it is dropped unread.
 */
export const SCORE_THRESHOLDS = {
  gossipThreshold: -10,
  publishThreshold: -50,
  graylistThreshold: -80,
  acceptPXThreshold: 10,
  opportunisticGraftThreshold: 20,
} as const;
/** Half-life of an application penalty (see {@link Host.penalize}), ms. */
export const PENALTY_HALF_LIFE_MS = 5 * 60_000;

/** Default most open connections. */
export const DEFAULT_MAX_CONNECTIONS = 64;
/** Default most connections from one remote IP address (loopback exempt in a local swarm). */
export const DEFAULT_MAX_CONNECTIONS_PER_IP = 8;

/** mDNS options. */
export interface MdnsOptions {
  /** Query interval in ms. Default {@link DEFAULT_MDNS_INTERVAL_MS}. */
  intervalMs?: number;
  /** mDNS service tag; peers with a different tag are not discovered. Default `_p2p._udp.local`. */
  serviceTag?: string;
}

/** Options of {@link createLibp2pHost}. */
export interface HostOptions {
  /**
   * Peer identity key file. Created (0600) with a fresh Ed25519 key when absent, loaded otherwise, so the peer
   * id survives restarts. Default: none (a fresh identity every start).
   */
  identityFile?: string;
  /** Multiaddrs to listen on. Default {@link DEFAULT_LISTEN}. */
  listen?: string[];
  /** Multiaddrs to announce instead of the listen addresses (e.g. a public IP). Default: none. */
  announce?: string[];
  /** Multiaddrs (with `/p2p/<id>`) dialled at start and re-dialled while disconnected. Default: none. */
  bootstrap?: string[];
  /**
   * How long `start()` waits for the bootstrap dials to settle, ms. Failed dials are not errors (the list is
   * re-dialled while disconnected). Default {@link DEFAULT_BOOTSTRAP_WAIT_MS}.
   */
  bootstrapWaitMs?: number;
  /** Re-dial interval while no peer is connected, ms (0 disables). Default {@link DEFAULT_REDIAL_INTERVAL_MS}. */
  redialIntervalMs?: number;
  /** LAN discovery by mDNS; discovered peers are dialled. `true` uses defaults. Default `false`. */
  mdns?: boolean | MdnsOptions;
  /**
   * Pre-shared key of a private swarm (the v1 PSK file content, see {@link generateSwarmKey}). Peers without
   * the same key cannot connect. Default: none (public swarm).
   */
  swarmKey?: Uint8Array;
  /** Largest gossip message (application bytes) accepted. Default 4 MiB. */
  maxMessageBytes?: number;
  /** Topics whose peer scores count invalid (rejected) messages. Default: none. */
  scoredTopics?: string[];
  /** Gossipsub heartbeat interval, ms. Default {@link DEFAULT_GOSSIP_HEARTBEAT_MS}. */
  gossipHeartbeatMs?: number;
  /** Most open connections. Default {@link DEFAULT_MAX_CONNECTIONS}. */
  maxConnections?: number;
  /** Most connections from one remote IP. Default {@link DEFAULT_MAX_CONNECTIONS_PER_IP}. */
  maxConnectionsPerIp?: number;
  /**
   * Whether addresses peers gossip about themselves may be loopback or private-range ones (a swarm on one
   * machine or a LAN). Default: loopback when this node listens on loopback; private ranges when it listens on
   * one, or mDNS is on. `/unix/` and non-TCP addresses are never taken from peers.
   */
  allowPrivateAddrs?: boolean;
}

// ---------------------------------------------------------------------------------------------------------------
// identity and swarm keys

/** Loads the peer private key from `file`, or creates it (Ed25519, mode 0600) when the file does not exist. */
async function loadOrCreatePrivateKey(file: string): Promise<{ key: PrivateKey; created: boolean }> {
  let bytes: Uint8Array | undefined;
  try {
    bytes = await readFile(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new KeyFileError(file, `cannot read: ${toError(err).message}`, { cause: err });
    }
  }
  if (bytes !== undefined) {
    try {
      // @libp2p/crypto 5.1.23 types its keys with @libp2p/interface 3; the objects are the same at run time.
      return { key: privateKeyFromProtobuf(bytes) as unknown as PrivateKey, created: false };
    } catch (err) {
      throw new KeyFileError(file, `not a libp2p private key (protobuf): ${toError(err).message}`, {
        cause: err,
      });
    }
  }
  const key = (await generateKeyPair('Ed25519')) as unknown as PrivateKey;
  try {
    await mkdir(dirname(file), { recursive: true });
    // 'wx': fail rather than overwrite when another process created it meanwhile.
    await writeFile(file, privateKeyToProtobuf(key as never), { mode: 0o600, flag: 'wx' });
    await chmod(file, 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return loadOrCreatePrivateKey(file);
    throw new KeyFileError(file, `cannot write: ${toError(err).message}`, { cause: err });
  }
  return { key, created: true };
}

/**
 * Loads (or creates, mode 0600) the peer identity stored in `file` and returns its peer id. The same file
 * always yields the same peer id.
 */
export async function loadOrCreateIdentity(file: string): Promise<{ peerId: string; created: boolean }> {
  const { key, created } = await loadOrCreatePrivateKey(file);
  return { peerId: peerIdFromPrivateKey(key).toString(), created };
}

const PSK_HEADER = '/key/swarm/psk/1.0.0/';
const PSK_CODEC = '/base16/';
const PSK_RE = /^[0-9a-fA-F]{64}$/;

/** A fresh random private-swarm key in the libp2p v1 PSK text format (95 bytes). */
export function generateSwarmKey(): Uint8Array {
  const key = new Uint8Array(95);
  generateKey(key);
  return key;
}

/** Checks the v1 PSK format (`/key/swarm/psk/1.0.0/`, `/base16/`, 64 hex chars); throws naming `source`. */
export function parseSwarmKey(bytes: Uint8Array, source = 'swarm key'): Uint8Array {
  const lines = new TextDecoder().decode(bytes).trim().split(/\r?\n/);
  if (lines.length !== 3 || lines[0] !== PSK_HEADER || lines[1] !== PSK_CODEC || !PSK_RE.test(lines[2])) {
    throw new KeyFileError(
      source,
      `expected 3 lines '${PSK_HEADER}', '${PSK_CODEC}' and 64 hex characters (generate one with generateSwarmKey())`,
    );
  }
  return new TextEncoder().encode(`${PSK_HEADER}\n${PSK_CODEC}\n${lines[2].toLowerCase()}`);
}

/** Reads and validates a private-swarm key file. */
export async function readSwarmKeyFile(file: string): Promise<Uint8Array> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
  } catch (err) {
    throw new KeyFileError(file, `cannot read: ${toError(err).message}`, { cause: err });
  }
  return parseSwarmKey(bytes, file);
}

/** Writes a fresh private-swarm key to `file` (mode 0600, never overwriting) and returns it. */
export async function writeSwarmKeyFile(file: string): Promise<Uint8Array> {
  const key = generateSwarmKey();
  try {
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, key, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    throw new KeyFileError(file, `cannot create: ${toError(err).message}`, { cause: err });
  }
  return key;
}

// ---------------------------------------------------------------------------------------------------------------
// host

/** Creates a (not yet started) libp2p host. */
export async function createLibp2pHost(options: HostOptions = {}): Promise<Host> {
  const maxMessageBytes = options.maxMessageBytes ?? 4 * 1024 * 1024;
  if (!Number.isInteger(maxMessageBytes) || maxMessageBytes < 1024) {
    throw new InvalidOptionError(
      'maxMessageBytes',
      `expected an integer ≥ 1024, got ${String(maxMessageBytes)}`,
    );
  }
  for (const [name, list] of [
    ['listen', options.listen],
    ['announce', options.announce],
    ['bootstrap', options.bootstrap],
  ] as const) {
    for (const a of list ?? []) {
      try {
        multiaddr(a);
      } catch (err) {
        throw new InvalidOptionError(name, `'${a}' is not a multiaddr: ${toError(err).message}`);
      }
    }
  }
  for (const a of options.bootstrap ?? []) {
    if (multiaddr(a).getPeerId() == null) {
      throw new InvalidOptionError('bootstrap', `'${a}' lacks a /p2p/<peerId> component`);
    }
  }
  const psk =
    options.swarmKey === undefined ? undefined : parseSwarmKey(options.swarmKey, 'options.swarmKey');
  const privateKey =
    options.identityFile === undefined ? undefined : (await loadOrCreatePrivateKey(options.identityFile)).key;

  const scoredTopics = Object.fromEntries(
    (options.scoredTopics ?? []).map((t) => [
      t,
      createTopicScoreParams({
        topicWeight: 1,
        timeInMeshWeight: 0.01,
        timeInMeshQuantum: 1000,
        timeInMeshCap: 3600,
        firstMessageDeliveriesWeight: 0.5,
        firstMessageDeliveriesDecay: 0.9,
        firstMessageDeliveriesCap: 20,
        meshMessageDeliveriesWeight: 0,
        meshFailurePenaltyWeight: 0,
        invalidMessageDeliveriesWeight: INVALID_MESSAGE_WEIGHT,
        invalidMessageDeliveriesDecay: INVALID_MESSAGE_DECAY,
      }),
    ]),
  );

  // The bootstrap list is dialled by the host itself (at start, and again while disconnected), so start()
  // can wait for it; @libp2p/bootstrap would only dial once, after a timer.
  const discovery = [];
  if (options.mdns) {
    const m = options.mdns === true ? {} : options.mdns;
    discovery.push(mdns({ interval: m.intervalMs ?? DEFAULT_MDNS_INTERVAL_MS, serviceTag: m.serviceTag }));
  }

  const denied = new Set<string>();
  const penalties = new Penalties(PENALTY_HALF_LIFE_MS);
  const listen = options.listen ?? [...DEFAULT_LISTEN];
  const scope = addressScope(listen, options);
  const maxPerIp = options.maxConnectionsPerIp ?? DEFAULT_MAX_CONNECTIONS_PER_IP;
  let countFrom: (ip: string) => number = () => 0;
  const node = await createLibp2p({
    start: false,
    connectionManager: {
      maxConnections: options.maxConnections ?? DEFAULT_MAX_CONNECTIONS,
      maxIncomingPendingConnections: 16,
    },
    connectionGater: {
      denyInboundConnection: (conn) => {
        const ip = ipOf(conn.remoteAddr.toString());
        if (ip === undefined || (scope.loopback && isLoopback(ip))) return false;
        return countFrom(ip) >= maxPerIp;
      },
      denyDialPeer: (peer) => denied.has(peer.toString()),
      denyInboundEncryptedConnection: (peer) => denied.has(peer.toString()),
      denyOutboundEncryptedConnection: (peer) => denied.has(peer.toString()),
    },
    privateKey,
    addresses: { listen, announce: options.announce ?? [] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionProtector: psk === undefined ? undefined : preSharedKey({ psk }),
    peerDiscovery: discovery,
    services: {
      identify: identify(),
      pubsub: gossipsub({
        globalSignaturePolicy: StrictSign,
        allowPublishToZeroTopicPeers: true,
        emitSelf: false,
        maxInboundDataLength: maxMessageBytes + GOSSIP_RPC_OVERHEAD_BYTES,
        heartbeatInterval: options.gossipHeartbeatMs ?? DEFAULT_GOSSIP_HEARTBEAT_MS,
        scoreParams: {
          topics: scoredTopics,
          // Invalid updates, bad snapshots, oversized announcements and spam, as judged by the application.
          appSpecificScore: (peer: string) => -penalties.of(peer),
          appSpecificWeight: 1,
        },
        scoreThresholds: { ...SCORE_THRESHOLDS },
      }),
    },
  });
  countFrom = (ip) => node.getConnections().filter((c) => ipOf(c.remoteAddr.toString()) === ip).length;
  return new Libp2pHost(node as unknown as Libp2p<{ pubsub: GossipSub }>, options, denied, penalties, scope);
}

/** Which kinds of addresses learnt from peers this node dials. */
export interface AddressScope {
  loopback: boolean;
  private: boolean;
}

function addressScope(listen: readonly string[], options: HostOptions): AddressScope {
  const ips = listen.map((a) => ipOf(a)).filter((ip): ip is string => ip !== undefined);
  return {
    loopback: options.allowPrivateAddrs ?? ips.some(isLoopback),
    private:
      options.allowPrivateAddrs ??
      ((options.mdns !== undefined && options.mdns !== false) || ips.some(isPrivate)),
  };
}

/** The IP of an `/ip4/…` or `/ip6/…` multiaddr; undefined for anything else. */
function ipOf(addr: string): string | undefined {
  const m = /^\/ip[46]\/([^/]+)/.exec(addr);
  return m?.[1];
}

function isLoopback(ip: string): boolean {
  return ip.startsWith('127.') || ip === '::1';
}

function isPrivate(ip: string): boolean {
  if (ip.includes(':')) return /^f[cd]/i.test(ip) || /^fe[89ab]/i.test(ip);
  const [a, b] = ip.split('.').map(Number);
  return (
    a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 169 && b === 254)
  );
}

/**
 * Whether an address a peer gossiped about itself may be dialled: TCP over IPv4/IPv6 only (never `/unix/` or
 * other transports), never an unspecified or multicast address, loopback and private ranges only within the
 * node's scope.
 */
export function isDialableGossipedAddr(addr: string, scope: AddressScope): boolean {
  const m = /^\/ip([46])\/([^/]+)\/tcp\/(\d+)(\/p2p\/[^/]+)?$/.exec(addr);
  if (m === null) return false;
  const ip = m[2];
  const port = Number(m[3]);
  if (!(port > 0 && port < 65536)) return false;
  if (ip === '0.0.0.0' || ip === '::' || ip.startsWith('224.') || /^ff/i.test(ip)) return false;
  if (isLoopback(ip)) return scope.loopback;
  if (isPrivate(ip)) return scope.private;
  return true;
}

/** Application penalties per peer, each halving every `halfLifeMs`. */
class Penalties {
  private readonly byPeer = new Map<string, { points: number; at: number }>();
  constructor(private readonly halfLifeMs: number) {}

  of(peer: string, now = Date.now()): number {
    const p = this.byPeer.get(peer);
    if (p === undefined) return 0;
    const points = p.points * 0.5 ** ((now - p.at) / this.halfLifeMs);
    if (points < 0.01) this.byPeer.delete(peer);
    return points;
  }

  add(peer: string, points: number, now = Date.now()): void {
    if (!(points > 0)) return;
    this.byPeer.set(peer, { points: this.of(peer, now) + points, at: now });
  }
}

const VERDICTS: Record<GossipVerdict, TopicValidatorResult> = {
  accept: TopicValidatorResult.Accept,
  reject: TopicValidatorResult.Reject,
  ignore: TopicValidatorResult.Ignore,
};

class Libp2pHost implements Host {
  readonly peerId: string;
  readonly events = new TypedEventTarget<HostEvents>();
  private readonly counters: HostTraffic = {
    gossipSent: 0,
    gossipReceived: 0,
    streamSent: 0,
    streamReceived: 0,
  };
  private readonly validated = new Set<string>();
  private readonly openStreams = new Set<Stream>();
  private redialTimer: ReturnType<typeof setInterval> | undefined;
  private started = false;

  constructor(
    private readonly node: Libp2p<{ pubsub: GossipSub }>,
    private readonly options: HostOptions,
    private readonly denied: Set<string>,
    private readonly penalties: Penalties,
    private readonly scope: AddressScope,
  ) {
    this.peerId = node.peerId.toString();
    node.addEventListener('peer:connect', (evt) => {
      this.events.emit('peer:connect', { peer: evt.detail.toString() });
    });
    node.addEventListener('peer:disconnect', (evt) => {
      this.events.emit('peer:disconnect', { peer: evt.detail.toString() });
    });
    // mDNS (and bootstrap) only discover: dial what they find.
    node.addEventListener('peer:discovery', (evt) => {
      const id = evt.detail.id;
      if (!this.started || id.equals(node.peerId) || node.getConnections(id).length > 0) return;
      node.dial(id).catch(() => {
        /* unreachable peers are simply not connected; discovery will report them again */
      });
    });
    node.services.pubsub.addEventListener('message', (evt) => {
      const m = evt.detail;
      if (m.type !== 'signed') return;
      if (!this.validated.has(m.topic)) this.counters.gossipReceived += m.data.length;
      this.events.emit('gossip', {
        topic: m.topic,
        data: m.data,
        from: m.from.toString(),
        via: m.from.toString(),
      });
    });
  }

  isStarted(): boolean {
    return this.started;
  }

  async start(): Promise<void> {
    if (this.started) return;
    await this.node.start();
    this.started = true;
    const interval = this.options.redialIntervalMs ?? DEFAULT_REDIAL_INTERVAL_MS;
    const list = this.options.bootstrap ?? [];
    if (list.length === 0) return;
    if (interval > 0) {
      this.redialTimer = setInterval(() => {
        if (this.node.getConnections().length > 0) return;
        void this.dialBootstrap(list);
      }, interval);
      this.redialTimer.unref?.();
    }
    const waitMs = this.options.bootstrapWaitMs ?? DEFAULT_BOOTSTRAP_WAIT_MS;
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      this.dialBootstrap(list),
      new Promise<void>((r) => {
        timer = setTimeout(r, waitMs);
      }),
    ]);
    clearTimeout(timer);
  }

  /** Dials every bootstrap address not yet connected; never rejects. */
  private async dialBootstrap(list: string[]): Promise<void> {
    await Promise.allSettled(
      list.map(async (a) => {
        const ma = multiaddr(a);
        const id = ma.getPeerId();
        if (id === this.peerId) return;
        if (id !== null && this.node.getConnections(peerIdFromString(id)).length > 0) return;
        await this.node.dial(ma);
      }),
    );
  }

  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    if (this.redialTimer !== undefined) clearInterval(this.redialTimer);
    this.redialTimer = undefined;
    for (const s of this.openStreams) s.abort(new Error('node stopping'));
    this.openStreams.clear();
    await this.node.stop();
  }

  multiaddrs(): string[] {
    return this.node.getMultiaddrs().map((m) => m.toString());
  }

  async dial(addr: string, options?: { signal?: AbortSignal }): Promise<string> {
    this.requireStarted('dial');
    let ma: ReturnType<typeof multiaddr>;
    try {
      ma = multiaddr(addr);
    } catch (err) {
      throw new DialError(addr, `not a multiaddr: ${toError(err).message}`);
    }
    try {
      const conn = await this.node.dial(ma, { signal: options?.signal });
      return conn.remotePeer.toString();
    } catch (err) {
      throw new DialError(ma.getPeerId() ?? addr, `dial ${addr} failed: ${toError(err).message}`, {
        cause: err,
      });
    }
  }

  denyPeer(peer: string): void {
    this.denied.add(peer);
  }

  allowPeer(peer: string): void {
    this.denied.delete(peer);
  }

  async hangUp(peer: string): Promise<void> {
    await this.node.hangUp(parsePeer(peer));
  }

  connectedPeers(): string[] {
    return this.node.getPeers().map((p) => p.toString());
  }

  async addPeerAddresses(peer: string, addrs: string[]): Promise<void> {
    if (peer === this.peerId || this.denied.has(peer)) return;
    const valid = addrs.flatMap((a) => {
      if (!isDialableGossipedAddr(a, this.scope)) return [];
      try {
        const ma = multiaddr(a);
        const id = ma.getPeerId();
        return id === null || id === peer ? [ma] : [];
      } catch {
        return [];
      }
    });
    if (valid.length > 0) await this.node.peerStore.merge(parsePeer(peer), { multiaddrs: valid });
  }

  subscribe(topic: string): void {
    this.requireStarted('subscribe');
    this.node.services.pubsub.subscribe(topic);
  }

  unsubscribe(topic: string): void {
    if (!this.started) return;
    this.node.services.pubsub.unsubscribe(topic);
  }

  topicPeers(topic: string): string[] {
    if (!this.started) return [];
    return this.node.services.pubsub.getSubscribers(topic).map((p) => p.toString());
  }

  meshPeers(topic: string): string[] {
    if (!this.started) return [];
    return this.node.services.pubsub.getMeshPeers(topic);
  }

  async publish(topic: string, data: Uint8Array): Promise<{ recipients: number }> {
    this.requireStarted('publish');
    try {
      const res = await this.node.services.pubsub.publish(topic, data);
      this.counters.gossipSent += data.length * res.recipients.length;
      return { recipients: res.recipients.length };
    } catch (err) {
      throw new PublishError(`publish on ${topic} failed: ${toError(err).message}`, { cause: err });
    }
  }

  setTopicValidator(topic: string, validator: GossipValidator): void {
    this.validated.add(topic);
    this.node.services.pubsub.topicValidators.set(topic, async (peer: PeerId, msg: Message) => {
      this.counters.gossipReceived += msg.data.length;
      if (msg.type !== 'signed') return TopicValidatorResult.Reject;
      try {
        const verdict = await validator({
          topic: msg.topic,
          data: msg.data,
          from: msg.from.toString(),
          via: peer.toString(),
        });
        return VERDICTS[verdict] ?? TopicValidatorResult.Reject;
      } catch {
        return TopicValidatorResult.Reject;
      }
    });
  }

  removeTopicValidator(topic: string): void {
    this.validated.delete(topic);
    this.node.services.pubsub.topicValidators.delete(topic);
  }

  peerScore(peer: string): number {
    if (!this.started) return 0;
    return this.node.services.pubsub.getScore(peer);
  }

  penalize(peer: string, points: number): void {
    this.penalties.add(peer, points);
  }

  penalty(peer: string): number {
    return this.penalties.of(peer);
  }

  async handle(protocol: string, handler: ByteStreamHandler): Promise<void> {
    await this.node.handle(
      protocol,
      ({ stream, connection }) => {
        const wrapped = this.wrap(stream, connection.remotePeer.toString(), protocol);
        Promise.resolve()
          .then(() => handler(wrapped))
          .catch((err) => stream.abort(toError(err)))
          .finally(() => this.openStreams.delete(stream));
      },
      { force: true },
    );
  }

  async unhandle(protocol: string): Promise<void> {
    await this.node.unhandle(protocol);
  }

  async openStream(peer: string, protocol: string, options?: { signal?: AbortSignal }): Promise<ByteStream> {
    this.requireStarted('openStream');
    const id = parsePeer(peer);
    try {
      const stream = await this.node.dialProtocol(id, protocol, { signal: options?.signal });
      return this.wrap(stream, peer, protocol);
    } catch (err) {
      throw new DialError(peer, `cannot open ${protocol}: ${toError(err).message}`, { cause: err });
    }
  }

  traffic(): HostTraffic {
    return { ...this.counters };
  }

  private wrap(stream: Stream, remotePeer: string, protocol: string): ByteStream {
    const counters = this.counters;
    this.openStreams.add(stream);
    const openStreams = this.openStreams;
    return {
      remotePeer,
      protocol,
      source: (async function* () {
        for await (const chunk of stream.source) {
          const bytes = chunk.subarray();
          counters.streamReceived += bytes.length;
          yield bytes;
        }
      })(),
      sink: (source) =>
        stream.sink(
          (async function* () {
            for await (const bytes of source) {
              counters.streamSent += bytes.length;
              yield bytes;
            }
          })(),
        ),
      close: async () => {
        openStreams.delete(stream);
        await stream.close();
      },
      abort: (err) => {
        openStreams.delete(stream);
        stream.abort(err);
      },
    };
  }

  private requireStarted(op: string): void {
    if (!this.started) throw new NodeNotStartedError(op);
  }
}

function parsePeer(peer: string): PeerId {
  try {
    return peerIdFromString(peer);
  } catch (err) {
    throw new DialError(peer, `not a peer id: ${toError(err).message}`);
  }
}
