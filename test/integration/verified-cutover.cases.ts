/**
 * A verified point of no return (issue 22): the cutover records the point of no return only after the
 * service's verification proved that both databases agree. moto runs neither state machines nor ECS
 * tasks, so the synthesized cutover state machine is run here state by state (test/helpers/asl.ts), in the
 * order its definition gives: its ECS tasks (the bulk migration, the verification) as local processes of
 * the users service stand-in against PostgreSQL, its Lambda steps with the real handlers in process
 * (cutover-steps, the write-back function, the flag guard), its SSM write against moto.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { CreateTableCommand, DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import type { SFNClient } from '@aws-sdk/client-sfn';
import { GetParameterCommand, PutParameterCommand } from '@aws-sdk/client-ssm';
import { Template } from 'aws-cdk-lib/assertions';
import { runStep, type StepDependencies } from '../../lambda/cutover-steps/handler';
import { guard } from '../../lambda/flag-guard/handler';
import { cutoverStepsFunctionName, flagGuardFunctionName, writeBackFunctionName } from '../../lib/naming';
import { type AslMachine, definitionOf, type HistoryEvent, runMachine, TaskFailure } from '../helpers/asl';
import { ready } from '../helpers/hooks';
import { startWorld, type World } from '../helpers/migration-world';
import { motoClientConfig, REGION } from '../helpers/moto';
import { sql } from '../helpers/postgres';
import { buildStacks } from '../helpers/test-app';

// biome-ignore lint/suspicious/noExplicitAny: template and state data are arbitrary JSON
type Json = any;

const USERS = Array.from({ length: 20 }, (_v, i) => ({
  id: `u${i}`,
  email: `u${i}@example.com`,
  password: `pw-${i}`,
}));

let world: World;
let machine: AslMachine;
/** The bulk migration task definition's command, as synthesized. */
let taskCommand: string[] = [];
let dynamodb: DynamoDBClient;
let lockTable = '';
const notifications: string[] = [];

/** A CloudFormation reference in the definition, as text the dispatcher below recognizes. */
function tokenOf(reference: Json): string {
  if (reference.Ref) return `ref:${reference.Ref}`;
  if (reference['Fn::GetAtt']) return `getatt:${reference['Fn::GetAtt'][0]}`;
  if (reference['Fn::GetStackOutput']) return `output:${reference['Fn::GetStackOutput'].OutputName}`;
  return 'token';
}

beforeAll(async () => {
  world = await startWorld(USERS, 2);
  const built = buildStacks(world.config);
  // The service's operations stack holds its cutover state machine (decision 0017).
  const ops = Template.fromStack(built.services[0].operations as never);
  const [stateMachine] = Object.values(ops.findResources('AWS::StepFunctions::StateMachine'));
  machine = definitionOf(stateMachine.Properties.DefinitionString, tokenOf);
  const service = Template.fromStack(built.services[0].service as never);
  const task = Object.values(service.findResources('AWS::ECS::TaskDefinition')).find((t) =>
    t.Properties.ContainerDefinitions.some((c: Json) => c.Name === 'Migrate'),
  );
  taskCommand = task?.Properties.ContainerDefinitions[0].Command;
  dynamodb = new DynamoDBClient(motoClientConfig());
  lockTable = `locks-${randomBytes(4).toString('hex')}`;
  await dynamodb.send(
    new CreateTableCommand({
      TableName: lockTable,
      AttributeDefinitions: [{ AttributeName: 'service', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'service', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
}, 120_000);

afterAll(async () => {
  dynamodb?.destroy();
  await world?.close();
});

/** The users service image: its command (argv[0] is the image's binary) as a local process. */
function runContainer(
  command: readonly string[],
  env: Record<string, string>,
): { exitCode: number; output: string } {
  const bundle = process.env.USERS_SERVICE_COMMAND;
  if (!bundle) throw new Error('USERS_SERVICE_COMMAND is not set: run the tests through jest');
  const run = spawnSync(process.execPath, [bundle, ...command.slice(1)], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH, DB_URL: world.dbs.service, LEGACY_DB_URL: world.dbs.legacy, ...env },
  });
  return { exitCode: run.status ?? -1, output: `${run.stdout}${run.stderr}` };
}

/** Step Functions as the guard's run check sees this execution: running, with its history so far. */
function runningExecution(history: readonly HistoryEvent[]): SFNClient {
  return {
    send: async (command: { constructor: { name: string } }) =>
      command.constructor.name === 'DescribeExecutionCommand' ? { status: 'RUNNING' } : { events: history },
  } as unknown as SFNClient;
}

/** Runs the cutover state machine once, as `npm run migrate -- cutover users --confirm users` starts it. */
async function runCutover(image: { bug?: string }) {
  const name = `users-cutover-${randomBytes(3).toString('hex')}`;
  const execution = {
    name,
    arn: `arn:aws:states:${REGION}:123456789012:execution:${world.config.name}-users-cutover:${name}`,
    startTime: new Date().toISOString(),
  };
  const containers: string[] = [];
  const stepDeps: StepDependencies = {
    services: [world.hooks.service],
    lockTable,
    ssm: world.hooks.ssm,
    dynamodb: ready(dynamodb),
    // The emulator evaluates no alarm and keeps no alarm history: none is in ALARM, none went there.
    cloudwatch: ready({ send: async () => ({ MetricAlarms: [], AlarmHistoryItems: [] }) } as never),
    sfn: ready({ send: async () => ({ status: 'RUNNING' }) } as never),
    logger: { log: () => {}, metric: () => {} },
  };
  const writeBack = `:function:${writeBackFunctionName(world.config.name, 'users')}`;
  const steps = `:function:${cutoverStepsFunctionName(world.config.name)}`;
  const flagGuard = `:function:${flagGuardFunctionName(world.config.name)}`;
  const result = await runMachine(
    machine,
    { confirm: 'users', requestedBy: 'migrate cli' },
    execution,
    async (task) => {
      const { resource, parameters } = task;
      if (resource.includes(':states:::ecs:runTask.sync')) {
        const override = parameters.Overrides.ContainerOverrides[0];
        const env = Object.fromEntries(override.Environment.map((e: Json) => [e.Name, String(e.Value)]));
        // The image with the bug copies one user wrongly; the verification uses the same image.
        const run = runContainer(override.Command ?? taskCommand, {
          ...env,
          ...(image.bug ? { STANDIN_MIGRATION_BUG: image.bug } : {}),
        });
        containers.push(`${task.state}: ${run.output.trim()}`);
        return {
          Containers: [{ ExitCode: run.exitCode }],
          StoppedReason: 'Essential container in task exited',
        };
      }
      // The state machine (in the service's operations stack) invokes the hooks by their names.
      if (resource.endsWith(steps)) return runStep(parameters, stepDeps);
      if (resource.endsWith(flagGuard))
        return guard(parameters, { ...world.hooks.guardDeps, sfn: ready(runningExecution(task.history)) });
      if (resource.endsWith(writeBack)) return world.hooks.writeBack(parameters);
      if (resource.includes(':states:::aws-sdk:ssm:putParameter')) {
        const out = await world.hooks.ssm.send(new PutParameterCommand(parameters));
        return { Version: out.Version, Tier: out.Tier };
      }
      if (resource.includes(':states:::sns:publish')) {
        notifications.push(parameters.Subject);
        return { MessageId: 'm' };
      }
      throw new TaskFailure('States.TaskFailed', `no stand-in for ${resource}`);
    },
  );
  return { ...result, containers };
}

const cutoverDocument = async () =>
  JSON.parse(
    (await world.hooks.ssm.send(new GetParameterCommand({ Name: `${world.names.cutover}:last-good` })))
      .Parameter?.Value ?? '{}',
  );
const lockHolder = async () =>
  (await dynamodb.send(new GetItemCommand({ TableName: lockTable, Key: { service: { S: 'users' } } }))).Item;

describe('the cutover, run from its synthesized definition', () => {
  it('verifies after the migration and before recording, and its failure reaches the failure exit (the definition)', () => {
    const states = machine.States;
    /** Whether `to` can be reached from the start without passing `without`. */
    const reachableWithout = (to: string, without: string) => {
      const seen = new Set<string>();
      const visit = (n: string | undefined): void => {
        if (!n || n === without || seen.has(n)) return;
        seen.add(n);
        const st: Json = states[n];
        visit(st.Next);
        visit(st.Default);
        for (const c of st.Choices ?? []) visit(c.Next);
        for (const c of st.Catch ?? []) visit(c.Next);
      };
      visit(machine.StartAt);
      return seen.has(to);
    };
    expect(reachableWithout('RecordCutover', 'RunVerification')).toBe(false);
    expect(reachableWithout('RecordCutover', 'Verified?')).toBe(false);
    expect(reachableWithout('RunVerification', 'RunBulkMigration')).toBe(false);
    expect(reachableWithout('RunVerification', 'DrainWriteBack')).toBe(false);
    // A verification that did not pass goes to the one failure exit, and records nothing on the way.
    const fromFailure = new Set<string>();
    const walk = (n: string | undefined): void => {
      if (!n || fromFailure.has(n)) return;
      fromFailure.add(n);
      const st: Json = states[n];
      walk(st.Next);
      for (const c of st.Catch ?? []) walk(c.Next);
    };
    walk(states['Verified?'].Default);
    expect(fromFailure.has('CutoverFailed')).toBe(true);
    expect(fromFailure.has('RecordCutover')).toBe(false);
    expect(states.CutoverFailed.Type).toBe('Fail');
  });

  it('a migration with one corrupted row fails its verification and records nothing; fixed, the cutover is recorded', async () => {
    // Everyone on the service; some users import themselves and change things (pending write-back).
    expect((await world.cli('route', 'users', 'all')).code).toBe(0);
    await world.routedTo('u1', 'service');
    await world.request('PUT', '/api/users/u1', { email: 'one@example.com' });
    await world.request('PUT', '/api/users/u2/password', { password: 'two' });

    const failed = await runCutover({ bug: 'u7' });
    expect(failed).toMatchObject({ status: 'FAILED', error: 'VerificationFailed' });
    expect(failed.cause).toMatch(
      /^The verification of users failed \(exit code 1\): users: 1 of \d+ users differ: u7: differs .*\. Nothing was recorded\.$/,
    );
    // In the order of the definition: the migration, the write-back, the verification; nothing recorded.
    expect(failed.path).toEqual(
      expect.arrayContaining([
        'RunBulkMigration',
        'DrainWriteBack',
        'RunVerification',
        'ReadVerification',
        'Verified?',
      ]),
    );
    expect(failed.path.indexOf('RunBulkMigration')).toBeLessThan(failed.path.indexOf('DrainWriteBack'));
    expect(failed.path.indexOf('DrainWriteBack')).toBeLessThan(failed.path.indexOf('RunVerification'));
    expect(failed.path).not.toContain('RecordCutover');
    expect(await cutoverDocument()).toEqual({ completed: false });
    expect(await lockHolder()).toBeUndefined();
    expect(notifications.at(-1)).toBe('Cutover failed, point of no return not passed: users');
    // The write-back ran before the verification: u1's change made on the service is in the legacy database.
    expect(await sql(world.dbs.legacy, "SELECT email FROM users WHERE id = 'u1'")).toEqual([
      { email: 'one@example.com' },
    ]);

    // Fixed (an image without the bug, whose migration repairs what differs): the cutover is recorded.
    const done = await runCutover({});
    expect({ status: done.status, error: done.error, cause: done.cause }).toEqual({
      status: 'SUCCEEDED',
      error: undefined,
      cause: undefined,
    });
    expect(done.path.indexOf('RunVerification')).toBeLessThan(done.path.indexOf('RecordCutover'));
    expect(done.containers.find((c) => c.startsWith('RunVerification'))).toMatch(/users: 20 users agree/);
    expect(await cutoverDocument()).toMatchObject({ completed: true });
    expect(await lockHolder()).toBeUndefined();
    expect(notifications.at(-1)).toBe('Cutover completed: point of no return passed: users');
    // From now on the write-back applies nothing.
    expect(await world.hooks.writeBack({ action: 'drain' })).toMatchObject({ status: 'stopped' });
  });
});
