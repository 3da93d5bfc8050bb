import { randomBytes } from 'node:crypto';
import { CreateSubnetCommand, CreateVpcCommand, EC2Client } from '@aws-sdk/client-ec2';
import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateRuleCommand,
  CreateTargetGroupCommand,
  DescribeRulesCommand,
  ElasticLoadBalancingV2Client,
  ModifyRuleCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { GetParameterCommand, PutParameterCommand } from '@aws-sdk/client-ssm';
import { Template } from 'aws-cdk-lib/assertions';
import type { EventBridgeEvent } from 'aws-lambda';
import { guard } from '../../lambda/flag-guard/handler';
import { Alerts } from '../../lambda/shared/alerts';
import { jsonLogger } from '../../lambda/shared/log';
import { type SwitchDependencies, switchTraffic } from '../../lambda/traffic-switch/handler';
import { liveWeightParameterNames } from '../../lib/flags/parameters';
import { hookService } from '../helpers/hooks';
import { createTopic, deployFlags, isolatedConfig, motoClients, motoEndpoint, REGION } from '../helpers/moto';
import { buildStacks } from '../helpers/test-app';

const { ssm, sns } = motoClients();
const common = {
  region: REGION,
  endpoint: motoEndpoint(),
  credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
  maxAttempts: 1,
};
const elb = new ElasticLoadBalancingV2Client(common);
const ec2 = new EC2Client(common);
afterAll(() => {
  for (const client of [ssm, sns, elb, ec2]) client.destroy();
});

const event = (name: string) => ({ detail: { name } }) as EventBridgeEvent<string, { name?: string }>;

/** A load balancer with a listener, the legacy and gateway target groups, and one weighted rule as first deployed. */
async function loadBalancer() {
  const suffix = randomBytes(3).toString('hex');
  const vpc = (await ec2.send(new CreateVpcCommand({ CidrBlock: '10.0.0.0/16' }))).Vpc?.VpcId as string;
  const subnets = await Promise.all(
    ['a', 'b'].map(
      async (az, i) =>
        (
          await ec2.send(
            new CreateSubnetCommand({
              VpcId: vpc,
              CidrBlock: `10.0.${i}.0/24`,
              AvailabilityZone: `${REGION}${az}`,
            }),
          )
        ).Subnet?.SubnetId as string,
    ),
  );
  const lb = (await elb.send(new CreateLoadBalancerCommand({ Name: `lb-${suffix}`, Subnets: subnets })))
    .LoadBalancers?.[0].LoadBalancerArn as string;
  const tg = async (name: string) =>
    (
      await elb.send(
        new CreateTargetGroupCommand({
          Name: `${name}-${suffix}`,
          Protocol: 'HTTP',
          Port: 80,
          VpcId: vpc,
          TargetType: 'ip',
        }),
      )
    ).TargetGroups?.[0].TargetGroupArn as string;
  const legacy = await tg('legacy');
  const gw = await tg('gateway');
  const listener = (
    await elb.send(
      new CreateListenerCommand({
        LoadBalancerArn: lb,
        Protocol: 'HTTP',
        Port: 80,
        DefaultActions: [{ Type: 'forward', TargetGroupArn: legacy }],
      }),
    )
  ).Listeners?.[0].ListenerArn as string;
  const forward = (legacyWeight: number, gatewayWeight: number) => [
    {
      Type: 'forward' as const,
      ForwardConfig: {
        TargetGroups: [
          { TargetGroupArn: legacy, Weight: legacyWeight },
          { TargetGroupArn: gw, Weight: gatewayWeight },
        ],
      },
    },
  ];
  const rule = (
    await elb.send(
      new CreateRuleCommand({
        ListenerArn: listener,
        Priority: 101,
        Conditions: [{ Field: 'path-pattern', Values: ['/api/users/*'] }],
        Actions: forward(100, 0),
      }),
    )
  ).Rules?.[0].RuleArn as string;
  return { legacy, gw, rule };
}

async function weightsOf(ruleArn: string) {
  const rule = (await elb.send(new DescribeRulesCommand({ RuleArns: [ruleArn] }))).Rules?.[0];
  return rule?.Actions?.[0].ForwardConfig?.TargetGroups?.map((t) => t.Weight);
}

async function setup() {
  const { config } = isolatedConfig((input) => {
    input.services[0].phase = 3;
  });
  const prefix = config.flags.parameterPrefix;
  const names = await deployFlags(ssm, config);
  const live = liveWeightParameterNames(prefix, 'users');
  await ssm.send(new PutParameterCommand({ Name: live.legacy, Value: '100', Type: 'String' }));
  await ssm.send(new PutParameterCommand({ Name: live.gateway, Value: '0', Type: 'String' }));
  const lb = await loadBalancer();
  const service = hookService(prefix, { phase: 3 });
  const topic = await createTopic(sns);
  const guardDeps = {
    env: { alertTopicArn: topic, services: [service] },
    ssm,
    alerts: new Alerts(topic, sns),
    logger: jsonLogger('flag-guard', () => {}),
  };
  for (const name of Object.values(names)) await guard(event(name), guardDeps);
  const deps: SwitchDependencies = {
    env: {
      services: [
        {
          mode: 'weighted',
          service,
          ruleArns: [lb.rule],
          legacyTargetGroupArn: lb.legacy,
          newTargetGroupArn: lb.gw,
          liveWeights: live,
        },
      ],
    },
    ssm,
    elb,
    logger: jsonLogger('traffic-switch', () => {}),
  };
  /** An operator's write, the guard's check, then the event of its label. */
  const setGateway = async (value: string) => {
    await ssm.send(
      new PutParameterCommand({ Name: names.gateway, Value: value, Type: 'String', Overwrite: true }),
    );
    await guard(event(names.gateway), guardDeps);
    return switchTraffic(event(names.gateway), deps);
  };
  return { lb, live, deps, setGateway, config };
}

describe('traffic switch against the ELBv2 and SSM emulator', () => {
  it('applies a validated gateway weight to the rule, checks it, and records it', async () => {
    const { lb, live, setGateway } = await setup();
    await expect(setGateway('{"weight":60}')).resolves.toEqual({
      status: 'applied',
      weights: { legacy: 40, gateway: 60 },
      modified: [lb.rule],
    });
    expect(await weightsOf(lb.rule)).toEqual([40, 60]);
    const value = async (n: string) =>
      (await ssm.send(new GetParameterCommand({ Name: n }))).Parameter?.Value;
    expect([await value(live.legacy), await value(live.gateway)]).toEqual(['40', '60']);
  });

  it('is idempotent and never applies a write the guard restored', async () => {
    const { lb, setGateway } = await setup();
    await setGateway('{"weight":25}');
    await expect(setGateway('{"weight":25}')).resolves.toMatchObject({ modified: [] });
    // 250 is invalid: the guard restores 25 and the switch keeps applying 25.
    await expect(setGateway('{"weight":250}')).resolves.toMatchObject({
      weights: { legacy: 75, gateway: 25 },
    });
    expect(await weightsOf(lb.rule)).toEqual([75, 25]);
  });

  it('a later deploy keeps the live weight: the rule template resolves its weights from the live parameters', async () => {
    const { lb, live, setGateway, config } = await setup();
    await setGateway('{"weight":70}');

    // What CloudFormation sends when a deploy updates the rule: the template's actions, dynamic references resolved.
    const template = Template.fromStack(buildStacks(config).gateway as never);
    const [rule] = Object.values(template.findResources('AWS::ElasticLoadBalancingV2::ListenerRule'));
    const resolveSsm = async (weight: string) => {
      const name = /^\{\{resolve:ssm:(.+)\}\}$/.exec(weight)?.[1] as string;
      expect([live.legacy, live.gateway]).toContain(name);
      return Number((await ssm.send(new GetParameterCommand({ Name: name }))).Parameter?.Value);
    };
    const [legacyWeight, gatewayWeight] = rule.Properties.Actions[0].ForwardConfig.TargetGroups.map(
      (t: { Weight: string }) => t.Weight,
    );
    await elb.send(
      new ModifyRuleCommand({
        RuleArn: lb.rule,
        Actions: [
          {
            Type: 'forward',
            ForwardConfig: {
              TargetGroups: [
                { TargetGroupArn: lb.legacy, Weight: await resolveSsm(legacyWeight) },
                { TargetGroupArn: lb.gw, Weight: await resolveSsm(gatewayWeight) },
              ],
            },
          },
        ],
      }),
    );
    expect(await weightsOf(lb.rule)).toEqual([30, 70]);
  });
});
