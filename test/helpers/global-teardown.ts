/** Stops the moto_server started by global-setup.ts. */
export default async function globalTeardown(): Promise<void> {
  const proc = globalThis.__MOTO_PROCESS__;
  if (proc && proc.exitCode === null) {
    const exited = new Promise((resolve) => proc.once('exit', resolve));
    proc.kill('SIGTERM');
    // An unref'd timer: once moto has exited, nothing keeps jest's main process alive.
    await Promise.race([exited, new Promise((r) => setTimeout(r, 3000).unref())]);
    if (proc.exitCode === null) proc.kill('SIGKILL');
  }
}
