/**
 * Without PostgreSQL the suite must fail, saying in one line what to install: the data side is part of
 * what `npm test` proves, so it never skips. And with it, the cluster the suite runs on has TLS on.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSync } from 'esbuild';
import { postgresUrl, sql } from './postgres';
import { POSTGRES_MISSING, postgresBinaries } from './postgres-cluster';

test('a missing PostgreSQL fails the setup with one line naming the install', () => {
  expect(
    postgresBinaries({ PATH: '/nonexistent', MIGRATION_TEST_POSTGRES_ROOT: '/nonexistent' }),
  ).toBeUndefined();
  const bundle = join(mkdtempSync(join(tmpdir(), 'pg-missing-')), 'cluster.cjs');
  buildSync({
    entryPoints: [join(__dirname, 'postgres-cluster.ts')],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    outfile: bundle,
    logLevel: 'error',
  });
  const run = spawnSync(
    process.execPath,
    [
      '-e',
      `try { require(${JSON.stringify(bundle)}).startPostgresCluster(1) } catch (e) { console.log(e.stack) }`,
    ],
    { encoding: 'utf8', env: { PATH: '/nonexistent', MIGRATION_TEST_POSTGRES_ROOT: '/nonexistent' } },
  );
  expect(run.stdout).toBe(`${POSTGRES_MISSING}\n`);
  expect(POSTGRES_MISSING).toMatch(/apt-get install postgresql/);
});

test('the suite runs a cluster with TLS on, as RDS has it', async () => {
  expect(await sql(postgresUrl(), 'SHOW ssl')).toEqual([{ ssl: 'on' }]);
});
