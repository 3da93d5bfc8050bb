/**
 * The cutover lock against the emulator's DynamoDB and Step Functions: the conditional writes really
 * exclude a second run while the first runs, and a run stopped by hand does not block the next one.
 */

import { randomBytes } from 'node:crypto';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { CreateTableCommand, DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { CreateStateMachineCommand, StartExecutionCommand, StopExecutionCommand } from '@aws-sdk/client-sfn';
import { runStep, type StepDependencies } from '../../lambda/cutover-steps/handler';
import { hookService, ready } from '../helpers/hooks';
import { motoClientConfig, motoClients } from '../helpers/moto';

const { ssm, sfn } = motoClients();
const common = motoClientConfig();
const dynamodb = new DynamoDBClient(common);
const cloudwatch = new CloudWatchClient(common);
afterAll(() => {
  for (const c of [ssm, sfn, dynamodb, cloudwatch]) c.destroy();
});

async function setup() {
  const id = randomBytes(4).toString('hex');
  const lockTable = `locks-${id}`;
  await dynamodb.send(
    new CreateTableCommand({
      TableName: lockTable,
      AttributeDefinitions: [{ AttributeName: 'service', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'service', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  const machine = await sfn.send(
    new CreateStateMachineCommand({
      name: `demo-users-cutover-${id}`,
      definition: '{"StartAt":"Wait","States":{"Wait":{"Type":"Wait","Seconds":3600,"End":true}}}',
      roleArn: 'arn:aws:iam::123456789012:role/cutover',
    }),
  );
  const start = async () =>
    (await sfn.send(new StartExecutionCommand({ stateMachineArn: machine.stateMachineArn })))
      .executionArn as string;
  const deps: StepDependencies = {
    services: [hookService('/demo/migration', { phase: 2 })],
    lockTable,
    ssm,
    dynamodb: ready(dynamodb),
    cloudwatch: ready(cloudwatch),
    sfn: ready(sfn),
    logger: { log: () => {}, metric: () => {} },
  };
  const step = (step: 'acquire' | 'release', execution: string) =>
    runStep({ step, service: 'users', execution, startedAt: new Date().toISOString() }, deps);
  const holder = async () =>
    (await dynamodb.send(new GetItemCommand({ TableName: lockTable, Key: { service: { S: 'users' } } }))).Item
      ?.holder?.S;
  return { start, step, holder };
}

describe('the cutover lock', () => {
  it('lets one run at a time through, and the next one only after the first released it', async () => {
    const { start, step, holder } = await setup();
    const [first, second] = [await start(), await start()];
    await expect(step('acquire', first)).resolves.toEqual({ ok: true });
    await expect(step('acquire', first)).resolves.toEqual({ ok: true });
    await expect(step('acquire', second)).resolves.toMatchObject({
      ok: false,
      error: 'CutoverAlreadyRunning',
    });
    // A run that does not hold the lock cannot release it.
    await step('release', second);
    expect(await holder()).toBe(first);
    await step('release', first);
    expect(await holder()).toBeUndefined();
    await expect(step('acquire', second)).resolves.toEqual({ ok: true });
  });

  it('takes over the lock of a run that was stopped by hand (no exit path released it)', async () => {
    const { start, step, holder } = await setup();
    const stopped = await start();
    await step('acquire', stopped);
    await sfn.send(new StopExecutionCommand({ executionArn: stopped }));
    const next = await start();
    await expect(step('acquire', next)).resolves.toEqual({ ok: true });
    expect(await holder()).toBe(next);
  });
});
