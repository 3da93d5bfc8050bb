import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RoutingDocument } from '../../lib/flags/documents';
import { bucketOf, fnv1a32, routesToService } from '../../lib/flags/evaluate';

interface Vectors {
  buckets: { key: string; fnv1a32: number; bucket: number }[];
  cases: { service: string; document: RoutingDocument; userId: string; expected: boolean }[];
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

  it('evaluates every case as the reference does', () => {
    const mismatches = vectors.cases.filter(
      (c) => routesToService(c.document, c.service, c.userId) !== c.expected,
    );
    expect(mismatches).toEqual([]);
  });
});

describe('the sticky percentage', () => {
  const ids = Array.from({ length: 10_000 }, (_, i) => String(i + 1));
  const at = (percent: number) => ({ mode: 'percent', users: [], percent }) as RoutingDocument;

  it('keeps every user who is in at a lower percentage when the percentage rises', () => {
    for (let p = 0; p < 100; p += 5) {
      const lower = ids.filter((id) => routesToService(at(p), 'users', id));
      const higher = new Set(ids.filter((id) => routesToService(at(p + 5), 'users', id)));
      expect(lower.filter((id) => !higher.has(id))).toEqual([]);
    }
  });

  it('sends about the chosen share of users, and none at 0 and all at 100', () => {
    const share = (p: number) => ids.filter((id) => routesToService(at(p), 'users', id)).length / ids.length;
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
