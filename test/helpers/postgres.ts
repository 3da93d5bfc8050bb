/**
 * The PostgreSQL cluster of the test run (started by global-setup.ts): fresh databases per test file,
 * so that files running in parallel never see each other's rows, and clients bound to them.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export function postgresUrl(database = 'postgres'): string {
  const url = process.env.POSTGRES_URL;
  if (!url)
    throw new Error('POSTGRES_URL is not set: run the tests through jest (global setup starts PostgreSQL)');
  return `${url}/${database}`;
}

/** A connected client; the caller ends it. */
export async function connectTo(url: string, user?: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url, ...(user ? { user } : {}) });
  await client.connect();
  return client;
}

/** Runs statements in a database and closes the connection. */
export async function sql<T extends Record<string, unknown> = Record<string, unknown>>(
  url: string,
  text: string,
  values?: unknown[],
): Promise<T[]> {
  const client = await connectTo(url);
  try {
    return (await client.query(text, values)).rows as T[];
  } finally {
    await client.end();
  }
}

export interface DatabasePair {
  /** The monolith's database. */
  readonly legacy: string;
  /** The extracted service's database. */
  readonly service: string;
  readonly names: { readonly legacy: string; readonly service: string };
  drop(): Promise<void>;
}

/** Two new, empty databases, `legacy_<id>` and `service_<id>`, in the test cluster. */
export async function freshDatabases(): Promise<DatabasePair> {
  const id = randomBytes(4).toString('hex');
  const names = { legacy: `legacy_${id}`, service: `service_${id}` };
  const admin = postgresUrl();
  for (const name of Object.values(names)) await sql(admin, `CREATE DATABASE ${name}`);
  return {
    legacy: postgresUrl(names.legacy),
    service: postgresUrl(names.service),
    names,
    drop: async () => {
      for (const name of Object.values(names))
        await sql(admin, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}

/** A new login role (roles are cluster-wide: the name gets a suffix of its own), with no privilege. */
export async function newRole(prefix: string): Promise<string> {
  const name = `${prefix}_${randomBytes(4).toString('hex')}`;
  await sql(postgresUrl(), `CREATE ROLE ${name} LOGIN`);
  return name;
}
