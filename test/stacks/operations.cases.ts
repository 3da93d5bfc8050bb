import { Match, Template } from 'aws-cdk-lib/assertions';
import type { MigrationStacks } from '../../lib/app';
import { PUBLISHED_METRICS } from '../../lib/constructs/migration-metrics';
import { rollbackAlarmNames } from '../../lib/hooks/contract';
import { gatewayStackName } from '../../lib/naming';
import { albMode, demoInput, demoParameterArn, demoStacks, sharedStacks } from '../helpers/test-app';

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

const stacks = demoStacks();
const ops = Template.fromStack(stacks.operations as never);
/** The service's operations stack: its alarms, dashboard and cutover (decision 0017). */
const usersOps = Template.fromStack(stacks.services[0].operations as never);
/**
 * The environment's and every service's operations stacks of an app, as one template (logical ids
 * prefixed by their stack): the alarms are spread over them (decision 0017).
 */
const allOpsOf = (built: MigrationStacks) =>
  Template.fromJSON({
    Resources: Object.assign(
      {},
      ...[built.operations, ...built.services.map((s) => s.operations)].flatMap((stack) =>
        stack
          ? [
              Object.fromEntries(
                Object.entries(Template.fromStack(stack).toJSON().Resources as object).map(([id, r]) => [
                  `${stack.stackName}/${id}`,
                  r,
                ]),
              ),
            ]
          : [],
      ),
    ),
  });
/** The operations stack of the first service of a variant. */
const serviceOpsOf = (input: unknown) =>
  Template.fromStack(sharedStacks(input).services[0].operations as never);
/** The ARN of a parameter pattern: that kind of every service (lib/patterns.ts). */
const every = (kind: string) => demoParameterArn(kind, '*');

function functionNamed(prefix: string) {
  const found = Object.entries(ops.findResources('AWS::Lambda::Function')).find(([k]) =>
    k.startsWith(prefix),
  );
  if (!found) throw new Error(`no function ${prefix}`);
  return { id: found[0], fn: found[1] };
}

/** The SSM statements of a hook's role policy. */
function ssmStatements(rolePrefix: string) {
  const [policy] = Object.entries(ops.findResources('AWS::IAM::Policy')).filter(([id]) =>
    id.startsWith(rolePrefix),
  );
  return policy[1].Properties.PolicyDocument.Statement.filter((s: { Action: unknown }) =>
    JSON.stringify(s.Action).includes('ssm:'),
  );
}

describe('hook functions', () => {
  it.each(['FlagGuard', 'AutoRollback'])(
    '%s runs on Node.js 24 / ARM64 with JSON logs to its own retained log group',
    (name) => {
      const { fn } = functionNamed(name);
      expect(fn.Properties).toMatchObject({
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        Handler: 'index.handler',
        Timeout: 30,
        LoggingConfig: {
          LogFormat: 'JSON',
          // Lines below INFO dropped by Lambda (decision 0011).
          ApplicationLogLevel: 'INFO',
          SystemLogLevel: 'INFO',
          LogGroup: { Ref: expect.stringMatching(new RegExp(`^${name}Logs`)) },
        },
        Environment: { Variables: { MIGRATION_HOOK_CONFIG: expect.anything() } },
      });
      // No source maps at run time (docs/decisions/0009): nothing slows the cold start.
      expect(fn.Properties.Environment.Variables).not.toHaveProperty('NODE_OPTIONS');
      ops.hasResource('AWS::Logs::LogGroup', {
        Properties: { RetentionInDays: 365 },
        DeletionPolicy: 'Retain',
      });
    },
  );

  it('tells the hooks the services in a compact form that does not grow with their parameters', () => {
    const { fn } = functionNamed('FlagGuard');
    const text = JSON.stringify(fn.Properties.Environment.Variables.MIGRATION_HOOK_CONFIG);
    // The topic ARN and the states ARN prefix are tokens: the variable is a join around them.
    expect(text).toContain(
      '\\"envName\\":\\"demo\\",\\"parameterPrefix\\":\\"/demo/migration\\",\\"tier\\":\\"standard\\"',
    );
    expect(text).toContain(
      '\\"services\\":[{\\"name\\":\\"users\\",\\"phase\\":3,\\"gateway\\":\\"krakend\\",\\"writeBack\\":true}]',
    );
    // Names are derived by the hooks with the shared naming functions, not listed.
    expect(text).not.toContain('/demo/migration/users/routing');
  });

  it("tells the guard the automatic rollback's role, whose writes alone it leaves to the rollback", () => {
    const { fn } = functionNamed('FlagGuard');
    const role = Object.keys(ops.findResources('AWS::IAM::Role')).find((id) =>
      id.startsWith('AutoRollbackRole'),
    );
    expect(fn.Properties.Environment.Variables.MIGRATION_AUTO_ROLLBACK_ROLE).toEqual({ Ref: role });
    expect(functionNamed('AutoRollback').fn.Properties.Environment.Variables).not.toHaveProperty(
      'MIGRATION_AUTO_ROLLBACK_ROLE',
    );
  });

  it('tells the hooks the deploy-time marker of a recorded cutover', () => {
    const input = demoInput();
    input.services[0].cutoverRecorded = {
      runId: 'users-cutover-20261126T100000',
      completedAt: '2026-11-26T10:00:00Z',
    };
    const fn = Object.entries(
      Template.fromStack(sharedStacks(input).operations as never).findResources('AWS::Lambda::Function'),
    ).find(([id]) => id.startsWith('FlagGuard'))?.[1];
    expect(JSON.stringify(fn?.Properties.Environment.Variables.MIGRATION_HOOK_CONFIG)).toContain(
      '\\"cutoverRecorded\\":{\\"runId\\":\\"users-cutover-20261126T100000\\",\\"completedAt\\":\\"2026-11-26T10:00:00Z\\"}',
    );
  });

  it('names the flag guard for the CLI and the cutover state machine, which invoke it', () => {
    expect(functionNamed('FlagGuard').fn.Properties.FunctionName).toBe('demo-flag-guard');
  });

  it('grants the flag guard its SSM actions on the flags, its record and the override of every service, and nothing more', () => {
    expect(ssmStatements('FlagGuardRole')).toEqual([
      {
        Action: [
          'ssm:GetParameter',
          'ssm:GetParameterHistory',
          'ssm:GetParameters',
          'ssm:LabelParameterVersion',
          'ssm:PutParameter',
        ],
        Effect: 'Allow',
        Resource: [every('cutover'), every('gateway'), every('routing')],
      },
      { Action: ['ssm:GetParameters', 'ssm:PutParameter'], Effect: 'Allow', Resource: every('guard/*') },
      // The emergency override is checked and labelled, never written.
      {
        Action: ['ssm:GetParameterHistory', 'ssm:GetParameters', 'ssm:LabelParameterVersion'],
        Effect: 'Allow',
        Resource: every('override'),
      },
    ]);
  });

  it('lets the auto-rollback read the checked flags and write only routing and gateway (never a guard record)', () => {
    expect(ssmStatements('AutoRollbackRole')).toEqual([
      {
        Action: 'ssm:GetParameters',
        Effect: 'Allow',
        Resource: [every('cutover'), every('gateway'), every('override'), every('routing')],
      },
      { Action: 'ssm:PutParameter', Effect: 'Allow', Resource: [every('gateway'), every('routing')] },
      // `<prefix>/*/routing` matches `<prefix>/users/guard/routing` too (IAM's * crosses /).
      { Action: 'ssm:PutParameter', Effect: 'Deny', Resource: every('guard/*') },
    ]);
  });

  it('has no wildcard resource in any hook policy but the patterns of this environment', () => {
    const statements = Object.entries(ops.findResources('AWS::IAM::Policy'))
      .filter(([id]) => /^(FlagGuard|AutoRollback)/.test(id))
      .flatMap(([, p]) => p.Properties.PolicyDocument.Statement);
    expect(statements.length).toBeGreaterThan(4);
    expect(
      statements.filter(
        (s) =>
          s.Resource === '*' ||
          (JSON.stringify(s.Resource).includes('parameter/') &&
            !JSON.stringify(s.Resource).includes('parameter/demo/migration/*/')),
      ),
    ).toEqual([]);
    // Step Functions: only the executions of this environment's cutover state machines, to verify a run.
    const states = statements.filter((s) => JSON.stringify(s.Action).includes('states:'));
    expect(states).toHaveLength(1);
    expect(JSON.stringify(states[0].Resource)).toContain(':execution:demo-*-cutover:*');
  });
});

describe('event rules', () => {
  it('sends every change of the flags and the override to the guard, with retries and a dead-letter queue', () => {
    ops.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.ssm'],
        'detail-type': ['Parameter Store Change'],
        detail: {
          // Patterns, so that the pattern's size is independent of the number of services (decision 0017).
          name: [
            { wildcard: '/demo/migration/*/routing' },
            { wildcard: '/demo/migration/*/cutover' },
            { wildcard: '/demo/migration/*/gateway' },
            { wildcard: '/demo/migration/*/override' },
          ],
          operation: ['Create', 'Update', 'Delete', 'LabelParameterVersion'],
        },
      },
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [functionNamed('FlagGuard').id, 'Arn'] },
          RetryPolicy: { MaximumRetryAttempts: 4, MaximumEventAgeInSeconds: 7200 },
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^DeadLetters'), 'Arn'] } },
        }),
      ],
    });
  });

  it('re-checks every flag on a schedule: change events are best effort and a removed label emits none', () => {
    ops.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(5 minutes)',
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [functionNamed('FlagGuard').id, 'Arn'] } })],
    });
  });

  it('sends the rollback alarms going to ALARM to the auto-rollback, by name patterns that match no other alarm', () => {
    const patterns = [
      'demo-*-5xx-rate',
      'demo-*-p99-latency',
      'demo-*-unhealthy-hosts',
      'demo-*-unhealthy-tasks',
    ];
    ops.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.cloudwatch'],
        'detail-type': ['CloudWatch Alarm State Change'],
        detail: {
          alarmName: patterns.map((wildcard) => ({ wildcard })),
          state: { value: ['ALARM'] },
        },
      },
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [functionNamed('AutoRollback').id, 'Arn'] } })],
    });
    // EventBridge's wildcard: * matches any characters.
    const matches = (name: string) =>
      patterns.some((p) => new RegExp(`^${p.split('*').map(escapeRegExp).join('.*')}$`).test(name));
    const alarmNames = Object.values(ops.findResources('AWS::CloudWatch::Alarm')).map(
      (a) => a.Properties.AlarmName as string,
    );
    const rollback = [...rollbackAlarmNames('demo', { name: 'users', phase: 3, gateway: 'krakend' }).all];
    expect(rollback).toHaveLength(10);
    expect(rollback.filter((n) => !matches(n))).toEqual([]);
    // The write-back's, the proxy's flag age and the hooks' own alarms do not roll anything back.
    expect(alarmNames.filter((n) => !rollback.includes(n) && matches(n))).toEqual([]);
  });

  it('keeps dead letters encrypted for 14 days', () => {
    ops.hasResourceProperties('AWS::SQS::Queue', {
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 1209600,
    });
  });
});

describe('alarms and alerts', () => {
  it('alarms on the Service Connect 5xx rate, p99 latency and missing tasks with the configured thresholds', () => {
    usersOps.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'demo-users-5xx-rate',
      Threshold: 5,
      EvaluationPeriods: 3,
      ComparisonOperator: 'GreaterThanThreshold',
      Metrics: Match.arrayWith([
        Match.objectLike({ Expression: 'IF(requests > 0, 100 * errors / requests, 0)' }),
        Match.objectLike({
          Id: 'errors',
          MetricStat: Match.objectLike({
            Metric: {
              Namespace: 'AWS/ECS',
              MetricName: 'HTTPCode_Target_5XX_Count',
              Dimensions: [{ Name: 'TargetDiscoveryName', Value: 'users' }],
            },
          }),
        }),
      ]),
    });
    usersOps.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'demo-users-p99-latency',
      Threshold: 1500,
      ExtendedStatistic: 'p99',
      MetricName: 'TargetResponseTime',
    });
    usersOps.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'demo-users-unhealthy-tasks',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'breaching',
    });
  });

  it("alarms on the age of the routing proxy's flags, as the Maximum over the legacy tasks, never a rollback trigger", () => {
    usersOps.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'demo-users-proxy-flag-age',
      Namespace: 'StranglerMigration',
      MetricName: 'ProxyFlagAge',
      // Exactly the dimension the proxy emits (lib/proxy/metrics.ts flagAgeLine): no task id, so that
      // the statistic is taken over every task's datapoints.
      Dimensions: [{ Name: 'Service', Value: 'users' }],
      Statistic: 'Maximum',
      Period: 60,
      Threshold: 120,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
      AlarmActions: [Match.anyValue()],
      OKActions: [Match.anyValue()],
    });
    const rule = Object.values(ops.findResources('AWS::Events::Rule')).find((r) =>
      JSON.stringify(r.Properties.EventPattern ?? {}).includes('CloudWatch Alarm State Change'),
    );
    expect(JSON.stringify(rule?.Properties.EventPattern)).not.toContain('proxy-flag-age');
  });

  it('has no flag-age alarm when the monolith routes itself (no proxy publishes it)', () => {
    const input = demoInput();
    input.routing = { mode: 'in-app' };
    const names = Object.values(serviceOpsOf(input).findResources('AWS::CloudWatch::Alarm')).map(
      (a) => a.Properties.AlarmName,
    );
    expect(names).toContain('demo-users-5xx-rate');
    expect(names.filter((n: string) => n.includes('flag-age'))).toEqual([]);
  });

  it('admits CloudWatch alarms of this account to the topic and its key (a topic policy replaces the default)', () => {
    const [topicId] = Object.keys(ops.findResources('AWS::SNS::Topic'));
    ops.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Sid: 'CloudWatchAlarmsPublish',
            Effect: 'Allow',
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: 'sns:Publish',
            Resource: { Ref: topicId },
            Condition: {
              StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
              ArnLike: { 'aws:SourceArn': Match.objectLike({ 'Fn::Join': Match.anyValue() }) },
            },
          }),
        ]),
      },
    });
    ops.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Sid: 'CloudWatchAlarmsEncryptNotifications',
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
            Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
          }),
        ]),
      },
    });
  });

  it('sends a hook that throws to the dead-letter queue after two retries, and alarms on it', () => {
    const queue = Match.stringLikeRegexp('^DeadLetters');
    for (const hook of ['FlagGuard', 'AutoRollback']) {
      ops.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
        FunctionName: { Ref: functionNamed(hook).id },
        MaximumRetryAttempts: 2,
        DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [queue, 'Arn'] } } },
      });
    }
    ops.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'demo-hook-dead-letters',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Namespace: 'AWS/SQS',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queue, 'QueueName'] } }],
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
    });
  });

  it("alarms on every hook's errors and throttles, and on the malformed events the guard and rollback count", () => {
    const names = Object.values(ops.findResources('AWS::CloudWatch::Alarm')).map(
      (a) => a.Properties.AlarmName,
    );
    for (const hook of ['flag-guard', 'auto-rollback', 'cutover-steps', 'traffic-switch'])
      expect(names).toEqual(
        expect.arrayContaining([`demo-hook-${hook}-errors`, `demo-hook-${hook}-throttles`]),
      );
    ops.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'demo-hook-flag-guard-malformed-events',
      Namespace: 'StranglerMigration',
      MetricName: 'MalformedEvent',
      Dimensions: [{ Name: 'Hook', Value: 'flag-guard' }],
    });
    ops.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'demo-hook-flag-guard-errors',
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: functionNamed('FlagGuard').id } }],
      TreatMissingData: 'notBreaching',
    });
  });

  it('notifies the encrypted, TLS-only alert topic on ALARM and OK', () => {
    const [topicId] = Object.keys(ops.findResources('AWS::SNS::Topic'));
    ops.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    ops.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
    ops.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmActions: [{ Ref: topicId }],
      OKActions: [{ Ref: topicId }],
    });
    ops.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
  });

  it('subscribes the configured e-mail addresses', () => {
    const input = demoInput();
    input.notifications.emails = ['oncall@example.com'];
    Template.fromStack(sharedStacks(input).operations as never).hasResourceProperties(
      'AWS::SNS::Subscription',
      {
        Protocol: 'email',
        Endpoint: 'oncall@example.com',
      },
    );
  });
});

describe('policies for people', () => {
  const statements = (name: string) => {
    const policy = Object.values(ops.findResources('AWS::IAM::ManagedPolicy')).find(
      (p) => p.Properties.ManagedPolicyName === name,
    );
    if (!policy) throw new Error(`no managed policy ${name}`);
    return policy.Properties.PolicyDocument.Statement as {
      Sid: string;
      Effect: string;
      Action: unknown;
      Resource: unknown;
    }[];
  };
  const sid = (name: string, id: string) => {
    const found = statements(name).find((s) => s.Sid === id);
    if (!found) throw new Error(`no statement ${id}`);
    return found;
  };

  it('lets operators flip routing and gateway only, read everything, invoke the guard and run the cutover', () => {
    const operator = 'demo-migration-operator';
    expect(sid(operator, 'FlipRoutingAndGateway')).toMatchObject({
      Effect: 'Allow',
      Action: 'ssm:PutParameter',
      Resource: [every('gateway'), every('routing')],
    });
    expect(sid(operator, 'ReadFlags').Action).toEqual([
      'ssm:GetParameter',
      'ssm:GetParameterHistory',
      'ssm:GetParameters',
    ]);
    expect(sid(operator, 'CheckAWriteAtOnce')).toMatchObject({ Action: 'lambda:InvokeFunction' });
    expect(sid(operator, 'RunCutover').Action).toEqual(['states:ListExecutions', 'states:StartExecution']);
    expect(JSON.stringify(sid(operator, 'RunCutover').Resource)).toContain(':stateMachine:demo-*-cutover"');
  });

  it('lets operators read the ECS state the first route change and the first gateway weight are checked against, and only read it', () => {
    const operator = 'demo-migration-operator';
    expect(sid(operator, 'CheckCallerTasksResolveServices')).toMatchObject({
      Effect: 'Allow',
      Action: ['ecs:DescribeServices', 'ecs:DescribeTasks', 'ecs:ListTasks'],
    });
    const stacks = JSON.stringify(sid(operator, 'FindEcsServices'));
    expect(sid(operator, 'FindEcsServices').Action).toBe('cloudformation:ListStackResources');
    expect(stacks).toContain(':stack/demo-30-platform/*');
    expect(stacks).toContain(`:stack/${gatewayStackName('demo')}/*`);
    expect(stacks).toContain(':stack/demo-40-*-service/*');
  });

  it('lets operators ask the write-back function what is pending and drain it, by its name', () => {
    expect(sid('demo-migration-operator', 'WriteBackBeforeUsersLeave')).toMatchObject({
      Effect: 'Allow',
      Action: 'lambda:InvokeFunction',
      Resource: { 'Fn::Join': ['', expect.arrayContaining([':function:demo-*-write-back'])] },
    });
  });

  it('denies operators deleting, labelling and unlabelling, and writing live state, the record, the cutover or the override', () => {
    const operator = 'demo-migration-operator';
    expect(sid(operator, 'NeverDeleteOrLabel')).toMatchObject({
      Effect: 'Deny',
      Action: [
        'ssm:DeleteParameter',
        'ssm:DeleteParameters',
        'ssm:LabelParameterVersion',
        'ssm:UnlabelParameterVersion',
      ],
    });
    const denied = JSON.stringify(sid(operator, 'NeverWriteLiveStateRecordOrOverride'));
    for (const path of [
      '/demo/migration/*/live/*',
      '/demo/migration/*/guard/*',
      '/demo/migration/*/override',
      '/demo/migration/*/cutover',
    ])
      expect(denied).toContain(path);
  });

  it('lets the break-glass policy write and delete only the override', () => {
    expect(sid('demo-migration-break-glass', 'EmergencyOverride')).toMatchObject({
      Effect: 'Allow',
      Action: ['ssm:DeleteParameter', 'ssm:GetParameter', 'ssm:GetParameterHistory', 'ssm:PutParameter'],
      Resource: every('override'),
    });
  });
});

describe('the write-back of a service (docs/data-contract.md)', () => {
  it('alarms when a write waits too long and when the function fails, to the alert topic', () => {
    // The environment's alert topic, from its operations stack (the alarms are in the service's, 0017).
    const alerts = {
      'Fn::GetStackOutput': Match.objectLike({
        StackName: 'demo-60-operations',
        OutputName: Match.stringLikeRegexp('^PublishOutputRefAlerts'),
      }),
    };
    usersOps.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'demo-users-write-back-lag',
      Namespace: 'StranglerMigration',
      MetricName: 'WriteBackOldestPendingSeconds',
      Dimensions: [{ Name: 'Service', Value: 'users' }],
      Statistic: 'Maximum',
      Threshold: 600,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
      AlarmActions: [alerts],
      OKActions: [alerts],
    });
    usersOps.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'demo-users-write-back-errors',
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Dimensions: [{ Name: 'FunctionName', Value: 'demo-users-write-back' }],
      AlarmActions: [alerts],
    });
  });

  it('lets the flag guard and the automatic rollback invoke the write-back functions of the environment, by their names', () => {
    for (const role of ['FlagGuardRole', 'AutoRollbackRole']) {
      const [policy] = Object.entries(ops.findResources('AWS::IAM::Policy')).filter(([id]) =>
        id.startsWith(role),
      );
      expect(policy[1].Properties.PolicyDocument.Statement).toContainEqual({
        Effect: 'Allow',
        Action: 'lambda:InvokeFunction',
        Resource: { 'Fn::Join': ['', expect.arrayContaining([':function:demo-*-write-back'])] },
      });
    }
  });

  it('does not send its alarms to the automatic rollback: a lagging write-back is no reason to route back', () => {
    const [rule] = Object.values(ops.findResources('AWS::Events::Rule')).filter((r) =>
      JSON.stringify(r.Properties.EventPattern ?? {}).includes('CloudWatch Alarm State Change'),
    );
    expect(JSON.stringify(rule.Properties.EventPattern)).not.toContain('write-back');
  });
});

describe('without a migrating service', () => {
  it('has no operations stack', () => {
    const input = demoInput();
    input.services[0].phase = 0;
    expect(sharedStacks(input).operations).toBeUndefined();
  });
});

describe('dashboards', () => {
  const body = (name: string, template = ops) => {
    const dashboard = Object.values(template.findResources('AWS::CloudWatch::Dashboard')).find(
      (d) => d.Properties.DashboardName === name,
    );
    if (!dashboard) throw new Error(`no dashboard ${name}`);
    return JSON.stringify(dashboard.Properties.DashboardBody);
  };

  it('compares legacy and the service: requests, 5xx, p50/p99 latency, hosts, flag changes, alarms', () => {
    // In the service's operations stack, with its alarms (decision 0017).
    const users = body('demo-users-migration', usersOps);
    for (const text of [
      'Requests per minute: legacy vs users',
      '5xx per minute: legacy vs users',
      'Latency p50 and p99 (ms): legacy vs users',
      'Healthy legacy hosts vs running users tasks',
      'Flag restores and automatic rollbacks',
      '\\"AWS/ApplicationELB\\",\\"HTTPCode_Target_5XX_Count\\"',
      '\\"AWS/ECS\\",\\"HTTPCode_Target_5XX_Count\\",\\"TargetDiscoveryName\\",\\"users\\"',
      '\\"StranglerMigration\\",\\"FlagRestored\\",\\"Service\\",\\"users\\"',
      'p99Seconds * 1000',
      'RunningTaskCount',
      'AlarmsErrorRate',
    ]) {
      expect(users).toContain(text);
    }
  });

  it.each([
    ['proxy', 'StranglerMigration', 'Proxy5xx'],
    ['in-app', 'AWS/ECS', 'HTTPCode_Target_5XX_Count'],
  ])('shows at phase 1 with %s routing the traffic metrics the alarms watch', (mode, namespace, errors) => {
    const input = demoInput();
    input.services[0].phase = 1;
    input.routing = { mode };
    const template = serviceOpsOf(input);
    const alarm = Object.values(template.findResources('AWS::CloudWatch::Alarm')).find(
      (a) => a.Properties.AlarmName === 'demo-users-5xx-rate',
    );
    const alarmMetrics = (alarm?.Properties.Metrics ?? [])
      .filter((m: { MetricStat?: unknown }) => m.MetricStat)
      .map((m: { MetricStat: { Metric: { Namespace: string; MetricName: string } } }) => m.MetricStat.Metric);
    expect(alarmMetrics.map((m: { Namespace: string }) => m.Namespace)).toContain(namespace);
    const dashboard = Object.values(template.findResources('AWS::CloudWatch::Dashboard')).find(
      (d) => d.Properties.DashboardName === 'demo-users-migration',
    );
    const users = JSON.stringify(dashboard?.Properties.DashboardBody);
    for (const m of alarmMetrics) expect(users).toContain(`\\"${m.Namespace}\\",\\"${m.MetricName}\\"`);
    expect(users).toContain(`\\"${namespace}\\",\\"${errors}\\"`);
  });

  it('has one overview of the whole migration with every rollback alarm', () => {
    const overview = body('demo-migration');
    expect(overview).toContain('All rollback alarms');
    expect(overview).toContain('**users**: phase 3');
    // The services' alarms by name: they are in the services' operations stacks.
    expect(overview).toContain(':alarm:demo-users-unhealthy-tasks');
    expect(overview).toContain(':alarm:demo-users-5xx-rate');
    ops.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
  });
});

describe('every alarm watches a metric its publisher emits, with exactly those dimensions', () => {
  /** Namespace, metric and dimension names of every metric an alarm reads (single or in its math). */
  function watched(template: Template) {
    return Object.values(template.findResources('AWS::CloudWatch::Alarm')).flatMap((a) => {
      const p = a.Properties;
      const metrics: { Namespace: string; MetricName: string; Dimensions?: { Name: string }[] }[] =
        p.MetricName
          ? [p]
          : (p.Metrics ?? []).flatMap((m: { MetricStat?: { Metric: unknown } }) =>
              m.MetricStat ? [m.MetricStat.Metric] : [],
            );
      return metrics.map((m) => ({
        alarm: p.AlarmName as string,
        namespace: m.Namespace,
        metric: m.MetricName,
        dimensions: (m.Dimensions ?? []).map((d) => d.Name).sort(),
      }));
    });
  }
  const published = (w: ReturnType<typeof watched>[number]) =>
    PUBLISHED_METRICS.some(
      (p) =>
        p.namespace === w.namespace &&
        p.metric === w.metric &&
        p.dimensionSets.some((set) => JSON.stringify([...set].sort()) === JSON.stringify(w.dimensions)),
    );

  it.each([
    ['the demo (krakend at phase 3)', () => allOpsOf(stacks)],
    [
      'a service in alb mode and one at phase 2',
      () => {
        const input = demoInput();
        albMode(input.services[0]);
        input.services.push({
          ...demoInput().services[0],
          composites: [],
          name: 'orders',
          phase: 2,
          routes: [{ path: '/api/orders', methods: ['GET'], servicePath: '/v1/orders' }],
          bulkMigration: { command: ['/app/orders', 'migrate'], verify: ['/app/orders', 'verify'] },
        });
        return allOpsOf(sharedStacks(input));
      },
    ],
  ])('%s', (_name, template) => {
    const all = watched(template());
    expect(all.length).toBeGreaterThan(10);
    expect(all.filter((w) => !published(w))).toEqual([]);
  });

  it('alarms at the ALB on an alb-mode service, and on the gateway in krakend mode', () => {
    const names = (t: Template) =>
      Object.values(t.findResources('AWS::CloudWatch::Alarm')).map((a) => a.Properties.AlarmName);
    expect(names(allOpsOf(stacks))).toEqual(
      expect.arrayContaining([
        'demo-gateway-5xx-rate',
        'demo-gateway-p99-latency',
        'demo-gateway-unhealthy-hosts',
        'demo-gateway-unhealthy-tasks',
      ]),
    );
    expect(names(allOpsOf(stacks))).not.toContain('demo-users-alb-5xx-rate');
    const input = demoInput();
    albMode(input.services[0]);
    const alb = allOpsOf(sharedStacks(input));
    expect(names(alb)).toEqual(
      expect.arrayContaining([
        'demo-users-alb-5xx-rate',
        'demo-users-alb-p99-latency',
        'demo-users-alb-unhealthy-hosts',
      ]),
    );
    expect(names(alb)).not.toContain('demo-gateway-5xx-rate');
    // The ALB reports seconds: 1500 ms is 1.5.
    alb.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'demo-users-alb-p99-latency',
      Threshold: 1.5,
    });
  });

  it('sends the gateway alarms to the automatic rollback too', () => {
    const [rule] = Object.values(ops.findResources('AWS::Events::Rule')).filter(
      (r) => r.Properties.EventPattern?.detail?.alarmName,
    );
    const patterns: string[] = rule.Properties.EventPattern.detail.alarmName.map(
      (p: { wildcard: string }) => p.wildcard,
    );
    const gatewayAlarms = Object.values(ops.findResources('AWS::CloudWatch::Alarm'))
      .map((a) => a.Properties.AlarmName as string)
      .filter((n) => n.startsWith('demo-gateway-'));
    expect(gatewayAlarms).toHaveLength(4);
    expect(
      gatewayAlarms.filter(
        (n) => !patterns.some((p) => new RegExp(`^${p.split('*').map(escapeRegExp).join('.*')}$`).test(n)),
      ),
    ).toEqual([]);
  });
});
