/**
 * The monolith, as far as the data tests need it: its users table in the legacy database, and the
 * endpoints a client calls today (login, profile, password). It knows nothing of the migration: it
 * reads and writes its own database, as the PHP monolith does.
 */
import { createHash } from 'node:crypto';
import pg from 'pg';
import { type RunningServer, serve } from './http';

/**
 * The legacy users table. `display_name` is narrower than the service allows (varchar(50)): a write-back
 * of a longer name fails there, as a real schema mismatch would.
 */
export const LEGACY_SCHEMA = `CREATE TABLE users (
  id            text        PRIMARY KEY,
  email         text        NOT NULL UNIQUE,
  password_hash text        NOT NULL,
  display_name  varchar(50) NOT NULL DEFAULT '',
  updated_at    timestamptz NOT NULL DEFAULT clock_timestamp()
);`;

export const hashOf = (password: string) => createHash('sha256').update(password).digest('hex');

export interface LegacyUser {
  readonly id: string;
  readonly email: string;
  readonly password: string;
  readonly displayName?: string;
}

/** Creates the schema and the users (the monolith's data before the migration). */
export async function seedLegacy(url: string, users: readonly LegacyUser[]): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(LEGACY_SCHEMA);
    for (const u of users)
      await client.query(
        'INSERT INTO users (id, email, password_hash, display_name) VALUES ($1, $2, $3, $4)',
        [u.id, u.email, hashOf(u.password), u.displayName ?? u.id],
      );
  } finally {
    await client.end();
  }
}

export interface Monolith extends RunningServer {
  readonly pool: pg.Pool;
}

export async function startMonolith(legacyUrl: string): Promise<Monolith> {
  const pool = new pg.Pool({ connectionString: legacyUrl, max: 4 });
  // An idle connection the test's teardown ends (DROP DATABASE ... WITH (FORCE)) is no error of ours.
  pool.on('error', () => {});
  const user = async (id: string) =>
    (await pool.query('SELECT id, email, password_hash, display_name FROM users WHERE id = $1', [id]))
      .rows[0];
  const server = await serve([
    { method: 'GET', path: '/health', handler: async () => ({ status: 200, body: { ok: true } }) },
    {
      method: 'POST',
      path: '/api/login',
      handler: async (_p, body) => {
        const u = await user(String(body.username));
        const ok = u && u.password_hash === hashOf(String(body.password));
        return ok
          ? { status: 200, body: { side: 'legacy', user: u.id } }
          : { status: 401, body: { side: 'legacy', error: 'wrong user or password' } };
      },
    },
    {
      method: 'GET',
      path: '/api/users/{id}',
      handler: async ({ id }) => {
        const u = await user(id);
        return u
          ? { status: 200, body: { side: 'legacy', id: u.id, email: u.email, displayName: u.display_name } }
          : { status: 404, body: { side: 'legacy', error: 'no such user' } };
      },
    },
    {
      method: 'PUT',
      path: '/api/users/{id}',
      handler: async ({ id }, body) => {
        const { rowCount } = await pool.query(
          `UPDATE users SET email = COALESCE($2, email), display_name = COALESCE($3, display_name),
                            updated_at = clock_timestamp() WHERE id = $1`,
          [id, body.email ?? null, body.displayName ?? null],
        );
        return rowCount ? { status: 200, body: { side: 'legacy', id } } : { status: 404, body: {} };
      },
    },
    {
      method: 'PUT',
      path: '/api/users/{id}/password',
      handler: async ({ id }, body) => {
        const { rowCount } = await pool.query(
          'UPDATE users SET password_hash = $2, updated_at = clock_timestamp() WHERE id = $1',
          [id, hashOf(String(body.password))],
        );
        return rowCount ? { status: 200, body: { side: 'legacy', id } } : { status: 404, body: {} };
      },
    },
  ]);
  return {
    ...server,
    pool,
    close: async () => {
      await server.close();
      await pool.end();
    },
  };
}
