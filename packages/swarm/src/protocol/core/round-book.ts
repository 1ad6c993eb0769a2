/**
 * The updates a peer holds for its rounds: one contribution per sender per round, checked against the anchor
 * it claims to start from; replays, re-sends and updates of rounds too old or too far ahead are refused.
 * Pure: no clock, no network.
 */

/** One peer's pseudo-gradient for one round, decoded. */
export interface Contribution {
  sender: string;
  round: number;
  /** Claimed sample count (capped at aggregation, never trusted as is). */
  samples: number;
  /** sha256 of the anchor the update started from. */
  anchorHash: string;
  values: Float32Array;
  /** For a late update: the round it is aggregated in, the same on every peer (see {@link RoundBook.foldRound}). */
  foldAt?: number;
}

/** What became of an offered update. */
export type OfferResult =
  | 'accepted'
  /** This sender already has an update for that round (a re-send or a replay). */
  | 'duplicate'
  /** Older than the late window. */
  | 'too-old'
  /** Further ahead than the late window. */
  | 'too-far-ahead'
  /** Started from another anchor than this peer's at that round. */
  | 'wrong-anchor';

export class RoundBook {
  private current = 0;
  /** sha256 of this peer's anchor at each recent round (to check late updates). */
  private readonly anchors = new Map<number, string>();
  /** Senders counted per round (accepted once; any second update of theirs is a duplicate). */
  private readonly senders = new Map<number, Set<string>>();
  /** Updates of the current round and the next few, by round then sender. */
  private readonly pending = new Map<number, Map<string, Contribution>>();
  /** Updates of rounds already closed here, to fold into the next aggregation. */
  private late: Contribution[] = [];

  constructor(private readonly lateRounds: number) {}

  /**
   * The round a late update of round `r` is folded into: r + lateRounds on every peer, whenever it arrived,
   * so that peers that heard it at different moments still aggregate the same updates in the same round.
   */
  foldRound(r: number): number {
    return r + this.lateRounds;
  }

  get round(): number {
    return this.current;
  }

  /** The round this peer runs now, and its anchor's hash. Forgets what is older than the late window. */
  enter(round: number, anchorHash: string): void {
    this.current = round;
    this.anchors.set(round, anchorHash);
    for (const r of [...this.anchors.keys()]) if (r < round - this.lateRounds) this.anchors.delete(r);
    for (const r of [...this.senders.keys()]) if (r < round - this.lateRounds) this.senders.delete(r);
    for (const r of [...this.pending.keys()]) {
      if (r >= round) continue;
      // Updates that arrived for a round this peer then skipped (a re-sync): too old to fold.
      this.pending.delete(r);
    }
    this.late = this.late.filter((c) => c.round >= round - this.lateRounds || c.foldAt !== undefined);
  }

  /**
   * After a re-sync to `round`: late updates and anchors of earlier rounds are about another history and go;
   * updates already received for `round` and later stay (they are checked against the new anchor at close).
   */
  reset(round: number, anchorHash: string): void {
    this.anchors.clear();
    this.late = [];
    for (const r of [...this.senders.keys()]) if (r < round) this.senders.delete(r);
    for (const r of [...this.pending.keys()]) if (r < round) this.pending.delete(r);
    this.enter(round, anchorHash);
  }

  /** Offers a received update; only an `accepted` one can enter an aggregation. */
  offer(c: Contribution): OfferResult {
    const r = c.round;
    if (r < this.current - this.lateRounds) return 'too-old';
    if (r > this.current + this.lateRounds) return 'too-far-ahead';
    const seen = this.senders.get(r) ?? new Set<string>();
    if (seen.has(c.sender)) return 'duplicate';
    if (r <= this.current && this.anchors.get(r) !== c.anchorHash) return 'wrong-anchor';
    seen.add(c.sender);
    this.senders.set(r, seen);
    if (r < this.current) {
      // Too late to fold where every peer folds it: dropped, as everyone drops it.
      if (this.foldRound(r) < this.current) return 'too-old';
      this.late.push({ ...c, foldAt: this.foldRound(r) });
    } else {
      const map = this.pending.get(r) ?? new Map<string, Contribution>();
      map.set(c.sender, c);
      this.pending.set(r, map);
    }
    return 'accepted';
  }

  /** Whether `sender` has an update counted for `round`. */
  has(round: number, sender: string): boolean {
    return this.senders.get(round)?.has(sender) ?? false;
  }

  /**
   * Whether `sender`'s update for `round` (not yet closed) started from this peer's anchor at that round: only
   * such updates enter the aggregate, so a round can be closed from them alone (catch-up) only when they all do.
   */
  hasOnAnchor(round: number, sender: string): boolean {
    const c = this.pending.get(round)?.get(sender);
    return c !== undefined && c.anchorHash === this.anchors.get(round);
  }

  /** Updates received for `round` (not yet closed). */
  receivedFor(round: number): Contribution[] {
    return [...(this.pending.get(round)?.values() ?? [])];
  }

  /** Late updates waiting to be folded. */
  lateCount(): number {
    return this.late.length;
  }

  /** Keeps this peer's own update of a closed round, to be folded at `foldAt` as the others will. */
  keepOwnLate(own: Contribution): void {
    this.senders.get(own.round)?.add(own.sender);
    this.late.push(own);
  }

  /** What {@link close} would aggregate for round `r` (without `own`), leaving the book as it is. */
  peek(r: number): Contribution[] {
    const anchor = this.anchors.get(r);
    return sortByRoundAndSender([
      ...this.receivedFor(r).filter((c) => c.anchorHash === anchor),
      ...this.late.filter((c) => (c.foldAt ?? r) === r),
    ]);
  }

  /**
   * Closes round `r`: its updates (those started from another anchor than this peer's dropped), `own` if
   * given, and the late ones due, in a canonical order (peers that aggregate the same updates get bit-identical
   * anchors). Then enters round r + 1 with `nextAnchorHash` (call {@link enter} when it is only known later).
   */
  close(r: number, own: Contribution[]): { contributions: Contribution[]; wrongAnchor: Contribution[] } {
    const anchor = this.anchors.get(r);
    const received = this.receivedFor(r);
    const wrongAnchor = received.filter((c) => c.anchorHash !== anchor);
    const due = this.late.filter((c) => (c.foldAt ?? r) === r);
    this.late = this.late.filter((c) => (c.foldAt ?? r) > r);
    this.pending.delete(r);
    const contributions = sortByRoundAndSender([
      ...own,
      ...received.filter((c) => c.anchorHash === anchor),
      ...due,
    ]);
    return { contributions, wrongAnchor };
  }
}

/** The canonical order of a round's contributions: by round, then sender. */
export function sortByRoundAndSender(cs: Contribution[]): Contribution[] {
  return [...cs].sort(
    (a, b) => a.round - b.round || (a.sender < b.sender ? -1 : a.sender > b.sender ? 1 : 0),
  );
}
