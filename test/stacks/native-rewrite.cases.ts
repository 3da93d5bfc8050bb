import { Match, Template } from 'aws-cdk-lib/assertions';
import { priorityRange, ruleBlockOf } from '../../lib/gateway/alb-rules';
import { demoInput, ordersService, sharedStacks } from '../helpers/test-app';

/** The demo plus `orders` at phase 3 routed by the native ALB rewrite (no KrakenD). */
function withAlbService() {
  const input = demoInput();
  input.services.push(ordersService('alb'));

  return sharedStacks(input);
}

const built = withAlbService();
const orders = Template.fromStack(built.services[1].service as never);
const users = Template.fromStack(built.services[0].service as never);
const ops = Template.fromStack(built.operations as never);
const blockOf = (name: string) => ruleBlockOf(built.platform.config.alb, name);
/** The `alb` block of orders: its pin takes the first priority, its rewriting rules the next ones. */
const { first, last } = priorityRange('alb', blockOf('orders'));
// biome-ignore lint/suspicious/noExplicitAny: CloudFormation templates are untyped JSON
type Cfn = Record<string, any>;
/** The listener rules of a template by priority, with their logical ids. */
const rulesOf = (template: Template): [string, Cfn][] =>
  Object.entries(template.findResources('AWS::ElasticLoadBalancingV2::ListenerRule'))
    .map(([id, r]): [string, Cfn] => [id, r.Properties])
    .sort(([, a], [, b]) => a.Priority - b.Priority);
const rules = () => rulesOf(orders).map(([, r]) => r);

describe('phase 3 in alb mode (a second service, no KrakenD)', () => {
  // Rewritten: the gateway stack no longer holds rules (nor `ruleArnsByService`): each service's rules
  // are in its own stack, and the gateway's configuration names only the krakend services.
  it('synthesizes next to the KrakenD service, whose gateway stays for users only', () => {
    expect(built.all.map((s) => s.stackName)).toEqual(
      expect.arrayContaining(['demo-35-gateway', 'demo-40-users-service', 'demo-40-orders-service']),
    );
    const krakend = built.gateway?.krakendConfig as { endpoints: { endpoint: string }[] } | undefined;
    const endpoints = (krakend?.endpoints ?? []).map((e) => e.endpoint);
    expect(endpoints).toContain('/api/users/{id}');
    expect(endpoints.filter((e) => e.startsWith('/api/orders'))).toEqual([]);
    // Users keeps its weighted rules in its stack; orders has none, and the gateway does not call it.
    expect(rulesOf(users)).toHaveLength(4); // three route rules and the composite's
    expect(rulesOf(users).every(([id]) => id.startsWith('GatewayRoutesRule'))).toBe(true);
    expect(rulesOf(orders).some(([id]) => id.startsWith('GatewayRoutes'))).toBe(false);
    expect(JSON.stringify(orders.toJSON())).not.toMatch(/gateway to the orders service|demo-35-gateway/);
    expect(built.services[1].service?.dependencies.map((s) => s.stackName)).not.toContain('demo-35-gateway');
  });

  it('rewrites each route to the service path natively and forwards to the service target group', () => {
    const [, firstRule, secondRule] = rules();
    // The conditions match the path only (no capture groups any more); the rewrite captures each
    // placeholder and the query string, which the replacement appends (decision 0007).
    expect(firstRule).toMatchObject({
      Priority: first + 1,
      Conditions: [
        { Field: 'path-pattern', PathPatternConfig: { RegexValues: ['^/api/orders/[^/]+$'] } },
        { Field: 'http-request-method', HttpRequestMethodConfig: { Values: ['GET'] } },
      ],
      Transforms: [
        {
          Type: 'url-rewrite',
          UrlRewriteConfig: {
            Rewrites: [{ Regex: '^/api/orders/([^/?]+)(\\?.*)?$', Replace: '/v2/orders/$1$2' }],
          },
        },
      ],
      Actions: [{ Type: 'forward', TargetGroupArn: { Ref: expect.stringMatching(/^ServiceTargetGroup/) } }],
    });
    expect(secondRule).toMatchObject({
      Priority: first + 2,
      Conditions: [
        { Field: 'path-pattern', PathPatternConfig: { RegexValues: ['^/api/orders$'] } },
        { Field: 'http-request-method', HttpRequestMethodConfig: { Values: ['GET', 'POST'] } },
      ],
      Transforms: [
        { UrlRewriteConfig: { Rewrites: [{ Regex: '^/api/orders(\\?.*)?$', Replace: '/v2/orders$1' }] } },
      ],
      Actions: [{ Type: 'forward', TargetGroupArn: { Ref: expect.stringMatching(/^ServiceTargetGroup/) } }],
    });
    expect(rules()).toHaveLength(3);
    expect(first + 2).toBeLessThanOrEqual(last);
    // The alb range (below 25000) is evaluated before every krakend rule.
    expect(last).toBeLessThan(Math.min(...rulesOf(users).map(([, r]) => r.Priority)));
  });

  it('pins all its routes to the monolith with a rule whose pin the gateway gate gives (live, or pinned on entering)', () => {
    const [[pinId, pin]] = rulesOf(orders);
    expect(pinId).toMatch(/^NativeRewritePin/);
    // The first priority of the service's alb block (was 200), where the hook looks for it.
    expect(pin).toEqual({
      ListenerArn: expect.anything(),
      Priority: first,
      Conditions: [
        {
          Field: 'path-pattern',
          PathPatternConfig: {
            RegexValues: [
              {
                'Fn::Join': [
                  '',
                  [
                    '^',
                    { 'Fn::GetAtt': [expect.stringMatching(/^GatewayGate/), 'Pin'] },
                    '(/api/orders/[^/]+|/api/orders)$',
                  ],
                ],
              },
            ],
          },
        },
      ],
      Actions: [
        {
          Type: 'forward',
          TargetGroupArn: {
            'Fn::GetStackOutput': expect.objectContaining({ StackName: 'demo-30-platform' }),
          },
        },
      ],
    });
  });

  it('health-checks the service behind the ALB, registers it after its rules, and admits the ALB', () => {
    orders.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
      HealthCheckPath: '/',
      Port: 80,
      TargetType: 'ip',
    });
    const [service] = Object.values(orders.findResources('AWS::ECS::Service'));
    expect(service.DependsOn).toEqual(
      expect.arrayContaining([
        expect.stringMatching(new RegExp(`^NativeRewriteRoute${first + 1}`)),
        expect.stringMatching(new RegExp(`^NativeRewriteRoute${first + 2}`)),
      ]),
    );
    orders.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      Description: 'load balancer to the orders service',
      FromPort: 80,
    });
    orders.hasResourceProperties('AWS::EC2::SecurityGroupEgress', {
      Description: 'load balancer to the orders service',
      FromPort: 80,
    });
  });

  // Rewritten: the environment held a `pin` target (rule ARN, regex body, live parameter) for orders and
  // a `weighted` one (rule ARNs, target groups) for users. It now holds each service's mode and block: the
  // hook finds the rules on the listener and derives the live parameter names from the prefix.
  it('gives the traffic-switch hook the mode and block of orders (alb) and of users (krakend)', () => {
    const [fn] = Object.entries(ops.findResources('AWS::Lambda::Function')).filter(([id]) =>
      id.startsWith('TrafficSwitch'),
    );
    const [, parts] = fn[1].Properties.Environment.Variables.MIGRATION_SWITCH_CONFIG['Fn::Join'];
    const env = JSON.parse(parts.map((p: unknown) => (typeof p === 'string' ? p : 'LISTENER')).join(''));
    expect(env.parameterPrefix).toBe('/demo/migration');
    expect(env.services).toEqual([
      { service: 'users', mode: 'krakend', block: blockOf('users') },
      { service: 'orders', mode: 'alb', block: blockOf('orders') },
    ]);
    ops.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: Match.objectLike({
        detail: {
          // A pattern; the hook keeps the gateway documents of the services in its environment.
          name: [{ wildcard: '/demo/migration/*/gateway' }],
          operation: ['LabelParameterVersion'],
        },
      }),
    });
  });

  it('tells the flag guard that orders switches all or nothing', () => {
    const [fn] = Object.entries(ops.findResources('AWS::Lambda::Function')).filter(([id]) =>
      id.startsWith('FlagGuard'),
    );
    const env = JSON.stringify(fn[1].Properties.Environment.Variables.MIGRATION_HOOK_CONFIG);
    // Rewritten: the entries are `{name, phase, gateway}` (HookServiceEntry; hookServices() turns them into
    // `gatewayMode`). The old `"service":"orders"` and `"gatewayMode":"alb"` were the environment's
    // spelling before the flag contract v2 (658ca39), and no longer matched it.
    expect(env).toContain('\\"name\\":\\"orders\\",\\"phase\\":3,\\"gateway\\":\\"alb\\"');
    expect(env).toContain('\\"name\\":\\"users\\",\\"phase\\":3,\\"gateway\\":\\"krakend\\"');
  });
});
