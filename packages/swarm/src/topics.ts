/** Topic names of a run. */
import { assertRunId } from './wire.ts';

/** The gossip topics of one run. */
export interface RunTopics {
  /** `enjambre/<runId>/updates`: compressed model updates. */
  updates: string;
  /** `enjambre/<runId>/heartbeats`: progress heartbeats and departures. */
  heartbeats: string;
}

/** Kind of topic. */
export type TopicKind = keyof RunTopics;

/** Topic names derived from a run id (validated: 1..64 chars of [A-Za-z0-9._-]). */
export function topicsFor(runId: string): RunTopics {
  assertRunId(runId);
  return { updates: `enjambre/${runId}/updates`, heartbeats: `enjambre/${runId}/heartbeats` };
}
