import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { demoStacks } from '../helpers/test-app';

const stacks = demoStacks();
const gateway = Template.fromStack(stacks.gateway as never);

function rules() {
  return Object.values(gateway.findResources('AWS::ElasticLoadBalancingV2::ListenerRule')).map(
    (r) => r.Properties,
  );
}

describe('phase 3: the KrakenD gateway', () => {
  it('runs KrakenD on Fargate in private subnets, health-checked on /__health, with autoscaling and logs', () => {
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
    const ingress = Object.values(gateway.findResources('AWS::EC2::SecurityGroupIngress')).map((r) => [
      r.Properties.Description,
      r.Properties.FromPort,
    ]);
    expect(ingress).toEqual(
      expect.arrayContaining([
        ['load balancer to the gateway', 8080],
        ['gateway to the users service', 80],
      ]),
    );
    expect(ingress).toHaveLength(2);
    gateway.hasResourceProperties('AWS::EC2::SecurityGroupEgress', {
      FromPort: 8080,
      ToPort: 8080,
      Description: 'load balancer to the gateway',
    });
  });
});

describe('phase 3: ALB rules', () => {
  it('match the service routes by anchored regex and method, within five condition values', () => {
    expect(
      rules().map((r) => [
        r.Priority,
        r.Conditions[0].PathPatternConfig.RegexValues,
        r.Conditions[1].HttpRequestMethodConfig.Values,
      ]),
    ).toEqual([
      [100, ['^/api/login$', '^/api/logout$', '^/api/users$'], ['POST']],
      [101, ['^/api/users/[^/]+$'], ['DELETE', 'GET', 'PUT']],
      [102, ['^/api/users/[^/]+/password$'], ['PUT']],
    ]);
  });

  it('forward with weights read from the live-weight parameters, so a later deploy keeps the live weights', () => {
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
                TargetGroupArn: { Ref: expect.stringMatching(/^GatewayTargetGroup/) },
                Weight: '{{resolve:ssm:/demo/migration/users/live/gateway-weight}}',
              },
            ],
          },
        },
      ]);
    }
  });

  it('register the gateway tasks only after the rules attach its target group to the load balancer', () => {
    const [service] = Object.values(gateway.findResources('AWS::ECS::Service'));
    expect(service.DependsOn).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^UsersRule100/),
        expect.stringMatching(/^UsersRule102/),
      ]),
    );
  });
});

describe('phase 3: the traffic-switch hook (operations stack)', () => {
  const ops = Template.fromStack(stacks.operations as never);

  it('runs on validated gateway documents (the guard labelling last-good), with retries and a dead-letter queue', () => {
    ops.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.ssm'],
        'detail-type': ['Parameter Store Change'],
        detail: { name: ['/demo/migration/users/gateway'], operation: ['LabelParameterVersion'] },
      },
      Targets: [
        Match.objectLike({
          RetryPolicy: { MaximumRetryAttempts: 4, MaximumEventAgeInSeconds: 7200 },
          DeadLetterConfig: Match.anyValue(),
        }),
      ],
    });
  });

  it('may modify exactly the gateway rules and write exactly the live weights', () => {
    const [policy] = Object.entries(ops.findResources('AWS::IAM::Policy')).filter(([id]) =>
      id.startsWith('TrafficSwitch'),
    );
    const statements: { Action: string; Resource: unknown }[] = policy[1].Properties.PolicyDocument.Statement;
    const of = (action: string) => JSON.stringify(statements.find((s) => s.Action === action)?.Resource);
    const modify = JSON.parse(of('elasticloadbalancing:ModifyRule'));
    expect(modify).toHaveLength(3);
    for (const arn of modify)
      expect(arn).toEqual({
        'Fn::GetStackOutput': expect.objectContaining({ StackName: 'demo-50-gateway' }),
      });
    expect(of('elasticloadbalancing:DescribeRules')).toBe('"*"');
    expect(of('ssm:PutParameter')).toMatch(/live\/gateway-weight.*live\/legacy-weight/);
    expect(of('ssm:PutParameter')).not.toMatch(/users\/(routing|cutover|gateway)"/);
  });
});
