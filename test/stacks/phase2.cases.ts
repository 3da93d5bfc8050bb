import { Match, Template } from 'aws-cdk-lib/assertions';
import { hookServices } from '../../lib/hooks/contract';
import { demoInput, demoStacks, sharedStacks } from '../helpers/test-app';

const stacks = demoStacks();
const ops = Template.fromStack(stacks.operations as never);
/** The service's operations stack: its cutover state machine (decision 0017). */
const cutoverOps = Template.fromStack(stacks.services[0].operations as never);
const service = Template.fromStack(stacks.services[0].service as never);

interface State {
  Type: string;
  Next?: string;
  Resource?: string;
  Retry?: { ErrorEquals: string[]; MaxAttempts: number }[];
  Catch?: { ErrorEquals: string[]; Next: string }[];
  Parameters?: Record<string, unknown>;
  TimeoutSeconds?: number;
  Choices?: { Next: string }[];
  Default?: string;
}

/** The state machine definition, with CloudFormation tokens replaced by placeholders. */
function definition(): { StartAt: string; States: Record<string, State>; TimeoutSeconds: number } {
  const [machine] = Object.values(cutoverOps.findResources('AWS::StepFunctions::StateMachine'));
  const parts: unknown[] = machine.Properties.DefinitionString['Fn::Join'][1];
  return JSON.parse(parts.map((p) => (typeof p === 'string' ? p : 'TOKEN')).join(''));
}

describe('phase 2: the bulk migration task', () => {
  it('runs the service image with the configured command and the same database settings', () => {
    service.hasResourceProperties('AWS::ECS::TaskDefinition', {
      ContainerDefinitions: [
        Match.objectLike({
          Name: 'Migrate',
          Command: ['/app/users-service', 'migrate', '--bulk'],
          Environment: Match.arrayWith([
            { Name: 'DB_NAME', Value: 'users' },
            { Name: 'LEGACY_DB_NAME', Value: 'monolith' },
          ]),
          Secrets: Match.arrayWith([
            Match.objectLike({ Name: 'DB_PASSWORD' }),
            Match.objectLike({ Name: 'LEGACY_DB_PASSWORD' }),
          ]),
        }),
      ],
    });
  });

  it('does not exist below phase 2, nor does the cutover state machine', () => {
    const input = demoInput();
    input.services[0].phase = 1;
    const phase1 = sharedStacks(input);
    expect(phase1.services[0].service?.bulkMigration).toBeUndefined();
    expect(phase1.services[0].operations?.cutover).toBeUndefined();
    for (const stack of [phase1.operations, phase1.services[0].operations])
      Template.fromStack(stack as never).resourceCountIs('AWS::StepFunctions::StateMachine', 0);
  });
});

describe('phase 2: the cutover state machine', () => {
  const def = definition();
  const states = def.States;

  it('is named for the CLI, logs everything, traces, and times out after the migration and verification timeouts plus 30 minutes', () => {
    ops.resourceCountIs('AWS::StepFunctions::StateMachine', 0);
    cutoverOps.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineName: 'demo-users-cutover',
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: Match.objectLike({ Level: 'ALL', IncludeExecutionData: true }),
    });
    expect(def.TimeoutSeconds).toBe((2 * 120 + 30) * 60);
  });

  /** The states in order along the path of a successful run (a Choice's first branch is its success). */
  function successPath(): string[] {
    const path: string[] = [];
    let at: string | undefined = def.StartAt;
    while (at && !path.includes(at)) {
      path.push(at);
      const state: State = states[at];
      at = state.Type === 'Choice' ? state.Choices?.[0]?.Next : state.Next;
    }
    return path;
  }

  /** Every state reachable from `from`, by Next, Default, Choices and Catch. */
  function reachable(from: string, stopAt: string): Set<string> {
    const seen = new Set<string>();
    const visit = (name: string | undefined) => {
      if (!name || seen.has(name)) return;
      seen.add(name);
      if (name === stopAt) return;
      const st = states[name];
      visit(st.Next);
      visit(st.Default);
      for (const c of st.Choices ?? []) visit(c.Next);
      for (const c of st.Catch ?? []) visit(c.Next);
    };
    visit(from);
    return seen;
  }

  it('takes the lock first, checks, migrates, writes back, verifies, checks again, then records and has the guard accept it', () => {
    expect(successPath()).toEqual([
      'ConfirmedService?',
      'AcquireLock',
      'LockAcquired?',
      'PreCheck',
      'PreconditionsHold?',
      'RunBulkMigration',
      'ExitedZero?',
      'DrainWriteBack',
      'WrittenBack?',
      'RunVerification',
      'ReadVerification',
      'Verified?',
      'PostCheck',
      'NothingChanged?',
      'ComposeCutover',
      'RecordCutover',
      'ConfirmCutover',
      'Accepted?',
      'RecordedVersionChecked?',
      'ReleaseDone',
      'NotifyCompleted',
      'Done',
    ]);
    // The payload of a Lambda step (payloadResponseOnly: the state's Parameters are the event).
    const step = (name: string) => (states[name].Parameters as { step: string }).step;
    expect(['AcquireLock', 'PreCheck', 'PostCheck', 'ReleaseDone'].map(step)).toEqual([
      'acquire',
      'precheck',
      'postcheck',
      'release',
    ]);
    expect(JSON.stringify(states['ConfirmedService?'].Choices)).toContain('"StringEquals":"users"');
  });

  it('leaves every failure through the lock release and a notification, ending FAILED with what happened', () => {
    const fails = Object.entries(states).filter(([, st]) => st.Type === 'Fail');
    expect(fails.map(([name]) => name)).toEqual(['CutoverFailed']);
    expect(fails[0][1]).toMatchObject({ ErrorPath: '$.failure.error', CausePath: '$.failure.cause' });
    expect(states.ReleaseOnFailure.Next).toBe('NotifyFailed');
    expect(states.NotifyFailed.Next).toBe('CutoverFailed');
    // A failed release must not hide the failure.
    expect(states.ReleaseOnFailure.Catch).toEqual([
      { ErrorEquals: ['States.ALL'], ResultPath: '$.releaseError', Next: 'NotifyFailed' },
    ]);
    // From each branch that leaves the success path, the Fail state is only reached through the release.
    const exits = Object.entries(states).flatMap(([, st]) => [
      ...(st.Type === 'Choice' && st.Default ? [st.Default] : []),
      ...(st.Catch ?? []).map((c) => c.Next),
    ]);
    expect(exits.length).toBeGreaterThan(6);
    // After the point of no return a failed release or notification still ends the run SUCCEEDED, and a
    // failed notification of a failure ends it FAILED: those exits are past the release.
    const pastRelease = ['NotifyFailed', 'CutoverFailed', 'NotifyCompleted', 'Done'];
    for (const exit of exits.filter((e) => !pastRelease.includes(e))) {
      const before = reachable(exit, 'ReleaseOnFailure');
      expect({
        exit,
        reachesRelease: before.has('ReleaseOnFailure'),
        skipsIt: before.has('CutoverFailed'),
      }).toEqual({
        exit,
        reachesRelease: true,
        skipsIt: false,
      });
    }
  });

  it('every failure path of every state releases the lock and notifies', () => {
    type Rule = Record<string, unknown>;
    const edges = (st: State) => [
      st.Next,
      st.Default,
      ...(st.Choices ?? []).map((c) => c.Next),
      ...(st.Catch ?? []).map((c) => c.Next),
    ];
    const isRelease = (name: string) => (states[name].Parameters as { step?: string })?.step === 'release';
    const isNotify = (name: string) => String(states[name].Resource).includes(':sns:publish');
    /** The terminal states reachable from the start without passing a state that `skip` names. */
    const endsAvoiding = (skip: (name: string) => boolean) => {
      const seen = new Set<string>();
      const visit = (name: string | undefined) => {
        if (!name || seen.has(name) || skip(name)) return;
        seen.add(name);
        for (const next of edges(states[name])) visit(next);
      };
      visit(def.StartAt);
      return [...seen].filter((n) => ['Fail', 'Succeed'].includes(states[n].Type));
    };
    expect(Object.keys(states).filter(isRelease).sort()).toEqual(['ReleaseDone', 'ReleaseOnFailure']);
    expect(Object.keys(states).filter(isNotify).sort()).toEqual(['NotifyCompleted', 'NotifyFailed']);
    // No way from the start to an end, successful or not, that skips the release or the notification.
    expect(endsAvoiding(isRelease)).toEqual([]);
    expect(endsAvoiding(isNotify)).toEqual([]);
    // Every task catches every error it can raise (a task without a catch fails the run on the spot).
    const tasks = Object.entries(states).filter(([, st]) => st.Type === 'Task');
    expect(tasks.length).toBeGreaterThan(8);
    expect(
      tasks
        .filter(([, st]) => !(st.Catch ?? []).some((c) => c.ErrorEquals.includes('States.ALL')))
        .map(([name]) => name),
    ).toEqual([]);
    // Every Choice has a way out, and reads a path only where it checked it is present: a missing path
    // fails the run with States.Runtime, which no catch reaches.
    const choices = Object.entries(states).filter(([, st]) => st.Type === 'Choice');
    expect(choices.filter(([, st]) => !st.Default).map(([name]) => name)).toEqual([]);
    const unguarded: string[] = [];
    for (const [name, st] of choices) {
      for (const rule of (st.Choices ?? []) as Rule[]) {
        const guarded = new Set(
          ((rule.And as Rule[] | undefined) ?? [])
            .filter((c) => c.IsPresent === true)
            .map((c) => c.Variable as string),
        );
        const read: string[] = [];
        const walk = (c: Rule) => {
          for (const key of ['And', 'Or']) for (const x of (c[key] as Rule[] | undefined) ?? []) walk(x);
          if (c.Not) walk(c.Not as Rule);
          if (typeof c.Variable === 'string' && c.IsPresent === undefined) read.push(c.Variable);
          for (const [key, value] of Object.entries(c))
            if (key.endsWith('Path') && typeof value === 'string') read.push(value);
        };
        walk(rule);
        for (const path of read) if (!guarded.has(path)) unguarded.push(`${name}: ${path}`);
      }
    }
    expect(unguarded).toEqual([]);
  });

  it('runs the task definition by family to the end, with a timeout, never retrying it', () => {
    const run = states.RunBulkMigration;
    expect(run.Resource).toContain(':states:::ecs:runTask.sync');
    expect(run.TimeoutSeconds).toBe(120 * 60);
    expect(run.Retry).toBeUndefined();
    expect(run.Catch).toEqual([
      { ErrorEquals: ['States.ALL'], ResultPath: '$.caught', Next: 'MigrationFailed' },
    ]);
    // The family, a plain name: no revision (which changes on every service deploy) is pinned here.
    const family = stacks.services[0].service?.bulkMigration?.taskDefinition.family;
    expect(run.Parameters?.TaskDefinition).toBe(family);
    expect(family).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(states['ExitedZero?'].Default).toBe('MigrationFailed');
  });

  it('verifies after the migration and the write-back, with the watermark; a failed verification records nothing', () => {
    // The write-back's drain, by the function's conventional name, gives the watermark.
    expect(states.DrainWriteBack).toMatchObject({
      Resource: expect.anything(),
      Parameters: { action: 'drain', deadlineMs: 40000 },
      ResultPath: '$.writeBack',
    });
    expect(JSON.stringify(states.DrainWriteBack.Resource)).toContain(':function:demo-users-write-back');
    // The verification: the same task definition, the configured command, the run and the watermark.
    const verify = states.RunVerification;
    expect(verify.Resource).toContain(':states:::ecs:runTask.sync');
    expect(verify.Parameters?.TaskDefinition).toBe(states.RunBulkMigration.Parameters?.TaskDefinition);
    expect(verify.Retry).toBeUndefined();
    expect(verify.Parameters?.Overrides).toEqual({
      ContainerOverrides: [
        {
          Name: 'Migrate',
          Command: ['/app/users-service', 'migrate', '--verify'],
          Environment: [
            { Name: 'MIGRATION_RUN_ID', 'Value.$': '$$.Execution.Name' },
            { Name: 'MIGRATION_WRITE_BACK_APPLIED_THROUGH', 'Value.$': '$.writeBack.appliedThrough' },
          ],
        },
      ],
    });
    expect(states.ReadVerification.Parameters).toEqual({
      action: 'verification',
      'runId.$': '$$.Execution.Name',
    });
    // Only an exit code 0 and a verdict that passed go on (each read only once found present);
    // anything else fails the run, with the command's message when there is one.
    const present = (v: string) => ({ Variable: v, IsPresent: true });
    expect(states['Verified?'].Choices).toEqual([
      {
        And: [
          present('$.verification.task.exitCode'),
          present('$.verification.verdict.passed'),
          {
            And: [
              { Variable: '$.verification.task.exitCode', NumericEquals: 0 },
              { Variable: '$.verification.verdict.passed', BooleanEquals: true },
            ],
          },
        ],
        Next: 'PostCheck',
      },
      {
        And: [present('$.verification.task.exitCode'), present('$.verification.verdict.message')],
        Next: 'VerificationNotPassed',
      },
    ]);
    expect(states['Verified?'].Default).toBe('VerificationDidNotRun');
    expect(states['WrittenBack?'].Default).toBe('WriteBackUnreadable');
    expect(JSON.stringify(states.VerificationNotPassed.Parameters)).toContain(
      '$.verification.verdict.message',
    );
    for (const failure of [
      'VerificationNotPassed',
      'VerificationDidNotRun',
      'WriteBackFailed',
      'WriteBackUnreadable',
    ]) {
      const after = reachable(failure, 'CutoverFailed');
      expect([failure, after.has('CutoverFailed'), after.has('RecordCutover')]).toEqual([
        failure,
        true,
        false,
      ]);
    }
  });

  it('verifies from the exit code alone for a service without a write-back', () => {
    const input = demoInput();
    input.services[0].phase = 2;
    delete input.services[0].writeBack;
    const other = Template.fromStack(sharedStacks(input).services[0].operations as never);
    const [machine] = Object.values(other.findResources('AWS::StepFunctions::StateMachine'));
    const json = JSON.stringify(machine.Properties.DefinitionString);
    expect(json).toContain('RunVerification');
    expect(json).not.toContain('DrainWriteBack');
    expect(json).not.toContain('MIGRATION_WRITE_BACK_APPLIED_THROUGH');
  });

  it('records the cutover document only after the checks after the migration, and only the guard decides it', () => {
    expect(states['NothingChanged?'].Choices?.[1].Next).toBe('CheckFailed');
    expect(states['NothingChanged?'].Default).toBe('StepAnswerUnreadable');
    expect(states.RecordCutover.Parameters).toEqual({
      Name: '/demo/migration/users/cutover',
      Type: 'String',
      Overwrite: true,
      'Value.$': 'States.JsonToString($.cutoverDocument)',
    });
    expect(states.ComposeCutover.Parameters).toEqual({
      completed: true,
      'completedAt.$': '$$.State.EnteredTime',
      'runId.$': '$$.Execution.Name',
    });
    expect(states.ConfirmCutover.Parameters).toEqual({
      source: 'migration.cutover',
      'detail-type': 'Parameter Store Change',
      detail: { name: '/demo/migration/users/cutover', operation: 'Update' },
    });
    expect(JSON.stringify(states['RecordedVersionChecked?'].Choices)).toContain(
      '"Variable":"$.confirmed.version","NumericEqualsPath":"$.recorded.Version"',
    );
    expect(states['Accepted?'].Choices?.[1].Next).toBe('NotAccepted');
    expect(states['RecordedVersionChecked?'].Default).toBe('NotAccepted');
  });

  it('retries only the idempotent steps, never the migration', () => {
    const retried = Object.entries(states)
      .filter(([, st]) => st.Retry)
      .map(([name]) => name)
      .sort();
    expect(retried).not.toContain('RunBulkMigration');
    expect(retried).toContain('RecordCutover');
    // The Lambda steps retry only Lambda's own service errors (CDK's default), each idempotent; the
    // notifications retry any error (a second e-mail is better than none).
    const notifications = retried.filter((n) => n.startsWith('Notify'));
    expect(notifications).toEqual(['NotifyCompleted', 'NotifyFailed']);
    for (const name of retried.filter((n) => n !== 'RecordCutover' && !notifications.includes(n)))
      expect(JSON.stringify(states[name].Retry)).toContain('Lambda.ServiceException');
  });

  it('may write exactly the cutover parameter and run any revision of the migration family, on the cluster', () => {
    const [policy] = Object.entries(cutoverOps.findResources('AWS::IAM::Policy')).filter(([id]) =>
      id.startsWith('Cutover'),
    );
    const statements: { Action: string | string[]; Resource: unknown; Condition?: unknown }[] =
      policy[1].Properties.PolicyDocument.Statement;
    const byAction = (action: string) => statements.find((s) => s.Action === action);
    expect(JSON.stringify(byAction('ssm:putParameter')?.Resource)).toMatch(
      /parameter\/demo\/migration\/users\/cutover"\]\]\}$/,
    );
    const run = byAction('ecs:RunTask');
    expect(JSON.stringify(run?.Resource)).toContain(
      `:task-definition/${stacks.services[0].service?.bulkMigration?.taskDefinition.family}:*`,
    );
    expect(JSON.stringify(run?.Resource)).not.toContain('GetStackOutput');
    expect(run?.Condition).toEqual({ ArnEquals: { 'ecs:cluster': expect.anything() } });
    // The notifications go to a topic under its own key: the state machine needs the key too.
    const kms = statements.find((s) => JSON.stringify(s.Action).includes('kms:GenerateDataKey'));
    expect(kms?.Resource).toEqual({
      'Fn::GetStackOutput': expect.objectContaining({
        StackName: 'demo-60-operations',
        OutputName: expect.stringMatching(/AlertsKey/),
      }),
    });
  });

  it("lets the steps read every alarm the checks read: in krakend mode the gateway's too", () => {
    // What the hook asks CloudWatch about (its environment, as the operations stack writes it).
    const [hook] = hookServices({
      envName: 'demo',
      parameterPrefix: '/demo/migration',
      tier: 'standard',
      alertTopicArn: 'arn:aws:sns:eu-west-1:123456789012:alerts',
      statesArnPrefix: 'arn:aws:states:eu-west-1:123456789012:',
      services: [{ name: 'users', phase: 3, gateway: 'krakend' }],
    });
    expect(hook.alarmNames).toContain('demo-gateway-5xx-rate');
    const [policy] = Object.entries(ops.findResources('AWS::IAM::Policy')).filter(([id]) =>
      id.startsWith('CutoverStepsRole'),
    );
    const statement = policy[1].Properties.PolicyDocument.Statement.find(
      (s: { Action: unknown }) =>
        JSON.stringify(s.Action) === '["cloudwatch:DescribeAlarmHistory","cloudwatch:DescribeAlarms"]',
    );
    // Name patterns (lib/patterns.ts), so that the policy does not grow with services: IAM's * is any text.
    const patterns = [...JSON.stringify(statement?.Resource).matchAll(/:alarm:([^"]+)"/g)].map((m) => m[1]);
    expect(patterns).toEqual([
      'demo-*-5xx-rate',
      'demo-*-p99-latency',
      'demo-*-unhealthy-hosts',
      'demo-*-unhealthy-tasks',
    ]);
    const matched = (name: string) =>
      patterns.some((p) => new RegExp(`^${p.replaceAll('*', '.*')}$`).test(name));
    expect(hook.alarmNames.filter((name) => !matched(name))).toEqual([]);
  });

  it('has one lock table for the cutover runs, and a steps function that may use only it', () => {
    ops.resourceCountIs('AWS::DynamoDB::GlobalTable', 1);
    ops.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      KeySchema: [{ AttributeName: 'service', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
    });
  });
});
