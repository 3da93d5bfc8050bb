import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { loadConfigFile } from '../../lib/environment/load';
import { parseProxyConfig } from '../../lib/proxy/contract';
import { orderAround } from '../helpers/templates';
import { buildStacks, demoInput, sharedStacks, templateOf } from '../helpers/test-app';

// biome-ignore lint/suspicious/noExplicitAny: CloudFormation templates are untyped JSON
type Json = any;

/**
 * The demo with every service still at phase 0: only the baseline stacks. Its monolith database is MySQL,
 * as many PHP monoliths' are (the demo's own is PostgreSQL, which the write-back needs; a service without
 * a write-back runs on either).
 */
function phase0Input() {
  const input = demoInput();
  for (const s of input.services) {
    s.phase = 0;
    delete s.writeBack;
  }
  Object.assign(input.legacy.database, { engine: 'mysql', engineVersion: '8.4.9' });
  return input;
}

const stacks = sharedStacks(phase0Input());
const network = templateOf(stacks, '10-network');
const data = templateOf(stacks, '20-legacy-data');
const platform = templateOf(stacks, '30-platform');

/** The containers of the legacy task definition, by name. */
function legacyContainers(t: Template): Record<string, Json> {
  const [task] = Object.values(t.findResources('AWS::ECS::TaskDefinition'));
  return Object.fromEntries(task.Properties.ContainerDefinitions.map((c: Json) => [c.Name, c]));
}

function propertiesOf(t: Template, type: string): Json[] {
  return Object.values(t.findResources(type)).map((r) => r.Properties);
}

/** An ingress rule of the platform stack into the legacy database's group (MySQL in this variant). */
const intoLegacyDatabase = (source: RegExp) =>
  expect.objectContaining({
    FromPort: 3306,
    ToPort: 3306,
    GroupId: {
      'Fn::GetStackOutput': expect.objectContaining({
        StackName: 'demo-20-legacy-data',
        OutputName: expect.stringMatching(/LegacyDatabaseSecurityGroup/),
      }),
    },
    SourceSecurityGroupId: { 'Fn::GetAtt': [expect.stringMatching(source), 'GroupId'] },
  });

describe('deploy order and stack roles', () => {
  it('names show the deploy order and only data stacks are termination-protected', () => {
    expect(stacks.all.map((s) => [s.stackName, s.terminationProtection])).toEqual([
      ['demo-10-network', false],
      ['demo-20-legacy-data', true],
      ['demo-30-platform', false],
    ]);
    expect(stacks.platform.dependencies.map((s) => s.stackName).sort()).toEqual([
      'demo-10-network',
      'demo-20-legacy-data',
    ]);
  });
});

describe('network stack', () => {
  it('has public, private-with-egress and isolated subnets in two AZs', () => {
    network.resourceCountIs('AWS::EC2::Subnet', 6);
    network.resourceCountIs('AWS::EC2::NatGateway', 1);
    network.hasResourceProperties('AWS::EC2::VPC', { CidrBlock: '10.20.0.0/16' });
    for (const name of ['public', 'private', 'isolated']) {
      network.hasResourceProperties('AWS::EC2::Subnet', {
        Tags: Match.arrayWith([{ Key: 'aws-cdk:subnet-name', Value: name }]),
      });
    }
  });

  it('logs all traffic to a log group with the configured retention, retained except on a failed first create', () => {
    network.hasResourceProperties('AWS::EC2::FlowLog', {
      TrafficType: 'ALL',
      LogDestinationType: 'cloud-watch-logs',
    });
    network.hasResource('AWS::Logs::LogGroup', {
      Properties: { RetentionInDays: 90 },
      DeletionPolicy: 'RetainExceptOnCreate',
      UpdateReplacePolicy: 'Retain',
    });
  });
});

describe('legacy data stack', () => {
  it('creates an encrypted, deletion-protected MySQL instance in isolated subnets', () => {
    data.hasResourceProperties('AWS::RDS::DBInstance', {
      Engine: 'mysql',
      EngineVersion: '8.4.9',
      DBInstanceClass: 'db.t4g.medium',
      DBInstanceIdentifier: 'demo-legacy',
      StorageEncrypted: true,
      DeletionProtection: true,
      MultiAZ: true,
      PubliclyAccessible: false,
      BackupRetentionPeriod: 7,
      EnableIAMDatabaseAuthentication: true,
      AllocatedStorage: '50',
      DBName: 'monolith',
    });
    const groups = data.findResources('AWS::RDS::DBSubnetGroup');
    expect(Object.keys(groups)).toHaveLength(1);
  });

  it('snapshots the database and retains its secret on removal or replacement, not on a failed first create', () => {
    data.hasResource('AWS::RDS::DBInstance', { DeletionPolicy: 'Snapshot', UpdateReplacePolicy: 'Snapshot' });
    data.hasResource('AWS::SecretsManager::Secret', {
      DeletionPolicy: 'RetainExceptOnCreate',
      UpdateReplacePolicy: 'Retain',
    });
  });

  it('requires TLS through its parameter group', () => {
    data.hasResourceProperties('AWS::RDS::DBParameterGroup', {
      Parameters: { require_secure_transport: 'ON' },
    });
  });

  it('creates the RDS log groups itself, with retention, before the instance', () => {
    for (const type of ['error', 'slowquery']) {
      data.hasResource('AWS::Logs::LogGroup', {
        Properties: { LogGroupName: `/aws/rds/instance/demo-legacy/${type}`, RetentionInDays: 90 },
        DeletionPolicy: 'RetainExceptOnCreate',
        UpdateReplacePolicy: 'Retain',
      });
    }
    const [instance] = Object.values(data.findResources('AWS::RDS::DBInstance'));
    expect(instance.DependsOn).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^LegacyDatabaseLogsError/),
        expect.stringMatching(/^LegacyDatabaseLogsSlowquery/),
      ]),
    );
  });

  it('creates the protected instance last: only its secret attachment comes after it (decision 0008)', () => {
    const order = orderAround(data, 'LegacyDatabase4439AD9C');
    expect(order.after).toEqual([expect.stringMatching(/^LegacyDatabaseSecretAttachment/)]);
    expect(order.unordered).toEqual([]);
    expect(order.before).toEqual(expect.arrayContaining(['LegacyDatabaseSecret64097DCB']));
  });

  it('pins the logical IDs of stateful resources (renaming one would replace the database)', () => {
    expect(Object.keys(data.findResources('AWS::RDS::DBInstance'))).toEqual(['LegacyDatabase4439AD9C']);
    expect(Object.keys(data.findResources('AWS::SecretsManager::Secret'))).toEqual([
      'LegacyDatabaseSecret64097DCB',
    ]);
    expect(Object.keys(data.findResources('AWS::EC2::SecurityGroup'))).toEqual([
      'LegacyDatabaseSecurityGroup4CDBDB79',
    ]);
  });

  it('has a database security group with no ingress of its own and no egress', () => {
    data.hasResourceProperties('AWS::EC2::SecurityGroup', {
      SecurityGroupEgress: [Match.objectLike({ CidrIp: '255.255.255.255/32' })],
      SecurityGroupIngress: Match.absent(),
    });
  });
});

describe('platform stack', () => {
  it('runs an ECS cluster with Container Insights and a Service Connect namespace', () => {
    platform.hasResourceProperties('AWS::ECS::Cluster', {
      ClusterSettings: [{ Name: 'containerInsights', Value: 'enhanced' }],
    });
    platform.hasResourceProperties('AWS::ServiceDiscovery::HttpNamespace', { Name: 'demo.internal' });
  });

  it('puts an internet-facing ALB in public subnets with access logs to an encrypted private bucket', () => {
    platform.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      Scheme: 'internet-facing',
      LoadBalancerAttributes: Match.arrayWith([
        { Key: 'routing.http.drop_invalid_header_fields.enabled', Value: 'true' },
        { Key: 'access_logs.s3.enabled', Value: 'true' },
      ]),
    });
    platform.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      LifecycleConfiguration: { Rules: [Match.objectLike({ ExpirationInDays: 90, Status: 'Enabled' })] },
    });
  });

  it('protects the load balancer from deletion by default, and associates no web ACL', () => {
    platform.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      LoadBalancerAttributes: Match.arrayWith([{ Key: 'deletion_protection.enabled', Value: 'true' }]),
    });
    platform.resourceCountIs('AWS::WAFv2::WebACLAssociation', 0);
  });

  it('forwards every unmatched request to the legacy target group by default', () => {
    const groups = platform.findResources('AWS::ElasticLoadBalancingV2::TargetGroup');
    const [legacyGroup] = Object.keys(groups);
    platform.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Port: 80,
      Protocol: 'HTTP',
      DefaultActions: [{ Type: 'forward', TargetGroupArn: { Ref: legacyGroup } }],
    });
  });

  it('health-checks the legacy tasks on the configured path', () => {
    platform.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
      HealthCheckPath: '/',
      Matcher: { HttpCode: '200' },
      Port: 80,
      TargetType: 'ip',
    });
  });

  it('runs the legacy service in private subnets with circuit breaker and rollback, and no desired count', () => {
    platform.hasResourceProperties('AWS::ECS::Service', {
      LaunchType: 'FARGATE',
      DesiredCount: Match.absent(),
      DeploymentConfiguration: {
        DeploymentCircuitBreaker: { Enable: true, Rollback: true },
        MinimumHealthyPercent: 100,
        MaximumPercent: 200,
      },
      NetworkConfiguration: { AwsvpcConfiguration: { AssignPublicIp: 'DISABLED' } },
    });
  });

  it('autoscales the legacy service between the configured bounds on CPU', () => {
    platform.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', {
      MinCapacity: 2,
      MaxCapacity: 6,
    });
    platform.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      TargetTrackingScalingPolicyConfiguration: Match.objectLike({
        TargetValue: 60,
        PredefinedMetricSpecification: { PredefinedMetricType: 'ECSServiceAverageCPUUtilization' },
      }),
    });
  });

  it('logs the legacy containers to a retained log group with the configured retention', () => {
    platform.hasResource('AWS::Logs::LogGroup', {
      Properties: { RetentionInDays: 30 },
      DeletionPolicy: 'Retain',
    });
  });

  it('gives the legacy task its own role and the database credentials as secrets, to the monolith only', () => {
    platform.hasResourceProperties('AWS::ECS::TaskDefinition', {
      Cpu: '512',
      Memory: '1024',
      TaskRoleArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^LegacyTaskTaskRole'), 'Arn'] },
      ContainerDefinitions: [
        Match.objectLike({
          Name: 'App',
          Image: 'public.ecr.aws/nginx/nginx:1.27-alpine',
          Environment: Match.arrayWith([
            { Name: 'APP_ENV', Value: 'demo' },
            { Name: 'DB_PORT', Value: '3306' },
          ]),
          Secrets: Match.arrayWith([
            { Name: 'DB_PASSWORD', ValueFrom: Match.objectLike({ 'Fn::Join': Match.anyValue() }) },
          ]),
        }),
        // The routing proxy (routing.mode "proxy", the default) is told its configuration and nothing
        // else: no secret, no database setting, none of the monolith's environment.
        Match.objectLike({ Name: 'Proxy', Secrets: Match.absent() }),
      ],
    });
    const proxy = legacyContainers(platform).Proxy;
    expect(proxy.Environment.map((e: Json) => e.Name).sort()).toEqual([
      'AWS_REGION',
      'NODE_OPTIONS',
      'ROUTING_PROXY_CONFIG',
    ]);
  });

  it('allows only ALB -> routing proxy port, legacy task -> database port and the database clients -> database port', () => {
    const ingress = propertiesOf(platform, 'AWS::EC2::SecurityGroupIngress');
    expect(ingress).toHaveLength(3);
    expect(ingress).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          FromPort: 8800,
          ToPort: 8800,
          GroupId: { 'Fn::GetAtt': [expect.stringMatching(/^LegacyServiceSecurityGroup/), 'GroupId'] },
          SourceSecurityGroupId: {
            'Fn::GetAtt': [expect.stringMatching(/^LoadBalancerSecurityGroup/), 'GroupId'],
          },
        }),
        intoLegacyDatabase(/^LegacyServiceSecurityGroup/),
        // The one rule for every extracted service (decision 0017), there before any service is.
        intoLegacyDatabase(/^LegacyDatabaseClientsSecurityGroup/),
      ]),
    );
    // The clients group sends only to the legacy database's port (inline: no default allow-all egress).
    platform.hasResourceProperties('AWS::EC2::SecurityGroup', {
      GroupDescription: Match.stringLikeRegexp('^Legacy database clients'),
      SecurityGroupEgress: [
        {
          Description: 'to the legacy database',
          DestinationSecurityGroupId: {
            'Fn::GetStackOutput': Match.objectLike({ StackName: 'demo-20-legacy-data' }),
          },
          IpProtocol: 'tcp',
          FromPort: 3306,
          ToPort: 3306,
        },
      ],
    });
    // The ALB accepts the listener port from anywhere and sends only to the proxy port of the legacy tasks.
    platform.hasResourceProperties('AWS::EC2::SecurityGroup', {
      GroupDescription: Match.stringLikeRegexp('Public ALB'),
      SecurityGroupIngress: [Match.objectLike({ CidrIp: '0.0.0.0/0', FromPort: 80, ToPort: 80 })],
    });
    expect(
      propertiesOf(platform, 'AWS::EC2::SecurityGroupEgress').map((e) => [
        e.FromPort,
        e.ToPort,
        e.DestinationSecurityGroupId?.['Fn::GetAtt']?.[0],
      ]),
    ).toEqual([[8800, 8800, expect.stringMatching(/^LegacyServiceSecurityGroup/)]]);
  });
});

describe('configuration variants', () => {
  it('serves HTTPS with a certificate and redirects HTTP GET and HEAD (other methods: use HTTPS)', () => {
    const input = phase0Input();
    Object.assign(input.alb, {
      certificateArn: 'arn:aws:acm:eu-west-1:123456789012:certificate/0f4d3e2c-1b2a-4c5d-8e9f-0a1b2c3d4e5f',
    });
    const t = Template.fromStack(sharedStacks(input).platform);
    t.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Port: 443,
      Protocol: 'HTTPS',
      SslPolicy: 'ELBSecurityPolicy-TLS13-1-2-2021-06',
    });
    t.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Port: 80,
      DefaultActions: [
        { Type: 'fixed-response', FixedResponseConfig: Match.objectLike({ StatusCode: '403' }) },
      ],
    });
    t.hasResourceProperties('AWS::ElasticLoadBalancingV2::ListenerRule', {
      Conditions: [{ Field: 'http-request-method', HttpRequestMethodConfig: { Values: ['GET', 'HEAD'] } }],
      Actions: [
        {
          Type: 'redirect',
          RedirectConfig: Match.objectLike({ Port: '443', Protocol: 'HTTPS', StatusCode: 'HTTP_301' }),
        },
      ],
    });
  });

  it('writes deletion protection off when the config turns it off, and associates the web ACL it names', () => {
    const input = phase0Input();
    const webAclArn =
      'arn:aws:wafv2:eu-west-1:123456789012:regional/webacl/shop-edge/0f4d3e2c-1b2a-4c5d-8e9f-0a1b2c3d4e5f';
    Object.assign(input.alb, { deletionProtection: false, webAclArn });
    const t = Template.fromStack(sharedStacks(input).platform);
    // Written "false", never left out: CloudFormation does not reset an attribute the template drops.
    t.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      LoadBalancerAttributes: Match.arrayWith([{ Key: 'deletion_protection.enabled', Value: 'false' }]),
    });
    const [lb] = Object.keys(t.findResources('AWS::ElasticLoadBalancingV2::LoadBalancer'));
    expect(propertiesOf(t, 'AWS::WAFv2::WebACLAssociation')).toEqual([
      { ResourceArn: { Ref: lb }, WebACLArn: webAclArn },
    ]);
  });

  it('routing.mode "in-app" keeps the monolith alone in the task, behind the ALB on its own port', () => {
    const input = phase0Input();
    input.routing = { mode: 'in-app' };
    const t = Template.fromStack(sharedStacks(input).platform);
    const containers = legacyContainers(t);
    expect(Object.keys(containers)).toEqual(['App']);
    // No service has reached phase 1: nothing to wire, nothing to read in SSM.
    expect(containers.App.Environment.map((e: Json) => e.Name)).toEqual([
      'APP_ENV',
      'DB_HOST',
      'DB_PORT',
      'DB_NAME',
    ]);
    expect(JSON.stringify(propertiesOf(t, 'AWS::IAM::Policy'))).not.toContain('ssm:');
    t.hasResourceProperties('AWS::ECS::Service', {
      LoadBalancers: [Match.objectLike({ ContainerName: 'App', ContainerPort: 80 })],
    });
    const fromAlb = propertiesOf(t, 'AWS::EC2::SecurityGroupIngress').filter((i) =>
      JSON.stringify(i.SourceSecurityGroupId).includes('LoadBalancerSecurityGroup'),
    );
    expect(fromAlb.map((i) => [i.FromPort, i.ToPort])).toEqual([[80, 80]]);
    expect(propertiesOf(t, 'AWS::EC2::SecurityGroupEgress').map((e) => [e.FromPort, e.ToPort])).toEqual([
      [80, 80],
    ]);
  });

  it('connects to an imported legacy database without creating a data stack', () => {
    const input = phase0Input();
    input.legacy.database = {
      mode: 'import',
      engine: 'postgres',
      endpoint: 'legacy.cluster-abc.eu-west-1.rds.amazonaws.com',
      port: 5432,
      securityGroupId: 'sg-0123456789abcdef0',
      secretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:legacy-db-AbCdEf',
      databaseName: 'shop',
    };
    const built = sharedStacks(input);
    expect(built.legacyData).toBeUndefined();
    expect(built.all.map((s) => s.stackName)).toEqual(['demo-10-network', 'demo-30-platform']);
    Template.fromStack(built.platform).hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      GroupId: 'sg-0123456789abcdef0',
      FromPort: 5432,
    });
  });

  it('creates a Postgres database with TLS forced', () => {
    const input = phase0Input();
    input.legacy.database = {
      engine: 'postgres',
      engineVersion: '16.4',
      multiAz: false,
      databaseName: 'shop',
    };
    const t = Template.fromStack(sharedStacks(input).legacyData as never);
    t.hasResourceProperties('AWS::RDS::DBInstance', {
      Engine: 'postgres',
      EngineVersion: '16.4',
      MultiAZ: false,
      Port: '5432',
    });
    t.hasResourceProperties('AWS::RDS::DBParameterGroup', { Parameters: { 'rds.force_ssl': '1' } });
  });
});

describe('envs/example.json', () => {
  it('synthesizes for a concrete account and region with HTTPS and an imported legacy database', () => {
    // With the committed cdk.context.json, as `npm run synth -- -c config=envs/example.json` reads it:
    // no lookup is left to make, so that synth needs no credentials (the README's command works offline).
    const root = join(__dirname, '..', '..');
    const context = JSON.parse(readFileSync(join(root, 'cdk.context.json'), 'utf8'));
    const built = buildStacks(loadConfigFile(join(root, 'envs', 'example.json')), { context });
    expect(built.app.synth().manifest.missing ?? []).toEqual([]);
    expect(built.network.availabilityZones).toEqual(['eu-west-1a', 'eu-west-1b', 'eu-west-1c']);
    expect(built.all.map((s) => s.stackName)).toEqual(['shop-prod-10-network', 'shop-prod-30-platform']);
    expect(built.platform.region).toBe('eu-west-1');
    const t = Template.fromStack(built.platform);
    t.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', { Port: 443, Protocol: 'HTTPS' });
    // Each ECR image is pulled with a grant on exactly its repository: the monolith's, and the CDK asset
    // repository of the account and region that the routing proxy's image is published to.
    t.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: ['ecr:BatchCheckLayerAvailability', 'ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'],
            Resource: [
              'arn:aws:ecr:eu-west-1:123456789012:repository/cdk-hnb659fds-container-assets-123456789012-eu-west-1',
              'arn:aws:ecr:eu-west-1:123456789012:repository/shop-monolith',
            ],
          }),
        ]),
      },
    });
    // The proxy reaches the monolith on its configured port and health path; users is still at phase 0.
    const parsed = parseProxyConfig(
      legacyContainers(t).Proxy.Environment.find((e: Json) => e.Name === 'ROUTING_PROXY_CONFIG').Value,
    );
    if (!parsed.ok) throw new Error(parsed.errors.join('\n'));
    expect(parsed.config.legacy).toEqual({ url: 'http://127.0.0.1:8080', healthCheckPath: '/health' });
    expect(parsed.config.services).toEqual([]);
    // In a concrete region the ELB log-delivery account is a literal, not a region map lookup.
    t.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Principal: {
              AWS: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::156460612806:root']] },
              Service: 'logdelivery.elasticloadbalancing.amazonaws.com',
            },
          }),
        ]),
      },
    });
  });
});
