/**
 * Jest global setup: starts moto_server (a local AWS API emulator) on a free 127.0.0.1 port for the
 * integration tests, a throw-away PostgreSQL cluster on another for the data tests (postgres-cluster.ts),
 * and bundles the CLI, its server for the runbook (cli-server.ts) and the routing proxy once so tests
 * can run them as child processes quickly.
 * The machine image ships moto and PostgreSQL; elsewhere: pip install "moto[server]" and
 * apt-get install postgresql.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, openSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cachedBuild } from '../../lib/bundling/cached-build';
import { proxyBuildOptions } from '../../lib/proxy/bundle';
import { freePort } from '../../scripts/free-port';
import { type PostgresCluster, startPostgresCluster } from './postgres-cluster';
import { scriptInterpreter } from './python';

const ROOT = join(__dirname, '..', '..');

declare global {
  var __MOTO_PROCESS__: ChildProcess | undefined;
  var __POSTGRES_CLUSTER__: PostgresCluster | undefined;
}

async function waitUntilUp(url: string, proc: ChildProcess, log: string): Promise<void> {
  let failed: Error | undefined;
  proc.once('error', (e) => {
    failed = e;
  });
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (failed && (failed as NodeJS.ErrnoException).code === 'ENOENT')
      throw new Error('moto_server not found: the integration tests need it (pip install "moto[server]")');
    if (failed) throw new Error(`moto_server could not start: ${failed.message}`);
    if (proc.exitCode !== null) throw new Error(`moto_server exited with ${proc.exitCode}; see ${log}`);
    try {
      // No keep-alive: an idle pooled socket would keep jest's main process from exiting.
      const res = await fetch(`${url}/moto-api/`, { headers: { connection: 'close' } });
      await res.arrayBuffer();
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`moto_server did not answer on ${url} within 30 s; see ${log}`);
}

export default async function globalSetup(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'migration-tests-'));
  // The SDK warns on Node 20 about its releases from 2027; it would only clutter the test output.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

  // Through the app's bundle cache (lib/bundling/cached-build.ts): rebuilt only when a source changed.
  const bundle = (name: string, entry: string) => {
    const outfile = join(work, `${name}.cjs`);
    cachedBuild(
      `test-${name}`,
      {
        entryPoints: [join(ROOT, entry)],
        bundle: true,
        platform: 'node',
        format: 'cjs',
        target: 'node20',
        outfile,
        logLevel: 'error',
      },
      work,
    );
    return outfile;
  };
  // The operator CLI as an operator runs it, and loaded once for the runbook's many commands.
  process.env.MIGRATE_CLI = bundle('migrate', 'bin/migrate.ts');
  process.env.MIGRATE_CLI_SERVER = bundle('cli-server', 'test/helpers/cli-server.ts');
  // The users service image's commands (the bulk migration, the verification), run as the cutover's tasks.
  process.env.USERS_SERVICE_COMMAND = bundle('users-service', 'test/standins/users-service-command.ts');

  // The routing proxy, bundled as its image bundles it, for the tests that run it as a child process.
  const proxy = join(work, 'routing-proxy.cjs');
  cachedBuild('test-routing-proxy', proxyBuildOptions(proxy), work);
  process.env.ROUTING_PROXY_BUNDLE = proxy;

  // PostgreSQL first: a missing install fails the run at once, with the one line that says what to do.
  const cluster = startPostgresCluster(await freePort());
  globalThis.__POSTGRES_CLUSTER__ = cluster;
  process.env.POSTGRES_URL = cluster.url;
  process.env.POSTGRES_CERTIFICATE = cluster.certificate;

  const port = await freePort();
  const log = join(work, 'moto.log');
  const fd = openSync(log, 'a');
  // moto's own server, through a launcher that spares it a directory listing per request
  // (moto-server.py), when its interpreter is found; else the moto_server command as it is.
  const python = scriptInterpreter('moto_server');
  const args = ['-H', '127.0.0.1', '-p', String(port)];
  const proc = python
    ? spawn(python, [join(ROOT, 'test', 'helpers', 'moto-server.py'), ...args], { stdio: ['ignore', fd, fd] })
    : spawn('moto_server', args, { stdio: ['ignore', fd, fd] });
  proc.unref();
  globalThis.__MOTO_PROCESS__ = proc;
  const url = `http://127.0.0.1:${port}`;
  await waitUntilUp(url, proc, log);
  process.env.MOTO_ENDPOINT = url;
  process.env.MOTO_LOG = log;
}
