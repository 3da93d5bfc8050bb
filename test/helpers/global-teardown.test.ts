/**
 * Jest sets its exit code only after the global teardown returns. This runs the teardown the way
 * jest's main process does (moto unref'd, nothing else on the event loop) and checks that the code
 * after it still runs: if it did not, a failing suite would exit 0 and CI would pass it.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSync } from 'esbuild';

test('the teardown stops moto and lets jest set its exit code afterwards', () => {
  const bundle = join(mkdtempSync(join(tmpdir(), 'teardown-')), 'teardown.cjs');
  buildSync({
    entryPoints: [join(__dirname, 'global-teardown.ts')],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    outfile: bundle,
    logLevel: 'error',
  });
  const script = `
    const { spawn } = require('node:child_process');
    const moto = spawn('sleep', ['30'], { stdio: 'ignore' });
    moto.unref();
    globalThis.__MOTO_PROCESS__ = moto;
    require(${JSON.stringify(bundle)}).default().then(() => {
      console.log('after teardown: moto ' + (moto.signalCode ?? moto.exitCode));
      process.exitCode = 3;
    });`;
  const run = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 10_000 });
  expect(run.stdout.trim()).toBe('after teardown: moto SIGTERM');
  expect(run.status).toBe(3);
});
