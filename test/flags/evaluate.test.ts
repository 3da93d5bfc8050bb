import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Phase } from '../../lib/config/types';
import type { CutoverDocument, OverrideDocument, RoutingDocument } from '../../lib/flags/documents';
import { bucketOf, destinationOf, routesToService } from '../../lib/flags/evaluate';
import { type LoadOutcome, nextFlagState } from '../../lib/flags/loaded-flags';
import { fnv1a32 } from '../../lib/hash';

interface Vectors {
  buckets: { key: string; fnv1a32: number; bucket: number }[];
  cases: { service: string; document: RoutingDocument; userId: string; expected: boolean }[];
  decisions: {
    service: string;
    phase: Phase;
    /** As the deploy gives it, or as the monolith's environment does: the run id, '' when not recorded. */
    cutoverRecorded: boolean | string;
    routing: RoutingDocument | null;
    cutover: CutoverDocument | null;
    override: OverrideDocument | null;
    now: string;
    userId: string | null;
    anonymous: 'legacy' | 'service';
    expected: string;
  }[];
  latch: { loads: LoadOutcome[]; cutover: CutoverDocument | null }[];
}

const vectors: Vectors = JSON.parse(
  readFileSync(join(__dirname, '..', '..', 'lib', 'flags', 'vectors.json'), 'utf8'),
);

describe('the published test vectors (written by an independent Python implementation)', () => {
  it('has enough cases, with both outcomes in percent mode', () => {
    expect(vectors.cases.length).toBeGreaterThanOrEqual(50);
    const percentOutcomes = new Set(
      vectors.cases.filter((c) => c.document.percent === 50).map((c) => c.expected),
    );
    expect(percentOutcomes).toEqual(new Set([true, false]));
  });

  it.each(vectors.buckets)('hashes $key to $fnv1a32 (bucket $bucket)', ({ key, fnv1a32: hash, bucket }) => {
    expect(fnv1a32(key)).toBe(hash);
    const [service, ...user] = key.split(':');
    expect(bucketOf(service, user.join(':'))).toBe(bucket);
  });

  it('evaluates every routing case as the reference does', () => {
    const mismatches = vectors.cases.filter(
      (c) => routesToService(c.document, c.service, c.userId) !== c.expected,
    );
    expect(mismatches).toEqual([]);
  });

  it('decides every request as the reference does, from routing, cutover, override and the marker', () => {
    const outcomes = new Set(vectors.decisions.map((d) => d.expected));
    expect(outcomes).toEqual(new Set(['service', 'legacy', 'unavailable']));
    const mismatches = vectors.decisions.filter(
      (d) =>
        destinationOf(
          {
            service: d.service,
            phase: d.phase,
            cutoverRecorded:
              typeof d.cutoverRecorded === 'string' ? d.cutoverRecorded !== '' : d.cutoverRecorded,
          },
          {
            ...(d.routing ? { routing: d.routing } : {}),
            ...(d.cutover ? { cutover: d.cutover } : {}),
            ...(d.override ? { override: d.override } : {}),
          },
          { userId: d.userId ?? undefined, anonymous: d.anonymous },
          new Date(d.now),
        ) !== d.expected,
    );
    expect(mismatches).toEqual([]);
  });

  it('keeps the cutover latched over every sequence of loads as the reference does', () => {
    const missing: LoadOutcome = { status: 'missing' };
    for (const { loads, cutover } of vectors.latch) {
      let state = {};
      for (const cutoverLoad of loads)
        state = nextFlagState(state, { routing: missing, cutover: cutoverLoad, override: missing }).state;
      expect({ loads, cutover: (state as { cutover?: CutoverDocument }).cutover ?? null }).toEqual({
        loads,
        cutover,
      });
    }
  });
});

describe('the decision after the point of no return', () => {
  const done: CutoverDocument = { completed: true, completedAt: '2026-11-26T10:00:00Z', runId: 'run_1' };
  const context = { service: 'users', phase: 2 as Phase, cutoverRecorded: false };
  const anyone = { userId: '42', anonymous: 'legacy' as const };
  const now = new Date('2026-11-27T07:00:00Z');
  const override: OverrideDocument = {
    acceptDataLoss: true,
    reason: 'users DB corrupted, INC-4711',
    expiresAt: '2026-11-27T08:00:00Z',
  };
  const off: RoutingDocument = { mode: 'off', users: [], percent: 0 };
  const key2 = { expiresAt: override.expiresAt, acceptDataLoss: 'INC-4711, approved by the CTO' };

  it('routes to the service whatever routing says, with one key or none', () => {
    expect(destinationOf(context, { routing: off, cutover: done }, anyone, now)).toBe('service');
    expect(destinationOf(context, { routing: off, cutover: done, override }, anyone, now)).toBe('service');
    expect(destinationOf(context, { routing: { ...off, override: key2 }, cutover: done }, anyone, now)).toBe(
      'service',
    );
  });

  it('lets routing decide only while both keys are in force', () => {
    const state = { routing: { ...off, override: key2 }, cutover: done, override };
    expect(destinationOf(context, state, anyone, now)).toBe('legacy');
    expect(destinationOf(context, state, anyone, new Date(override.expiresAt))).toBe('service');
  });

  it('trusts the deploy-time marker before any read and during an outage', () => {
    expect(destinationOf({ ...context, cutoverRecorded: true }, {}, anyone, now)).toBe('service');
    expect(destinationOf(context, {}, anyone, now)).toBe('unavailable');
    expect(destinationOf({ ...context, phase: 1 }, {}, anyone, now)).toBe('legacy');
  });
});

describe('the sticky percentage', () => {
  const ids = Array.from({ length: 10_000 }, (_, i) => String(i + 1));
  const at = (percent: number) => ({ mode: 'percent', users: [], percent }) as RoutingDocument;

  it('keeps every user who is in at a lower percentage when the percentage rises', () => {
    for (let p = 0; p < 100; p += 5) {
      // One document per percentage, as a reader parses one (a document per call cost 2 s here).
      const [low, high] = [at(p), at(p + 5)];
      const lower = ids.filter((id) => routesToService(low, 'users', id));
      const higher = new Set(ids.filter((id) => routesToService(high, 'users', id)));
      expect(lower.filter((id) => !higher.has(id))).toEqual([]);
    }
  });

  it('sends about the chosen share of users, and none at 0 and all at 100', () => {
    const share = (p: number) => {
      const doc = at(p);
      return ids.filter((id) => routesToService(doc, 'users', id)).length / ids.length;
    };
    expect(share(0)).toBe(0);
    expect(share(100)).toBe(1);
    expect(share(10)).toBeGreaterThan(0.09);
    expect(share(10)).toBeLessThan(0.11);
    expect(share(50)).toBeGreaterThan(0.48);
    expect(share(50)).toBeLessThan(0.52);
  });

  it('samples each service independently', () => {
    const inUsers = ids.filter((id) => bucketOf('users', id) < 10);
    const inBoth = inUsers.filter((id) => bucketOf('orders', id) < 10);
    expect(inBoth.length / inUsers.length).toBeLessThan(0.2);
  });

  it('always includes listed users in percent mode, and only them in users mode', () => {
    const outAtFive = ids.find((id) => bucketOf('users', id) >= 5) as string;
    expect(routesToService({ mode: 'percent', users: [outAtFive], percent: 5 }, 'users', outAtFive)).toBe(
      true,
    );
    expect(routesToService({ mode: 'users', users: ['7'], percent: 100 }, 'users', '8')).toBe(false);
  });
});
