/**
 * A throw-away PostgreSQL cluster for the data tests: jest's global setup starts one (initdb, then
 * pg_ctl on a free 127.0.0.1 port, trust authentication, no fsync) and its teardown stops it. Debian's
 * `postgresql` package provides the binaries (/usr/lib/postgresql/<version>/bin); PostgreSQL refuses to
 * run as root, so a suite running as root runs them as the package's unprivileged `postgres` user.
 *
 * Without PostgreSQL the suite fails with one line naming the install: the data side is part of what
 * `npm test` proves, so it never skips.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const POSTGRES_MISSING =
  'PostgreSQL not found: the data tests need it (apt-get install postgresql; or put its bin directory on PATH)';

/**
 * The directory holding initdb, pg_ctl and postgres: the newest Debian install, else PATH.
 * MIGRATION_TEST_POSTGRES_ROOT replaces Debian's /usr/lib/postgresql (the test of the missing install).
 */
export function postgresBinaries(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const debian = env.MIGRATION_TEST_POSTGRES_ROOT ?? '/usr/lib/postgresql';
  if (existsSync(debian)) {
    const versions = readdirSync(debian)
      .filter((v) => existsSync(join(debian, v, 'bin', 'initdb')))
      .sort((a, b) => Number(b) - Number(a));
    if (versions.length > 0) return join(debian, versions[0], 'bin');
  }
  return (env.PATH ?? '')
    .split(':')
    .find((d) => d !== '' && existsSync(join(d, 'initdb')) && existsSync(join(d, 'pg_ctl')));
}

/** An error jest reports as its message alone: what to install, not where in the setup it was found missing. */
function oneLine(message: string): Error {
  const error = new Error(message);
  error.stack = message;
  return error;
}

export interface PostgresCluster {
  readonly bin: string;
  readonly dataDir: string;
  /** Holds the data directory, the socket and the server log (postgres.log). */
  readonly work: string;
  readonly port: number;
  /** `postgres://postgres@127.0.0.1:<port>`: append a database name. */
  readonly url: string;
  /**
   * The server's self-signed certificate (for 127.0.0.1): TLS is on, as on RDS, so that a client that
   * verifies the server (the write-back function's bundle, with NODE_EXTRA_CA_CERTS) can be run against it.
   */
  readonly certificate: string;
  /** Whether the binaries run as the `postgres` user (the suite runs as root). */
  readonly asPostgresUser: boolean;
}

/** Runs a PostgreSQL binary, as the `postgres` user when we are root; throws with its output on failure. */
function run(cluster: Pick<PostgresCluster, 'bin' | 'asPostgresUser'>, tool: string, args: string[]): void {
  const command = join(cluster.bin, tool);
  const result = cluster.asPostgresUser
    ? spawnSync(
        existsSync('/usr/sbin/runuser') ? '/usr/sbin/runuser' : 'runuser',
        ['-u', 'postgres', '--', command, ...args],
        {
          encoding: 'utf8',
        },
      )
    : spawnSync(command, args, { encoding: 'utf8' });
  if (result.error) throw new Error(`${tool} could not start: ${result.error.message}`);
  if (result.status !== 0)
    throw new Error(`${tool} exited with ${result.status}: ${result.stderr || result.stdout}`);
}

function ownerOf(path: string): { uid: number; gid: number } {
  const { uid, gid } = statSync(path);
  return { uid, gid };
}

/** Creates and starts a cluster in a fresh temporary directory, listening on 127.0.0.1:`port`. */
export function startPostgresCluster(port: number): PostgresCluster {
  const bin = postgresBinaries();
  if (!bin) throw oneLine(POSTGRES_MISSING);
  const asPostgresUser = process.getuid?.() === 0;
  // Its own directory under the system's temporary one, which the postgres user can traverse.
  const work = mkdtempSync(join(tmpdir(), 'migration-postgres-'));
  const dataDir = join(work, 'pgdata');
  const socketDir = join(work, 'pgsocket');
  mkdirSync(dataDir, { mode: 0o700 });
  mkdirSync(socketDir);
  if (asPostgresUser) {
    const ids = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
    const gids = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
    if (ids.status !== 0)
      throw oneLine(`${POSTGRES_MISSING} (running as root, the suite needs the package's "postgres" user)`);
    const [uid, gid] = [Number(ids.stdout.trim()), Number(gids.stdout.trim())];
    for (const dir of [work, dataDir, socketDir]) chownSync(dir, uid, gid);
    chmodSync(work, 0o755);
  }
  const cluster = { bin, asPostgresUser };
  // TLS as on RDS: a self-signed certificate for 127.0.0.1, its key readable by the server only.
  const certificate = join(work, 'server.crt');
  const key = join(work, 'server.key');
  const tls = spawnSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '2',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
      '-keyout',
      key,
      '-out',
      certificate,
    ],
    { encoding: 'utf8' },
  );
  if (tls.status !== 0)
    throw new Error(`openssl could not make the test certificate: ${tls.stderr ?? tls.error}`);
  chmodSync(key, 0o600);
  if (asPostgresUser) chownSync(key, ownerOf(work).uid, ownerOf(work).gid);
  run(cluster, 'initdb', [
    '-D',
    dataDir,
    '-U',
    'postgres',
    '-A',
    'trust',
    '-E',
    'UTF8',
    '--no-sync',
    '--no-instructions',
  ]);
  // A test cluster: speed over durability, loopback only, the socket in our own directory.
  const options = [
    `-p ${port}`,
    '-h 127.0.0.1',
    `-k ${socketDir}`,
    '-c fsync=off',
    '-c synchronous_commit=off',
    '-c full_page_writes=off',
    '-c max_connections=200',
    '-c ssl=on',
    `-c ssl_cert_file=${certificate}`,
    `-c ssl_key_file=${key}`,
  ].join(' ');
  run(cluster, 'pg_ctl', ['-D', dataDir, '-o', options, '-l', join(work, 'postgres.log'), '-w', 'start']);
  return {
    bin,
    dataDir,
    work,
    port,
    url: `postgres://postgres@127.0.0.1:${port}`,
    certificate,
    asPostgresUser,
  };
}

/** Stops a cluster started by startPostgresCluster (immediate: nothing in it is kept). */
export function stopPostgresCluster(cluster: Pick<PostgresCluster, 'bin' | 'dataDir' | 'asPostgresUser'>) {
  run(cluster, 'pg_ctl', ['-D', cluster.dataDir, '-m', 'immediate', '-w', 'stop']);
}
