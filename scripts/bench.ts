/**
 * `npm run bench`: measures, in one run on this machine, what docs/performance.md reports, and prints a
 * table against the targets:
 * - synth time of the default app (bin/app.ts, Lambdas bundled) against the floor (an empty App + Stack);
 * - `npm test` wall time;
 * - each Lambda bundle's minified size and its cold import time against `node -e 0`;
 * - the flag evaluator's evaluations per second.
 * Times are medians of several runs. `--skip-tests` leaves out `npm test` (it takes most of the run).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { RoutingDocument } from '../lib/flags/documents';
import { routesToService } from '../lib/flags/evaluate';

const ROOT = join(__dirname, '..');
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');
const skipTests = process.argv.includes('--skip-tests');

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function timeMs(run: () => void, times: number): number {
  return median(
    Array.from({ length: times }, () => {
      const start = performance.now();
      run();
      return performance.now() - start;
    }),
  );
}

function runOrThrow(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): void {
  const result = spawnSync(cmd, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: 'ignore' });
  if (result.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited with ${result.status}`);
}

const work = mkdtempSync(join(tmpdir(), 'bench-'));
const floorScript = join(work, 'floor.ts');
writeFileSync(
  floorScript,
  `import { App, Stack } from '${join(ROOT, 'node_modules', 'aws-cdk-lib')}';\nconst app = new App();\nnew Stack(app, 'Floor');\napp.synth();\n`,
);

const rows: [string, string, string, string][] = [];
const row = (what: string, value: string, target: string, ok: boolean) =>
  rows.push([what, value, target, ok ? 'met' : 'MISSED']);

// Synthesis: the real app as the CDK CLI runs it (context from cdk.json, Lambdas bundled by esbuild).
const context = JSON.stringify(JSON.parse(readFileSync(join(ROOT, 'cdk.json'), 'utf8')).context);
let outdir = '';
const synthMs = timeMs(() => {
  // Inside the project, so that a bundle's imports of the AWS SDK (provided by the Lambda runtime) resolve
  // to node_modules as they would resolve to the runtime's copy.
  rmSync(outdir || join(work, 'none'), { recursive: true, force: true });
  outdir = mkdtempSync(join(ROOT, 'cdk.out.bench-'));
  runOrThrow(TSX, ['bin/app.ts'], { CDK_OUTDIR: outdir, CDK_CONTEXT_JSON: context });
}, 3);
const floorMs = timeMs(
  () => runOrThrow(TSX, [floorScript], { CDK_OUTDIR: mkdtempSync(join(work, 'floor-')) }),
  3,
);
row(
  'synth of the default app',
  `${(synthMs / 1000).toFixed(2)} s (floor ${(floorMs / 1000).toFixed(2)} s, ${(synthMs / floorMs).toFixed(2)}x)`,
  '<= 2.5x the floor',
  synthMs <= 2.5 * floorMs,
);

// Lambda bundles: the hooks' assets in the synthesized cloud assembly.
const nodeFloorMs = timeMs(() => execFileSync(process.execPath, ['-e', '0']), 7);
const bundles = readdirSync(outdir)
  .filter((d) => d.startsWith('asset.') && statSync(join(outdir, d)).isDirectory())
  .map((d) => join(outdir, d, 'index.mjs'))
  .filter((f) => {
    try {
      return statSync(f).isFile();
    } catch {
      return false;
    }
  });
for (const bundle of bundles) {
  const source = readFileSync(bundle, 'utf8');
  const hook = /MIGRATION_SWITCH_CONFIG/.test(source)
    ? 'traffic-switch'
    : /flag-guard/.test(source)
      ? 'flag-guard'
      : /auto-rollback/.test(source)
        ? 'auto-rollback'
        : bundle;
  const sizeKb = statSync(bundle).size / 1024;
  row(`${hook} bundle size`, `${sizeKb.toFixed(1)} KB`, '<= 400 KB', sizeKb <= 400);
  const importMs = timeMs(
    () =>
      execFileSync(
        process.execPath,
        ['--input-type=module', '-e', `await import(${JSON.stringify(`file://${bundle}`)})`],
        { cwd: ROOT },
      ),
    7,
  );
  row(
    `${hook} cold import`,
    `${importMs.toFixed(0)} ms (node -e 0: ${nodeFloorMs.toFixed(0)} ms, ${(importMs / nodeFloorMs).toFixed(2)}x)`,
    '<= 2x node',
    importMs <= 2 * nodeFloorMs,
  );
  // For the reader: how much of that is the AWS SDK v3 clients that the Lambda runtime provides.
  const sdk = [...new Set([...source.matchAll(/from"(@aws-sdk\/[^"]+)"/g)].map((m) => m[1]))];
  const sdkMs = timeMs(
    () =>
      execFileSync(
        process.execPath,
        ['--input-type=module', '-e', sdk.map((p) => `await import(${JSON.stringify(p)});`).join('')],
        { cwd: ROOT },
      ),
    7,
  );
  rows.push([
    `  of which the SDK clients (${sdk.map((p) => p.replace('@aws-sdk/client-', '')).join(', ')})`,
    `${sdkMs.toFixed(0)} ms`,
    'for information',
    '',
  ]);
}

// The flag evaluator, on the path that costs most: percent mode, which hashes.
const doc: RoutingDocument = { mode: 'percent', users: ['7', '42'], percent: 30 };
const ids = Array.from({ length: 100_000 }, (_, i) => String(1_000_000 + i));
let routed = 0;
const evalStart = performance.now();
const rounds = 20;
for (let r = 0; r < rounds; r++) for (const id of ids) if (routesToService(doc, 'users', id)) routed++;
const perSecond = (rounds * ids.length) / ((performance.now() - evalStart) / 1000);
row(
  'flag evaluations per second',
  `${(perSecond / 1e6).toFixed(2)} M/s (${routed} routed)`,
  '>= 1 M/s',
  perSecond >= 1e6,
);

if (!skipTests) {
  const testMs = timeMs(() => runOrThrow('npm', ['test', '--silent']), 1);
  row('npm test wall time', `${(testMs / 1000).toFixed(1)} s`, '<= 60 s on 2 cores', testMs <= 60_000);
}

rmSync(outdir, { recursive: true, force: true });

const header: [string, string, string, string] = ['measure', 'value', 'target', 'result'];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
console.log(
  `Machine: ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`,
);
console.log(line(header));
console.log(line(widths.map((w) => '-'.repeat(w))));
for (const r of rows) console.log(line(r));
