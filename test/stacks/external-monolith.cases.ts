/**
 * A monolith that already serves production elsewhere (`legacy.mode: "external"`): the routing proxy runs
 * as the legacy service of its own, in front of the monolith's address. What is true of the proxy as a
 * sidecar is true here: the health check covers the proxy and the monolith, new tasks reach every service
 * over Service Connect, a restart drops no request, and the same alarms watch the same metrics.
 */
import { Match, Template } from 'aws-cdk-lib/assertions';
import { TARGET_GROUP_PORT } from '../../lib/constructs/web-service';
import { parseProxyConfig } from '../../lib/proxy/contract';
import { PROXY_METRICS } from '../../lib/proxy/metrics';
import { demoInput, sharedStacks, templateOf } from '../helpers/test-app';

// biome-ignore lint/suspicious/noExplicitAny: CloudFormation templates are untyped JSON
type Json = any;

const IMPORTED_DATABASE = {
  mode: 'import',
  engine: 'postgres',
  endpoint: 'shop-legacy.abcdefghijkl.eu-west-1.rds.amazonaws.com',
  port: 5432,
  securityGroupId: 'sg-0123456789abcdef0',
  secretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:shop/legacy-db-AbCdEf',
  databaseName: 'shop',
};

/** The demo at phase 1 with the monolith's database imported, its monolith hosted or external. */
function atPhase1(mode: 'hosted' | 'external') {
  const input = demoInput();
  input.services[0].phase = 1;
  input.legacy =
    mode === 'hosted'
      ? { ...input.legacy, database: IMPORTED_DATABASE }
      : {
          mode: 'external',
          endpoint: {
            url: 'https://internal-shop-1234567890.eu-west-1.elb.amazonaws.com',
            serverName: 'www.example.com',
            securityGroupId: 'sg-0fedcba9876543210',
          },
          healthCheckPath: '/status',
          cpu: 512,
          memoryMiB: 1024,
          minCount: 2,
          maxCount: 6,
          database: IMPORTED_DATABASE,
        };
  return input;
}

const external = () => sharedStacks(atPhase1('external'));
const platform = () => templateOf(external(), '30-platform');

function propertiesOf(t: Template, type: string): Json[] {
  return Object.values(t.findResources(type)).map((r) => r.Properties);
}

function containers(t: Template): Json[] {
  const [task] = propertiesOf(t, 'AWS::ECS::TaskDefinition');
  return task.ContainerDefinitions;
}

describe('a monolith that already runs elsewhere (legacy.mode "external")', () => {
  it('runs the routing proxy alone in the legacy task, forwarding to the monolith over https', () => {
    const [proxy, ...others] = containers(platform());
    expect(others).toEqual([]);
    expect(proxy).toMatchObject({ Name: 'Proxy', ReadonlyRootFilesystem: true, Essential: true });
    expect(proxy.Secrets).toBeUndefined();
    expect(proxy.Environment.map((e: Json) => e.Name).sort()).toEqual([
      'AWS_REGION',
      'NODE_OPTIONS',
      'ROUTING_PROXY_CONFIG',
    ]);
    const parsed = parseProxyConfig(
      proxy.Environment.find((e: Json) => e.Name === 'ROUTING_PROXY_CONFIG').Value,
    );
    if (!parsed.ok) throw new Error(parsed.errors.join('\n'));
    expect(parsed.config.legacy).toEqual({
      url: 'https://internal-shop-1234567890.eu-west-1.elb.amazonaws.com:443',
      serverName: 'www.example.com',
      healthCheckPath: '/status',
    });
    // Users at phase 1 are routed as with the sidecar.
    expect(parsed.config.services.map((s) => [s.name, s.url])).toEqual([['users', 'http://users:80']]);
  });

  it("health-checks each proxy task on the monolith's health path, which the proxy always sends to the monolith", () => {
    const t = platform();
    t.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
      HealthCheckPath: '/status',
      // The group's own port is fixed (a new one would replace the group); ECS registers the proxy's.
      Port: TARGET_GROUP_PORT,
      TargetType: 'ip',
      Matcher: { HttpCode: '200' },
    });
    t.hasResourceProperties('AWS::ECS::Service', {
      LoadBalancers: [Match.objectLike({ ContainerName: 'Proxy', ContainerPort: 8800 })],
    });
    // The health path goes to the monolith whatever the flags say (docs/routing-proxy.md), so the
    // check fails when either the proxy or the monolith does: test/proxy/external-monolith.test.ts.
  });

  it('lets new tasks reach every service: a Service Connect client, admitted by each service', () => {
    const built = external();
    Template.fromStack(built.platform).hasResourceProperties('AWS::ECS::Service', {
      ServiceConnectConfiguration: Match.objectLike({ Enabled: true, Services: Match.absent() }),
    });
    const ingress = propertiesOf(templateOf(built, '40-users-service'), 'AWS::EC2::SecurityGroup').flatMap(
      (g) => g.SecurityGroupIngress ?? [],
    );
    expect(ingress).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          FromPort: 80,
          Description: 'caller 1 to the users service (Service Connect)',
          SourceSecurityGroupId: {
            'Fn::GetStackOutput': expect.objectContaining({
              StackName: 'demo-30-platform',
              OutputName: expect.stringMatching(/LegacyServiceSecurityGroup/),
            }),
          },
        }),
      ]),
    );
  });

  it("rolls the proxy's own service once a service's endpoint exists (its tasks predate it otherwise)", () => {
    const users = templateOf(external(), '40-users-service');
    const rolls = Object.values<Json>(users.findResources('Custom::MigrationEndpointRoll'));
    expect(rolls).toHaveLength(1);
    expect(rolls[0].Properties.Service).toEqual({
      'Fn::GetStackOutput': expect.objectContaining({
        StackName: 'demo-30-platform',
        OutputName: expect.stringMatching(/LegacyService.*Name/),
      }),
    });
  });

  it('drops no request on a restart: rolling at 100 % healthy, deregistered before SIGTERM, drained within the stop timeout', () => {
    const t = platform();
    t.hasResourceProperties('AWS::ECS::Service', {
      DeploymentConfiguration: {
        DeploymentCircuitBreaker: { Enable: true, Rollback: true },
        MinimumHealthyPercent: 100,
        MaximumPercent: 200,
      },
    });
    t.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
      TargetGroupAttributes: Match.arrayWith([{ Key: 'deregistration_delay.timeout_seconds', Value: '70' }]),
    });
    // drainSeconds (25) plus 5 s to flush the logs: test/proxy/proxy-process.test.ts, "SIGTERM".
    expect(containers(t)[0].StopTimeout).toBe(30);
  });

  it("drives the same alarms with the proxy's metrics: the operations stack is the hosted monolith's", () => {
    const hosted = sharedStacks(atPhase1('hosted'));
    // The environment's and the service's operations stacks (the alarms are in the latter, decision 0017).
    const ops = (built: typeof hosted) =>
      [built.operations, built.services[0].operations].map((s) => Template.fromStack(s as never).toJSON());
    expect(ops(external())).toEqual(ops(hosted));
    // And the proxy's metrics are among those alarms' (same names, same dimensions).
    const watched = JSON.stringify(ops(external()));
    for (const metric of [PROXY_METRICS.requests, PROXY_METRICS.errors, PROXY_METRICS.latency])
      expect(watched).toContain(`"${metric}"`);
  });

  it("admits the proxy to the monolith's security group on its port, and nothing of the legacy task to the database", () => {
    const built = external();
    const ingress = propertiesOf(Template.fromStack(built.platform), 'AWS::EC2::SecurityGroupIngress');
    expect(ingress.map((i) => [i.GroupId, i.FromPort, i.Description])).toEqual(
      expect.arrayContaining([['sg-0fedcba9876543210', 443, 'routing proxy to the monolith']]),
    );
    // The only rule into the legacy database's group admits its clients group, not the legacy task: the
    // service still reads the legacy database (organic import), as one of its clients (decision 0017).
    expect(ingress.filter((i) => i.GroupId === 'sg-0123456789abcdef0')).toEqual([
      expect.objectContaining({
        FromPort: 5432,
        SourceSecurityGroupId: {
          'Fn::GetAtt': [expect.stringMatching(/^LegacyDatabaseClientsSecurityGroup/), 'GroupId'],
        },
      }),
    ]);
    const network = Object.values(
      Template.fromStack(built.services[0].service as never).findResources('AWS::ECS::Service'),
    )[0].Properties.NetworkConfiguration.AwsvpcConfiguration;
    expect(JSON.stringify(network.SecurityGroups)).toMatch(
      /"StackName":"demo-30-platform".*"OutputName":"PublishOutputFnGetAttLegacyDatabaseClientsSecurityGroup/,
    );
  });
});

describe("the hosted monolith's database variables", () => {
  it('are the names legacy.databaseVariables gives, with the same values', () => {
    const input = demoInput();
    for (const s of input.services) s.phase = 0;
    input.legacy.databaseVariables = {
      host: 'DATABASE_HOST',
      port: 'DATABASE_PORT',
      name: 'DATABASE_NAME',
      username: 'DATABASE_USER',
      password: 'DATABASE_PASSWORD',
    };
    const [app] = containers(Template.fromStack(sharedStacks(input).platform));
    expect(app.Environment.map((e: Json) => e.Name)).toEqual([
      'APP_ENV',
      'DATABASE_HOST',
      'DATABASE_PORT',
      'DATABASE_NAME',
    ]);
    expect(app.Secrets.map((e: Json) => e.Name)).toEqual(['DATABASE_USER', 'DATABASE_PASSWORD']);
  });
});
