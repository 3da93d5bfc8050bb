/**
 * `npm run synth [-- cdk options]`: `cdk synth` of the app (the embedded demo unless `-c config=...`
 * is passed), every stack written to cdk.out, then a summary of the stacks in deploy order.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { formatSummary, summarize } from './synth-summary';

const args = process.argv.slice(2);
const outIndex = args.indexOf('--output');
const outdir = outIndex >= 0 ? args[outIndex + 1] : 'cdk.out';
const cdk = join(__dirname, '..', 'node_modules', '.bin', 'cdk');
const result = spawnSync(cdk, ['synth', '--quiet', ...args], { stdio: 'inherit' });
if (result.status !== 0) process.exit(result.status ?? 1);
console.log(`\n${formatSummary(summarize(outdir))}`);
