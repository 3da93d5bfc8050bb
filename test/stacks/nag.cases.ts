import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { addNagChecks, buildMigrationApp } from '../../lib/app';
import { config, testApp } from '../helpers/test-app';

function synthWithNag(extra?: (stacks: ReturnType<typeof buildMigrationApp>) => void) {
  const outdir = mkdtempSync(join(tmpdir(), 'nag-'));
  const app = testApp({ outdir });
  const stacks = buildMigrationApp(app, config());
  extra?.(stacks);
  addNagChecks(app);
  const run = () => app.synth();
  return { run, outdir };
}

describe('cdk-nag AwsSolutions over the whole app', () => {
  it('has no unacknowledged finding', () => {
    const { run } = synthWithNag();
    expect(run).not.toThrow();
  });

  it('fails the synth on an unacknowledged finding (the check can fail)', () => {
    const { run, outdir } = synthWithNag((stacks) => new s3.Bucket(stacks.platform, 'Unchecked'));
    expect(run).toThrow(/AwsSolutions-S10/);
    const report = readFileSync(join(outdir, 'validation-report.json'), 'utf8');
    expect(report).toContain('AwsSolutions-S10');
    expect(report).toContain('demo-30-platform/Unchecked/Resource');
  });
});
