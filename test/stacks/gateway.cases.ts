import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { GATEWAY_ANCHOR_PRIORITY, priorityRange, ruleBlockOf } from '../../lib/gateway/alb-rules';
import { gatewayStackName } from '../../lib/naming';
import { demoStacks } from '../helpers/test-app';

const stacks = demoStacks();
const gateway = Template.fromStack(stacks.gateway as never);
const usersStack = stacks.services[0].service;
const users = Template.fromStack(usersStack as never);
/** The `krakend` block of the demo's users service: its weighted rules' priorities start there. */
const { first, last } = priorityRange('krakend', ruleBlockOf(stacks.platform.config.alb, 'users'));

// biome-ignore lint/suspicious/noExplicitAny: CloudFormation templates are untyped JSON
type Cfn = Record<string, any>;

function rulesOf(template: Template): [string, Cfn][] {
  return Object.entries(template.findResources('AWS::ElasticLoadBalancingV2::ListenerRule')).map(
    ([id, r]) => [id, r.Properties],
  );
}
const rules = () => rulesOf(users).map(([, r]) => r);

describe('phase 3: the KrakenD gateway', () => {
  it('runs KrakenD on Fargate in private subnets, health-checked on /__health, with autoscaling and logs', () => {
    // Decision 0007: the gateway deploys after the platform and before the service stacks (was 50).
    expect(stacks.gateway?.stackName).toBe('demo-35-gateway');
    // The CLI finds the gateway's ECS service in it by this name (lib/cli/endpoint-check.ts).
    expect(stacks.gateway?.stackName).toBe(gatewayStackName('demo'));
    gateway.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
      HealthCheckPath: '/__health',
      Port: 8080,
      TargetType: 'ip',
    });
    gateway.hasResourceProperties('AWS::ECS::Service', {
      NetworkConfiguration: { AwsvpcConfiguration: { AssignPublicIp: 'DISABLED' } },
      DeploymentConfiguration: Match.objectLike({
        DeploymentCircuitBreaker: { Enable: true, Rollback: true },
      }),
    });
    gateway.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', {
      MinCapacity: 2,
      MaxCapacity: 6,
    });
    gateway.hasResource('AWS::Logs::LogGroup', {
      Properties: { RetentionInDays: 30 },
      DeletionPolicy: 'Retain',
    });
  });

  it('bakes the generated configuration into an image built from the pinned KrakenD release', () => {
    const config = stacks.gateway?.krakendConfig as {
      endpoints: { endpoint: string; method: string; backend: { host: string[]; url_pattern: string }[] }[];
    };
    expect(
      config.endpoints.map(
        (e) => `${e.method} ${e.endpoint} -> ${e.backend[0].host[0]}${e.backend[0].url_pattern}`,
      ),
    ).toEqual([
      'POST /api/login -> http://users:80/v1/auth/login',
      'POST /api/logout -> http://users:80/v1/auth/logout',
      'POST /api/users -> http://users:80/v1/users',
      'DELETE /api/users/{id} -> http://users:80/v1/users/{id}',
      'GET /api/users/{id} -> http://users:80/v1/users/{id}',
      'PUT /api/users/{id} -> http://users:80/v1/users/{id}',
      'PUT /api/users/{id}/password -> http://users:80/v1/users/{id}/password',
      // The composite endpoint (its first part; test/stacks/composites.cases.ts reads all of it).
      'GET /api/users/{id}/profile -> http://users:80/v1/users/{id}',
    ]);
    const assembly = stacks.app.synth();
    const assets = JSON.parse(
      readFileSync(join(assembly.directory, `${stacks.gateway?.artifactId}.assets.json`), 'utf8'),
    );
    const [image] = Object.values(assets.dockerImages) as {
      source: { directory: string; dockerBuildArgs: Record<string, string> };
    }[];
    const buildArgs = image.source.dockerBuildArgs;
    expect(buildArgs.KRAKEND_IMAGE).toBe('krakend:2.13.1');
    expect(JSON.parse(Buffer.from(buildArgs.KRAKEND_CONFIG_B64, 'base64').toString())).toEqual(config);
  });

  it('admits only the ALB on the gateway port and lets the gateway call the service', () => {
    // The gateway stack admits the ALB, and lets the gateway reach the legacy task's front door for the
    // composite parts from the monolith; it no longer touches the service's group.
    const ingress = Object.values(gateway.findResources('AWS::EC2::SecurityGroupIngress')).map((r) => [
      r.Properties.Description,
      r.Properties.FromPort,
    ]);
    expect(ingress).toEqual([
      ['load balancer to the gateway', 8080],
      ['gateway to the legacy task (composite parts, Service Connect)', 8899],
    ]);
    for (const group of Object.values(gateway.findResources('AWS::EC2::SecurityGroup')))
      expect(group.Properties.SecurityGroupIngress).toBeUndefined();
    gateway.hasResourceProperties('AWS::EC2::SecurityGroupEgress', {
      FromPort: 8080,
      ToPort: 8080,
      Description: 'load balancer to the gateway',
    });
    // The gateway -> service rule moved with the weighted rules into the service's stack (GatewayRoutes).
    users.hasResourceProperties('AWS::EC2::SecurityGroup', {
      SecurityGroupIngress: Match.arrayWith([
        {
          Description: 'gateway to the users service',
          FromPort: 80,
          ToPort: 80,
          IpProtocol: 'tcp',
          SourceSecurityGroupId: {
            'Fn::GetStackOutput': Match.objectLike({
              StackName: 'demo-35-gateway',
              OutputName: Match.stringLikeRegexp('GatewayServiceSecurityGroup'),
            }),
          },
        },
      ]),
    });
  });
});

describe('phase 3: ALB rules (in the service stack)', () => {
  it('match the service routes by anchored regex and method, within five condition values, in its block', () => {
    // Priorities come from the service's krakend block (decision 0007), no longer 100, 101, 102.
    expect(
      rules().map((r) => [
        r.Priority,
        r.Conditions[0].PathPatternConfig.RegexValues,
        r.Conditions[1].HttpRequestMethodConfig.Values,
      ]),
    ).toEqual([
      [first, ['^/api/login$', '^/api/logout$', '^/api/users$'], ['POST']],
      [first + 1, ['^/api/users/[^/]+$'], ['DELETE', 'GET', 'PUT']],
      [first + 2, ['^/api/users/[^/]+/password$'], ['PUT']],
      // The composite endpoint: one more GET route of its owner, after the routes (decision 0014).
      [first + 3, ['^/api/users/[^/]+/profile$'], ['GET']],
    ]);
    expect(first).toBeGreaterThanOrEqual(25000);
    expect(first + 2).toBeLessThanOrEqual(last);
    // Construct ids carry the priority, never the listener.
    expect(rulesOf(users).map(([id]) => id)).toEqual([
      expect.stringMatching(new RegExp(`^GatewayRoutesRule${first}`)),
      expect.stringMatching(new RegExp(`^GatewayRoutesRule${first + 1}`)),
      expect.stringMatching(new RegExp(`^GatewayRoutesRule${first + 2}`)),
      expect.stringMatching(new RegExp(`^GatewayRoutesRule${first + 3}`)),
    ]);
  });

  it('forward with weights read from the live-weight parameters, so a later deploy keeps the live weights', () => {
    expect(rules()).toHaveLength(4);
    for (const rule of rules()) {
      expect(rule.Actions).toEqual([
        {
          Type: 'forward',
          ForwardConfig: {
            TargetGroups: [
              {
                TargetGroupArn: {
                  'Fn::GetStackOutput': expect.objectContaining({ StackName: 'demo-30-platform' }),
                },
                Weight: '{{resolve:ssm:/demo/migration/users/live/legacy-weight}}',
              },
              {
                // In the gateway stack now, so no longer a Ref.
                TargetGroupArn: {
                  'Fn::GetStackOutput': expect.objectContaining({
                    StackName: 'demo-35-gateway',
                    OutputName: expect.stringMatching(/GatewayTargetGroup/),
                  }),
                },
                Weight: '{{resolve:ssm:/demo/migration/users/live/gateway-weight}}',
              },
            ],
          },
        },
      ]);
    }
  });

  // Rewritten: the gateway's tasks used to wait for the weighted rules, which are now in the service
  // stacks; they wait for the gateway stack's own anchor rule, which attaches the target group and never
  // matches a request, and the service stack (its rules forward to that target group) deploys after.
  it('register the gateway tasks only after a rule attaches its target group to the load balancer', () => {
    const [[anchorId, anchor], ...others] = rulesOf(gateway);
    expect(others).toEqual([]);
    expect(anchor).toMatchObject({
      Priority: GATEWAY_ANCHOR_PRIORITY,
      Actions: [{ Type: 'forward', TargetGroupArn: { Ref: expect.stringMatching(/^GatewayTargetGroup/) } }],
    });
    // A request path starts with '/': the anchor's regex can never match one.
    const [regex] = anchor.Conditions[0].PathPatternConfig.RegexValues;
    for (const path of ['/', '/api/login', '/api/users/1', '/#'])
      expect([path, new RegExp(regex).test(path)]).toEqual([path, false]);
    const [service] = Object.values(gateway.findResources('AWS::ECS::Service'));
    expect(service.DependsOn).toContain(anchorId);
    expect(usersStack?.dependencies.map((s) => s.stackName)).toContain('demo-35-gateway');
  });
});

describe('phase 3: the traffic-switch hook (operations stack)', () => {
  const ops = Template.fromStack(stacks.operations as never);

  it('runs on validated gateway documents (the guard labelling last-good), with retries and a dead-letter queue', () => {
    ops.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.ssm'],
        'detail-type': ['Parameter Store Change'],
        detail: { name: [{ wildcard: '/demo/migration/*/gateway' }], operation: ['LabelParameterVersion'] },
      },
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^TrafficSwitch'), 'Arn'] },
          RetryPolicy: { MaximumRetryAttempts: 4, MaximumEventAgeInSeconds: 7200 },
          DeadLetterConfig: Match.anyValue(),
        }),
      ],
    });
  });

  it("finds its rules at run time: the listener and the service's block in its environment, no rule ARN", () => {
    const [fn] = Object.entries(ops.findResources('AWS::Lambda::Function')).filter(([id]) =>
      id.startsWith('TrafficSwitch'),
    );
    const [separator, parts] = fn[1].Properties.Environment.Variables.MIGRATION_SWITCH_CONFIG['Fn::Join'];
    expect(separator).toBe('');
    // The one token of the environment is the listener, from the platform stack.
    const tokens = parts.filter((p: unknown) => typeof p !== 'string');
    expect(tokens).toEqual([
      { 'Fn::GetStackOutput': expect.objectContaining({ StackName: 'demo-30-platform' }) },
    ]);
    const env = JSON.parse(parts.map((p: unknown) => (typeof p === 'string' ? p : 'LISTENER')).join(''));
    expect(env).toEqual({
      parameterPrefix: '/demo/migration',
      listenerArn: 'LISTENER',
      services: [
        { service: 'users', mode: 'krakend', block: ruleBlockOf(stacks.platform.config.alb, 'users') },
      ],
    });
  });

  /** Whether an IAM resource pattern (the literal tail of an ARN) covers a `:parameter<name>` tail. */
  const matches = (pattern: string, resource: string) =>
    new RegExp(
      `^${pattern
        .split('*')
        .map((s) => s.replace(/[.?+^$()[\]{}|\\]/g, '\\$&'))
        .join('.*')}$`,
    ).test(resource);

  // Rewritten: the policy no longer lists each rule ARN (from the gateway stack) and each live-weight
  // parameter; it has a constant size: the rules of the app's load balancer, and the live/ records.
  it("may modify only the rules of the app's load balancer and write only the live records", () => {
    const [policy] = Object.entries(ops.findResources('AWS::IAM::Policy')).filter(([id]) =>
      id.startsWith('TrafficSwitch'),
    );
    const statements: Cfn[] = policy[1].Properties.PolicyDocument.Statement;
    const of = (action: string) => statements.filter((s) => [s.Action].flat().includes(action));
    const tail = (resource: Cfn): string => {
      expect(resource['Fn::Join'][0]).toBe('');
      return resource['Fn::Join'][1].at(-1);
    };

    const [modify, ...moreModify] = of('elasticloadbalancing:ModifyRule');
    expect(moreModify).toEqual([]);
    const modifyParts = (modify.Resource as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1];
    expect(modifyParts).toEqual([
      'arn:',
      { Ref: 'AWS::Partition' },
      ':elasticloadbalancing:',
      { Ref: 'AWS::Region' },
      ':',
      { Ref: 'AWS::AccountId' },
      ':listener-rule/',
      {
        'Fn::GetStackOutput': expect.objectContaining({
          StackName: 'demo-30-platform',
          OutputName: expect.stringMatching(/LoadBalancerFullName/),
        }),
      },
      '/*',
    ]);
    expect(JSON.stringify(statements)).not.toMatch(/demo-35-gateway|demo-40-users-service/);

    for (const action of ['elasticloadbalancing:DescribeRules', 'elasticloadbalancing:DescribeListeners'])
      expect(of(action).map((s) => s.Resource)).toEqual(['*']);

    // It reads the live records too: it writes one only when its value changes (issue 24, item 7).
    const [read, readLive, ...moreRead] = of('ssm:GetParameters');
    const [write, ...moreWrite] = of('ssm:PutParameter');
    expect([moreRead, moreWrite, readLive === write]).toEqual([[], [], true]);
    expect([tail(read.Resource), tail(write.Resource)]).toEqual([
      ':parameter/demo/migration/*/gateway',
      ':parameter/demo/migration/*/live/*',
    ]);
    const writable = (name: string) => matches(tail(write.Resource), `:parameter${name}`);
    expect(writable('/demo/migration/users/live/legacy-weight')).toBe(true);
    expect(writable('/demo/migration/users/live/gateway-weight')).toBe(true);
    for (const kind of ['routing', 'cutover', 'gateway', 'override', 'guard/gateway'])
      expect([kind, writable(`/demo/migration/users/${kind}`)]).toEqual([kind, false]);
    expect(matches(tail(read.Resource), ':parameter/demo/migration/users/gateway')).toBe(true);
    expect(matches(tail(read.Resource), ':parameter/demo/migration/users/routing')).toBe(false);
  });
});
