/**
 * Stops the moto_server and the PostgreSQL cluster started by global-setup.ts.
 *
 * The wait must hold a reference on Node's event loop: global setup unrefs moto, and jest decides its
 * exit code only after this hook returns. If nothing keeps the loop alive while we wait, Node ends
 * the process here with code 0, and a failing suite passes (test/helpers/global-teardown.test.ts).
 */
import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { stopPostgresCluster } from './postgres-cluster';

export default async function globalTeardown(): Promise<void> {
  const cluster = globalThis.__POSTGRES_CLUSTER__;
  if (cluster) {
    globalThis.__POSTGRES_CLUSTER__ = undefined;
    try {
      stopPostgresCluster(cluster);
    } finally {
      rmSync(cluster.work, { recursive: true, force: true });
    }
  }
  const proc: ChildProcess | undefined = globalThis.__MOTO_PROCESS__;
  if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
  let timer: NodeJS.Timeout | undefined;
  const exited = new Promise((resolve) => proc.once('exit', resolve));
  // A referenced timer, cleared as soon as moto exits, so jest's main process neither dies early
  // nor waits the full 3 s.
  const deadline = new Promise((resolve) => {
    timer = setTimeout(resolve, 3000);
  });
  proc.kill('SIGTERM');
  await Promise.race([exited, deadline]);
  clearTimeout(timer);
  if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
}
