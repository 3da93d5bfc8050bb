import {
  DescribeRulesCommand,
  ElasticLoadBalancingV2Client,
  ModifyRuleCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { GetParameterHistoryCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import type { EventBridgeEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { rulesToModify, weightsFor } from '../../lambda/traffic-switch/decide';
import { type SwitchDependencies, switchTraffic } from '../../lambda/traffic-switch/handler';
import { hookService } from '../helpers/hooks';

const ssmMock = mockClient(SSMClient);
const elbMock = mockClient(ElasticLoadBalancingV2Client);
const service = hookService('/demo/migration', { phase: 3 });
const targets = { legacyTargetGroupArn: 'tg/legacy', newTargetGroupArn: 'tg/gateway' };
const deps: SwitchDependencies = {
  env: {
    services: [
      {
        mode: 'weighted',
        service,
        ruleArns: ['rule/1', 'rule/2'],
        ...targets,
        liveWeights: { legacy: '/l', gateway: '/g' },
      },
    ],
  },
  ssm: new SSMClient({ region: 'eu-west-1' }),
  elb: new ElasticLoadBalancingV2Client({ region: 'eu-west-1' }),
  logger: { log: () => {}, metric: () => {} },
};
const event = (name: unknown) => ({ detail: { name } }) as EventBridgeEvent<string, { name?: string }>;
const rule = (arn: string, legacy: number, gateway: number) => ({
  RuleArn: arn,
  Actions: [
    {
      Type: 'forward' as const,
      ForwardConfig: {
        TargetGroups: [
          { TargetGroupArn: 'tg/legacy', Weight: legacy },
          { TargetGroupArn: 'tg/gateway', Weight: gateway },
        ],
      },
    },
  ],
});

/** The flags as the guard validated them, with this gateway weight (routing all, no cutover). */
function validatedGatewayWeight(weight: number) {
  ssmMock.on(GetParameterHistoryCommand).callsFake(({ Name }) => ({
    Parameters: [
      {
        Name,
        Version: 1,
        Value: Name.endsWith('gateway')
          ? JSON.stringify({ weight })
          : Name.endsWith('cutover')
            ? '{"completed":false}'
            : '{"mode":"all"}',
        Labels: ['last-good'],
      },
    ],
  }));
}

beforeEach(() => {
  ssmMock.reset();
  elbMock.reset();
  validatedGatewayWeight(30);
  ssmMock.on(PutParameterCommand).resolves({ Version: 2 });
});

describe('traffic-switch decisions', () => {
  it('splits 100 between legacy and gateway', () => {
    expect(weightsFor(0)).toEqual({ legacy: 100, gateway: 0 });
    expect(weightsFor(35)).toEqual({ legacy: 65, gateway: 35 });
  });

  it('modifies only the rules whose weights differ', () => {
    const observed = [
      {
        ruleArn: 'a',
        targets: [
          { targetGroupArn: 'tg/legacy', weight: 70 },
          { targetGroupArn: 'tg/gateway', weight: 30 },
        ],
      },
      {
        ruleArn: 'b',
        targets: [
          { targetGroupArn: 'tg/legacy', weight: 100 },
          { targetGroupArn: 'tg/gateway', weight: 0 },
        ],
      },
      { ruleArn: 'c', targets: [{ targetGroupArn: 'tg/legacy', weight: 1 }] },
    ];
    expect(rulesToModify(observed, targets, weightsFor(30))).toEqual(['b', 'c']);
  });
});

describe('traffic-switch handler', () => {
  it('applies the last-good weight, verifies with DescribeRules, then records the live weights', async () => {
    elbMock
      .on(DescribeRulesCommand)
      .resolvesOnce({ Rules: [rule('rule/1', 100, 0), rule('rule/2', 70, 30)] })
      .resolves({ Rules: [rule('rule/1', 70, 30), rule('rule/2', 70, 30)] });
    await expect(switchTraffic(event(service.names.gateway), deps)).resolves.toEqual({
      status: 'applied',
      weights: { legacy: 70, gateway: 30 },
      modified: ['rule/1'],
    });
    expect(elbMock).toHaveReceivedCommandTimes(ModifyRuleCommand, 1);
    expect(ssmMock).toHaveReceivedCommandWith(PutParameterCommand, { Name: '/g', Value: '30' });
    expect(ssmMock).toHaveReceivedCommandWith(PutParameterCommand, { Name: '/l', Value: '70' });
  });

  it('fails without recording when the rules do not take the weights', async () => {
    elbMock.on(DescribeRulesCommand).resolves({ Rules: [rule('rule/1', 100, 0), rule('rule/2', 70, 30)] });
    await expect(switchTraffic(event(service.names.gateway), deps)).rejects.toThrow(
      'rules still not at {"legacy":70,"gateway":30} after ModifyRule: rule/1',
    );
    expect(ssmMock).not.toHaveReceivedCommand(PutParameterCommand);
  });

  it('ignores malformed events and parameters it does not own, calling nothing', async () => {
    await expect(switchTraffic(event(undefined), deps)).resolves.toMatchObject({ status: 'ignored' });
    await expect(switchTraffic(event('/other'), deps)).resolves.toEqual({
      status: 'ignored',
      reason: '/other is not a gateway document of this app',
    });
    expect(elbMock.calls()).toHaveLength(0);
    expect(ssmMock.calls()).toHaveLength(0);
  });
});

describe('traffic-switch for a native-rewrite (alb) service', () => {
  const pinService = hookService('/demo/migration', { phase: 3, gatewayMode: 'alb' });
  const pinDeps: SwitchDependencies = {
    ...deps,
    env: {
      services: [
        {
          mode: 'pin',
          service: pinService,
          pinRuleArn: 'rule/pin',
          pinRegexBody: '(/api/orders/[^/]+)',
          livePin: '/pin',
        },
      ],
    },
  };
  const pinRule = (regex: string) => ({
    RuleArn: 'rule/pin',
    Conditions: [{ Field: 'path-pattern', PathPatternConfig: { RegexValues: [regex] } }],
  });

  it('releases the pin at weight 100: the pin rule can no longer match, the rewrite rules take the routes', async () => {
    validatedGatewayWeight(100);
    elbMock
      .on(DescribeRulesCommand)
      .resolvesOnce({ Rules: [pinRule('^/?(/api/orders/[^/]+)$')] })
      .resolves({ Rules: [pinRule('^#(/api/orders/[^/]+)$')] });
    await expect(switchTraffic(event(pinService.names.gateway), pinDeps)).resolves.toEqual({
      status: 'applied',
      weights: { legacy: 0, gateway: 100 },
      modified: ['rule/pin'],
    });
    expect(elbMock).toHaveReceivedCommandWith(ModifyRuleCommand, {
      RuleArn: 'rule/pin',
      Conditions: [{ Field: 'path-pattern', PathPatternConfig: { RegexValues: ['^#(/api/orders/[^/]+)$'] } }],
    });
    expect(ssmMock).toHaveReceivedCommandWith(PutParameterCommand, { Name: '/pin', Value: '#' });
  });

  it('pins again at weight 0, and does nothing to a rule already there', async () => {
    elbMock.on(DescribeRulesCommand).resolves({ Rules: [pinRule('^/?(/api/orders/[^/]+)$')] });
    validatedGatewayWeight(0);
    await expect(switchTraffic(event(pinService.names.gateway), pinDeps)).resolves.toMatchObject({
      modified: [],
    });
    expect(elbMock).not.toHaveReceivedCommand(ModifyRuleCommand);
    expect(ssmMock).toHaveReceivedCommandWith(PutParameterCommand, { Name: '/pin', Value: '/?' });
  });
});
