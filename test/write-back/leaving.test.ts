/** Who a routing change sends back, decided with the evaluator (the CLI and the hooks share this rule). */
import type { RoutingDocument } from '../../lib/flags/documents';
import { bucketOf, routesToService } from '../../lib/flags/evaluate';
import { describeLeaving, leaves, strandedBy, whoLeaves } from '../../lib/write-back/leaving';

const doc = (mode: RoutingDocument['mode'], users: string[] = [], percent = 0): RoutingDocument => ({
  mode,
  users,
  percent,
});
const ids = Array.from({ length: 500 }, (_v, i) => `user-${i}`);

describe('whoLeaves', () => {
  it.each([
    ['all -> off', doc('all'), doc('off')],
    ['all -> users', doc('all'), doc('users', ['user-1'])],
    ['percent 50 -> percent 10', doc('percent', ['vip', 'user-3'], 50), doc('percent', ['user-3'], 10)],
    ['percent 50 -> users', doc('percent', ['vip'], 50), doc('users', ['vip'])],
    ['users -> fewer users', doc('users', ['a', 'b', 'c']), doc('users', ['b'])],
    ['users -> off', doc('users', ['a', 'b']), doc('off')],
    ['percent 10 -> percent 50 (nobody)', doc('percent', [], 10), doc('percent', [], 50)],
    ['off -> all (nobody)', doc('off', ['a']), doc('all')],
  ])('%s: exactly the users the evaluator moves, and no other', (_name, from, to) => {
    const leaving = whoLeaves('users', from, to);
    const candidates = [...ids, 'vip', 'a', 'b', 'c'];
    const described = (u: string) =>
      leaving.listed.includes(u) ||
      (leaving.buckets !== undefined &&
        bucketOf('users', u) >= leaving.buckets.from &&
        bucketOf('users', u) < leaving.buckets.to &&
        !routesToService(to, 'users', u));
    for (const u of candidates) expect([u, described(u)]).toEqual([u, leaves('users', from, to, u)]);
  });

  it('says who leaves in words', () => {
    expect(describeLeaving(whoLeaves('users', doc('all'), doc('off')))).toBe('every user');
    expect(describeLeaving(whoLeaves('users', doc('percent', ['42', '1001'], 50), doc('off')))).toBe(
      '2 listed users (42, 1001) and every user in sticky buckets 0-49 (50 % of users)',
    );
    expect(describeLeaving(whoLeaves('users', doc('percent', [], 50), doc('percent', ['7'], 10)))).toBe(
      'every user in sticky buckets 10-49 (40 % of users) but the 1 listed in the new document',
    );
    expect(describeLeaving(whoLeaves('users', doc('off'), doc('users', ['1'])))).toBe('nobody');
  });
});

describe('strandedBy', () => {
  it('keeps the pending users who leave and whose loss was not accepted', () => {
    const pending = ['a', 'b', 'c'].map((userId) => ({
      userId,
      rows: 1,
      oldestAt: '2026-01-01T00:00:00.000Z',
      lossAccepted: userId === 'c',
    }));
    expect(
      strandedBy('users', doc('users', ['a', 'b', 'c']), doc('users', ['b']), pending).map((u) => u.userId),
    ).toEqual(['a']);
  });
});
