/**
 * `@enjambre/swarm`: libp2p peers, the wire format, gossip topics, blob exchange and state sync.
 */

export * from './averaging/index.ts';
export {
  BLOB_PROTOCOL,
  type BlobServiceOptions,
  DEFAULT_BLOB_CHUNK_BYTES,
  type FetchBlobOptions,
} from './blob-protocol.ts';
export {
  BlobStore,
  type BlobStoreOptions,
  DEFAULT_BLOB_STORE_MAX_BYTES,
  DEFAULT_MAX_BLOB_BYTES,
  isSha256Hex,
  sha256Hex,
} from './blob-store.ts';
export * from './errors.ts';
export { TypedEventTarget } from './events.ts';
export {
  askHello,
  askStatus,
  HELLO_PROTOCOL,
  MAX_STATUS_BYTES,
  STATUS_PROTOCOL,
  serveStatus,
  stopStatus,
} from './hello.ts';
export type { ByteStream, ByteStreamHandler, GossipVerdict, Host, HostTraffic } from './host.ts';
export {
  createLibp2pHost,
  DEFAULT_BOOTSTRAP_WAIT_MS,
  DEFAULT_GOSSIP_HEARTBEAT_MS,
  DEFAULT_LISTEN,
  DEFAULT_MDNS_INTERVAL_MS,
  DEFAULT_REDIAL_INTERVAL_MS,
  generateSwarmKey,
  type HostOptions,
  isDialableGossipedAddr,
  loadOrCreateIdentity,
  type MdnsOptions,
  PENALTY_HALF_LIFE_MS,
  parseSwarmKey,
  readSwarmKeyFile,
  SCORE_THRESHOLDS,
  writeSwarmKeyFile,
} from './libp2p-node.ts';
export * from './protocol/index.ts';
export {
  DEFAULT_MAX_SNAPSHOT_BYTES,
  DEFAULT_SNAPSHOT_PEERS,
  DEFAULT_SNAPSHOT_QUORUM,
  type FetchSnapshotOptions,
  type RefusalEvent,
  type RunIdentity,
  type SnapshotProvider,
  type SnapshotResult,
  STATE_PROTOCOL,
} from './state-sync.ts';
export { DEFAULT_PEER_TIMEOUT_MS } from './stream-io.ts';
export {
  createSwarmNode,
  DEFAULT_INLINE_THRESHOLD_BYTES,
  discoverRun,
  type HeartbeatInput,
  type MessageValidator,
  PENALTY_POINTS,
  type PublishReport,
  type SwarmEvents,
  type SwarmMessageEvent,
  SwarmNode,
  type SwarmNodeOptions,
  type TopicMessages,
  type TrafficStats,
  type UpdateInput,
} from './swarm-node.ts';
export { type RunTopics, type TopicKind, topicsFor } from './topics.ts';
export * from './wire.ts';
