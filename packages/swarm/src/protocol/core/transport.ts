/**
 * What the averaging protocol needs from the network, and nothing more: publish and receive updates and
 * heartbeats, fetch payloads and snapshots, serve its own snapshot, and report misbehaving peers. The libp2p
 * {@link SwarmNode} is one implementation; a simulator can be another.
 */
import type { GossipVerdict } from '../../host.ts';
import type { FetchSnapshotOptions, SnapshotProvider, SnapshotResult } from '../../state-sync.ts';
import type {
  HeartbeatInput,
  PublishReport,
  SwarmMessageEvent,
  TrafficStats,
  UpdateInput,
} from '../../swarm-node.ts';
import type { TopicKind } from '../../topics.ts';
import type { UpdateMessage } from '../../wire.ts';

/** Why a peer is penalised (each costs a documented amount of its application score). */
export type Misbehaviour =
  | 'malformed-update'
  | 'duplicate-update'
  | 'bad-snapshot'
  | 'oversized-announcement'
  | 'unfetchable-update'
  | 'request-spam';

export interface AveragingTransport {
  readonly peerId: string;
  publishUpdate(input: UpdateInput): Promise<unknown>;
  publishHeartbeat(input: HeartbeatInput): Promise<PublishReport>;
  publishLeave(round: number, reason?: string): Promise<PublishReport>;
  /** The payload bytes of an update, at most `maxBytes` (fetched from peers when announced by hash). */
  resolveUpdatePayload(message: UpdateMessage, options?: { maxBytes?: number }): Promise<Uint8Array>;
  fetchSnapshot(peers: string[], options?: FetchSnapshotOptions): Promise<SnapshotResult>;
  setValidator(
    kind: 'updates',
    validator: ((m: UpdateMessage, from: string) => GossipVerdict | Promise<GossipVerdict>) | undefined,
  ): void;
  setSnapshotProvider(provider: SnapshotProvider | undefined): void;
  /** Lowers `peer`'s application score in gossip (down to graylisting). */
  penalize(peer: string, why: Misbehaviour): void;
  topicPeers(kind: TopicKind): string[];
  connectedPeers(): string[];
  traffic(): TrafficStats;
  addEventListener(type: 'message', listener: EventListener): void;
  removeEventListener(type: 'message', listener: EventListener): void;
}

export type { SwarmMessageEvent };
