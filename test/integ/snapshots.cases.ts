import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { App } from 'aws-cdk-lib';
import { phase1, phase3Alb } from './cases';
import { integApp } from './integ-app';

/**
 * The committed snapshots of the integ tests (test/integ/integ.*.ts.snapshot), checked offline: each case
 * is synthesized here as integ-runner synthesizes it (no path or asset metadata, no version reporting)
 * but without bundling and CloudFormation Validate (cdk-nag runs), and its templates must equal the snapshot's with the 64-hex asset hashes and
 * the assertions' per-synth salt masked. A difference is a changed deploy: read it, then refresh the
 * snapshots with scripts/integ-snapshots.sh.
 */
const CASES: Record<string, (app: App) => unknown> = {
  'integ.phase1.ts': phase1,
  'integ.phase3-alb.ts': phase3Alb,
};

// biome-ignore lint/suspicious/noExplicitAny: CloudFormation templates are untyped JSON
function masked(template: any): any {
  return JSON.parse(
    JSON.stringify(template)
      .replace(/[0-9a-f]{64}/g, '[ASSET-HASH]')
      .replace(/"salt":"\d+"/g, '"salt":"[SALT]"'),
  );
}

function templatesIn(dir: string): Record<string, unknown> {
  return Object.fromEntries(
    readdirSync(dir)
      .filter((f) => f.endsWith('.template.json'))
      .map((f) => [f, masked(JSON.parse(readFileSync(join(dir, f), 'utf8')))]),
  );
}

describe.each(Object.entries(CASES))('integ test %s', (file, define) => {
  const snapshot = join(__dirname, `${file}.snapshot`);
  const outdir = mkdtempSync(join(tmpdir(), 'integ-'));
  const app = integApp({
    outdir,
    validate: false,
    context: {
      'aws:cdk:bundling-stacks': [],
      'aws:cdk:enable-path-metadata': false,
      'aws:cdk:enable-asset-metadata': false,
      'aws:cdk:version-reporting': false,
    },
  });

  it('synthesizes the committed snapshot (refresh: scripts/integ-snapshots.sh)', () => {
    define(app);
    app.synth();
    expect(templatesIn(outdir)).toEqual(templatesIn(snapshot));
    const integ = (dir: string) => JSON.parse(readFileSync(join(dir, 'integ.json'), 'utf8')).testCases;
    expect(integ(outdir)).toEqual(integ(snapshot));
  });
});
