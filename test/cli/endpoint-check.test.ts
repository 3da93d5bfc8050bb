/**
 * The CLI refuses a service's first route change (routing leaving `off`) while a running legacy task
 * started before the service's Service Connect endpoint existed: such a task cannot resolve it; and the
 * first gateway weight above 0 of a `krakend` service while a running gateway task did.
 */
import { CloudFormationClient, ListStackResourcesCommand } from '@aws-sdk/client-cloudformation';
import {
  DescribeServicesCommand,
  DescribeTasksCommand,
  ECSClient,
  ListTasksCommand,
} from '@aws-sdk/client-ecs';
import {
  GetParameterCommand,
  GetParameterHistoryCommand,
  GetParametersCommand,
  PutParameterCommand,
  SSMClient,
} from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import {
  callersToCheck,
  type EndpointState,
  leavesOff,
  leavesZero,
  staleEndpointProblem,
} from '../../lib/cli/endpoint-check';
import { RefusedError } from '../../lib/cli/errors';
import { parseArgs } from '../../lib/cli/parse-args';
import { runCommand } from '../../lib/cli/run';
import { albMode, config, demoInput } from '../helpers/test-app';

const ssmMock = mockClient(SSMClient);
const ecsMock = mockClient(ECSClient);
const cfnMock = mockClient(CloudFormationClient);

const CLUSTER = 'arn:aws:ecs:eu-west-1:123456789012:cluster/demo-30-platform-Cluster';
const USERS = 'arn:aws:ecs:eu-west-1:123456789012:service/demo-30-platform-Cluster/demo-users-Service';
const LEGACY = 'arn:aws:ecs:eu-west-1:123456789012:service/demo-30-platform-Cluster/demo-legacy-Service';
const GATEWAY = 'arn:aws:ecs:eu-west-1:123456789012:service/demo-30-platform-Cluster/demo-gateway-Service';
const CREATED = new Date('2026-11-26T10:00:00Z');
const before = new Date('2026-11-26T09:00:00Z');
const after = new Date('2026-11-26T10:05:00Z');

function flags(routingMode: string, weight = 0) {
  const docs: Record<string, string> = {
    '/demo/migration/users/routing': `{"mode":"${routingMode}","users":["alice"],"percent":0}`,
    '/demo/migration/users/cutover': '{"completed":false}',
    '/demo/migration/users/gateway': `{"weight":${weight}}`,
  };
  ssmMock.on(GetParameterHistoryCommand).callsFake(({ Name }) => ({
    Parameters: [{ Name, Version: 1, Value: docs[Name], Labels: ['last-good'] }],
  }));
  ssmMock.on(GetParameterCommand).callsFake(({ Name }) => {
    const name = Name.replace(/:last-good$/, '');
    return { Parameter: { Name: name, Version: 1, Value: docs[name] } };
  });
  ssmMock.on(GetParametersCommand).callsFake(({ Names }: { Names: string[] }) => ({
    Parameters: Names.map((n) => n.replace(/:last-good$/, '')).map((n) => ({
      Name: n,
      Version: 1,
      Value: docs[n],
    })),
  }));
  ssmMock.on(PutParameterCommand).resolves({ Version: 2 });
}

/**
 * The deployed account: the stacks' ECS services (platform, gateway, users), the users endpoint, the
 * legacy and the gateway tasks' start times (tasks t<i> and g<i>).
 */
function account(
  taskStarts: readonly (Date | undefined)[],
  publishes = true,
  gatewayStarts: readonly (Date | undefined)[] = [after],
) {
  cfnMock.on(ListStackResourcesCommand, { StackName: 'demo-40-users-service' }).resolves({
    StackResourceSummaries: [
      {
        ResourceType: 'AWS::ECS::TaskDefinition',
        PhysicalResourceId: 'td',
        LogicalResourceId: 'T',
        ResourceStatus: 'CREATE_COMPLETE',
        LastUpdatedTimestamp: CREATED,
      },
      {
        ResourceType: 'AWS::ECS::Service',
        PhysicalResourceId: USERS,
        LogicalResourceId: 'S',
        ResourceStatus: 'CREATE_COMPLETE',
        LastUpdatedTimestamp: CREATED,
      },
    ],
  });
  cfnMock.on(ListStackResourcesCommand, { StackName: 'demo-30-platform' }).resolves({
    StackResourceSummaries: [
      {
        ResourceType: 'AWS::ECS::Service',
        PhysicalResourceId: LEGACY,
        LogicalResourceId: 'L',
        ResourceStatus: 'UPDATE_COMPLETE',
        LastUpdatedTimestamp: CREATED,
      },
    ],
  });
  ecsMock.on(DescribeServicesCommand, { services: [USERS] }).resolves({
    services: [
      {
        serviceArn: USERS,
        serviceName: 'demo-users-Service',
        clusterArn: CLUSTER,
        createdAt: CREATED,
        deployments: [
          {
            status: 'PRIMARY',
            serviceConnectConfiguration: publishes
              ? {
                  enabled: true,
                  services: [
                    {
                      portName: 'http',
                      discoveryName: 'users',
                      clientAliases: [{ port: 80, dnsName: 'users' }],
                    },
                  ],
                }
              : { enabled: true },
          },
        ],
      },
    ],
  });
  ecsMock.on(DescribeServicesCommand, { services: [LEGACY] }).resolves({
    services: [
      { serviceArn: LEGACY, serviceName: 'demo-legacy-Service', clusterArn: CLUSTER, createdAt: before },
    ],
  });
  cfnMock.on(ListStackResourcesCommand, { StackName: 'demo-35-gateway' }).resolves({
    StackResourceSummaries: [
      {
        ResourceType: 'AWS::ECS::Service',
        PhysicalResourceId: GATEWAY,
        LogicalResourceId: 'G',
        ResourceStatus: 'UPDATE_COMPLETE',
        LastUpdatedTimestamp: CREATED,
      },
    ],
  });
  ecsMock.on(DescribeServicesCommand, { services: [GATEWAY] }).resolves({
    services: [
      { serviceArn: GATEWAY, serviceName: 'demo-gateway-Service', clusterArn: CLUSTER, createdAt: before },
    ],
  });
  const starts = new Map<string, Date | undefined>();
  const tasksOf = (prefix: string, list: readonly (Date | undefined)[]) =>
    list.map((start, i) => {
      const arn = `arn:aws:ecs:eu-west-1:123456789012:task/demo-30-platform-Cluster/${prefix}${i}`;
      starts.set(arn, start);
      return arn;
    });
  ecsMock
    .on(ListTasksCommand, { serviceName: 'demo-legacy-Service' })
    .resolves({ taskArns: tasksOf('t', taskStarts) });
  ecsMock
    .on(ListTasksCommand, { serviceName: 'demo-gateway-Service' })
    .resolves({ taskArns: tasksOf('g', gatewayStarts) });
  ecsMock.on(DescribeTasksCommand).callsFake(({ tasks }: { tasks: string[] }) => ({
    tasks: tasks.map((taskArn) => {
      const startedAt = starts.get(taskArn);
      return { taskArn, ...(startedAt ? { startedAt } : {}) };
    }),
  }));
}

async function route(argv: string[], withEcs = true, phase = 1, gateway: 'krakend' | 'alb' = 'krakend') {
  const input = demoInput();
  input.services[0].phase = phase;
  if (gateway === 'alb') albMode(input.services[0]);
  const { command, options } = parseArgs(argv);
  if (command.name === 'help') throw new Error('unexpected help');
  const lines: string[] = [];
  await runCommand(command, options, {
    config: config(input),
    ssm: new SSMClient({ region: 'eu-west-1' }),
    stepFunctions: async () => {
      throw new Error('not used');
    },
    checkNow: async () => ({ status: 'labelled', version: 2 }),
    ...(withEcs
      ? {
          serviceConnect: async () => ({
            ecs: new ECSClient({ region: 'eu-west-1' }),
            cloudFormation: new CloudFormationClient({ region: 'eu-west-1' }),
          }),
        }
      : {}),
    out: (l) => lines.push(l),
    sleep: async () => {},
  });
  return lines;
}

beforeEach(() => {
  ssmMock.reset();
  ecsMock.reset();
  cfnMock.reset();
});

describe('the first route change of a service', () => {
  it('is refused while a legacy task started before the endpoint existed, naming the tasks and the fix', async () => {
    flags('off');
    account([before, after]);
    const refused = route(['route', 'users', 'users', 'alice']);
    await expect(refused).rejects.toThrow(RefusedError);
    await expect(route(['route', 'users', 'users', 'alice'])).rejects.toThrow(
      /1 of 2 running legacy tasks started before the users endpoint existed \(2026-11-26T10:00:00.000Z\).*\n.*t0 \(started 2026-11-26T09:00:00.000Z\)[\s\S]*aws ecs update-service --cluster demo-30-platform-Cluster --service demo-legacy-Service --force-new-deployment[\s\S]*Nothing was written/,
    );
    expect(ssmMock).not.toHaveReceivedCommand(PutParameterCommand);
    // The legacy service's tasks, in its own cluster.
    expect(ecsMock).toHaveReceivedCommandWith(ListTasksCommand, {
      cluster: CLUSTER,
      serviceName: 'demo-legacy-Service',
      desiredStatus: 'RUNNING',
    });
  });

  it('is written once every legacy task started after the endpoint (a task still starting counts)', async () => {
    flags('off');
    account([after, undefined]);
    const lines = await route(['route', 'users', 'users', 'alice']);
    expect(ssmMock).toHaveReceivedCommandTimes(PutParameterCommand, 1);
    expect(lines.join('\n')).toContain('wrote /demo/migration/users/routing version 2');
  });

  it('is refused when the service publishes no endpoint, or its stack is not deployed', async () => {
    flags('off');
    account([after], false);
    await expect(route(['route', 'users', 'all'])).rejects.toThrow(
      /does not publish users through Service Connect/,
    );
    cfnMock.on(ListStackResourcesCommand, { StackName: 'demo-40-users-service' }).rejects(
      Object.assign(new Error('Stack with id demo-40-users-service does not exist'), {
        name: 'ValidationError',
      }),
    );
    await expect(route(['route', 'users', 'all'])).rejects.toThrow(
      /users has no ECS service in the stack demo-40-users-service.*cdk deploy demo-40-users-service/,
    );
    expect(ssmMock).not.toHaveReceivedCommand(PutParameterCommand);
  });

  it('has nothing to check where the app has no legacy service (no platform stack: an emulator, the playground)', async () => {
    flags('off');
    cfnMock.on(ListStackResourcesCommand).rejects(
      Object.assign(new Error('Stack with id demo-30-platform does not exist'), {
        name: 'ValidationError',
      }),
    );
    await route(['route', 'users', 'users', 'alice']);
    expect(ssmMock).toHaveReceivedCommandTimes(PutParameterCommand, 1);
    expect(ecsMock).not.toHaveReceivedAnyCommand();
  });

  it('applies to a dry run too (it says what the write would meet)', async () => {
    flags('off');
    account([before]);
    await expect(route(['route', 'users', 'percent', '10', '--dry-run'])).rejects.toThrow(
      /started before the users endpoint/,
    );
  });

  it('is not checked again while routing stays on: a change between wider modes reads no ECS state', async () => {
    flags('users');
    account([before]);
    await route(['route', 'users', 'percent', '10']);
    expect(ssmMock).toHaveReceivedCommandTimes(PutParameterCommand, 1);
    expect(ecsMock).not.toHaveReceivedAnyCommand();
  });
});

describe('the first gateway weight above 0 of a krakend service', () => {
  const gateway = (argv: string[]) => route(['gateway', 'users', ...argv], true, 3);

  it('is refused while a gateway task started before the endpoint existed, naming the tasks and the fix', async () => {
    flags('all');
    // The legacy tasks are stale too: routing stays "all", so they are not this write's business.
    account([before], true, [before, after]);
    const refused = gateway(['50']);
    await expect(refused).rejects.toThrow(RefusedError);
    await expect(refused).rejects.toThrow(
      /1 of 2 running gateway tasks started before the users endpoint existed \(2026-11-26T10:00:00.000Z\).*the gateway forwards to http:\/\/users:80.*\n.*g0 \(started 2026-11-26T09:00:00.000Z\)\.\nRoll the gateway service[\s\S]*aws ecs update-service --cluster demo-30-platform-Cluster --service demo-gateway-Service --force-new-deployment\n\s*aws ecs wait services-stable --cluster demo-30-platform-Cluster --services demo-gateway-Service\n\(the demo-40-users-service stack's EndpointRoll .* a deploy of demo-35-gateway that adds the service's routes rolls it too; either may still be under way\)\. Nothing was written/,
    );
    expect(ssmMock).not.toHaveReceivedCommand(PutParameterCommand);
    // The gateway's ECS service, found through its stack, and its tasks.
    expect(cfnMock).toHaveReceivedCommandWith(ListStackResourcesCommand, { StackName: 'demo-35-gateway' });
    expect(ecsMock).toHaveReceivedCommandWith(ListTasksCommand, {
      cluster: CLUSTER,
      serviceName: 'demo-gateway-Service',
      desiredStatus: 'RUNNING',
    });
    expect(ecsMock).not.toHaveReceivedCommandWith(ListTasksCommand, { serviceName: 'demo-legacy-Service' });
  });

  it('applies to a dry run too', async () => {
    flags('all');
    account([after], true, [before]);
    await expect(gateway(['10', '--dry-run'])).rejects.toThrow(/running gateway tasks started before/);
    expect(ssmMock).not.toHaveReceivedCommand(PutParameterCommand);
  });

  it('is written once every gateway task started after the endpoint (a task still starting counts)', async () => {
    flags('all');
    account([before], true, [after, undefined]);
    const lines = await gateway(['50']);
    expect(ssmMock).toHaveReceivedCommandWith(PutParameterCommand, {
      Name: '/demo/migration/users/gateway',
      Value: '{"weight":50}',
    });
    expect(lines.join('\n')).toContain('wrote /demo/migration/users/gateway version 2');
    // It read the gateway's tasks to decide so.
    expect(ecsMock).toHaveReceivedCommandWith(ListTasksCommand, { serviceName: 'demo-gateway-Service' });
  });

  it('applies to a rollback of the weight from 0 to an earlier weight', async () => {
    flags('all');
    account([after], true, [before]);
    // Version 1 said 50; version 2 (checked) says 0: the rollback would write 50 again.
    ssmMock.on(GetParameterHistoryCommand, { Name: '/demo/migration/users/gateway' }).resolves({
      Parameters: [
        { Name: '/demo/migration/users/gateway', Version: 1, Value: '{"weight":50}', Labels: [] },
        { Name: '/demo/migration/users/gateway', Version: 2, Value: '{"weight":0}', Labels: ['last-good'] },
      ],
    });
    await expect(route(['rollback', 'users', '--flag', 'gateway'], true, 3)).rejects.toThrow(
      /1 of 1 running gateway tasks started before the users endpoint existed/,
    );
    expect(ssmMock).not.toHaveReceivedCommand(PutParameterCommand);
  });

  it('is refused when the service publishes no endpoint the gateway could reach', async () => {
    flags('all');
    account([after], false, [after]);
    await expect(gateway(['50'])).rejects.toThrow(/does not publish users through Service Connect/);
    expect(ssmMock).not.toHaveReceivedCommand(PutParameterCommand);
  });

  it('is not checked again while the weight stays above 0, nor when it goes back to 0', async () => {
    account([before], true, [before]);
    flags('all', 0);
    await expect(gateway(['50'])).rejects.toThrow(/running gateway tasks started before/);
    ecsMock.resetHistory();
    flags('all', 20);
    await gateway(['50']);
    await gateway(['0']);
    expect(ssmMock).toHaveReceivedCommandTimes(PutParameterCommand, 2);
    expect(ecsMock).not.toHaveReceivedAnyCommand();
  });

  it('is not checked in alb mode (the ALB forwards to the service itself) nor without a gateway stack', async () => {
    flags('all');
    account([before], true, [before]);
    await expect(gateway(['100'])).rejects.toThrow(/running gateway tasks started before/);
    ecsMock.resetHistory();
    await route(['gateway', 'users', '100'], true, 3, 'alb');
    expect(ecsMock).not.toHaveReceivedAnyCommand();
    cfnMock
      .on(ListStackResourcesCommand, { StackName: 'demo-35-gateway' })
      .rejects(
        Object.assign(new Error('Stack with id demo-35-gateway does not exist'), { name: 'ValidationError' }),
      );
    await gateway(['50']);
    expect(ssmMock).toHaveReceivedCommandTimes(PutParameterCommand, 2);
  });
});

describe('the rule', () => {
  const state = (starts: Date[]): EndpointState => ({
    publisher: { serviceArn: USERS, createdAt: CREATED, publishes: true },
    caller: { clusterArn: CLUSTER, serviceName: 'demo-legacy-Service' },
    tasks: starts.map((startedAt, i) => ({ taskArn: `task/c/t${i}`, startedAt })),
  });
  const cfg = { name: 'demo', region: 'eu-west-1' };
  const users = { name: 'users', port: 80 };

  it('passes when every task started after the endpoint, refuses otherwise (with the region)', () => {
    expect(staleEndpointProblem(cfg, users, state([after, after]), 'legacy')).toBeUndefined();
    expect(staleEndpointProblem(cfg, users, state([after, before]), 'legacy')).toMatch(
      /1 of 2 running legacy tasks[\s\S]*--force-new-deployment --region eu-west-1/,
    );
    expect(staleEndpointProblem(cfg, users, state([before]), 'gateway')).toMatch(
      /1 of 1 running gateway tasks.*every request the gateway forwards to http:\/\/users:80 with a 502[\s\S]*Roll the gateway service/,
    );
  });

  it('checks the legacy tasks when routing leaves off, the gateway tasks when a krakend weight leaves 0', () => {
    const flagSet = (mode: 'off' | 'all', weight: number) => ({
      routing: { mode, users: [], percent: 0 },
      gateway: { weight },
    });
    const krakend3 = { phase: 3 as const, gateway: 'krakend' as const };
    expect(
      callersToCheck(krakend3, 'routing', flagSet('off', 0), { mode: 'all', users: [], percent: 0 }),
    ).toEqual(['legacy']);
    expect(callersToCheck(krakend3, 'gateway', flagSet('all', 0), { weight: 1 })).toEqual(['gateway']);
    expect(callersToCheck(krakend3, 'gateway', flagSet('all', 10), { weight: 50 })).toEqual([]);
    expect(callersToCheck(krakend3, 'gateway', flagSet('all', 10), { weight: 0 })).toEqual([]);
    expect(
      callersToCheck({ ...krakend3, gateway: 'alb' }, 'gateway', flagSet('all', 0), { weight: 100 }),
    ).toEqual([]);
    expect(callersToCheck({ ...krakend3, phase: 2 }, 'gateway', flagSet('all', 0), { weight: 50 })).toEqual(
      [],
    );
    expect(callersToCheck(krakend3, 'cutover', flagSet('all', 0), { completed: false })).toEqual([]);
    expect(leavesZero({ weight: 0 }, { weight: 100 })).toBe(true);
    expect(leavesZero({ weight: 5 }, { weight: 100 })).toBe(false);
  });

  it('applies when routing leaves off, whatever the new mode', () => {
    const doc = (mode: 'off' | 'users' | 'percent' | 'all') => ({ mode, users: [], percent: 0 });
    expect(leavesOff(doc('off'), doc('users'))).toBe(true);
    expect(leavesOff(doc('off'), doc('all'))).toBe(true);
    expect(leavesOff(doc('off'), doc('off'))).toBe(false);
    expect(leavesOff(doc('users'), doc('all'))).toBe(false);
  });
});
