/**
 * The CLI refuses a service's first route change (routing leaving `off`) while a running legacy task
 * started before the service's Service Connect endpoint existed: such a task cannot resolve it.
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
import { type EndpointState, leavesOff, staleEndpointProblem } from '../../lib/cli/endpoint-check';
import { RefusedError } from '../../lib/cli/errors';
import { parseArgs } from '../../lib/cli/parse-args';
import { runCommand } from '../../lib/cli/run';
import { config, demoInput } from '../helpers/test-app';

const ssmMock = mockClient(SSMClient);
const ecsMock = mockClient(ECSClient);
const cfnMock = mockClient(CloudFormationClient);

const CLUSTER = 'arn:aws:ecs:eu-west-1:123456789012:cluster/demo-30-platform-Cluster';
const USERS = 'arn:aws:ecs:eu-west-1:123456789012:service/demo-30-platform-Cluster/demo-users-Service';
const LEGACY = 'arn:aws:ecs:eu-west-1:123456789012:service/demo-30-platform-Cluster/demo-legacy-Service';
const CREATED = new Date('2026-11-26T10:00:00Z');
const before = new Date('2026-11-26T09:00:00Z');
const after = new Date('2026-11-26T10:05:00Z');

function flags(routingMode: string) {
  const docs: Record<string, string> = {
    '/demo/migration/users/routing': `{"mode":"${routingMode}","users":["alice"],"percent":0}`,
    '/demo/migration/users/cutover': '{"completed":false}',
    '/demo/migration/users/gateway': '{"weight":0}',
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

/** The deployed account: the two stacks' ECS services, the users endpoint, the legacy tasks' start times. */
function account(taskStarts: readonly (Date | undefined)[], publishes = true) {
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
  const arns = taskStarts.map(
    (_, i) => `arn:aws:ecs:eu-west-1:123456789012:task/demo-30-platform-Cluster/t${i}`,
  );
  ecsMock.on(ListTasksCommand).resolves({ taskArns: arns });
  ecsMock.on(DescribeTasksCommand).resolves({
    tasks: arns.map((taskArn, i) => ({ taskArn, ...(taskStarts[i] ? { startedAt: taskStarts[i] } : {}) })),
  });
}

async function route(argv: string[], withEcs = true) {
  const input = demoInput();
  input.services[0].phase = 1;
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

describe('the rule', () => {
  const state = (starts: Date[]): EndpointState => ({
    publisher: { serviceArn: USERS, createdAt: CREATED, publishes: true },
    legacy: { clusterArn: CLUSTER, serviceName: 'demo-legacy-Service' },
    tasks: starts.map((startedAt, i) => ({ taskArn: `task/c/t${i}`, startedAt })),
  });
  const cfg = { name: 'demo', region: 'eu-west-1' };
  const users = { name: 'users', port: 80 };

  it('passes when every task started after the endpoint, refuses otherwise (with the region)', () => {
    expect(staleEndpointProblem(cfg, users, state([after, after]))).toBeUndefined();
    expect(staleEndpointProblem(cfg, users, state([after, before]))).toMatch(
      /1 of 2 running legacy tasks[\s\S]*--force-new-deployment --region eu-west-1/,
    );
  });

  it('applies when routing leaves off, whatever the new mode', () => {
    const doc = (mode: 'off' | 'users' | 'percent' | 'all') => ({ mode, users: [], percent: 0 });
    expect(leavesOff(doc('off'), doc('users'))).toBe(true);
    expect(leavesOff(doc('off'), doc('all'))).toBe(true);
    expect(leavesOff(doc('off'), doc('off'))).toBe(false);
    expect(leavesOff(doc('users'), doc('all'))).toBe(false);
  });
});
