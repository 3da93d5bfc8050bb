/**
 * The write-back function against real PostgreSQL (the test cluster): the users service stand-in writes
 * its outbox as the data contract says, and the function applies it to the legacy database in order,
 * idempotently, only to the configured tables and columns, signed in as a legacy user that holds only
 * the contract's grants.
 */
import { legacyGrants, type WriteBackResponse } from '../../lib/write-back/contract';
import { type DatabasePair, freshDatabases, newRole, sql } from '../helpers/postgres';
import { invokeLocal, type LocalWriteBack, localWriteBack } from '../helpers/write-back';
import { hashOf, seedLegacy } from '../standins/monolith';
import {
  createServiceSchema,
  startUsersService,
  USERS_WRITE_BACK,
  type UsersService,
} from '../standins/users-service';

let dbs: DatabasePair;
let service: UsersService;
let local: LocalWriteBack;
let invoke: (event: unknown) => Promise<WriteBackResponse>;
let writer = '';

const USERS = ['1', '2', '3', '4'].map((id) => ({ id, email: `u${id}@example.com`, password: `old-${id}` }));

beforeAll(async () => {
  dbs = await freshDatabases();
  await seedLegacy(dbs.legacy, USERS);
  await createServiceSchema(dbs.service);
  // The legacy user of the write-back, with exactly the grants the contract gives the DBA.
  writer = await newRole('write_back');
  for (const grant of legacyGrants(writer, USERS_WRITE_BACK)) await sql(dbs.legacy, grant);
  service = await startUsersService({ serviceUrl: dbs.service, legacyUrl: dbs.legacy });
});

afterAll(async () => {
  await service?.close();
  await dbs?.drop();
});

beforeEach(async () => {
  await sql(dbs.service, 'TRUNCATE migration_outbox, migration_verification');
  local = localWriteBack(dbs, { tables: USERS_WRITE_BACK, legacyUser: writer });
  invoke = invokeLocal(local);
});

const put = (path: string, body: unknown) =>
  fetch(`${service.url}${path}`, { method: 'PUT', body: JSON.stringify(body) }).then((r) => r.status);
const legacyUser = async (id: string) =>
  (
    await sql(dbs.legacy, 'SELECT email, password_hash, display_name, updated_at FROM users WHERE id = $1', [
      id,
    ])
  )[0];
const outbox = () =>
  sql<{ seq: string; user_id: string; applied_at: Date | null; last_error: string | null }>(
    dbs.service,
    'SELECT seq::text, user_id, applied_at, last_error FROM migration_outbox ORDER BY seq',
  );
const addRow = (userId: string, table: string, row: Record<string, unknown> | null, key = { id: userId }) =>
  sql(
    dbs.service,
    `INSERT INTO migration_outbox (user_id, legacy_table, legacy_key, operation, legacy_row) VALUES ($1, $2, $3, $4, $5)`,
    [userId, table, JSON.stringify(key), row ? 'upsert' : 'delete', row && JSON.stringify(row)],
  );

/** `n` upserts of a user's display name, `<prefix>0` to `<prefix><n-1>`, in one statement. */
const addRows = (userId: string, n: number, prefix: string) =>
  sql(
    dbs.service,
    `INSERT INTO migration_outbox (user_id, legacy_table, legacy_key, operation, legacy_row)
     SELECT $1, 'users', jsonb_build_object('id', $1::text), 'upsert', jsonb_build_object('display_name', $2 || i)
       FROM generate_series(0, $3 - 1) AS i ORDER BY i`,
    [userId, prefix, n],
  );

describe('the write-back function', () => {
  it('applies a change made on the service to the legacy database, in order, as the limited user', async () => {
    expect(await put('/v1/users/1/password', { password: 'first' })).toBe(200);
    expect(await put('/v1/users/1/password', { password: 'second' })).toBe(200);
    expect(await put('/v1/users/1', { email: 'one@example.com' })).toBe(200);
    // Nothing reaches the legacy database until the function applies it.
    expect((await legacyUser('1')).password_hash).toBe(hashOf('old-1'));

    const out = await invoke({ action: 'drain' });
    expect(out).toMatchObject({ action: 'drain', status: 'drained', applied: 3, failed: [] });
    expect(await legacyUser('1')).toMatchObject({
      email: 'one@example.com',
      password_hash: hashOf('second'),
    });
    expect((await outbox()).every((r) => r.applied_at !== null)).toBe(true);
    expect(out).toMatchObject({ appliedThrough: (await outbox())[2].seq, pending: { rows: 0, users: 0 } });
  });

  it('is idempotent: applying the same rows again leaves the same legacy row', async () => {
    await put('/v1/users/2', { email: 'two@example.com' });
    await invoke({ action: 'drain' });
    const once = await legacyUser('2');
    // As after a crash between the legacy commit and the outbox update: the rows are applied again.
    await sql(dbs.service, 'UPDATE migration_outbox SET applied_at = NULL');
    expect(await invoke({ action: 'drain' })).toMatchObject({ status: 'drained', applied: 1 });
    expect(await legacyUser('2')).toEqual(once);
    expect(await invoke({ action: 'drain' })).toMatchObject({ status: 'drained', applied: 0 });
  });

  it('applies only the configured tables and columns; a refused row waits and blocks only its user', async () => {
    await addRow('3', 'billing', { plan: 'gold' });
    await addRow('3', 'users', { email: 'three@example.com' });
    await addRow('4', 'users', { email: 'four@example.com', is_admin: true });
    await addRow('1', 'users', { display_name: 'One' });

    const out = await invoke({ action: 'drain' });
    expect(out).toMatchObject({ action: 'drain', status: 'blocked', applied: 1 });
    if (out.action !== 'drain') throw new Error('not a drain');
    expect(out.failed).toEqual([
      expect.objectContaining({
        userId: '3',
        error: expect.stringMatching(/"billing" is not one the service may write back/),
      }),
      expect.objectContaining({
        userId: '4',
        error: expect.stringMatching(/column "is_admin" of users is not one the service may write/),
      }),
    ]);
    expect((await legacyUser('1')).display_name).toBe('One');
    // User 3's second row waits behind the refused one, in order.
    expect((await legacyUser('3')).email).toBe('u3@example.com');
    expect(out.pending.list.map((u) => [u.userId, u.rows, Boolean(u.error)])).toEqual([
      ['3', 2, true],
      ['4', 1, true],
    ]);
  });

  it('is refused by the legacy database beyond its grants, and the row waits with the error', async () => {
    // A configuration that allows more than the DBA granted: the database has the last word.
    const wider = localWriteBack(dbs, {
      tables: { users: { key: ['id'], columns: [...USERS_WRITE_BACK.users.columns, 'id_card'] } },
      legacyUser: writer,
    });
    await addRow('2', 'users', { id_card: 'X' });
    const out = await invokeLocal(wider)({ action: 'drain' });
    expect(out).toMatchObject({ status: 'blocked', applied: 0 });
    expect((await outbox())[0].last_error).toMatch(/^42(501|703) /);
  });

  it('applies a failing row once its cause is fixed; a too long name is a real schema mismatch', async () => {
    await put('/v1/users/4', { displayName: 'x'.repeat(60) });
    await put('/v1/users/4/password', { password: 'after-the-long-name' });
    const first = await invoke({ action: 'drain' });
    expect(first).toMatchObject({
      status: 'blocked',
      applied: 0,
      failed: [{ userId: '4', error: expect.stringMatching(/^22001 value too long/) }],
    });
    expect(local.metrics('WriteBackFailedRows').at(-1)).toBe(1);
    expect(local.metrics('WriteBackPendingRows').at(-1)).toBe(2);
    expect(local.metrics('WriteBackPendingUsers').at(-1)).toBe(1);

    await put('/v1/users/4', { displayName: 'Four' });
    await sql(dbs.legacy, 'ALTER TABLE users ALTER COLUMN display_name TYPE varchar(80)');
    try {
      expect(await invoke({ action: 'drain' })).toMatchObject({ status: 'drained', applied: 3 });
      expect(await legacyUser('4')).toMatchObject({
        display_name: 'Four',
        password_hash: hashOf('after-the-long-name'),
      });
      expect(local.metrics('WriteBackPendingRows').at(-1)).toBe(0);
    } finally {
      await sql(dbs.legacy, 'ALTER TABLE users ALTER COLUMN display_name TYPE varchar(50)');
    }
  });

  it('publishes what is pending with its age, per service, in embedded metric format', async () => {
    await addRow('1', 'users', { email: 'old@example.com' });
    await sql(dbs.service, "UPDATE migration_outbox SET created_at = now() - interval '10 minutes'");
    await invoke({ action: 'pending' });
    const emf = local.lines.map((l) => JSON.parse(l)).filter((l) => l._aws);
    expect(emf.map((l) => l._aws.CloudWatchMetrics[0])).toEqual(
      [
        'WriteBackPendingRows',
        'WriteBackPendingUsers',
        'WriteBackOldestPendingSeconds',
        'WriteBackFailedRows',
      ].map((name) => ({
        Namespace: 'StranglerMigration',
        Dimensions: [['Service']],
        Metrics: [{ Name: name, Unit: name === 'WriteBackOldestPendingSeconds' ? 'Seconds' : 'Count' }],
      })),
    );
    expect(emf.every((l) => l.Service === 'users')).toBe(true);
    expect(local.metrics('WriteBackOldestPendingSeconds')[0]).toBeGreaterThanOrEqual(600);
  });

  it('drains only the users asked for, or those a routing change sends back (the evaluator decides)', async () => {
    const before = { 1: (await legacyUser('1')).display_name, 3: (await legacyUser('3')).display_name };
    for (const id of ['1', '2', '3']) await put(`/v1/users/${id}`, { displayName: `name ${id}` });
    expect(await invoke({ action: 'drain', users: ['2'] })).toMatchObject({
      applied: 1,
      pending: { users: 0 },
    });
    expect((await legacyUser('2')).display_name).toBe('name 2');
    expect((await legacyUser('1')).display_name).toBe(before[1]);

    const leaving = {
      from: { mode: 'users', users: ['1', '3'], percent: 0 },
      to: { mode: 'users', users: ['3'], percent: 0 },
    };
    const pending = await invoke({ action: 'pending', leaving });
    expect(pending).toMatchObject({
      action: 'pending',
      pending: { users: 1, list: [{ userId: '1', rows: 1 }] },
    });
    expect(await invoke({ action: 'drain', leaving })).toMatchObject({ applied: 1 });
    expect((await legacyUser('1')).display_name).toBe('name 1');
    expect((await legacyUser('3')).display_name).toBe(before[3]);
  });

  it('records an accepted loss on the pending rows (they stay pending), only for the users named', async () => {
    await put('/v1/users/1', { displayName: 'A' });
    await put('/v1/users/2', { displayName: 'B' });
    expect(await invoke({ action: 'accept', users: ['2'], reason: 'INC-1' })).toEqual({
      action: 'accept',
      accepted: ['2'],
      rows: 1,
    });
    const out = await invoke({ action: 'pending' });
    expect(out).toMatchObject({
      pending: {
        rows: 2,
        list: [
          { userId: '1', lossAccepted: false },
          { userId: '2', lossAccepted: true },
        ],
      },
    });
    await expect(invoke({ action: 'accept', reason: 'everyone' })).rejects.toThrow(
      /never accepts every pending row/,
    );
  });

  it('applies nothing once the cutover is completed, and says so', async () => {
    const before = (await legacyUser('3')).display_name;
    await put('/v1/users/3', { displayName: 'late' });
    const after = localWriteBack(dbs, {
      tables: USERS_WRITE_BACK,
      legacyUser: writer,
      cutoverCompleted: async () => true,
    });
    expect(await invokeLocal(after)({ 'detail-type': 'Scheduled Event' })).toMatchObject({
      status: 'stopped',
      applied: 0,
      reason: expect.stringMatching(/cutover is completed/),
    });
    const marked = localWriteBack(dbs, { tables: USERS_WRITE_BACK, cutoverRecorded: true });
    expect(await invokeLocal(marked)({ action: 'drain' })).toMatchObject({ status: 'stopped' });
    expect((await legacyUser('3')).display_name).toBe(before);
  });

  it('keeps the order when two drains run at once (one waits for the other)', async () => {
    await addRows('2', 60, 'v');
    const [a, b] = await Promise.all([invoke({ action: 'drain' }), invoke({ action: 'drain' })]);
    expect([a, b].map((o) => (o.action === 'drain' ? o.applied : -1)).sort((x, y) => x - y)).toEqual([0, 60]);
    expect((await legacyUser('2')).display_name).toBe('v59');
  });

  it('stops at its deadline and reports what is left', async () => {
    await addRows('1', 450, 'd');
    const out = await invoke({ action: 'drain', deadlineMs: 1 });
    expect(out).toMatchObject({ status: 'deadline' });
    if (out.action === 'drain') expect(out.pending.rows).toBe(450 - out.applied);
  });

  it('reads the verdict of a verification run, and says when it left none', async () => {
    await sql(
      dbs.service,
      "INSERT INTO migration_verification (run_id, passed, message) VALUES ('run-1', false, '1 of 4 users differ')",
    );
    expect(await invoke({ action: 'verification', runId: 'run-1' })).toEqual({
      action: 'verification',
      found: true,
      passed: false,
      message: '1 of 4 users differ',
    });
    expect(await invoke({ action: 'verification', runId: 'run-2' })).toMatchObject({
      found: false,
      passed: false,
      message: expect.stringMatching(/left no verdict/),
    });
  });

  it('refuses a request it cannot read, naming what is wrong', async () => {
    await expect(invoke({ action: 'flush' })).rejects.toThrow(
      /unknown action "flush"; use drain, pending, accept or verification/,
    );
    await expect(invoke({ action: 'pending', users: ['a b'] })).rejects.toThrow(
      /users must be an array of user ids/,
    );
    await expect(
      invoke({ action: 'drain', leaving: { from: { mode: 'sometimes' }, to: {} } }),
    ).rejects.toThrow(/leaving.from: routing.mode/);
  });
});
