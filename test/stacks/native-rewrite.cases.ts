import { Match, Template } from 'aws-cdk-lib/assertions';
import { buildStacks, config, demoInput } from '../helpers/test-app';

/** The demo plus `orders` at phase 3 routed by the native ALB rewrite (no KrakenD). */
function withAlbService() {
  const input = demoInput();
  input.services.push({
    name: 'orders',
    phase: 3,
    gateway: 'alb',
    image: 'public.ecr.aws/nginx/nginx:1.27-alpine',
    port: 80,
    healthCheckPath: '/',
    routes: [
      { path: '/api/orders/{id}', methods: ['GET'], servicePath: '/v2/orders/{id}' },
      { path: '/api/orders', methods: ['GET', 'POST'], servicePath: '/v2/orders' },
    ],
    bulkMigration: { command: ['/app/orders', 'migrate'] },
  });
  return buildStacks(config(input));
}

const built = withAlbService();
const orders = Template.fromStack(built.services[1].service as never);
const ops = Template.fromStack(built.operations as never);
const rules = () =>
  Object.values(orders.findResources('AWS::ElasticLoadBalancingV2::ListenerRule')).map((r) => r.Properties);

describe('phase 3 in alb mode (a second service, no KrakenD)', () => {
  it('synthesizes next to the KrakenD service, whose gateway stays for users only', () => {
    expect(built.all.map((s) => s.stackName)).toContain('demo-40-orders-service');
    expect(built.gateway?.ruleArnsByService.has('orders')).toBe(false);
    expect(built.gateway?.ruleArnsByService.has('users')).toBe(true);
  });

  it('rewrites each route to the service path natively and forwards to the service target group', () => {
    const [, first, second] = rules();
    expect(first).toMatchObject({
      Priority: 201,
      Conditions: [
        { Field: 'path-pattern', PathPatternConfig: { RegexValues: ['^/api/orders/([^/]+)$'] } },
        { Field: 'http-request-method', HttpRequestMethodConfig: { Values: ['GET'] } },
      ],
      Transforms: [
        {
          Type: 'url-rewrite',
          UrlRewriteConfig: { Rewrites: [{ Regex: '^/api/orders/([^/]+)$', Replace: '/v2/orders/$1' }] },
        },
      ],
      Actions: [{ Type: 'forward', TargetGroupArn: { Ref: expect.stringMatching(/^ServiceTargetGroup/) } }],
    });
    expect(second).toMatchObject({
      Priority: 202,
      Transforms: [{ UrlRewriteConfig: { Rewrites: [{ Replace: '/v2/orders' }] } }],
    });
  });

  it('pins all its routes to the monolith with a rule whose pin a deploy reads from the live parameter', () => {
    const [pin] = rules();
    expect(pin).toEqual({
      ListenerArn: expect.anything(),
      Priority: 200,
      Conditions: [
        {
          Field: 'path-pattern',
          PathPatternConfig: {
            RegexValues: [
              '^{{resolve:ssm:/demo/migration/orders/live/alb-pin}}(/api/orders/[^/]+|/api/orders)$',
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
        expect.stringMatching(/^NativeRewriteRoute201/),
        expect.stringMatching(/^NativeRewriteRoute202/),
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

  it('gives the traffic-switch hook a pin target for orders and weighted rules for users', () => {
    const [fn] = Object.entries(ops.findResources('AWS::Lambda::Function')).filter(([id]) =>
      id.startsWith('TrafficSwitch'),
    );
    const env = JSON.stringify(fn[1].Properties.Environment.Variables.MIGRATION_SWITCH_CONFIG);
    expect(env).toContain('\\"mode\\":\\"pin\\"');
    expect(env).toContain('\\"mode\\":\\"weighted\\"');
    expect(env).toContain('/demo/migration/orders/live/alb-pin');
    ops.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: Match.objectLike({
        detail: {
          name: ['/demo/migration/users/gateway', '/demo/migration/orders/gateway'],
          operation: ['LabelParameterVersion'],
        },
      }),
    });
  });

  it('tells the flag guard that orders switches all or nothing', () => {
    const [fn] = Object.entries(ops.findResources('AWS::Lambda::Function')).filter(([id]) =>
      id.startsWith('FlagGuard'),
    );
    expect(JSON.stringify(fn[1].Properties.Environment.Variables.MIGRATION_HOOK_CONFIG)).toContain(
      '\\"service\\":\\"orders\\",\\"phase\\":3',
    );
    expect(JSON.stringify(fn[1].Properties.Environment.Variables.MIGRATION_HOOK_CONFIG)).toContain(
      '\\"gatewayMode\\":\\"alb\\"',
    );
  });
});
