/**
 * The protocol core driven directly through adversarial schedules: no sockets, no clock but the one passed in.
 * Each block replays one of the attacks that worked against the earlier AveragingPeer (issue 11).
 */
import { describe, expect, it } from 'vitest';
import { chooseAnchor, majorityClosed } from '../../src/protocol/core/anchor-vote.ts';
import { cappedWeights, combine, l2Norm } from '../../src/protocol/core/combine.ts';
import { MAX_ROUND } from '../../src/protocol/core/limits.ts';
import { Membership } from '../../src/protocol/core/membership.ts';
import { type Contribution, RoundBook } from '../../src/protocol/core/round-book.ts';
import {
  anchorHashOf,
  decodeSnapshot,
  decodeVouchedSnapshot,
  encodeSnapshot,
} from '../../src/protocol/index.ts';
import { prng } from '../helpers.ts';

const H = (s: string) => anchorHashOf(Float32Array.from(s, (c) => c.charCodeAt(0)));

function randomVector(n: number, seed: number, scale = 1): Float32Array {
  const r = prng(seed);
  return Float32Array.from({ length: n }, () => (r() * 2 - 1) * scale);
}

function contribution(
  sender: string,
  round: number,
  values: Float32Array,
  extra: Partial<Contribution> = {},
) {
  return { sender, round, samples: 320, anchorHash: H(`anchor-${round}`), values, ...extra };
}

function cosine(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s / (l2Norm(a) * l2Norm(b));
}

describe('anchor vote: nothing self-reported decides shared state', () => {
  it('one peer claiming round 200 moves neither of two honest peers at round 24', () => {
    const honest = H('honest-24');
    for (const [self, other] of [
      ['a', 'b'],
      ['b', 'a'],
    ]) {
      const choice = chooseAnchor({
        self: { round: 24, anchorHash: honest },
        selfVotes: true,
        electorate: [other, 'attacker'],
        votes: [
          { peer: other, round: 24, anchorHash: honest },
          { peer: 'attacker', round: 200, anchorHash: H('attacker') },
        ],
        maxRoundsAhead: 10,
      });
      expect(choice, `peer ${self}`).toBeUndefined();
    }
  });

  it('nor does a claim one round ahead backed by the attacker alone, or a round beyond 2^31', () => {
    const honest = H('honest-24');
    const votes = [
      { peer: 'b', round: 24, anchorHash: honest },
      { peer: 'x', round: 25, anchorHash: H('attacker') },
    ];
    const input = {
      self: { round: 24, anchorHash: honest },
      electorate: ['b', 'x'],
      votes,
      maxRoundsAhead: 10,
    };
    expect(chooseAnchor({ ...input, selfVotes: true })).toBeUndefined();
    // A joiner does not vote itself; the attacker is still one vote of two.
    expect(chooseAnchor({ ...input, selfVotes: false })).toBeUndefined();
    expect(
      chooseAnchor({
        self: { round: 0, anchorHash: H('fresh') },
        selfVotes: false,
        electorate: ['x'],
        votes: [{ peer: 'x', round: 0xffffffff, anchorHash: H('attacker') }],
        maxRoundsAhead: 10,
      }),
    ).toBeUndefined();
  });

  it('a joiner takes the state that a strict majority vouches for, never the attacker’s', () => {
    const choice = chooseAnchor({
      self: { round: 0, anchorHash: H('fresh') },
      selfVotes: false,
      electorate: ['a', 'b', 'x'],
      votes: [
        { peer: 'a', round: 24, anchorHash: H('honest') },
        { peer: 'x', round: 200, anchorHash: H('attacker') },
        { peer: 'b', round: 24, anchorHash: H('honest') },
      ],
      maxRoundsAhead: 10,
    });
    expect(choice).toEqual({ round: 24, anchorHash: H('honest'), peers: ['a', 'b'] });
  });

  it('a drifted peer follows the majority at its round or ahead, and one vote counts once', () => {
    const input = {
      self: { round: 7, anchorHash: H('mine') },
      selfVotes: true,
      electorate: ['a', 'b', 'c'],
      maxRoundsAhead: 10,
    };
    expect(
      chooseAnchor({
        ...input,
        votes: ['a', 'b', 'c'].map((peer) => ({ peer, round: 8, anchorHash: H('theirs') })),
      }),
    ).toMatchObject({ round: 8, peers: ['a', 'b', 'c'] });
    // Two of four voters (this peer included) is not a strict majority.
    expect(
      chooseAnchor({
        ...input,
        votes: [
          { peer: 'a', round: 7, anchorHash: H('theirs') },
          { peer: 'a', round: 7, anchorHash: H('theirs') },
          { peer: 'b', round: 7, anchorHash: H('theirs') },
        ],
      }),
    ).toBeUndefined();
    // Votes from outside the electorate (stale or unknown peers) do not count.
    expect(
      chooseAnchor({
        ...input,
        votes: ['a', 'd', 'e'].map((peer) => ({ peer, round: 8, anchorHash: H('theirs') })),
      }),
    ).toBeUndefined();
  });

  it('catch-up follows a strict majority of the others, within the rounds-ahead bound', () => {
    expect(majorityClosed(5, [{ peer: 'b', round: 6 }], 10)).toEqual(['b']);
    expect(
      majorityClosed(
        5,
        [
          { peer: 'b', round: 5 },
          { peer: 'x', round: 6 },
        ],
        10,
      ),
    ).toBeUndefined();
    expect(majorityClosed(5, [{ peer: 'x', round: 200 }], 10)).toBeUndefined();
  });
});

describe('round book: one contribution per peer per round', () => {
  it('six re-sends of the previous round’s update count once; replays of older rounds are dropped', () => {
    const book = new RoundBook(2);
    book.enter(10, H('anchor-10'));
    const v = randomVector(32, 1);
    expect(book.offer(contribution('x', 10, v))).toBe('accepted');
    book.close(10, []);
    book.enter(11, H('anchor-11'));
    const results = Array.from({ length: 6 }, () => book.offer(contribution('x', 10, v)));
    expect(results).toEqual(Array(6).fill('duplicate'));
    expect(book.lateCount()).toBe(0);
    book.enter(14, H('anchor-14'));
    expect(book.offer(contribution('x', 11, v))).toBe('too-old');
    expect(book.offer(contribution('x', 17, v))).toBe('too-far-ahead');
    expect(book.offer(contribution('x', 0xffffffff, v))).toBe('too-far-ahead');
  });

  it('a late update is folded once, two rounds on (as on every peer), only if it started from this peer’s anchor', () => {
    const book = new RoundBook(2);
    book.enter(3, H('anchor-3'));
    book.close(3, [contribution('me', 3, randomVector(8, 2))]);
    book.enter(4, H('anchor-4'));
    expect(book.offer(contribution('b', 3, randomVector(8, 3), { anchorHash: H('elsewhere') }))).toBe(
      'wrong-anchor',
    );
    expect(book.offer(contribution('c', 3, randomVector(8, 4)))).toBe('accepted');
    expect(book.offer(contribution('d', 4, randomVector(8, 5)))).toBe('accepted');
    // An update of the next round whose anchor is only known when that round closes.
    expect(book.offer(contribution('e', 5, randomVector(8, 6), { anchorHash: H('bogus') }))).toBe('accepted');
    const { contributions } = book.close(4, [contribution('me', 4, randomVector(8, 7))]);
    expect(contributions.map((c) => `${c.sender}@${c.round}`)).toEqual(['d@4', 'me@4']);
    book.enter(5, H('anchor-5'));
    const next = book.close(5, []);
    expect(next.contributions.map((c) => `${c.sender}@${c.round}`)).toEqual(['c@3']);
    expect(next.wrongAnchor.map((c) => c.sender)).toEqual(['e']);
    book.enter(6, H('anchor-6'));
    // Arriving after the round it had to be folded in: dropped (as every peer drops it).
    expect(book.offer(contribution('f', 4, randomVector(8, 8), { anchorHash: H('anchor-4') }))).toBe(
      'accepted',
    );
    book.enter(7, H('anchor-7'));
    expect(book.offer(contribution('g', 4, randomVector(8, 9), { anchorHash: H('anchor-4') }))).toBe(
      'too-old',
    );
  });
});

describe('combine: robust at every size', () => {
  const n = 4096;
  const honest = [randomVector(n, 11), randomVector(n, 12)].map((v, i) => {
    // Correlated honest updates: a shared direction plus noise.
    const base = randomVector(n, 99);
    return Float32Array.from(v, (x, j) => base[j] + 0.5 * x + 0 * i);
  });
  const honestMean = Float32Array.from(honest[0], (x, j) => (x + honest[1][j]) / 2);
  const opts = { aggregator: 'centered-clip' as const, outlierFactor: 10 };

  it('a claim of 2^53 − 1 samples does not make the aggregate the attacker’s', () => {
    const attacker = randomVector(n, 13, 3);
    const cs = [
      contribution('a', 1, honest[0]),
      contribution('b', 1, honest[1]),
      contribution('x', 1, attacker, { samples: 2 ** 53 - 1 }),
    ];
    expect(cappedWeights(cs, opts)).toEqual([320, 320, 320]);
    const out = combine(cs, opts);
    expect(out.method).toBe('centered-clip');
    expect(cosine(out.values, honestMean)).toBeGreaterThan(0.8);
    const dist = (a: Float32Array, b: Float32Array) => l2Norm(Float32Array.from(a, (x, i) => x - b[i]));
    expect(dist(out.values, honestMean)).toBeLessThan(0.5 * dist(out.values, attacker));
  });

  it('a sign-flipped ×10 update among three does not reverse the aggregate', () => {
    const attacker = Float32Array.from(honestMean, (x) => -10 * x);
    const out = combine(
      [contribution('a', 1, honest[0]), contribution('b', 1, honest[1]), contribution('x', 1, attacker)],
      opts,
    );
    expect(cosine(out.values, honestMean)).toBeGreaterThan(0.8);
  });

  it('2 of 8 and 1 of 5 sign-flipped ×10 sign updates, and 3 copies from one Sybil among 7, are dropped', () => {
    // Sign updates (what the sign codec decodes to) of peers that agree little: the case where CenteredClip
    // alone was pulled past zero by two colluding updates.
    const d = 2048;
    const truth = randomVector(d, 41);
    const noise = (seed: number) => randomVector(d, seed, 3);
    for (const [honestCount, attackers] of [
      [6, 2],
      [4, 1],
      // One machine behind three identities sending one update: its copies count once.
      [4, 3],
    ]) {
      const hs = Array.from({ length: honestCount }, (_, k) => {
        const e = noise(50 + k);
        return Float32Array.from(truth, (t, j) => 0.01 * Math.sign(t + e[j]));
      });
      const mean = Float32Array.from(truth, (_, j) => hs.reduce((a, h) => a + h[j], 0) / hs.length);
      const meanAbs = mean.reduce((a, x) => a + Math.abs(10 * x), 0) / d;
      const flip = Float32Array.from(mean, (x) => -Math.sign(x) * meanAbs);
      const cs = [
        ...hs.map((h, k) => contribution(`h${k}`, 1, h)),
        ...Array.from({ length: attackers }, (_, k) => contribution(`x${k}`, 1, flip)),
      ];
      const out = combine(cs, opts);
      expect(cosine(out.values, mean)).toBeGreaterThan(0.95);
      expect(out.outliers.map((c) => c.sender).sort()).toEqual(
        Array.from({ length: attackers }, (_, k) => `x${k}`),
      );
      // Clipped to the median norm: no bigger than an honest update.
      expect(l2Norm(out.values)).toBeLessThanOrEqual(l2Norm(hs[0]) * 1.0001);
    }
  });

  it('with two updates, a ×100 or a huge claim cannot outgrow or outweigh the other', () => {
    const attacker = Float32Array.from(honest[1], (x) => 100 * x);
    const out = combine(
      [contribution('a', 1, honest[0]), contribution('x', 1, attacker, { samples: 2 ** 53 - 1 })],
      opts,
    );
    expect(out.method).toBe('clipped-pair');
    expect(l2Norm(out.values)).toBeLessThanOrEqual(l2Norm(honest[0]) * 1.0001);
  });

  it('the same updates in any arrival order give bit-identical aggregates', () => {
    const cs = [0, 1, 2, 3, 4].map((i) => contribution(`p${i}`, 1, randomVector(n, 20 + i)));
    const book1 = new RoundBook(2);
    const book2 = new RoundBook(2);
    for (const b of [book1, book2]) b.enter(1, H('anchor-1'));
    for (const c of cs) book1.offer(c);
    for (const c of [...cs].reverse()) book2.offer(c);
    const a = combine(book1.close(1, []).contributions, opts).values;
    const b = combine(book2.close(1, []).contributions, opts).values;
    expect(Buffer.from(a.buffer).equals(Buffer.from(b.buffer))).toBe(true);
  });
});

describe('membership: who a round waits for', () => {
  it('a peer that heartbeats but never sends an update is waited for two rounds only', () => {
    const m = new Membership({ peerStaleMs: 30_000, recentMs: 5_000, lateRounds: 2 });
    const connected = new Set(['b', 'idle']);
    m.heartbeat('b', { round: 0, role: 'trainer' }, 0, 0);
    m.heartbeat('idle', { round: 0, role: 'trainer' }, 0, 0);
    expect(m.expected(100, 0, connected).sort()).toEqual(['b', 'idle']);
    expect(m.expected(100, 1, connected).sort()).toEqual(['b', 'idle']);
    expect(m.expected(100, 2, connected)).toEqual([]);
    for (let r = 0; r < 5; r++) {
      m.update('b', r, H(`a${r}`), 200 * r, r);
      m.heartbeat('idle', { round: r, role: 'trainer' }, 200 * r + 100, r);
    }
    expect(m.expected(1000, 5, connected)).toEqual(['b']);
    // A slow peer whose updates arrive a round late is still waited for.
    m.update('idle', 3, H('a3'), 1100, 5);
    expect(m.expected(1200, 5, connected).sort()).toEqual(['b', 'idle']);
    m.update('b', 6, H('a6'), 1300, 7);
    m.heartbeat('idle', { round: 7, role: 'trainer' }, 1300, 7);
    expect(m.expected(1400, 7, connected)).toEqual(['b']);
  });

  it('rounds beyond 2^31 in heartbeats are not believed', () => {
    const m = new Membership({ peerStaleMs: 30_000, recentMs: 5_000, lateRounds: 2 });
    m.heartbeat('x', { round: 0xffffffff, role: 'trainer', anchorHash: H('x') }, 0);
    expect(m.roundOf('x')).toBe(0);
    expect(m.votes(['x'])).toEqual([]);
    expect(MAX_ROUND).toBeLessThan(0xffffffff);
  });
});

describe('snapshots: validated in every field before anything is adopted', () => {
  const anchor = randomVector(64, 5);
  const momentum = randomVector(64, 6, 0.1);
  const vouched = { round: 24, anchorHash: anchorHashOf(anchor) };

  it('accepts the vouched state', () => {
    const s = decodeVouchedSnapshot(encodeSnapshot({ round: 24, anchor, momentum }), 64, vouched);
    expect(s.round).toBe(24);
    expect(Array.from(s.momentum)).toEqual(Array.from(momentum));
  });

  it('refuses round 0xFFFFFFFF, NaN momentum, another anchor, another round, a truncated body', () => {
    expect(() => decodeSnapshot(encodeSnapshot({ round: 0xffffffff, anchor, momentum }), 64)).toThrow(
      /round 4294967295 is beyond/,
    );
    const bad = momentum.slice();
    bad[17] = Number.NaN;
    expect(() => decodeSnapshot(encodeSnapshot({ round: 24, anchor, momentum: bad }), 64)).toThrow(
      /momentum\[17\] is not finite/,
    );
    const other = anchor.slice();
    other[0] += 1;
    expect(() =>
      decodeVouchedSnapshot(encodeSnapshot({ round: 24, anchor: other, momentum }), 64, vouched),
    ).toThrow(/anchor hashes to/);
    expect(() => decodeVouchedSnapshot(encodeSnapshot({ round: 25, anchor, momentum }), 64, vouched)).toThrow(
      /differs from the vouched round 24/,
    );
    const bytes = encodeSnapshot({ round: 24, anchor, momentum });
    expect(() => decodeSnapshot(bytes.subarray(0, bytes.length - 4), 64)).toThrow(/size does not match/);
  });
});

describe('round book after a re-sync', () => {
  it('keeps the updates already received for the new round and later, and forgets older history', () => {
    const book = new RoundBook(2);
    book.enter(0, H('anchor-0'));
    book.enter(4, H('anchor-4'));
    expect(book.offer(contribution('a', 6, randomVector(8, 1)))).toBe('accepted');
    expect(book.offer(contribution('b', 3, randomVector(8, 2), { anchorHash: H('anchor-3') }))).toBe(
      'wrong-anchor',
    );
    expect(book.offer(contribution('c', 4, randomVector(8, 2), { anchorHash: H('anchor-4') }))).toBe(
      'accepted',
    );
    book.reset(6, H('anchor-6'));
    expect(book.has(6, 'a')).toBe(true);
    expect(book.has(4, 'c')).toBe(false);
    expect(book.close(6, []).contributions.map((c) => c.sender)).toEqual(['a']);
  });
});

describe('round book preview', () => {
  it('peek shows what close would aggregate and changes nothing', () => {
    const book = new RoundBook(2);
    book.enter(2, H('anchor-2'));
    book.offer(contribution('b', 2, randomVector(8, 1)));
    book.offer(contribution('a', 2, randomVector(8, 2)));
    book.offer(contribution('x', 2, randomVector(8, 3), { anchorHash: H('elsewhere') }));
    const peeked = book.peek(2).map((c) => c.sender);
    expect(peeked).toEqual(['a', 'b']);
    expect(book.peek(2).map((c) => c.sender)).toEqual(peeked);
    expect(book.close(2, []).contributions.map((c) => c.sender)).toEqual(peeked);
  });
});
