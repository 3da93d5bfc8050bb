import { Match, Template } from 'aws-cdk-lib/assertions';
import { buildStacks, config, demoInput, demoStacks } from '../helpers/test-app';

const stacks = demoStacks();
const ops = Template.fromStack(stacks.operations as never);
const service = Template.fromStack(stacks.services[0].service as never);

interface State {
  Type: string;
  Next?: string;
  Resource?: string;
  Retry?: { ErrorEquals: string[]; MaxAttempts: number }[];
  Catch?: { ErrorEquals: string[]; Next: string }[];
  Parameters?: Record<string, unknown>;
  TimeoutSeconds?: number;
  Choices?: unknown[];
  Default?: string;
}

/** The state machine definition, with CloudFormation tokens replaced by placeholders. */
function definition(): { StartAt: string; States: Record<string, State>; TimeoutSeconds: number } {
  const [machine] = Object.values(ops.findResources('AWS::StepFunctions::StateMachine'));
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
    const phase1 = buildStacks(config(input));
    expect(phase1.services[0].service?.bulkMigration).toBeUndefined();
    expect(phase1.operations?.cutovers).toEqual([]);
    Template.fromStack(phase1.operations as never).resourceCountIs('AWS::StepFunctions::StateMachine', 0);
  });
});

describe('phase 2: the cutover state machine', () => {
  const def = definition();
  const states = def.States;

  it('is named for the CLI, logs everything, traces, and times out after the task timeout plus 30 minutes', () => {
    ops.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineName: 'demo-users-cutover',
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: Match.objectLike({ Level: 'ALL', IncludeExecutionData: true }),
    });
    expect(def.TimeoutSeconds).toBe((120 + 30) * 60);
  });

  it('checks the confirmation, routing, cutover state and alarms before running anything', () => {
    expect(def.StartAt).toBe('ConfirmedService?');
    expect(states['ConfirmedService?'].Default).toBe('NotifyRefusedConfirmation');
    expect(states['RoutingAll?'].Default).toBe('NotifyRefusedRouting');
    expect(states['NotYetCompleted?'].Default).toBe('NotifyRefusedAlreadyDone');
    expect(states['NoAlarm?'].Default).toBe('NotifyRefusedAlarm');
    expect(states.ReadAlarms.Parameters).toEqual({
      AlarmNames: ['demo-users-5xx-rate', 'demo-users-p99-latency', 'demo-users-unhealthy-tasks'],
      StateValue: 'ALARM',
    });
    expect(JSON.stringify(states['ConfirmedService?'].Choices)).toContain('"StringEquals":"users"');
  });

  it('runs the task to the end with a timeout, never retrying it, and fails without touching flags', () => {
    const run = states.RunBulkMigration;
    expect(run.Resource).toContain(':states:::ecs:runTask.sync');
    expect(run.TimeoutSeconds).toBe(120 * 60);
    expect(run.Retry).toBeUndefined();
    expect(run.Catch).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'NotifyFailed' }]);
    expect(states['ExitedZero?'].Default).toBe('NotifyFailed');
    expect(states.NotifyFailed.Next).toBe('MigrationFailed');
    expect(states.MigrationFailed.Type).toBe('Fail');
  });

  it('records the cutover document only after the task exited 0, then notifies', () => {
    expect(JSON.stringify(states['ExitedZero?'].Choices)).toContain('"Next":"ComposeCutover"');
    expect(states.ComposeCutover.Next).toBe('RecordCutover');
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
    expect(states.RecordCutover.Next).toBe('NotifyCompleted');
  });

  it('retries only the idempotent steps', () => {
    const retried = Object.entries(states)
      .filter(([, s]) => s.Retry)
      .map(([name]) => name)
      .sort();
    expect(retried).toEqual(['ReadAlarms', 'ReadCutover', 'ReadRouting', 'RecordCutover']);
  });

  it('may write exactly the cutover parameter and read exactly the flags and alarms it checks', () => {
    const [policy] = Object.entries(ops.findResources('AWS::IAM::Policy')).filter(([id]) =>
      id.startsWith('UsersCutover'),
    );
    const statements: { Action: string | string[]; Resource: unknown }[] =
      policy[1].Properties.PolicyDocument.Statement;
    const byAction = (action: string) => statements.find((s) => s.Action === action)?.Resource;
    expect(JSON.stringify(byAction('ssm:putParameter'))).toMatch(
      /parameter\/demo\/migration\/users\/cutover"\]\]\}$/,
    );
    expect(JSON.stringify(byAction('ssm:getParameter'))).toMatch(
      /users\/routing.*users\/cutover|users\/cutover.*users\/routing/,
    );
    expect(JSON.stringify(byAction('cloudwatch:describeAlarms'))).toContain(':alarm:demo-users-5xx-rate');
    // The notifications go to a topic under its own key: the state machine needs the key too.
    const kms = statements.find((s) => JSON.stringify(s.Action).includes('kms:GenerateDataKey'));
    expect(kms?.Resource).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^AlertsKey/), 'Arn'] });
  });
});
