/**
 * The traffic-switch hook against the ELBv2 and SSM emulator: it finds a service's rules on the listener
 * by their block, applies the checked gateway document, re-applies it after a deploy wrote old weights
 * back, and a redeploy of the rules (their dynamic references resolved) keeps the live weights.
 */
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
import { GetParameterCommand, LabelParameterVersionCommand, PutParameterCommand } from '@aws-sdk/client-ssm';
import { jsonLogger } from '../../lambda/shared/log';
import { type SwitchDependencies, switchTraffic } from '../../lambda/traffic-switch/handler';
import { liveWeightParameterNames } from '../../lib/flags/parameters';
import { planListenerRules } from '../../lib/gateway/alb-rules';
import { withCompositeRoutes } from '../../lib/gateway/composites';
import { deployFlags, isolatedConfig, motoClientConfig, motoClients, REGION } from '../helpers/moto';
import { buildStacks } from '../helpers/test-app';

const { ssm } = motoClients();
const common = motoClientConfig();
const elb = new ElasticLoadBalancingV2Client(common);
const ec2 = new EC2Client(common);
afterAll(() => {
  for (const client of [ssm, elb, ec2]) client.destroy();
});

/** A load balancer and listener as the platform stack creates them, and the users rules as its stack does. */
async function deployed() {
  const { config } = isolatedConfig();
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
  const gateway = await tg('gateway');
  const elsewhere = await tg('other');
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
  // As the app plans them: the routes and the composite endpoints of the service (decision 0014).
  const [plan] = planListenerRules(
    config.services.filter((s) => s.phase === 3).map((s) => withCompositeRoutes(s, config)),
    config.alb,
  );
  const forward = (l: number, g: number) => [
    {
      Type: 'forward' as const,
      ForwardConfig: {
        TargetGroups: [
          { TargetGroupArn: legacy, Weight: l },
          { TargetGroupArn: gateway, Weight: g },
        ],
      },
    },
  ];
  const rules: string[] = [];
  for (const rule of plan.rules) {
    const out = await elb.send(
      new CreateRuleCommand({
        ListenerArn: listener,
        Priority: rule.priority,
        Conditions: [{ Field: 'path-pattern', Values: [`/r${rule.priority}/*`] }],
        Actions: forward(100, 0),
      }),
    );
    rules.push(out.Rules?.[0].RuleArn as string);
  }
  // Someone else's rule on the same listener, outside the block: never touched.
  const foreign = (
    await elb.send(
      new CreateRuleCommand({
        ListenerArn: listener,
        Priority: 7,
        Conditions: [{ Field: 'path-pattern', Values: ['/other/*'] }],
        Actions: [{ Type: 'forward', TargetGroupArn: elsewhere }],
      }),
    )
  ).Rules?.[0].RuleArn as string;

  const prefix = config.flags.parameterPrefix;
  const names = await deployFlags(ssm, config);
  const live = liveWeightParameterNames(prefix, 'users');
  await ssm.send(new PutParameterCommand({ Name: live.legacy, Value: '100', Type: 'String' }));
  await ssm.send(new PutParameterCommand({ Name: live.gateway, Value: '0', Type: 'String' }));
  const deps: SwitchDependencies = {
    env: {
      parameterPrefix: prefix,
      listenerArn: listener,
      services: [{ service: 'users', mode: 'krakend', block: plan.block }],
    },
    ssm,
    elb,
    logger: jsonLogger('traffic-switch', () => {}),
  };
  /** A checked write (what the guard does: write, then label the version last-good). */
  const checkedGateway = async (weight: number) => {
    const out = await ssm.send(
      new PutParameterCommand({
        Name: names.gateway,
        Value: JSON.stringify({ weight }),
        Type: 'String',
        Overwrite: true,
      }),
    );
    await ssm.send(
      new LabelParameterVersionCommand({
        Name: names.gateway,
        ParameterVersion: out.Version,
        Labels: ['last-good'],
      }),
    );
  };
  const weights = async (arn: string) =>
    (
      await elb.send(new DescribeRulesCommand({ RuleArns: [arn] }))
    ).Rules?.[0].Actions?.[0].ForwardConfig?.TargetGroups?.map((t) => t.Weight);
  const value = async (name: string) =>
    (await ssm.send(new GetParameterCommand({ Name: name }))).Parameter?.Value;
  return {
    config,
    names,
    live,
    deps,
    rules,
    foreign,
    legacy,
    gateway,
    checkedGateway,
    weights,
    value,
    forward,
  };
}

describe('traffic switch finding its rules on the listener (emulator)', () => {
  it('applies a checked weight to every rule of the block and nothing else, and records it', async () => {
    const d = await deployed();
    await d.checkedGateway(60);
    const result = await switchTraffic({ source: 'aws.ssm', detail: { name: d.names.gateway } }, d.deps);
    expect(result).toMatchObject({ status: 'applied', results: [{ service: 'users', modified: d.rules }] });
    for (const rule of d.rules) expect(await d.weights(rule)).toEqual([40, 60]);
    const foreign = (await elb.send(new DescribeRulesCommand({ RuleArns: [d.foreign] }))).Rules?.[0];
    expect(
      foreign?.Actions?.[0].TargetGroupArn ??
        foreign?.Actions?.[0].ForwardConfig?.TargetGroups?.[0].TargetGroupArn,
    ).toContain('other');
    expect([await d.value(d.live.legacy), await d.value(d.live.gateway)]).toEqual(['40', '60']);
  });

  it('puts the checked weight back after a deploy in flight wrote the old one (stack settled event)', async () => {
    const d = await deployed();
    await d.checkedGateway(60);
    await switchTraffic({ source: 'aws.ssm', detail: { name: d.names.gateway } }, d.deps);
    // The auto-rollback: weight 0, applied.
    await d.checkedGateway(0);
    await switchTraffic({ source: 'aws.ssm', detail: { name: d.names.gateway } }, d.deps);
    // A deploy whose change set resolved the live weights before the rollback writes 40/60 back.
    for (const rule of d.rules)
      await elb.send(new ModifyRuleCommand({ RuleArn: rule, Actions: d.forward(40, 60) }));
    await switchTraffic(
      { source: 'aws.cloudformation', 'detail-type': 'CloudFormation Stack Status Change', detail: {} },
      d.deps,
    );
    for (const rule of d.rules) expect(await d.weights(rule)).toEqual([100, 0]);
  });

  it('a scheduled run with nothing to change writes no new version of the live records', async () => {
    const d = await deployed();
    await d.checkedGateway(60);
    await switchTraffic({ source: 'aws.ssm', detail: { name: d.names.gateway } }, d.deps);
    const version = async (name: string) =>
      (await ssm.send(new GetParameterCommand({ Name: name }))).Parameter?.Version;
    const before = [await version(d.live.legacy), await version(d.live.gateway)];
    for (let i = 0; i < 3; i++)
      await expect(
        switchTraffic({ source: 'aws.events', 'detail-type': 'Scheduled Event' }, d.deps),
      ).resolves.toMatchObject({ results: [{ modified: [], recorded: [] }] });
    expect([await version(d.live.legacy), await version(d.live.gateway)]).toEqual(before);
  });

  it('a redeploy of the rules keeps the live weight: their dynamic references name the live parameters', async () => {
    const d = await deployed();
    await d.checkedGateway(70);
    await switchTraffic({ source: 'aws.events', 'detail-type': 'Scheduled Event' }, d.deps);
    const built = buildStacks(d.config);
    const service = built.services[0].service;
    const template = built.app.synth().getStackByName(service?.stackName as string).template;
    const rules = Object.values<{
      Type: string;
      Properties: { Actions: { ForwardConfig: { TargetGroups: { Weight: string }[] } }[] };
    }>(template.Resources).filter((r) => r.Type === 'AWS::ElasticLoadBalancingV2::ListenerRule');
    expect(rules).toHaveLength(d.rules.length);
    const resolve = async (weight: string) => {
      const name = /^\{\{resolve:ssm:(.+)\}\}$/.exec(weight)?.[1] as string;
      expect([d.live.legacy, d.live.gateway]).toContain(name);
      return Number(await d.value(name));
    };
    // What CloudFormation sends when the deploy updates each rule.
    for (const [i, rule] of rules.entries()) {
      const [l, g] = rule.Properties.Actions[0].ForwardConfig.TargetGroups.map((t) => t.Weight);
      await elb.send(
        new ModifyRuleCommand({
          RuleArn: d.rules[i],
          Actions: d.forward(await resolve(l), await resolve(g)),
        }),
      );
    }
    for (const rule of d.rules) expect(await d.weights(rule)).toEqual([30, 70]);
  });
});
