/**
 * `npm run guard -- <old cdk.out> <new cdk.out>`: fails (exit 1) when the new synthesis would replace or
 * delete a stateful resource (database, its secret, a flag parameter, a bucket or log group holding data),
 * naming the property that forces it. Typical use in CI: synthesize main into one directory and the change
 * into another, then compare.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatChanges, statefulChanges, type Template } from '../lib/safety/stateful-guard';

function templates(dir: string): Record<string, Template> {
  if (!existsSync(join(dir, 'manifest.json'))) {
    console.error(`${dir} is not a cloud assembly (no manifest.json): pass two cdk.out directories`);
    process.exit(2);
  }
  const out: Record<string, Template> = {};
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.template.json'))) {
    out[file.replace(/\.template\.json$/, '')] = JSON.parse(readFileSync(join(dir, file), 'utf8'));
  }
  return out;
}

const [before, after] = process.argv.slice(2);
if (!before || !after) {
  console.error('usage: npm run guard -- <old cdk.out> <new cdk.out>');
  process.exit(2);
}
const changes = statefulChanges(templates(before), templates(after));
if (changes.length > 0) {
  console.error(`Stateful resources would be replaced or deleted:\n${formatChanges(changes)}`);
  process.exit(1);
}
console.log(`No stateful resource is replaced or deleted (${before} -> ${after}).`);
