import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DeployLimitsCheck,
  estimatedLength,
  LIMITS,
  templateLimitViolations,
} from '../../lib/safety/deploy-limits';

const template = (resources: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ Resources: resources, ...extra }, null, 1);
const queues = (n: number) =>
  Object.fromEntries(Array.from({ length: n }, (_, i) => [`Q${i}`, { Type: 'AWS::SQS::Queue' }]));

describe('CloudFormation and Lambda limits, checked on the written templates', () => {
  it('accepts a template within every limit', () => {
    expect(templateLimitViolations('s', template(queues(500)))).toEqual([]);
  });

  it('names the limit and the way out for each one broken', () => {
    const weights = Array.from({ length: 31 }, (_, i) => ({
      Type: 'AWS::ElasticLoadBalancingV2::ListenerRule',
      Properties: { A: `{{resolve:ssm:/p/${i}/a}}`, B: `{{resolve:ssm:/p/${i}/b}}` },
    }));
    const fn = {
      Type: 'AWS::Lambda::Function',
      Properties: {
        Environment: {
          Variables: { BIG: 'x'.repeat(3000), ARNS: { 'Fn::Join': ['', [{ Ref: 'A' }, 'y'.repeat(1000)]] } },
        },
      },
    };
    const text = template(
      { ...queues(501), ...Object.fromEntries(weights.map((w, i) => [`R${i}`, w])), Fn: fn },
      {
        Outputs: Object.fromEntries(Array.from({ length: 201 }, (_, i) => [`O${i}`, { Value: 'v' }])),
        Metadata: { pad: 'z'.repeat(LIMITS.templateBytes) },
      },
    );
    expect(templateLimitViolations('demo-60-operations', text).map((v) => [v.rule, v.message])).toEqual([
      [
        'template-size',
        expect.stringMatching(
          /^demo-60-operations: the template is \d+ bytes; CloudFormation accepts 1000000\. Fewer services/,
        ),
      ],
      [
        'resources',
        'demo-60-operations: the template has 533 resources; a CloudFormation stack holds 500. Fewer services per environment, or split the stack (docs/decisions/0007)',
      ],
      ['outputs', expect.stringContaining('201 outputs; a CloudFormation stack holds 200')],
      [
        'dynamic-references',
        expect.stringContaining(
          '62 dynamic references ({{resolve:...}}); CloudFormation resolves 60 per template',
        ),
      ],
      [
        'lambda-environment',
        expect.stringMatching(
          /^demo-60-operations\/Fn: its environment variables take about 41\d\d bytes; Lambda allows 4096/,
        ),
      ],
    ]);
  });

  it('counts an unresolved value as a long ARN', () => {
    expect(estimatedLength({ 'Fn::GetStackOutput': {} })).toBe(128);
    expect(estimatedLength({ 'Fn::Join': ['-', ['ab', { Ref: 'X' }]] })).toBe(2 + 128 + 1);
  });

  it('fails the validation as a plugin, with the template it read', () => {
    const dir = mkdtempSync(join(tmpdir(), 'limits-'));
    const path = join(dir, 'demo-40-users-service.template.json');
    writeFileSync(path, template(queues(501)));
    const report = new DeployLimitsCheck().validate({ templatePaths: [path] } as never);
    expect(report.success).toBe(false);
    expect(report.violations).toEqual([
      expect.objectContaining({
        ruleName: 'migration-limits/resources',
        violatingResources: [expect.objectContaining({ templatePath: path })],
      }),
    ]);
  });
});
