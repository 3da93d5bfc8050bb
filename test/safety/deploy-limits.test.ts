import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DeployLimitsCheck,
  estimatedJsonLength,
  estimatedLength,
  LIMITS,
  largest,
  limitViolations,
  measureTemplates,
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
          /^demo-60-operations: the template is \d+ bytes; CloudFormation accepts 1000000\. Split the stack, or fewer services per environment/,
        ),
      ],
      [
        'resources',
        'demo-60-operations: the template has 533 resources; a CloudFormation stack holds 500. Split the stack, or fewer services per environment (docs/decisions/0007, 0017)',
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

describe('IAM, EventBridge and Lambda limits, measured with ARNs resolved', () => {
  const arn = (i: number) => ({
    'Fn::Join': [
      '',
      [
        'arn:',
        { Ref: 'AWS::Partition' },
        ':ssm:',
        { Ref: 'AWS::Region' },
        ':',
        { Ref: 'AWS::AccountId' },
        `:parameter/p/s${i}/routing`,
      ],
    ],
  });
  const document = (n: number) => ({
    Version: '2012-10-17',
    Statement: [
      { Effect: 'Allow', Action: 'ssm:GetParameters', Resource: Array.from({ length: n }, (_, i) => arn(i)) },
    ],
  });

  it('resolves pseudo parameters at their longest and ignores whitespace', () => {
    // "arn:" + 10 + ":ssm:" + 14 + ":" + 12 + ":parameter/p/s0/routing"
    expect(estimatedLength(arn(0))).toBe(4 + 10 + 5 + 14 + 1 + 12 + ':parameter/p/s0/routing'.length);
    expect(estimatedJsonLength({ a: [1, 2], b: 'x' })).toBe('{"a":[1,2],"b":"x"}'.length);
  });

  it('measures managed policies, a role inline policies together, managed policies per role, and event patterns', () => {
    const text = template({
      Role: { Type: 'AWS::IAM::Role', Properties: { Policies: [{ PolicyDocument: document(80) }] } },
      Extra: {
        Type: 'AWS::IAM::Policy',
        Properties: { Roles: [{ Ref: 'Role' }], PolicyDocument: document(80) },
      },
      Small: {
        Type: 'AWS::IAM::Policy',
        Properties: { Roles: [{ Ref: 'Other' }], PolicyDocument: document(1) },
      },
      Managed: {
        Type: 'AWS::IAM::ManagedPolicy',
        Properties: { Roles: [{ Ref: 'Role' }], PolicyDocument: document(90) },
      },
      Rule: {
        Type: 'AWS::Events::Rule',
        Properties: {
          EventPattern: { detail: { name: Array.from({ length: 100 }, (_, i) => `/p/service${i}/routing`) } },
        },
      },
    });
    const m = measureTemplates({ s: text });
    const one = estimatedJsonLength(document(80));
    expect(largest(m.roleInlinePolicies)).toEqual({ stack: 's', id: 'Role', size: 2 * one });
    expect(largest(m.managedPolicies)).toEqual({
      stack: 's',
      id: 'Managed',
      size: estimatedJsonLength(document(90)),
    });
    expect(m.roleManagedPolicies).toContainEqual({ stack: 's', id: 'Role', size: 1 });
    expect(largest(m.eventPatterns)?.size).toBeGreaterThan(LIMITS.eventPatternChars);
    expect(limitViolations({ s: text }).map((v) => [v.rule, v.logicalId, v.message])).toEqual([
      [
        'managed-policy-size',
        'Managed',
        expect.stringMatching(
          /^s\/Managed: the managed policy takes about \d+ characters \(whitespace excluded, ARNs resolved\); IAM accepts 6144\. Grant on a name pattern/,
        ),
      ],
      [
        'role-inline-policies',
        'Role',
        `s/Role: the role's inline policies take about ${2 * one} characters together (whitespace excluded, ARNs resolved); IAM accepts 10240 per role. Grant on a name pattern (lib/patterns.ts) instead of one ARN per service`,
      ],
      [
        'event-pattern-size',
        'Rule',
        expect.stringMatching(
          /^s\/Rule: the event pattern takes about \d+ characters; EventBridge accepts 2048 by default\. Match a name prefix/,
        ),
      ],
    ]);
  });

  it('adds up the policies of a role across templates, and counts its managed policies', () => {
    const role = { 'Fn::GetStackOutput': { StackName: 'a', OutputName: 'RoleName' } };
    const policy = (n: number) => ({
      Type: 'AWS::IAM::Policy',
      Properties: { Roles: [role], PolicyDocument: document(n) },
    });
    const managed = {
      Type: 'AWS::IAM::ManagedPolicy',
      Properties: { Roles: [role], PolicyDocument: document(1) },
    };
    const texts = {
      b: template({
        P: policy(80),
        ...Object.fromEntries(Array.from({ length: 6 }, (_, i) => [`M${i}`, managed])),
      }),
      c: template({
        P: policy(80),
        ...Object.fromEntries(Array.from({ length: 5 }, (_, i) => [`M${i}`, managed])),
      }),
    };
    expect(limitViolations({ b: texts.b })).toEqual([]);
    expect(limitViolations(texts).map((v) => v.rule)).toEqual([
      'role-inline-policies',
      'role-managed-policies',
    ]);
    expect(largest(measureTemplates(texts).roleManagedPolicies)?.size).toBe(11);
  });

  it('adds up the rules of a security group across the stacks that add them, per direction', () => {
    const group = { 'Fn::GetStackOutput': { StackName: 'demo-20-legacy-data', OutputName: 'GroupId' } };
    const rules = (n: number, type: string) =>
      Object.fromEntries(
        Array.from({ length: n }, (_, i) => [`R${i}`, { Type: type, Properties: { GroupId: group } }]),
      );
    const texts = {
      a: template(rules(31, 'AWS::EC2::SecurityGroupIngress')),
      b: template({
        ...rules(30, 'AWS::EC2::SecurityGroupIngress'),
        E: { Type: 'AWS::EC2::SecurityGroupEgress', Properties: { GroupId: group } },
      }),
      c: template({ G: { Type: 'AWS::EC2::SecurityGroup', Properties: { SecurityGroupEgress: [{}, {}] } } }),
    };
    const m = measureTemplates(texts);
    expect(largest(m.securityGroupRules)).toEqual({
      stack: '',
      id: 'demo-20-legacy-data:GroupId ingress',
      size: 61,
    });
    expect(m.securityGroupRules).toContainEqual({ stack: '', id: 'c/G egress', size: 2 });
    expect(limitViolations(texts).map((v) => v.message)).toEqual([
      'demo-20-legacy-data:GroupId ingress: the security group has 61 inbound rules; a VPC allows 60 per direction by default. Raise the quota "Inbound or outbound rules per security group" (Service Quotas, VPC) before the deploy, or fewer services per environment',
    ]);
  });
});
