import { isExpectedReport } from '../helpers/quiet-reports';

const report = (...findings: string[]) =>
  [
    'lib/app.ts:102:21',
    ...findings,
    '   demo-40-users-service aws-cdk-lib.Stack',
    '',
    'A copy of this report can be found in: /tmp/x/validation-report.json',
  ].join('\n');

describe('the quiet validation reports of the test suite', () => {
  it("hide a report of the demo's expected warning only", () => {
    expect(
      isExpectedReport(
        report(
          "WARNING users reads the legacy database with its master secret; set services[].legacyReadSecretArn to a read-only user's secret (Annotation)",
        ),
      ),
    ).toBe(true);
  });

  it('show a report with any other finding, an error, or no finding', () => {
    expect(isExpectedReport(report('WARNING something else (CloudFormation Validate)'))).toBe(false);
    expect(isExpectedReport(report('ERROR users reads the legacy database with its master secret; x'))).toBe(
      false,
    );
    expect(
      isExpectedReport(
        report('WARNING users reads the legacy database with its master secret; x', 'WARNING another one'),
      ),
    ).toBe(false);
    expect(isExpectedReport(report())).toBe(false);
    expect(isExpectedReport('WARNING users reads the legacy database with its master secret; x')).toBe(false);
  });
});
