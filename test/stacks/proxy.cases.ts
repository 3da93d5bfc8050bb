import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { buildMigrationApp } from '../../lib/app';
import { routingWiring } from '../../lib/proxy/wiring';
import { envOf, legacyContainer, legacyTask, proxyConfigOf, ssmStatements } from '../helpers/templates';
import {
  allAtPhase,
  config,
  demoInput,
  demoParameterArn,
  demoStacks,
  sharedStacks,
  testApp,
} from '../helpers/test-app';

type Input = ReturnType<typeof demoInput>;

function variant(mutate: (input: Input) => void) {
  const input = demoInput();
  mutate(input);
  return sharedStacks(input);
}

// biome-ignore lint/suspicious/noExplicitAny: CloudFormation JSON
type Json = any;

describe('the routing proxy in the legacy task (routing.mode "proxy", the default)', () => {
  const platform = Template.fromStack(demoStacks().platform);

  it('runs the proxy next to the monolith, which starts first and stops last', () => {
    const proxy = legacyContainer(platform, 'Proxy');
    expect(proxy).toMatchObject({
      Essential: true,
      PortMappings: [{ ContainerPort: 8800, Name: 'proxy', AppProtocol: 'http', Protocol: 'tcp' }],
      Memory: 256,
      StopTimeout: 30,
      ReadonlyRootFilesystem: true,
      DependsOn: [{ ContainerName: 'App', Condition: 'START' }],
      LogConfiguration: {
        LogDriver: 'awslogs',
        Options: expect.objectContaining({ 'awslogs-stream-prefix': 'proxy' }),
      },
    });
    expect(JSON.stringify(proxy.Image)).toContain('cdk-hnb659fds-container-assets');
    expect(envOf(proxy)).toMatchObject({
      AWS_REGION: { Ref: 'AWS::Region' },
      NODE_OPTIONS: '--max-old-space-size=192 --max-semi-space-size=2 --v8-pool-size=1',
    });
  });

  it('gives the proxy the services at phase 1 or later, their routes and flag names, and the monolith on localhost', () => {
    const runtime = proxyConfigOf(platform);
    expect(runtime).toMatchObject({
      port: 8800,
      legacy: { url: 'http://127.0.0.1:80', healthCheckPath: '/' },
      flags: { refreshMs: 15000 },
      timeouts: { drainMs: 25000 },
    });
    expect(
      runtime.services.map((s) => [s.name, s.phase, s.url, s.parameters.override, s.routes.length]),
    ).toEqual([['users', 3, 'http://users:80', '/demo/migration/users/override', 5]]);
  });

  it('tells the monolith nothing about the migration: the proxy routes', () => {
    expect(
      Object.keys(envOf(legacyContainer(platform, 'App'))).filter((k) => k.startsWith('MIGRATION_')),
    ).toEqual([]);
  });

  it('registers the proxy in the legacy target group, whose own port (and so the group) stays', () => {
    platform.hasResourceProperties('AWS::ECS::Service', {
      LoadBalancers: [
        { ContainerName: 'Proxy', ContainerPort: 8800, TargetGroupArn: { Ref: Match.anyValue() } },
      ],
    });
    platform.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
      Port: 80,
      HealthCheckPath: '/',
    });
  });

  it('replaces a task that fails its health check after the 60 s grace period, and rolls a failing deploy back', () => {
    // What ECS does with a proxy task that cannot decide (phase 2 or later, no marker, no flags loaded:
    // its health check answers 503). The ALB keeps it out (2 passing checks 15 s apart to enter, 3
    // failing to leave; a new target needs one); ECS ignores the check for 60 s after the task starts,
    // then stops a task the ALB reports unhealthy and starts another. In a deploy, each such task
    // counts for the circuit breaker, which rolls the deploy back, and the old tasks (minimum healthy
    // 100 %) serve all along.
    platform.hasResourceProperties('AWS::ECS::Service', {
      HealthCheckGracePeriodSeconds: 60,
      DeploymentConfiguration: {
        DeploymentCircuitBreaker: { Enable: true, Rollback: true },
        MinimumHealthyPercent: 100,
        MaximumPercent: 200,
      },
    });
    platform.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
      HealthCheckPath: '/',
      HealthCheckIntervalSeconds: 15,
      HealthyThresholdCount: 2,
      UnhealthyThresholdCount: 3,
      Matcher: { HttpCode: '200' },
    });
  });

  it('lets the ALB reach the proxy port only: the monolith is reached over localhost', () => {
    const ingress = Object.values(platform.findResources('AWS::EC2::SecurityGroupIngress')).map(
      (r) => r.Properties,
    );
    const fromAlb = ingress.filter((i) =>
      JSON.stringify(i.SourceSecurityGroupId).includes('LoadBalancerSecurityGroup'),
    );
    expect(fromAlb.map((i) => [i.FromPort, i.ToPort])).toEqual([[8800, 8800]]);
    const egress = Object.values(platform.findResources('AWS::EC2::SecurityGroupEgress')).map(
      (r) => r.Properties,
    );
    expect(egress.map((e) => [e.FromPort, e.ToPort])).toEqual([[8800, 8800]]);
  });

  it('lets the legacy task read the kinds of flag parameters the proxy reads, of every service by a pattern', () => {
    expect(ssmStatements(platform)).toEqual([
      {
        Action: ['ssm:GetParameter', 'ssm:GetParameters'],
        Effect: 'Allow',
        Resource: ['cutover', 'override', 'routing'].map((kind) => demoParameterArn(kind, '*')),
      },
    ]);
    // Every name the proxy reads is one of them.
    const kinds = Object.values(proxyConfigOf(platform).services[0].parameters).map((n) =>
      n.split('/').at(-1),
    );
    expect(kinds.sort()).toEqual(['cutover', 'override', 'routing']);
  });

  it('is in the task from phase 0, in pass-through: no service, no SSM permission', () => {
    const phase0 = Template.fromStack(variant(allAtPhase(0)).platform);
    expect(proxyConfigOf(phase0).services).toEqual([]);
    expect(ssmStatements(phase0)).toEqual([]);
  });

  it('carries the identity and anonymous policy of each route, and the deploy-time marker', () => {
    const t = Template.fromStack(
      variant((i) => {
        i.services[0].phase = 2;
        i.services[0].cutoverRecorded = { runId: 'run-1', completedAt: '2026-11-20T10:00:00Z' };
        i.services[0].routes[0].identity = { source: 'body', field: 'username' };
        i.services[0].routes[3].identity = { source: 'path', name: 'id' };
        i.services[0].routes[3].anonymous = 'service';
      }).platform,
    );
    const [users] = proxyConfigOf(t).services;
    expect(users.cutoverRecorded).toBe(true);
    expect(users.routes[0]).toMatchObject({
      identity: { source: 'body', field: 'username', maxBytes: 16384 },
      anonymous: 'legacy',
    });
    expect(users.routes[3]).toMatchObject({ identity: { source: 'path', name: 'id' }, anonymous: 'service' });
  });

  it('applies the configured port, memory, timeouts and limits', () => {
    const t = Template.fromStack(
      variant((i) => {
        i.routing = {
          proxy: { port: 9090, memoryMiB: 512, drainSeconds: 60, connectTimeoutMs: 500, maxBodyBytes: 2048 },
        };
      }).platform,
    );
    expect(legacyContainer(t, 'Proxy')).toMatchObject({
      Memory: 512,
      StopTimeout: 65,
      PortMappings: [{ ContainerPort: 9090 }],
    });
    expect(proxyConfigOf(t)).toMatchObject({
      port: 9090,
      timeouts: { connectMs: 500, drainMs: 60000 },
      limits: { maxBodyBytes: 2048 },
    });
  });
});

describe('routing.mode "in-app": the monolith routes itself', () => {
  const platform = Template.fromStack(variant(allAtPhase(1, 'in-app')).platform);

  it('has no proxy: the target group registers the monolith and the monolith gets the environment wiring', () => {
    expect(legacyTask(platform).ContainerDefinitions.map((c: Json) => c.Name)).toEqual(['App']);
    platform.hasResourceProperties('AWS::ECS::Service', {
      LoadBalancers: [Match.objectLike({ ContainerName: 'App', ContainerPort: 80 })],
    });
    expect(envOf(legacyContainer(platform, 'App'))).toMatchObject({
      MIGRATION_SERVICES: 'users',
      MIGRATION_USERS_URL: 'http://users:80',
      MIGRATION_USERS_ROUTING_PARAMETER: '/demo/migration/users/routing',
    });
    // Exactly what the in-app wiring (docs/flag-contract.md) says the monolith reads, as before.
    const input = demoInput();
    allAtPhase(1, 'in-app')(input);
    const cfg = config(input);
    const wiring = routingWiring(cfg, cfg.services);
    if (wiring.mode !== 'in-app') throw new Error('in-app expected');
    const [statement, ...others] = ssmStatements(platform);
    expect(others).toEqual([]);
    expect(statement.Action).toEqual(['ssm:GetParameter', 'ssm:GetParameters']);
    const arns = (statement.Resource as Json[]).map((r) => r['Fn::Join'][1].at(-1));
    // One pattern per kind (lib/patterns.ts) for the names the wiring reads: the same kinds, every service.
    expect(arns.sort()).toEqual(
      [
        ...new Set(wiring.inApp.readableParameters.map((n) => `:parameter${n.replace('/users/', '/*/')}`)),
      ].sort(),
    );
  });
});

describe('the proxy image', () => {
  it('is staged with the pinned Node base image as a build argument', () => {
    const outdir = mkdtempSync(join(tmpdir(), 'proxy-asset-'));
    const app = testApp({ outdir });
    const input = demoInput();
    allAtPhase(0)(input);
    buildMigrationApp(app, config(input));
    const assembly = app.synth();
    const manifest = JSON.parse(
      readFileSync(join(assembly.directory, 'demo-30-platform.assets.json'), 'utf8'),
    ) as {
      dockerImages: Record<
        string,
        { source: { directory: string; dockerBuildArgs?: Record<string, string>; platform?: string } }
      >;
    };
    const images = Object.values(manifest.dockerImages);
    expect(images).toHaveLength(1);
    expect(images[0].source.dockerBuildArgs?.NODE_IMAGE).toMatch(/^node:(22|24)\.\d+\.\d+-alpine\d+\.\d+$/);
    expect(images[0].source.platform).toBe('linux/amd64');
  });

  it('is built from a bundle that the synth itself writes (no stale or missing bundle)', () => {
    const outdir = mkdtempSync(join(tmpdir(), 'proxy-bundle-'));
    const app = testApp({ outdir, bundle: true });
    const input = demoInput();
    allAtPhase(0)(input); // phase 0: no Lambda to bundle, only the proxy
    buildMigrationApp(app, config(input));
    const assembly = app.synth();
    const manifest = JSON.parse(
      readFileSync(join(assembly.directory, 'demo-30-platform.assets.json'), 'utf8'),
    );
    const [image] = Object.values(manifest.dockerImages) as { source: { directory: string } }[];
    const context = join(assembly.directory, image.source.directory);
    expect(readdirSync(context).sort()).toEqual(['Dockerfile', 'main.js']);
    expect(readFileSync(join(context, 'main.js'), 'utf8')).toContain('ROUTING_PROXY_CONFIG');
    expect(existsSync(join(context, 'server.ts'))).toBe(false);
  });
});
