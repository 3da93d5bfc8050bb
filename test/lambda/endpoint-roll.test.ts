import { ECSClient, UpdateServiceCommand } from '@aws-sdk/client-ecs';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { type RollProperties, rollDecision } from '../../lambda/endpoint-roll/decide';
import { roll } from '../../lambda/endpoint-roll/handler';

const ecsMock = mockClient(ECSClient);
const ARN = 'arn:aws:ecs:eu-west-1:123456789012:service/demo-cluster/demo-users';
const props: RollProperties = {
  Endpoint: `users:80@${ARN}`,
  Cluster: 'demo-cluster',
  Service: 'demo-legacy',
};

function event(
  requestType: 'Create' | 'Update' | 'Delete',
  p: RollProperties,
  old?: RollProperties,
): CloudFormationCustomResourceEvent {
  return {
    RequestType: requestType,
    ServiceToken: 'arn:aws:lambda:eu-west-1:123456789012:function:roll',
    ResponseURL: 'https://example.invalid/response',
    StackId: 'arn:aws:cloudformation:eu-west-1:123456789012:stack/demo-40-users-service/x',
    RequestId: 'r1',
    LogicalResourceId: 'EndpointRollLegacy',
    ResourceType: 'Custom::MigrationEndpointRoll',
    ResourceProperties: { ServiceToken: 'x', ...p },
    ...(requestType === 'Create' ? {} : { PhysicalResourceId: 'p' }),
    ...(old ? { OldResourceProperties: { ServiceToken: 'x', ...old } } : {}),
  } as CloudFormationCustomResourceEvent;
}

const deps = () => ({
  ecs: new ECSClient({ region: 'eu-west-1', maxAttempts: 1 }),
  logger: { log: () => undefined, metric: () => undefined },
});

describe('endpoint-roll decisions', () => {
  const other = 'users:80@arn:aws:ecs:eu-west-1:123456789012:service/c/old';
  it.each([
    ['Create', 'a new endpoint', true, props, undefined],
    ['Update', 'nothing changed', false, props, props],
    ['Update', 'a new port', true, props, { ...props, Endpoint: `users:8080@${ARN}` }],
    ['Update', 'a re-created publisher', true, props, { ...props, Endpoint: other }],
    ['Update', 'another caller', true, props, { ...props, Service: 'another' }],
    ['Delete', 'the resource removed', false, props, undefined],
  ] as const)('%s, %s: roll is %s', (type, _what, expected, p, old) => {
    expect(rollDecision(type, p, old).roll).toBe(expected);
  });
});

describe('endpoint-roll provider', () => {
  beforeEach(() => ecsMock.reset());

  it('starts a new deployment of the caller when the endpoint is created', async () => {
    ecsMock
      .on(UpdateServiceCommand)
      .resolves({ service: { deployments: [{ id: 'ecs-svc/1', status: 'PRIMARY' }] } });
    const result = await roll(event('Create', props), deps());
    expect(result).toEqual({ status: 'SUCCESS', reason: expect.stringContaining('ecs-svc/1') });
    expect(ecsMock).toHaveReceivedCommandWith(UpdateServiceCommand, {
      cluster: 'demo-cluster',
      service: 'demo-legacy',
      forceNewDeployment: true,
    });
  });

  it('leaves the caller alone when a deploy keeps the endpoint, and on delete', async () => {
    await roll(event('Update', { ...props }, { ...props }), deps());
    await roll(event('Delete', props), deps());
    expect(ecsMock).not.toHaveReceivedCommand(UpdateServiceCommand);
  });

  it('rolls again when the publishing service is re-created (a new endpoint)', async () => {
    ecsMock.on(UpdateServiceCommand).resolves({});
    const old = { ...props, Endpoint: 'users:80@arn:aws:ecs:eu-west-1:123456789012:service/c/old' };
    await roll(event('Update', props, old), deps());
    expect(ecsMock).toHaveReceivedCommandTimes(UpdateServiceCommand, 1);
  });

  it('fails the resource when ECS refuses (the error reaches the stack events)', async () => {
    ecsMock
      .on(UpdateServiceCommand)
      .rejects(Object.assign(new Error('not authorized'), { name: 'AccessDeniedException' }));
    await expect(roll(event('Create', props), deps())).rejects.toThrow('not authorized');
  });
});
