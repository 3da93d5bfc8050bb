import { Match, Template } from 'aws-cdk-lib/assertions';
import { buildStacks, config, demoInput, demoParameterArn, demoStacks } from '../helpers/test-app';

const stacks = demoStacks();
const users = stacks.services[0];
const data = Template.fromStack(users.data as never);
const service = Template.fromStack(users.service as never);
const platform = Template.fromStack(stacks.platform);

/** The custom resources that create the flag parameters, with their SDK calls decoded. */
/** The runtime-owned parameters (custom resources) of a data stack, with their SDK calls decoded. */
function runtimeParameters(t: Template) {
  return Object.entries(t.findResources('Custom::MigrationFlagParameter')).map(([id, r]) => ({
    id,
    create: JSON.parse(r.Properties.Create),
    update: JSON.parse(r.Properties.Update),
    delete: r.Properties.Delete,
  }));
}

/** The three flag documents among them (not the live ALB weights). */
function flagResources(t: Template) {
  return runtimeParameters(t).filter((p) => !p.id.startsWith('FlagsLive'));
}

describe('deploy order with a service at phase 1', () => {
  it('adds the service data stack before the platform and the service stack after it', () => {
    expect(stacks.all.map((s) => s.stackName)).toEqual([
      'demo-10-network',
      'demo-20-legacy-data',
      'demo-20-users-data',
      'demo-30-platform',
      'demo-40-users-service',
      'demo-50-gateway',
      'demo-60-operations',
    ]);
    expect(users.data?.terminationProtection).toBe(true);
    expect(stacks.platform.dependencies.map((s) => s.stackName)).toContain('demo-20-users-data');
  });
});

describe('service data stack', () => {
  it('creates the service database with the same guarantees as the legacy one', () => {
    data.hasResource('AWS::RDS::DBInstance', {
      Properties: Match.objectLike({
        Engine: 'postgres',
        EngineVersion: '17.9',
        DBInstanceIdentifier: 'demo-users',
        DBName: 'users',
        StorageEncrypted: true,
        DeletionProtection: true,
        MultiAZ: true,
        PubliclyAccessible: false,
      }),
      DeletionPolicy: 'Snapshot',
      UpdateReplacePolicy: 'Snapshot',
    });
    data.hasResource('AWS::SecretsManager::Secret', { DeletionPolicy: 'Retain' });
    data.hasResourceProperties('AWS::RDS::DBParameterGroup', { Parameters: { 'rds.force_ssl': '1' } });
  });

  it('pins the logical IDs of its stateful resources', () => {
    expect(Object.keys(data.findResources('AWS::RDS::DBInstance'))).toEqual(['DatabaseF44359DD']);
    expect(Object.keys(data.findResources('AWS::SecretsManager::Secret'))).toEqual([
      'DatabaseSecret3B817195',
    ]);
    expect(flagResources(data).map((f) => f.id)).toEqual([
      'FlagsRoutingABD38FBB',
      'FlagsCutover793392A4',
      'FlagsGateway3D54E0E5',
    ]);
  });

  it('creates the three flag parameters with the safe initial documents, never overwriting', () => {
    expect(flagResources(data).map((f) => f.create.parameters)).toEqual([
      expect.objectContaining({
        Name: '/demo/migration/users/routing',
        Value: '{"mode":"off","users":[],"percent":0}',
        Overwrite: false,
        Tier: 'Standard',
        Type: 'String',
      }),
      expect.objectContaining({
        Name: '/demo/migration/users/cutover',
        Value: '{"completed":false}',
        Overwrite: false,
      }),
      expect.objectContaining({
        Name: '/demo/migration/users/gateway',
        Value: '{"weight":0}',
        Overwrite: false,
      }),
    ]);
    for (const f of flagResources(data)) {
      expect(f.create).toMatchObject({
        action: 'putParameter',
        ignoreErrorCodesMatching: 'ParameterAlreadyExists',
      });
    }
  });

  it('creates the live ALB state the same way: all on the monolith, pinned there', () => {
    const live = runtimeParameters(data).filter((p) => p.id.startsWith('FlagsLive'));
    expect(live.map((p) => [p.create.parameters.Name, p.create.parameters.Value])).toEqual([
      ['/demo/migration/users/live/legacy-weight', '100'],
      ['/demo/migration/users/live/gateway-weight', '0'],
      ['/demo/migration/users/live/alb-pin', '/?'],
    ]);
  });

  it('never lets CloudFormation own a flag value: no SSM parameter resource, updates only tag, deletes nothing', () => {
    for (const stack of stacks.all)
      expect(Template.fromStack(stack).findResources('AWS::SSM::Parameter')).toEqual({});
    for (const f of flagResources(data)) {
      expect(f.update.action).toBe('addTagsToResource');
      expect(Object.keys(f.update.parameters).sort()).toEqual(['ResourceId', 'ResourceType', 'Tags']);
      expect(f.delete).toBeUndefined();
    }
  });

  it('grants the parameter provider exactly PutParameter and AddTagsToResource on the three parameters', () => {
    const statements = Object.values(data.findResources('AWS::IAM::Policy')).flatMap(
      (p) => p.Properties.PolicyDocument.Statement,
    );
    expect(statements).toHaveLength(6);
    for (const [i, kind] of [
      'routing',
      'cutover',
      'gateway',
      'live/legacy-weight',
      'live/gateway-weight',
      'live/alb-pin',
    ].entries()) {
      expect(statements[i]).toEqual({
        Action: ['ssm:AddTagsToResource', 'ssm:PutParameter'],
        Effect: 'Allow',
        Resource: demoParameterArn(kind),
      });
    }
  });

  it('uses the advanced tier for the routing parameter when configured', () => {
    const input = demoInput();
    input.flags = { tier: 'advanced' };
    const t = Template.fromStack(buildStacks(config(input)).services[0].data as never);
    expect(flagResources(t).map((f) => f.create.parameters.Tier)).toEqual([
      'Advanced',
      'Standard',
      'Standard',
    ]);
  });
});

describe('service stack', () => {
  it('runs the service with health check, circuit breaker, autoscaling and logs, published through Service Connect', () => {
    service.hasResourceProperties('AWS::ECS::Service', {
      DeploymentConfiguration: Match.objectLike({
        DeploymentCircuitBreaker: { Enable: true, Rollback: true },
      }),
      ServiceConnectConfiguration: {
        Enabled: true,
        Namespace: 'demo.internal',
        Services: [
          { PortName: 'http', DiscoveryName: 'users', ClientAliases: [{ DnsName: 'users', Port: 80 }] },
        ],
        LogConfiguration: Match.objectLike({ LogDriver: 'awslogs' }),
      },
    });
    service.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', {
      MinCapacity: 2,
      MaxCapacity: 4,
    });
    service.hasResource('AWS::Logs::LogGroup', {
      Properties: { RetentionInDays: 30 },
      DeletionPolicy: 'Retain',
    });
  });

  it('receives its own and the legacy database settings, credentials as secrets', () => {
    const [task] = Object.values(service.findResources('AWS::ECS::TaskDefinition'));
    const container = task.Properties.ContainerDefinitions[0];
    const env = Object.fromEntries(
      container.Environment.map((e: { Name: string; Value: unknown }) => [e.Name, e.Value]),
    );
    expect(env).toMatchObject({
      DB_PORT: '5432',
      DB_NAME: 'users',
      LEGACY_DB_ENGINE: 'mysql',
      LEGACY_DB_PORT: '3306',
      LEGACY_DB_NAME: 'monolith',
      MIGRATION_SERVICE_NAME: 'users',
      MIGRATION_CUTOVER_PARAMETER: '/demo/migration/users/cutover',
    });
    expect(container.Secrets.map((s: { Name: string }) => s.Name).sort()).toEqual([
      'DB_PASSWORD',
      'DB_USERNAME',
      'LEGACY_DB_PASSWORD',
      'LEGACY_DB_USERNAME',
    ]);
  });

  it('may reach its database and the legacy database on their ports, and is reachable from the monolith only', () => {
    const ingress = Object.values(service.findResources('AWS::EC2::SecurityGroupIngress')).map(
      (r) => r.Properties,
    );
    expect(ingress.map((i) => [i.Description, i.FromPort])).toEqual(
      expect.arrayContaining([
        ['users service to its database', 5432],
        ['users service to the legacy database (organic import)', 3306],
      ]),
    );
    service.hasResourceProperties('AWS::EC2::SecurityGroup', {
      SecurityGroupIngress: [
        Match.objectLike({
          FromPort: 80,
          ToPort: 80,
          Description: 'caller 1 to the users service (Service Connect)',
        }),
      ],
    });
    expect(ingress).toHaveLength(2);
  });

  it('reads the legacy database with the master secret by default and warns about it', () => {
    const warnings = users.service?.node.metadata
      .filter((m) => m.type === 'aws:cdk:warning')
      .map((m) => String(m.data));
    expect(warnings).toEqual([
      expect.stringContaining('users reads the legacy database with its master secret'),
    ]);
  });

  it('reads the legacy database with a configured read-only secret, without a warning', () => {
    const input = demoInput();
    const arn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:legacy-readonly-AbCdEf';
    input.services[0].legacyReadSecretArn = arn;
    const built = buildStacks(config(input)).services[0].service;
    expect(built?.node.metadata.filter((m) => m.type === 'aws:cdk:warning')).toEqual([]);
    Template.fromStack(built as never).hasResourceProperties('AWS::ECS::TaskDefinition', {
      ContainerDefinitions: [
        Match.objectLike({
          Secrets: Match.arrayWith([{ Name: 'LEGACY_DB_PASSWORD', ValueFrom: `${arn}:password::` }]),
        }),
      ],
    });
  });

  it('may read exactly its cutover parameter', () => {
    service.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: [
          {
            Action: 'ssm:GetParameter',
            Effect: 'Allow',
            Resource: { 'Fn::Join': ['', Match.arrayWith([':parameter/demo/migration/users/cutover'])] },
          },
        ],
      },
    });
  });
});

describe('legacy wiring', () => {
  it('tells the monolith the service URL, flag parameter names, routes and cache TTL', () => {
    const [task] = Object.values(platform.findResources('AWS::ECS::TaskDefinition'));
    const env = Object.fromEntries(
      task.Properties.ContainerDefinitions[0].Environment.map((e: { Name: string; Value: unknown }) => [
        e.Name,
        e.Value,
      ]),
    );
    expect(env).toMatchObject({
      MIGRATION_SERVICES: 'users',
      MIGRATION_FLAG_CACHE_TTL_SECONDS: '15',
      MIGRATION_USERS_URL: 'http://users:80',
      MIGRATION_USERS_ROUTING_PARAMETER: '/demo/migration/users/routing',
      MIGRATION_USERS_CUTOVER_PARAMETER: '/demo/migration/users/cutover',
    });
    expect(JSON.parse(env.MIGRATION_USERS_ROUTES)[3]).toEqual({
      path: '/api/users/{id}',
      methods: ['GET', 'PUT', 'DELETE'],
      servicePath: '/v1/users/{id}',
    });
  });

  it('lets the monolith read exactly those two parameters and nothing else in SSM', () => {
    const statements = Object.values(platform.findResources('AWS::IAM::Policy'))
      .flatMap((p) => p.Properties.PolicyDocument.Statement)
      .filter((s) => JSON.stringify(s.Action).includes('ssm:'));
    const param = demoParameterArn;
    expect(statements).toEqual([
      { Action: 'ssm:GetParameter', Effect: 'Allow', Resource: [param('cutover'), param('routing')] },
    ]);
  });
});

describe('two services at different phases', () => {
  const input = demoInput();
  input.services.push({
    name: 'orders',
    phase: 0,
    image: 'public.ecr.aws/nginx/nginx:1.27-alpine',
    routes: [{ path: '/api/orders/{id}', methods: ['GET'], servicePath: '/orders/{id}' }],
  });
  input.services.push({
    name: 'billing',
    phase: 1,
    port: 9000,
    image: 'public.ecr.aws/nginx/nginx:1.27-alpine',
    database: { engine: 'mysql', engineVersion: '8.4.9', multiAz: false },
    routes: [{ path: '/api/invoices/{id}', methods: ['GET'], servicePath: '/invoices/{id}' }],
  });
  const built = buildStacks(config(input));

  it('creates stacks only for the services at phase 1 or later', () => {
    expect(built.all.map((s) => s.stackName)).toEqual([
      'demo-10-network',
      'demo-20-legacy-data',
      'demo-20-users-data',
      'demo-20-billing-data',
      'demo-30-platform',
      'demo-40-users-service',
      'demo-40-billing-service',
      'demo-50-gateway',
      'demo-60-operations',
    ]);
    expect(built.services.map((s) => [s.config.name, Boolean(s.data), Boolean(s.service)])).toEqual([
      ['users', true, true],
      ['orders', false, false],
      ['billing', true, true],
    ]);
  });

  it('wires the monolith to both migrating services', () => {
    const t = Template.fromStack(built.platform);
    t.hasResourceProperties('AWS::ECS::TaskDefinition', {
      ContainerDefinitions: [
        Match.objectLike({
          Environment: Match.arrayWith([
            { Name: 'MIGRATION_SERVICES', Value: 'users,billing' },
            { Name: 'MIGRATION_BILLING_URL', Value: 'http://billing:9000' },
          ]),
        }),
      ],
    });
  });

  it('gives each service its own database and flags', () => {
    const billing = Template.fromStack(built.services[2].data as never);
    billing.hasResourceProperties('AWS::RDS::DBInstance', {
      Engine: 'mysql',
      DBInstanceIdentifier: 'demo-billing',
      MultiAZ: false,
    });
    expect(flagResources(billing).map((f) => f.create.parameters.Name)).toEqual([
      '/demo/migration/billing/routing',
      '/demo/migration/billing/cutover',
      '/demo/migration/billing/gateway',
    ]);
  });
});
