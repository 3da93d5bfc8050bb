import {
  CloudWatchClient,
  DescribeAlarmHistoryCommand,
  DescribeAlarmsCommand,
} from '@aws-sdk/client-cloudwatch';
import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import { DescribeExecutionCommand, ExecutionDoesNotExist, SFNClient } from '@aws-sdk/client-sfn';
import { GetParametersCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { lockDecision, postconditions, preconditions } from '../../lambda/cutover-steps/decide';
import { runStep, type StepDependencies, type StepEvent } from '../../lambda/cutover-steps/handler';
import type { FlagSet } from '../../lib/flags/invariants';
import { hookService, ready } from '../helpers/hooks';

const all: FlagSet = {
  routing: { mode: 'all', users: [], percent: 0 },
  cutover: { completed: false },
  gateway: { weight: 0 },
};

describe('the checks of a cutover run', () => {
  it('may start only with routing all, no cutover recorded and no alarm in ALARM', () => {
    expect(preconditions({ service: 'users', flags: all, inAlarm: [] })).toEqual({ ok: true });
    expect(
      preconditions({
        service: 'users',
        flags: { ...all, routing: { ...all.routing, mode: 'percent' } },
        inAlarm: [],
      }),
    ).toMatchObject({
      ok: false,
      error: 'RoutingNotAll',
      cause: expect.stringMatching(/npm run migrate -- route users all/),
    });
    expect(preconditions({ service: 'users', flags: all, inAlarm: ['demo-users-5xx-rate'] })).toMatchObject({
      ok: false,
      error: 'AlarmInAlarm',
    });
    expect(
      preconditions({
        service: 'users',
        flags: { ...all, cutover: { completed: true, completedAt: '2026-11-26T10:00:00Z', runId: 'r1' } },
        inAlarm: [],
      }),
    ).toMatchObject({ ok: false, error: 'AlreadyRecorded' });
  });

  it('records nothing when routing changed or an alarm went off during the migration, even if it is OK again', () => {
    const base = { service: 'users', flags: all, inAlarm: [], alarmedSinceStart: [] };
    expect(postconditions(base)).toEqual({ ok: true });
    expect(
      postconditions({ ...base, flags: { ...all, routing: { ...all.routing, mode: 'off' } } }),
    ).toMatchObject({
      ok: false,
      error: 'RoutingChanged',
      cause: expect.stringMatching(/changed to "off" during the bulk migration .*Nothing was recorded/),
    });
    expect(postconditions({ ...base, alarmedSinceStart: ['demo-users-p99-latency'] })).toMatchObject({
      ok: false,
      error: 'AlarmDuringMigration',
      cause: expect.stringMatching(/^demo-users-p99-latency went to ALARM during the bulk migration/),
    });
  });

  it('takes the lock only when it is free, its own, or held by a run that no longer runs', () => {
    expect(lockDecision('users', 'me', { held: false })).toEqual({ take: true });
    expect(lockDecision('users', 'me', { held: true, holder: 'me', holderStatus: 'RUNNING' })).toEqual({
      take: true,
    });
    expect(lockDecision('users', 'me', { held: true, holder: 'other', holderStatus: 'ABORTED' })).toEqual({
      take: true,
      from: 'other',
    });
    expect(
      lockDecision('users', 'me', { held: true, holder: 'other', holderStatus: 'RUNNING' }),
    ).toMatchObject({
      take: false,
      outcome: { ok: false, error: 'CutoverAlreadyRunning' },
    });
  });
});

describe('the cutover-steps handler', () => {
  const ddb = mockClient(DynamoDBClient);
  const cw = mockClient(CloudWatchClient);
  const sfnMock = mockClient(SFNClient);
  const ssmMock = mockClient(SSMClient);
  const deps: StepDependencies = {
    services: [hookService('/demo/migration', { phase: 2 })],
    lockTable: 'locks',
    ssm: new SSMClient({ region: 'eu-west-1' }),
    dynamodb: ready(new DynamoDBClient({ region: 'eu-west-1' })),
    cloudwatch: ready(new CloudWatchClient({ region: 'eu-west-1' })),
    sfn: ready(new SFNClient({ region: 'eu-west-1' })),
    logger: { log: () => {}, metric: () => {} },
  };
  const event = (step: StepEvent['step'], execution = 'arn:exec:me'): StepEvent => ({
    step,
    service: 'users',
    execution,
    startedAt: '2026-11-26T10:00:00.000Z',
  });
  const conflict = () => new ConditionalCheckFailedException({ message: 'conditional', $metadata: {} });

  beforeEach(() => {
    ddb.reset();
    cw.reset();
    sfnMock.reset();
    ssmMock.reset();
  });

  it('acquires a free lock with a conditional write', async () => {
    ddb.on(PutItemCommand).resolves({});
    await expect(runStep(event('acquire'), deps)).resolves.toEqual({ ok: true });
    expect(ddb).toHaveReceivedCommandWith(PutItemCommand, {
      TableName: 'locks',
      ConditionExpression: 'attribute_not_exists(service) OR holder = :me',
    });
  });

  it('refuses a second run while the holder runs', async () => {
    ddb.on(PutItemCommand).rejects(conflict());
    ddb.on(GetItemCommand).resolves({ Item: { service: { S: 'users' }, holder: { S: 'arn:exec:other' } } });
    sfnMock.on(DescribeExecutionCommand).resolves({ status: 'RUNNING' } as never);
    await expect(runStep(event('acquire'), deps)).resolves.toMatchObject({
      ok: false,
      error: 'CutoverAlreadyRunning',
    });
    expect(ddb).toHaveReceivedCommandTimes(PutItemCommand, 1);
  });

  it('takes over, compare-and-set, a lock left by a run that was stopped by hand', async () => {
    ddb
      .on(PutItemCommand, { ConditionExpression: 'attribute_not_exists(service) OR holder = :me' })
      .rejects(conflict());
    ddb.on(PutItemCommand, { ConditionExpression: 'holder = :stale' }).resolves({});
    ddb.on(GetItemCommand).resolves({ Item: { service: { S: 'users' }, holder: { S: 'arn:exec:stopped' } } });
    sfnMock.on(DescribeExecutionCommand).resolves({ status: 'ABORTED' } as never);
    await expect(runStep(event('acquire'), deps)).resolves.toEqual({ ok: true });
    expect(ddb).toHaveReceivedCommandWith(PutItemCommand, {
      ConditionExpression: 'holder = :stale',
      ExpressionAttributeValues: { ':stale': { S: 'arn:exec:stopped' } },
    });
  });

  it('loses a takeover race cleanly', async () => {
    ddb.on(PutItemCommand).rejects(conflict());
    ddb.on(GetItemCommand).resolves({ Item: { service: { S: 'users' }, holder: { S: 'arn:exec:gone' } } });
    sfnMock
      .on(DescribeExecutionCommand)
      .rejects(new ExecutionDoesNotExist({ message: 'gone', $metadata: {} }));
    await expect(runStep(event('acquire'), deps)).resolves.toMatchObject({
      ok: false,
      error: 'CutoverAlreadyRunning',
    });
  });

  it('releases only its own lock, and a release of a lock it does not hold is fine', async () => {
    ddb.on(DeleteItemCommand).rejects(conflict());
    await expect(runStep(event('release'), deps)).resolves.toEqual({ ok: true });
    expect(ddb).toHaveReceivedCommandWith(DeleteItemCommand, {
      ConditionExpression: 'holder = :me',
      ExpressionAttributeValues: { ':me': { S: 'arn:exec:me' } },
    });
  });

  it('after the migration, finds an alarm that went to ALARM and back to OK in the alarm history', async () => {
    ssmMock.on(GetParametersCommand).resolves({
      Parameters: [
        { Name: '/demo/migration/users/routing', Value: '{"mode":"all","users":[],"percent":0}' },
        { Name: '/demo/migration/users/cutover', Value: '{"completed":false}' },
      ],
    });
    cw.on(DescribeAlarmsCommand).resolves({ MetricAlarms: [] });
    cw.on(DescribeAlarmHistoryCommand).resolves({ AlarmHistoryItems: [] });
    cw.on(DescribeAlarmHistoryCommand, { AlarmName: 'demo-users-5xx-rate' }).resolves({
      AlarmHistoryItems: [
        {
          HistoryData: JSON.stringify({ oldState: { stateValue: 'ALARM' }, newState: { stateValue: 'OK' } }),
        },
        {
          HistoryData: JSON.stringify({ oldState: { stateValue: 'OK' }, newState: { stateValue: 'ALARM' } }),
        },
      ],
    });
    await expect(runStep(event('postcheck'), deps)).resolves.toMatchObject({
      ok: false,
      error: 'AlarmDuringMigration',
      cause: expect.stringMatching(/^demo-users-5xx-rate went to ALARM/),
    });
    expect(cw).toHaveReceivedCommandWith(DescribeAlarmHistoryCommand, {
      AlarmName: 'demo-users-5xx-rate',
      HistoryItemType: 'StateUpdate',
      StartDate: new Date('2026-11-26T10:00:00.000Z'),
    });
  });
});
