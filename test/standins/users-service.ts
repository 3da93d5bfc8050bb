/**
 * The users service, as a service team writes it against docs/data-contract.md (version 1): its own
 * database, the organic import of a user from the legacy database on first touch, every change written
 * with its outbox row in one transaction, the reverse direction (a newer legacy row is imported again
 * when the user has no pending outbox row), the bulk migration and the verification of the cutover.
 */
import pg from 'pg';
import {
  CONTRACT_DDL,
  OUTBOX_TABLE,
  VERIFICATION_TABLE,
  type WriteBackTables,
} from '../../lib/write-back/contract';
import { type RunningServer, serve } from './http';
import { hashOf } from './monolith';

/** What the service may write back (services[].writeBack.tables in the environment file). */
export const USERS_WRITE_BACK: WriteBackTables = {
  users: {
    key: ['id'],
    columns: ['email', 'password_hash', 'display_name', 'updated_at'],
    versionColumn: 'updated_at',
  },
};

/** The service's own schema, then the tables of the data contract. */
export const SERVICE_SCHEMA = `CREATE TABLE users (
  id             text        PRIMARY KEY,
  email          text        NOT NULL,
  password_hash  text        NOT NULL,
  display_name   text        NOT NULL,
  -- the legacy row's updated_at this copy is based on (the reverse direction compares it)
  legacy_version timestamptz NOT NULL
);
${CONTRACT_DDL}`;

export async function createServiceSchema(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(SERVICE_SCHEMA);
  } finally {
    await client.end();
  }
}

interface Row {
  id: string;
  email: string;
  password_hash: string;
  display_name: string;
}

type Db = pg.Pool | pg.PoolClient | pg.Client;

/** The legacy shape of a user row, as the outbox carries it. */
function legacyRow(u: Row, version: string) {
  return {
    email: u.email,
    password_hash: u.password_hash,
    display_name: u.display_name,
    updated_at: version,
  };
}

export interface UsersServiceOptions {
  readonly serviceUrl: string;
  readonly legacyUrl: string;
}

export interface UsersService extends RunningServer {
  /** While true every request answers 500, as a failing deploy would. */
  failing: boolean;
  readonly pool: pg.Pool;
}

export async function startUsersService(options: UsersServiceOptions): Promise<UsersService> {
  const pool = new pg.Pool({ connectionString: options.serviceUrl, max: 4 });
  // Read-only use of the legacy database (the organic import), as legacyReadSecretArn allows.
  const legacy = new pg.Pool({ connectionString: options.legacyUrl, max: 2 });
  // An idle connection the test's teardown ends (DROP DATABASE ... WITH (FORCE)) is no error of ours.
  for (const p of [pool, legacy]) p.on('error', () => {});

  /**
   * The user's copy, imported from the legacy database on first touch, and imported again when the
   * monolith changed the legacy row since (a newer updated_at) and no change of ours waits to be
   * written back (ours would overwrite it then: the service wins while its rows are pending).
   */
  async function touch(id: string): Promise<Row | undefined> {
    const [theirs] = (
      await legacy.query(
        'SELECT id, email, password_hash, display_name, updated_at FROM users WHERE id = $1',
        [id],
      )
    ).rows;
    const [ours] = (await pool.query('SELECT *, legacy_version FROM users WHERE id = $1', [id])).rows;
    if (!ours) {
      if (!theirs) return undefined;
      await pool.query(
        `INSERT INTO users (id, email, password_hash, display_name, legacy_version) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (id) DO NOTHING`,
        [theirs.id, theirs.email, theirs.password_hash, theirs.display_name, theirs.updated_at],
      );
      return (await pool.query('SELECT * FROM users WHERE id = $1', [id])).rows[0];
    }
    const newer = theirs && new Date(theirs.updated_at).getTime() > new Date(ours.legacy_version).getTime();
    if (newer) {
      const pending = (
        await pool.query(`SELECT 1 FROM ${OUTBOX_TABLE} WHERE user_id = $1 AND applied_at IS NULL LIMIT 1`, [
          id,
        ])
      ).rowCount;
      if (!pending) {
        await pool.query(
          'UPDATE users SET email = $2, password_hash = $3, display_name = $4, legacy_version = $5 WHERE id = $1',
          [id, theirs.email, theirs.password_hash, theirs.display_name, theirs.updated_at],
        );
        return (await pool.query('SELECT * FROM users WHERE id = $1', [id])).rows[0];
      }
    }
    return ours;
  }

  /** A change and its outbox row, in one transaction: both or neither. */
  async function change(id: string, apply: (u: Row) => Row | 'delete'): Promise<boolean> {
    const current = await touch(id);
    if (!current) return false;
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      const [u] = (await client.query('SELECT * FROM users WHERE id = $1 FOR UPDATE', [id])).rows as Row[];
      const next = apply(u);
      const version = new Date().toISOString();
      if (next === 'delete') {
        await client.query('DELETE FROM users WHERE id = $1', [id]);
        await outbox(client, id, 'delete', null);
      } else {
        await client.query(
          'UPDATE users SET email = $2, password_hash = $3, display_name = $4, legacy_version = $5 WHERE id = $1',
          [id, next.email, next.password_hash, next.display_name, version],
        );
        await outbox(client, id, 'upsert', legacyRow(next, version));
      }
      await client.query('COMMIT');
      return true;
    } catch (e) {
      await client.query('ROLLBACK');
      throw e;
    } finally {
      client.release();
    }
  }

  const state = { failing: false };
  const server = await serve(
    [
      { method: 'GET', path: '/health', handler: async () => ({ status: 200, body: { ok: true } }) },
      {
        method: 'POST',
        path: '/v1/auth/login',
        handler: async (_p, body) => {
          const u = await touch(String(body.username));
          return u && u.password_hash === hashOf(String(body.password))
            ? { status: 200, body: { side: 'service', user: u.id } }
            : { status: 401, body: { side: 'service', error: 'wrong user or password' } };
        },
      },
      {
        method: 'GET',
        path: '/v1/users/{id}',
        handler: async ({ id }) => {
          const u = await touch(id);
          return u
            ? {
                status: 200,
                body: { side: 'service', id: u.id, email: u.email, displayName: u.display_name },
              }
            : { status: 404, body: { side: 'service', error: 'no such user' } };
        },
      },
      {
        method: 'PUT',
        path: '/v1/users/{id}',
        handler: async ({ id }, body) => {
          const found = await change(id, (u) => ({
            ...u,
            email: typeof body.email === 'string' ? body.email : u.email,
            display_name: typeof body.displayName === 'string' ? body.displayName : u.display_name,
          }));
          return found ? { status: 200, body: { side: 'service', id } } : { status: 404, body: {} };
        },
      },
      {
        method: 'PUT',
        path: '/v1/users/{id}/password',
        handler: async ({ id }, body) => {
          const found = await change(id, (u) => ({ ...u, password_hash: hashOf(String(body.password)) }));
          return found ? { status: 200, body: { side: 'service', id } } : { status: 404, body: {} };
        },
      },
    ],
    () =>
      state.failing ? { status: 500, body: { side: 'service', error: 'failing on purpose' } } : undefined,
  );
  return Object.assign(state, {
    ...server,
    pool,
    close: async () => {
      await server.close();
      await Promise.all([pool.end(), legacy.end()]);
    },
  });
}

async function outbox(db: Db, userId: string, operation: 'upsert' | 'delete', row: unknown): Promise<void> {
  await db.query(
    `INSERT INTO ${OUTBOX_TABLE} (user_id, legacy_table, legacy_key, operation, legacy_row) VALUES ($1, 'users', $2, $3, $4)`,
    [userId, JSON.stringify({ id: userId }), operation, row === null ? null : JSON.stringify(row)],
  );
}

/**
 * The bulk migration: copies every legacy user the service does not have yet. `mangle` names a user
 * whose e-mail it copies wrongly (a bug, for the verification to find); `repair` copies again every
 * user whose copy differs from the legacy row and has no pending outbox row (so a run after a fixed bug
 * corrects what the buggy one copied).
 */
export async function bulkMigrate(
  options: UsersServiceOptions & { mangle?: string; repair?: boolean },
): Promise<{ copied: number; repaired: number }> {
  const service = new pg.Client({ connectionString: options.serviceUrl });
  const legacy = new pg.Client({ connectionString: options.legacyUrl });
  await Promise.all([service.connect(), legacy.connect()]);
  try {
    const theirs = (await legacy.query('SELECT * FROM users ORDER BY id')).rows;
    let copied = 0;
    let repaired = 0;
    for (const u of theirs) {
      const email = u.id === options.mangle ? u.email.toUpperCase() : u.email;
      const { rowCount } = await service.query(
        `INSERT INTO users (id, email, password_hash, display_name, legacy_version) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (id) DO NOTHING`,
        [u.id, email, u.password_hash, u.display_name, u.updated_at],
      );
      copied += rowCount ?? 0;
      if (!options.repair || rowCount || u.id === options.mangle) continue;
      const { rowCount: fixed } = await service.query(
        `UPDATE users SET email = $2, password_hash = $3, display_name = $4, legacy_version = $5
          WHERE id = $1 AND (email, password_hash, display_name) IS DISTINCT FROM ($2, $3, $4)
            AND NOT EXISTS (SELECT 1 FROM ${OUTBOX_TABLE} WHERE user_id = $1 AND applied_at IS NULL)`,
        [u.id, u.email, u.password_hash, u.display_name, u.updated_at],
      );
      repaired += fixed ?? 0;
    }
    return { copied, repaired };
  } finally {
    await Promise.all([service.end(), legacy.end()]);
  }
}

/**
 * The verification of a cutover run: the two databases agree on every user, except those with outbox
 * rows after `appliedThrough` (changed since the write-back the cutover waited for: they differ
 * legitimately). Leaves its verdict in the verification table for the cutover to read.
 */
export async function verifyMigration(
  options: UsersServiceOptions & { runId: string; appliedThrough: string },
): Promise<{ passed: boolean; message: string }> {
  const service = new pg.Client({ connectionString: options.serviceUrl });
  const legacy = new pg.Client({ connectionString: options.legacyUrl });
  await Promise.all([service.connect(), legacy.connect()]);
  try {
    const changed = new Set(
      (
        await service.query(`SELECT DISTINCT user_id FROM ${OUTBOX_TABLE} WHERE seq > $1::bigint`, [
          options.appliedThrough,
        ])
      ).rows.map((r) => r.user_id as string),
    );
    const key = (u: Row) => JSON.stringify([u.email, u.password_hash, u.display_name]);
    const theirs = new Map((await legacy.query('SELECT * FROM users')).rows.map((u: Row) => [u.id, u]));
    const ours = new Map((await service.query('SELECT * FROM users')).rows.map((u: Row) => [u.id, u]));
    const problems: string[] = [];
    let compared = 0;
    for (const id of [...new Set([...theirs.keys(), ...ours.keys()])].sort()) {
      if (changed.has(id)) continue;
      compared++;
      const [l, s] = [theirs.get(id), ours.get(id)];
      if (!s) problems.push(`${id}: missing in the service`);
      else if (!l) problems.push(`${id}: missing in the legacy database`);
      else if (key(l) !== key(s)) problems.push(`${id}: differs (legacy ${key(l)}, service ${key(s)})`);
    }
    const passed = problems.length === 0;
    const message = passed
      ? `users: ${compared} users agree (${changed.size} changed since the write-back through ${options.appliedThrough}, not compared)`
      : `users: ${problems.length} of ${compared} users differ: ${problems.slice(0, 5).join('; ')}`;
    await service.query(
      `INSERT INTO ${VERIFICATION_TABLE} (run_id, passed, message) VALUES ($1, $2, $3)
       ON CONFLICT (run_id) DO UPDATE SET passed = EXCLUDED.passed, message = EXCLUDED.message, finished_at = now()`,
      [options.runId, passed, message.slice(0, 2000)],
    );
    return { passed, message };
  } finally {
    await Promise.all([service.end(), legacy.end()]);
  }
}
