/**
 * cdk-nag AwsSolutions, as `cdk synth` runs it (addNagChecks). That the demo has no unacknowledged
 * finding in any phase or mode is checked with CloudFormation Validate in validation.cases.ts, over the
 * same apps; here, that a finding fails the synthesis and is reported with its construct path.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Stack } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { addNagChecks } from '../../lib/app';
import { testApp } from '../helpers/test-app';

describe('cdk-nag AwsSolutions over the whole app', () => {
  it('fails the synth on an unacknowledged finding (the check can fail)', () => {
    const outdir = mkdtempSync(join(tmpdir(), 'nag-'));
    const app = testApp({ outdir });
    new s3.Bucket(new Stack(app, 'Probe'), 'Unchecked');
    addNagChecks(app);
    expect(() => app.synth()).toThrow(/AwsSolutions-S10/);
    const report = readFileSync(join(outdir, 'validation-report.json'), 'utf8');
    expect(report).toContain('AwsSolutions-S10');
    expect(report).toContain('Probe/Unchecked/Resource');
  });
});
