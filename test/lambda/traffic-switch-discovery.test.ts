import {
  DescribeListenersCommand,
  DescribeRulesCommand,
  ElasticLoadBalancingV2Client,
  ModifyRuleCommand,
  type Rule,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { GetParametersCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { rulesOfService, weightedRules } from '../../lambda/traffic-switch/decide';
import { type SwitchDependencies, switchTraffic } from '../../lambda/traffic-switch/handler';
import { pinRegex, priorityRange } from '../../lib/gateway/alb-rules';

const ssmMock = mockClient(SSMClient);
const elbMock = mockClient(ElasticLoadBalancingV2Client);
const LISTENER = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/lb/1/2';
const LEGACY = 'tg/legacy';
const GATEWAY = 'tg/gateway';
const deps: SwitchDependencies = {
  env: {
    parameterPrefix: '/demo/migration',
    listenerArn: LISTENER,
    services: [
      { service: 'users', mode: 'krakend', block: 7 },
      { service: 'orders', mode: 'alb', block: 9 },
    ],
  },
  ssm: new SSMClient({ region: 'eu-west-1' }),
  elb: new ElasticLoadBalancingV2Client({ region: 'eu-west-1' }),
  logger: { log: () => {}, metric: () => {} },
};
const usersFirst = priorityRange('krakend', 7).first;
const ordersPin = priorityRange('alb', 9).first;
const BODY = '(/api/orders/[^/]+)';

const weighted = (arn: string, priority: number, legacy: number, gateway: number): Rule => ({
  RuleArn: arn,
  Priority: String(priority),
  Actions: [
    {
      Type: 'forward',
      ForwardConfig: {
        TargetGroups: [
          { TargetGroupArn: LEGACY, Weight: legacy },
          { TargetGroupArn: GATEWAY, Weight: gateway },
        ],
      },
    },
  ],
});
const pin = (regex: string): Rule => ({
  RuleArn: 'rule/pin',
  Priority: String(ordersPin),
  Conditions: [{ Field: 'path-pattern', PathPatternConfig: { RegexValues: [regex] } }],
  Actions: [{ Type: 'forward', TargetGroupArn: LEGACY }],
});
const other = (arn: string, priority: number): Rule => ({
  RuleArn: arn,
  Priority: String(priority),
  Actions: [{ Type: 'forward', TargetGroupArn: 'tg/elsewhere' }],
});

/** The listener as DescribeRules pages it (two pages), with its default rule. */
function listenerWith(rules: Rule[]) {
  const all = [...rules, { RuleArn: 'rule/default', Priority: 'default', IsDefault: true }];
  const half = Math.ceil(all.length / 2);
  elbMock
    .on(DescribeRulesCommand, { ListenerArn: LISTENER })
    .callsFake(({ Marker }) =>
      Marker ? { Rules: all.slice(half) } : { Rules: all.slice(0, half), NextMarker: 'p2' },
    );
  elbMock.on(DescribeListenersCommand).resolves({
    Listeners: [{ ListenerArn: LISTENER, DefaultActions: [{ Type: 'forward', TargetGroupArn: LEGACY }] }],
  });
}

/** The checked (last-good) gateway documents: weight per service; and the `live/` records by name. */
function checked(weights: Record<string, number>, live: Record<string, string> = {}) {
  ssmMock.on(GetParametersCommand).callsFake(({ Names }: { Names: string[] }) => ({
    Parameters: Names.flatMap((n) => {
      if (n in live) return [{ Name: n, Value: live[n] }];
      const service = /\/demo\/migration\/([a-z0-9]+)\/gateway:last-good$/.exec(n)?.[1];
      return service && service in weights
        ? [{ Name: n.replace(/:last-good$/, ''), Value: JSON.stringify({ weight: weights[service] }) }]
        : [];
    }),
  }));
}
const LIVE = {
  usersLegacy: '/demo/migration/users/live/legacy-weight',
  usersGateway: '/demo/migration/users/live/gateway-weight',
  ordersPin: '/demo/migration/orders/live/alb-pin',
};

beforeEach(() => {
  ssmMock.reset();
  elbMock.reset();
  ssmMock.on(PutParameterCommand).resolves({ Version: 2 });
});

describe('traffic switch: the rules are found on the listener by their block', () => {
  it('keeps only the rules in the service block and mode', () => {
    const observed = [
      { ruleArn: 'a', priority: usersFirst, targets: [], pathRegexes: [] },
      { ruleArn: 'b', priority: usersFirst + 31, targets: [], pathRegexes: [] },
      { ruleArn: 'c', priority: usersFirst + 32, targets: [], pathRegexes: [] },
      { ruleArn: 'd', priority: priorityRange('alb', 7).first, targets: [], pathRegexes: [] },
      { ruleArn: 'default', targets: [], pathRegexes: [] },
    ];
    expect(rulesOfService(observed, 'krakend', 7).map((r) => r.ruleArn)).toEqual(['a', 'b']);
  });

  it('refuses a rule in the block that is not a weighted forward between the monolith and the gateway', () => {
    expect(
      weightedRules(
        'users',
        [
          {
            ruleArn: 'x',
            priority: usersFirst,
            targets: [{ targetGroupArn: 'tg/elsewhere', weight: 1 }],
            pathRegexes: [],
          },
        ],
        LEGACY,
      ),
    ).toEqual({
      problem: `users: rule x (priority ${usersFirst}) is not a weighted forward between the monolith and the gateway; leave the block to the app`,
    });
  });

  it('applies a labelled gateway document to the weighted rules of that service only, then records it', async () => {
    listenerWith([
      weighted('rule/u1', usersFirst, 100, 0),
      weighted('rule/u2', usersFirst + 1, 70, 30),
      other('rule/foreign', usersFirst + 40),
      pin(pinRegex('/?', BODY)),
    ]);
    elbMock.on(DescribeRulesCommand, { RuleArns: ['rule/u1', 'rule/u2'] }).resolves({
      Rules: [weighted('rule/u1', usersFirst, 70, 30), weighted('rule/u2', usersFirst + 1, 70, 30)],
    });
    checked({ users: 30 });
    await expect(
      switchTraffic({ source: 'aws.ssm', detail: { name: '/demo/migration/users/gateway' } }, deps),
    ).resolves.toEqual({
      status: 'applied',
      trigger: 'parameter',
      results: [
        {
          service: 'users',
          status: 'applied',
          weights: { legacy: 70, gateway: 30 },
          modified: ['rule/u1'],
          recorded: [LIVE.usersLegacy, LIVE.usersGateway],
        },
      ],
    });
    expect(elbMock).toHaveReceivedCommandTimes(ModifyRuleCommand, 1);
    expect(elbMock).toHaveReceivedCommandWith(ModifyRuleCommand, {
      RuleArn: 'rule/u1',
      Actions: [
        {
          Type: 'forward',
          ForwardConfig: {
            TargetGroups: [
              { TargetGroupArn: LEGACY, Weight: 70 },
              { TargetGroupArn: GATEWAY, Weight: 30 },
            ],
          },
        },
      ],
    });
    expect(ssmMock).toHaveReceivedCommandWith(PutParameterCommand, {
      Name: '/demo/migration/users/live/gateway-weight',
      Value: '30',
    });
    expect(ssmMock).toHaveReceivedCommandWith(PutParameterCommand, {
      Name: '/demo/migration/users/live/legacy-weight',
      Value: '70',
    });
  });

  it('releases a pin from the live rule, reading the route alternation from it', async () => {
    listenerWith([weighted('rule/u1', usersFirst, 100, 0), pin(pinRegex('/?', BODY))]);
    elbMock
      .on(DescribeRulesCommand, { RuleArns: ['rule/pin'] })
      .resolves({ Rules: [pin(pinRegex('#', BODY))] });
    checked({ orders: 100 });
    await expect(
      switchTraffic({ source: 'aws.ssm', detail: { name: '/demo/migration/orders/gateway' } }, deps),
    ).resolves.toMatchObject({ results: [{ service: 'orders', modified: ['rule/pin'] }] });
    expect(elbMock).toHaveReceivedCommandWith(ModifyRuleCommand, {
      RuleArn: 'rule/pin',
      Conditions: [{ Field: 'path-pattern', PathPatternConfig: { RegexValues: [`^#${BODY}$`] } }],
    });
    expect(ssmMock).toHaveReceivedCommandWith(PutParameterCommand, {
      Name: '/demo/migration/orders/live/alb-pin',
      Value: '#',
    });
  });

  it.each([
    [
      'a stack of the app settled',
      {
        source: 'aws.cloudformation',
        'detail-type': 'CloudFormation Stack Status Change',
        detail: { 'stack-id': 'arn' },
      },
      'stack',
    ],
    ['the schedule', { source: 'aws.events', 'detail-type': 'Scheduled Event', detail: {} }, 'schedule'],
  ] as const)(
    're-applies every checked document when %s (a deploy in flight wrote old weights)',
    async (_when, event, trigger) => {
      // An auto-rollback set users to 0 while a deploy resolved the live weights as 40/60 and wrote them back.
      listenerWith([weighted('rule/u1', usersFirst, 40, 60), pin(pinRegex('/?', BODY))]);
      elbMock
        .on(DescribeRulesCommand, { RuleArns: ['rule/u1'] })
        .resolves({ Rules: [weighted('rule/u1', usersFirst, 100, 0)] });
      elbMock
        .on(DescribeRulesCommand, { RuleArns: ['rule/pin'] })
        .resolves({ Rules: [pin(pinRegex('/?', BODY))] });
      checked({ users: 0, orders: 0 });
      await expect(switchTraffic(event, deps)).resolves.toEqual({
        status: 'applied',
        trigger,
        results: [
          {
            service: 'users',
            status: 'applied',
            weights: { legacy: 100, gateway: 0 },
            modified: ['rule/u1'],
            recorded: [LIVE.usersLegacy, LIVE.usersGateway],
          },
          {
            service: 'orders',
            status: 'applied',
            weights: { legacy: 100, gateway: 0 },
            modified: [],
            recorded: [LIVE.ordersPin],
          },
        ],
      });
    },
  );

  it('applies the others and then fails (retry, dead-letter queue) when one service cannot be applied', async () => {
    listenerWith([other('rule/foreign', usersFirst), pin(pinRegex('/?', BODY))]);
    elbMock
      .on(DescribeRulesCommand, { RuleArns: ['rule/pin'] })
      .resolves({ Rules: [pin(pinRegex('/?', BODY))] });
    checked({ users: 10, orders: 0 });
    await expect(switchTraffic({ source: 'aws.events' }, deps)).rejects.toThrow(
      /traffic switch \(schedule\) failed for users: users: rule rule\/foreign .* is not a weighted forward between the monolith and the gateway/,
    );
    expect(ssmMock).toHaveReceivedCommandWith(PutParameterCommand, {
      Name: '/demo/migration/orders/live/alb-pin',
      Value: '/?',
    });
    expect(ssmMock).not.toHaveReceivedCommandWith(PutParameterCommand, {
      Name: '/demo/migration/users/live/gateway-weight',
    });
  });

  it('ignores parameters it does not own and malformed events, calling nothing', async () => {
    await expect(switchTraffic({ detail: { name: '/other' } }, deps)).resolves.toEqual({
      status: 'ignored',
      reason: '/other is not a gateway document of this app',
    });
    await expect(switchTraffic({ detail: {} }, deps)).resolves.toMatchObject({ status: 'ignored' });
    expect(elbMock.calls()).toHaveLength(0);
    expect(ssmMock.calls()).toHaveLength(0);
  });
});

describe('traffic switch: idempotent, and quiet when there is nothing to do (issue 24, item 7)', () => {
  const logged: [string, string, Record<string, unknown> | undefined][] = [];
  const quiet: SwitchDependencies = {
    ...deps,
    logger: { log: (level, message, fields) => logged.push([level, message, fields]), metric: () => {} },
  };
  beforeEach(() => {
    logged.length = 0;
  });
  const schedule = { source: 'aws.events', 'detail-type': 'Scheduled Event', detail: {} } as const;
  const settled = {
    source: 'aws.cloudformation',
    'detail-type': 'CloudFormation Stack Status Change',
    detail: { 'stack-id': 'arn' },
  } as const;

  /** The listener already holds users' 70/30 split and orders' released pin. */
  const rulesAsApplied = () => {
    listenerWith([weighted('rule/u1', usersFirst, 70, 30), pin(pinRegex('#', BODY))]);
    elbMock
      .on(DescribeRulesCommand, { RuleArns: ['rule/u1'] })
      .resolves({ Rules: [weighted('rule/u1', usersFirst, 70, 30)] });
    elbMock
      .on(DescribeRulesCommand, { RuleArns: ['rule/pin'] })
      .resolves({ Rules: [pin(pinRegex('#', BODY))] });
  };

  it('writes no live/ record and modifies no rule when everything is already applied', async () => {
    rulesAsApplied();
    checked(
      { users: 30, orders: 100 },
      { [LIVE.usersLegacy]: '70', [LIVE.usersGateway]: '30', [LIVE.ordersPin]: '#' },
    );
    await expect(switchTraffic(schedule, quiet)).resolves.toMatchObject({
      status: 'applied',
      results: [
        { service: 'users', status: 'applied', modified: [], recorded: [] },
        { service: 'orders', status: 'applied', modified: [], recorded: [] },
      ],
    });
    expect(ssmMock).not.toHaveReceivedCommand(PutParameterCommand);
    expect(elbMock).not.toHaveReceivedCommand(ModifyRuleCommand);
    expect(logged.filter(([level]) => level !== 'debug')).toEqual([]);
  });

  it('writes only the record whose value changed', async () => {
    rulesAsApplied();
    // A hand edit of one record (or a first run that wrote one of the two before failing).
    checked(
      { users: 30, orders: 100 },
      { [LIVE.usersLegacy]: '100', [LIVE.usersGateway]: '30', [LIVE.ordersPin]: '#' },
    );
    await switchTraffic(schedule, quiet);
    expect(ssmMock).toHaveReceivedCommandTimes(PutParameterCommand, 1);
    expect(ssmMock).toHaveReceivedCommandWith(PutParameterCommand, { Name: LIVE.usersLegacy, Value: '70' });
  });

  it.each([
    ['a settled stack', settled],
    ['the schedule', schedule],
  ])(
    'after a mode switch, %s that reaches the old configuration skips the service with no rule in its block, and succeeds',
    async (_when, event) => {
      // users moved to alb mode (its krakend block is empty); the function still has it as krakend.
      listenerWith([pin(pinRegex('/?', BODY)), other('rule/users-alb', priorityRange('alb', 7).first)]);
      elbMock
        .on(DescribeRulesCommand, { RuleArns: ['rule/pin'] })
        .resolves({ Rules: [pin(pinRegex('/?', BODY))] });
      checked({ users: 0, orders: 0 });
      await expect(switchTraffic(event, quiet)).resolves.toMatchObject({
        status: 'applied',
        results: [
          {
            service: 'users',
            status: 'skipped',
            reason: expect.stringMatching(/^users: no rule in its krakend block/),
          },
          { service: 'orders', status: 'applied' },
        ],
      });
      expect(ssmMock).not.toHaveReceivedCommandWith(PutParameterCommand, { Name: LIVE.usersGateway });
      expect(elbMock).not.toHaveReceivedCommand(ModifyRuleCommand);
      expect(logged).toContainEqual([
        'info',
        'nothing to apply for this service',
        expect.objectContaining({ service: 'users' }),
      ]);
      expect(logged.filter(([level]) => level === 'error')).toEqual([]);
    },
  );

  it('still fails a labelled document for a service with no rule in its block (the retry finds the new configuration)', async () => {
    listenerWith([pin(pinRegex('/?', BODY))]);
    checked({ users: 30 });
    await expect(
      switchTraffic({ source: 'aws.ssm', detail: { name: '/demo/migration/users/gateway' } }, quiet),
    ).rejects.toThrow(/users: no rule in its krakend block/);
  });

  it('after a certificate (its listener is now the redirect), a settled stack is ignored with a log line', async () => {
    elbMock.on(DescribeListenersCommand).resolves({
      Listeners: [
        {
          ListenerArn: LISTENER,
          DefaultActions: [
            { Type: 'redirect', RedirectConfig: { Protocol: 'HTTPS', Port: '443', StatusCode: 'HTTP_301' } },
          ],
        },
      ],
    });
    elbMock.on(DescribeRulesCommand).resolves({ Rules: [{ RuleArn: 'rule/default', IsDefault: true }] });
    await expect(switchTraffic(settled, quiet)).resolves.toEqual({
      status: 'ignored',
      reason: expect.stringMatching(/has no default forward to the monolith's target group/),
    });
    expect(ssmMock.calls()).toHaveLength(0);
    expect(elbMock).not.toHaveReceivedCommand(ModifyRuleCommand);
    expect(logged.map(([level]) => level)).toEqual(['info']);
    // An operator's labelled document is not lost silently: it fails, and its retry gets the new listener.
    await expect(
      switchTraffic({ source: 'aws.ssm', detail: { name: '/demo/migration/users/gateway' } }, quiet),
    ).rejects.toThrow(/has no default forward/);
  });

  it('ignores a listener that no longer exists on the schedule', async () => {
    elbMock
      .on(DescribeListenersCommand)
      .rejects(Object.assign(new Error('listener not found'), { name: 'ListenerNotFoundException' }));
    await expect(switchTraffic(schedule, quiet)).resolves.toEqual({
      status: 'ignored',
      reason: `listener ${LISTENER} does not exist any more`,
    });
  });
});
