/**
 * Transport-neutral contracts between the libp2p wiring (src/libp2p-node.ts, the only module that imports
 * libp2p) and the protocols built on it (topics, blob, state sync). Moving to another libp2p major version means
 * re-implementing {@link Host} in that one module.
 */
import type { TypedEventTarget } from './events.ts';

/** A bidirectional byte stream to one remote peer for one protocol. */
export interface ByteStream {
  /** Peer id (string) of the remote side. */
  readonly remotePeer: string;
  /** Protocol id this stream was opened for. */
  readonly protocol: string;
  /** Incoming bytes; ends when the remote closes its write side. */
  readonly source: AsyncIterable<Uint8Array>;
  /** Writes all chunks of `source`, then closes the write side. */
  sink(source: Iterable<Uint8Array> | AsyncIterable<Uint8Array>): Promise<void>;
  /** Closes both directions gracefully. */
  close(): Promise<void>;
  /** Resets the stream at once. */
  abort(err: Error): void;
}

/** Handler of an incoming protocol stream. Errors it throws are caught and the stream aborted. */
export type ByteStreamHandler = (stream: ByteStream) => void | Promise<void>;

/** Decision of a topic validator. `reject` lowers the sender's peer score and stops forwarding. */
export type GossipVerdict = 'accept' | 'reject' | 'ignore';

/** A gossip message as seen by the host. `from` is the signed origin of the message. */
export interface GossipMessage {
  topic: string;
  data: Uint8Array;
  /** Peer id (string) of the message's signed origin. */
  from: string;
  /** Peer id (string) of the neighbour that forwarded it to us (in delivered-message events: equals `from`). */
  via: string;
}

/** Validator run by gossip before a message is delivered or forwarded. */
export type GossipValidator = (msg: GossipMessage) => GossipVerdict | Promise<GossipVerdict>;

/** Byte counters maintained by the host (see {@link TrafficStats}). */
export interface HostTraffic {
  gossipSent: number;
  gossipReceived: number;
  streamSent: number;
  streamReceived: number;
}

/** Events of a host. */
export interface HostEvents extends Record<string, unknown> {
  'peer:connect': { peer: string };
  'peer:disconnect': { peer: string };
  /** A gossip message passed validation and is delivered to this node. */
  gossip: GossipMessage;
}

/** The narrow networking surface used by the swarm protocols. */
export interface Host {
  /** This node's peer id, as a string. */
  readonly peerId: string;
  readonly events: TypedEventTarget<HostEvents>;
  /** Whether the node is running. */
  isStarted(): boolean;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Addresses others can dial (each ending in `/p2p/<peerId>`). */
  multiaddrs(): string[];
  /** Dials a multiaddr (must include `/p2p/<id>`) and resolves with the remote peer id. */
  dial(addr: string, options?: { signal?: AbortSignal }): Promise<string>;
  /** Refuses every future connection to or from `peer` (until {@link Host.allowPeer}). */
  denyPeer(peer: string): void;
  allowPeer(peer: string): void;
  /** Closes every connection to `peer`. */
  hangUp(peer: string): Promise<void>;
  connectedPeers(): string[];
  /**
   * Remembers addresses at which `peer` can be dialled (multiaddrs; those naming another peer id or
   * not parsing are skipped), so that {@link Host.openStream} reaches a peer it is not connected to.
   */
  addPeerAddresses(peer: string, addrs: string[]): Promise<void>;
  subscribe(topic: string): void;
  unsubscribe(topic: string): void;
  /** Peers known to be subscribed to `topic`. */
  topicPeers(topic: string): string[];
  /** Peers in this node's gossip mesh for `topic` (those it forwards full messages to). */
  meshPeers(topic: string): string[];
  /** Publishes `data` on `topic`; resolves with the number of peers it was sent to. */
  publish(topic: string, data: Uint8Array): Promise<{ recipients: number }>;
  setTopicValidator(topic: string, validator: GossipValidator): void;
  removeTopicValidator(topic: string): void;
  /** Current gossip peer score of `peer` (0 when unknown). */
  peerScore(peer: string): number;
  /**
   * Lowers `peer`'s application-specific gossip score by `points` (the penalty decays over time); enough of
   * them and gossip ignores the peer (graylisting).
   */
  penalize(peer: string, points: number): void;
  /** The current (decayed) penalty of `peer`, ≥ 0. */
  penalty(peer: string): number;
  /** Registers (or replaces) the handler of `protocol`. */
  handle(protocol: string, handler: ByteStreamHandler): Promise<void>;
  unhandle(protocol: string): Promise<void>;
  /** Opens a stream to `peer` (dialling it with known addresses when not connected). */
  openStream(peer: string, protocol: string, options?: { signal?: AbortSignal }): Promise<ByteStream>;
  /** Byte counters since start. */
  traffic(): HostTraffic;
}
