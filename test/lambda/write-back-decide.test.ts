/** The write-back function's pure decisions: which outbox rows may be applied, and as what. */
import { planRow, requestOf, selected } from '../../lambda/write-back/decide';
import { statementSql } from '../../lambda/write-back/postgres';
import { bucketOf } from '../../lib/flags/evaluate';
import type { OutboxRow } from '../../lib/write-back/contract';

const tables = { 'app.users': { key: ['id'], columns: ['email', 'profile'] } };
const row = (over: Partial<OutboxRow>): OutboxRow => ({
  seq: '1',
  userId: '42',
  legacyTable: 'app.users',
  legacyKey: { id: '42' },
  operation: 'upsert',
  legacyRow: { email: 'a@example.com' },
  createdAt: new Date(0),
  ...over,
});

describe('planRow', () => {
  it('turns an upsert into an update of the carried columns, then an insert on the key', () => {
    const plan = planRow(row({ legacyRow: { id: '42', email: 'a@example.com', profile: { a: 1 } } }), tables);
    expect(plan).toEqual({
      ok: true,
      statement: {
        kind: 'upsert',
        table: 'app.users',
        key: { id: '42' },
        values: { email: 'a@example.com', profile: { a: 1 } },
      },
    });
    if (!plan.ok) throw new Error('planned');
    expect(statementSql(plan.statement)).toEqual([
      {
        text: 'UPDATE "app"."users" SET "email" = $1, "profile" = $2 WHERE "id" = $3',
        values: ['a@example.com', '{"a":1}', '42'],
      },
      {
        text: 'INSERT INTO "app"."users" ("id", "email", "profile") VALUES ($1, $2, $3) ON CONFLICT ("id") DO UPDATE SET "email" = EXCLUDED."email", "profile" = EXCLUDED."profile"',
        values: ['42', 'a@example.com', '{"a":1}'],
      },
    ]);
  });

  it('turns a delete into a delete by the key', () => {
    const plan = planRow(row({ operation: 'delete', legacyRow: null }), tables);
    if (!plan.ok) throw new Error('planned');
    expect(statementSql(plan.statement)).toEqual([
      { text: 'DELETE FROM "app"."users" WHERE "id" = $1', values: ['42'] },
    ]);
  });

  it.each([
    [
      'a table not configured',
      row({ legacyTable: 'users' }),
      /"users" is not one the service may write back \(services\[\]\.writeBack\.tables has app\.users\)/,
    ],
    [
      'a column not configured',
      row({ legacyRow: { is_admin: true } }),
      /column "is_admin" of app\.users is not one the service may write/,
    ],
    [
      'a key with another column',
      row({ legacyKey: { id: '42', email: 'x' } }),
      /exactly the key columns id \(missing: none; not in the key: email\)/,
    ],
    [
      'a key that is not a scalar',
      row({ legacyKey: { id: { n: 1 } } }),
      /legacy_key\.id must be a string, number or boolean/,
    ],
    ['a key that changes', row({ legacyRow: { id: '43' } }), /a key never changes/],
    ['an upsert without a row', row({ legacyRow: null }), /an upsert needs legacy_row/],
  ])('refuses %s, saying why', (_name, r, message) => {
    expect(planRow(r, tables)).toEqual({ ok: false, error: expect.stringMatching(message) });
  });
});

describe('requestOf', () => {
  it('reads the schedule as a drain and an invocation as what it asks', () => {
    expect(requestOf({ 'detail-type': 'Scheduled Event', source: 'aws.events' })).toEqual({
      action: 'drain',
    });
    expect(requestOf({ action: 'pending', users: ['1'], limit: 5 })).toEqual({
      action: 'pending',
      users: ['1'],
      limit: 5,
    });
    expect(() => requestOf({ action: 'drain', deadlineMs: 120_000 })).toThrow(
      /deadlineMs must be a whole number from 1 to 50000/,
    );
  });
});

describe('selected', () => {
  it('decides who leaves with the evaluator: the same hash as every reader', () => {
    const leaving = {
      from: { mode: 'percent' as const, users: ['vip'], percent: 50 },
      to: { mode: 'percent' as const, users: [], percent: 10 },
    };
    const ids = Array.from({ length: 200 }, (_v, i) => `u${i}`);
    const leaves = ids.filter((u) => selected('users', { leaving }, u));
    expect(leaves).toEqual(ids.filter((u) => bucketOf('users', u) >= 10 && bucketOf('users', u) < 50));
    expect(selected('users', { leaving }, 'vip')).toBe(bucketOf('users', 'vip') >= 10);
    expect(selected('users', { leaving, users: ['u1'] }, 'u2')).toBe(false);
  });
});
