/**
 * moto_server (a local AWS API emulator) for the playground, on a free loopback port; stopped with the
 * playground. It ships on the project's machine image; elsewhere: pip install "moto[server]".
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { freePort } from '../free-port';

export interface Moto {
  readonly url: string;
  stop(): Promise<void>;
}

/** Kills a child in its own process group if the playground exits without stopping it. */
export function killOnExit(proc: ChildProcess): void {
  const kill = () => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
  };
  process.once('exit', kill);
  proc.once('exit', () => process.removeListener('exit', kill));
}

/** Stops a child process: SIGTERM, then SIGKILL after `graceMs`. */
export async function stopProcess(proc: ChildProcess, graceMs = 3000): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise((resolve) => proc.once('exit', resolve));
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise((resolve) => {
    timer = setTimeout(resolve, graceMs);
  });
  proc.kill('SIGTERM');
  await Promise.race([exited, deadline]);
  clearTimeout(timer);
  if (proc.exitCode === null && proc.signalCode === null) {
    proc.kill('SIGKILL');
    await exited;
  }
}

export async function startMoto(): Promise<Moto> {
  const port = await freePort();
  const proc = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], {
    stdio: ['ignore', 'ignore', 'pipe'],
    // Its own process group: Ctrl-C reaches the playground, which stops it in order.
    detached: true,
  });
  killOnExit(proc);
  let stderr = '';
  proc.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-2000);
  });
  let failed: Error | undefined;
  proc.once('error', (e) => {
    failed = e;
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if ((failed as NodeJS.ErrnoException | undefined)?.code === 'ENOENT')
      throw new Error('moto_server not found: install it with pip install "moto[server]"');
    if (failed) throw new Error(`moto_server could not start: ${failed.message}`);
    if (proc.exitCode !== null) throw new Error(`moto_server exited with ${proc.exitCode}: ${stderr}`);
    try {
      const res = await fetch(`${url}/moto-api/`, { headers: { connection: 'close' } });
      await res.arrayBuffer();
      if (res.ok) return { url, stop: () => stopProcess(proc) };
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  await stopProcess(proc);
  throw new Error(`moto_server did not answer on ${url} within 30 s: ${stderr}`);
}
