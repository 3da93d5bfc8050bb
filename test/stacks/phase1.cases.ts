import { Match, Template } from 'aws-cdk-lib/assertions';
import { envOf, legacyContainer, orderAround, proxyConfigOf, ssmStatements } from '../helpers/templates';
import { demoInput, demoParameterArn, demoStacks, sharedStacks } from '../helpers/test-app';

// biome-ignore lint/suspicious/noExplicitAny: CloudFormation templates are untyped JSON
type Json = any;

/** The demo: users at phase 3, through the KrakenD gateway, routed by the routing proxy (the defaults). */
const stacks = demoStacks();
const users = stacks.services[0];
const data = Template.fromStack(users.data as never);
const service = Template.fromStack(users.service as never);

/** The demo with users at phase 1: no gateway yet. */
const atPhase1 = (() => {
  const input = demoInput();
  for (const s of input.services) s.phase = 1;
  return sharedStacks(input);
})();

/** The runtime-owned parameters (Custom::MigrationFlagParameter) of a data stack, with their properties. */
function runtimeParameters(t: Template): { id: string; properties: Json }[] {
  return Object.entries(t.findResources('Custom::MigrationFlagParameter')).map(([id, r]) => ({
    id,
    properties: r.Properties,
  }));
}

/** The three flag documents among them (not the live ALB values). */
function flagResources(t: Template) {
  return runtimeParameters(t).filter((p) => !p.id.startsWith('FlagsLive'));
}

/** The logical id of the only resource of that type whose id starts with `prefix`. */
function onlyId(t: Template, type: string, prefix: string): string {
  const ids = Object.keys(t.findResources(type)).filter((id) => id.startsWith(prefix));
  expect(ids).toHaveLength(1);
  return ids[0];
}

/** The parameter names an agnostic statement's resources name, sorted. */
function parameterNamesOf(statement: Json): string[] {
  return (statement.Resource as Json[])
    .map((r) => String(r['Fn::Join'][1].at(-1)).replace(/^:parameter/, ''))
    .sort();
}

/** The legacy database clients group of the platform stack, as the service stacks reference it. */
const clientsGroup = {
  'Fn::GetStackOutput': {
    StackName: 'demo-30-platform',
    Region: { Ref: 'AWS::Region' },
    OutputName: expect.stringMatching(/^PublishOutputFnGetAttLegacyDatabaseClientsSecurityGroup/),
  },
};

/** The security group rules admitting callers to a service's tasks: who (stack and output) on which port. */
function callersOf(t: Template) {
  const [group] = Object.values(t.findResources('AWS::EC2::SecurityGroup'));
  return (group.Properties.SecurityGroupIngress as Json[]).map((i) => ({
    description: i.Description,
    ports: [i.FromPort, i.ToPort],
    stack: i.SourceSecurityGroupId['Fn::GetStackOutput'].StackName,
    output: i.SourceSecurityGroupId['Fn::GetStackOutput'].OutputName,
  }));
}

describe('deploy order with a migrating service', () => {
  it('adds the service data stack before the platform and the service stack after it', () => {
    expect(atPhase1.all.map((s) => s.stackName)).toEqual([
      'demo-10-network',
      'demo-20-legacy-data',
      'demo-20-users-data',
      'demo-30-platform',
      'demo-40-users-service',
      'demo-60-operations',
      'demo-65-users-operations',
    ]);
    expect(users.data?.terminationProtection).toBe(true);
    expect(stacks.platform.dependencies.map((s) => s.stackName)).toContain('demo-20-users-data');
  });

  it('at phase 3 through KrakenD, deploys the gateway stack (35) after the platform and before the service stacks', () => {
    expect(stacks.all.map((s) => s.stackName)).toEqual([
      'demo-10-network',
      'demo-20-legacy-data',
      'demo-20-users-data',
      'demo-30-platform',
      'demo-35-gateway',
      'demo-40-users-service',
      'demo-60-operations',
      'demo-65-users-operations',
    ]);
    // The order CloudFormation deploys in comes from the dependencies, not from the names.
    expect(stacks.gateway?.dependencies.map((s) => s.stackName)).toContain('demo-30-platform');
    expect(users.service?.dependencies.map((s) => s.stackName)).toContain('demo-35-gateway');
    expect(stacks.gateway?.dependencies.map((s) => s.stackName)).not.toContain('demo-40-users-service');
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
    // Retained on update and delete, removed if the stack's first create rolls back (decision 0008).
    data.hasResource('AWS::SecretsManager::Secret', {
      DeletionPolicy: 'RetainExceptOnCreate',
      UpdateReplacePolicy: 'Retain',
    });
    for (const type of ['postgresql', 'upgrade']) {
      data.hasResource('AWS::Logs::LogGroup', {
        Properties: { LogGroupName: `/aws/rds/instance/demo-users/${type}`, RetentionInDays: 90 },
        DeletionPolicy: 'RetainExceptOnCreate',
        UpdateReplacePolicy: 'Retain',
      });
    }
    data.hasResourceProperties('AWS::RDS::DBParameterGroup', { Parameters: { 'rds.force_ssl': '1' } });
  });

  it('creates the protected database last: only its secret attachment comes after it (decision 0008)', () => {
    const order = orderAround(data, 'DatabaseF44359DD');
    expect(order.after).toEqual([expect.stringMatching(/^DatabaseSecretAttachment/)]);
    expect(order.unordered).toEqual([]);
    // In particular the flag parameters and their provider: the likeliest failures of a first create.
    expect(order.before).toEqual(
      expect.arrayContaining([
        ...runtimeParameters(data).map((p) => p.id),
        onlyId(data, 'AWS::Lambda::Function', 'FlagsProvider'),
        'DatabaseSecret3B817195',
      ]),
    );
  });

  it('pins the logical IDs of its stateful resources', () => {
    expect(Object.keys(data.findResources('AWS::RDS::DBInstance'))).toEqual(['DatabaseF44359DD']);
    expect(Object.keys(data.findResources('AWS::SecretsManager::Secret'))).toEqual([
      'DatabaseSecret3B817195',
    ]);
    expect(runtimeParameters(data).map((f) => f.id)).toEqual([
      'FlagsRoutingABD38FBB',
      'FlagsCutover793392A4',
      'FlagsGateway3D54E0E5',
      'FlagsLiveLegacyWeight1F848924',
      'FlagsLiveGatewayWeightBE786B31',
      'FlagsLiveAlbPin27F9D403',
    ]);
  });

  it("serves every runtime-owned parameter by the app's own provider function, no AwsCustomResource", () => {
    const provider = onlyId(data, 'AWS::Lambda::Function', 'FlagsProvider');
    // The only function of the stack: no AwsCustomResource singleton is left behind.
    expect(Object.keys(data.findResources('AWS::Lambda::Function'))).toEqual([provider]);
    for (const p of runtimeParameters(data))
      expect([p.id, p.properties.ServiceToken]).toEqual([p.id, { 'Fn::GetAtt': [provider, 'Arn'] }]);
    data.hasResourceProperties('AWS::IAM::Role', {
      Description: Match.stringLikeRegexp('^flag-parameter hook'),
    });
  });

  it('creates the three flag parameters with the safe initial documents, labelled for readers, tagged with the stack', () => {
    const flag = (kind: string, value: string) => ({
      ServiceToken: expect.anything(),
      Name: `/demo/migration/users/${kind}`,
      Value: value,
      Tier: 'Standard',
      Description: expect.stringContaining(`users migration flag: ${kind}`),
      Tags: [
        { Key: 'migration:service', Value: 'users' },
        { Key: 'migration:flag', Value: kind },
      ],
      // Readers read `:last-good`: the created version carries the label at once.
      Label: 'true',
      // Which build of the environment created it: a rebuilt one must not inherit its values.
      Identity: { Ref: 'AWS::StackId' },
      AdoptExisting: 'false',
    });
    expect(flagResources(data).map((f) => f.properties)).toEqual([
      flag('routing', '{"mode":"off","users":[],"percent":0}'),
      flag('cutover', '{"completed":false}'),
      flag('gateway', '{"weight":0}'),
    ]);
  });

  it('creates the live ALB state the same way: all on the monolith, pinned there, never labelled', () => {
    const live = runtimeParameters(data).filter((p) => p.id.startsWith('FlagsLive'));
    expect(
      live.map(({ properties: p }) => [p.Name, p.Value, p.Tier, p.Label, p.Identity, p.AdoptExisting]),
    ).toEqual([
      [
        '/demo/migration/users/live/legacy-weight',
        '100',
        'Standard',
        'false',
        { Ref: 'AWS::StackId' },
        'false',
      ],
      [
        '/demo/migration/users/live/gateway-weight',
        '0',
        'Standard',
        'false',
        { Ref: 'AWS::StackId' },
        'false',
      ],
      ['/demo/migration/users/live/alb-pin', '/?', 'Standard', 'false', { Ref: 'AWS::StackId' }, 'false'],
    ]);
    expect(live.map((p) => p.properties.Tags.at(-1))).toEqual([
      { Key: 'migration:flag', Value: 'live-legacy-weight' },
      { Key: 'migration:flag', Value: 'live-gateway-weight' },
      { Key: 'migration:flag', Value: 'live-alb-pin' },
    ]);
  });

  it('never lets CloudFormation own a flag value: no SSM parameter resource in any stack', () => {
    for (const stack of stacks.all)
      expect(Template.fromStack(stack).findResources('AWS::SSM::Parameter')).toEqual({});
    for (const stack of atPhase1.all)
      expect(Template.fromStack(stack).findResources('AWS::SSM::Parameter')).toEqual({});
  });

  it('lets the parameter provider write its logs and exactly the six parameters, nothing else', () => {
    const statements = Object.values(data.findResources('AWS::IAM::Policy')).flatMap(
      (p) => p.Properties.PolicyDocument.Statement,
    );
    expect(statements).toEqual([
      {
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Effect: 'Allow',
        Resource: { 'Fn::GetAtt': [onlyId(data, 'AWS::Logs::LogGroup', 'FlagsProviderLogs'), 'Arn'] },
      },
      {
        Action: [
          'ssm:AddTagsToResource',
          'ssm:GetParameterHistory',
          'ssm:LabelParameterVersion',
          'ssm:ListTagsForResource',
          'ssm:PutParameter',
        ],
        Effect: 'Allow',
        // The three flags and the three live values (sorted by the policy's normalization).
        Resource: [
          'cutover',
          'gateway',
          'live/alb-pin',
          'live/gateway-weight',
          'live/legacy-weight',
          'routing',
        ].map((kind) => demoParameterArn(kind)),
      },
    ]);
  });

  it('uses the advanced tier for the routing parameter, adoption and tags as configured', () => {
    const input = demoInput();
    input.flags = { tier: 'advanced', adoptExisting: true };
    input.tags = { 'cost-center': 'migration' };
    const t = Template.fromStack(sharedStacks(input).services[0].data as never);
    expect(runtimeParameters(t).map(({ properties: p }) => [p.Tier, p.AdoptExisting, p.Tags[0]])).toEqual([
      ['Advanced', 'true', { Key: 'cost-center', Value: 'migration' }],
      ...Array.from({ length: 5 }, () => ['Standard', 'true', { Key: 'cost-center', Value: 'migration' }]),
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
      LEGACY_DB_ENGINE: 'postgres',
      LEGACY_DB_PORT: '5432',
      LEGACY_DB_NAME: 'monolith',
      MIGRATION_SERVICE_NAME: 'users',
      MIGRATION_CUTOVER_PARAMETER: '/demo/migration/users/cutover',
    });
    // The data contract it implements (docs/data-contract.md).
    expect(JSON.parse(env.MIGRATION_DATA_CONTRACT)).toEqual({
      version: 1,
      outboxTable: 'migration_outbox',
      verificationTable: 'migration_verification',
      tables: {
        users: {
          key: ['id'],
          columns: ['email', 'password_hash', 'display_name', 'updated_at'],
          versionColumn: 'updated_at',
        },
      },
    });
    expect(container.Secrets.map((s: { Name: string }) => s.Name).sort()).toEqual([
      'DB_PASSWORD',
      'DB_USERNAME',
      'LEGACY_DB_PASSWORD',
      'LEGACY_DB_USERNAME',
    ]);
  });

  it('may reach its database by a rule of its own, the legacy one as a legacy database client (decision 0017)', () => {
    const ingress = Object.values(service.findResources('AWS::EC2::SecurityGroupIngress')).map(
      (r) => r.Properties,
    );
    expect(
      ingress.map((i) => [i.Description, i.FromPort, i.GroupId['Fn::GetStackOutput'].StackName]).sort(),
    ).toEqual([
      ['users service to its database', 5432, 'demo-20-users-data'],
      // Its write-back function, to the outbox (see "the write-back").
      ['users write-back', 5432, 'demo-20-users-data'],
    ]);
    // No rule of the service stack into the legacy database's group: it carries the clients group.
    expect(JSON.stringify(ingress)).not.toContain('demo-20-legacy-data');
    expect(
      Object.values(service.findResources('AWS::ECS::Service'))[0].Properties.NetworkConfiguration
        .AwsvpcConfiguration.SecurityGroups,
    ).toEqual([
      { 'Fn::GetAtt': [onlyId(service, 'AWS::EC2::SecurityGroup', 'ServiceSecurityGroup'), 'GroupId'] },
      clientsGroup,
    ]);
  });

  it('runs its bulk migration (and verification) with the same security groups as its tasks', () => {
    const ops = Template.fromStack(users.operations as never);
    const [machine] = Object.values(ops.findResources('AWS::StepFunctions::StateMachine'));
    const parts: Json[] = machine.Properties.DefinitionString['Fn::Join'][1];
    // The run task's groups: the parts after each '"SecurityGroups":["' of the definition.
    const groups = parts.flatMap((p, i) =>
      typeof p === 'string' && p.endsWith('"SecurityGroups":["')
        ? [[parts[i + 1], parts[i + 2], parts[i + 3]]]
        : [],
    );
    expect(groups.length).toBeGreaterThanOrEqual(2);
    for (const [own, separator, clients] of groups) {
      expect(own['Fn::GetStackOutput'].StackName).toBe('demo-40-users-service');
      expect(separator).toBe('","');
      expect(clients).toEqual(clientsGroup);
    }
  });

  const monolith = {
    description: 'caller 1 to the users service (Service Connect)',
    ports: [80, 80],
    stack: 'demo-30-platform',
    output: expect.stringMatching(/LegacyServiceSecurityGroup/),
  };

  it('is reachable from the monolith only (through its task security group) before phase 3', () => {
    expect(callersOf(Template.fromStack(atPhase1.services[0].service as never))).toEqual([monolith]);
  });

  it('is reachable from the monolith and, at phase 3, the gateway, on the service port only', () => {
    const callers = callersOf(service);
    expect(callers).toHaveLength(2);
    expect(callers).toEqual(
      expect.arrayContaining([
        monolith,
        {
          description: 'gateway to the users service',
          ports: [80, 80],
          stack: 'demo-35-gateway',
          output: expect.stringMatching(/GatewayServiceSecurityGroup/),
        },
      ]),
    );
  });

  it('reads the legacy database with the master secret by default and warns about it', () => {
    const warnings = users.service?.node.metadata
      .filter((m) => m.type === 'aws:cdk:warning')
      .map((m) => String(m.data));
    expect(warnings).toEqual([
      expect.stringContaining('users reads the legacy database with its master secret'),
      expect.stringContaining('users writes back to the legacy database with its MASTER secret'),
    ]);
  });

  it('warns at synth when routes identify nobody or one person by different strings (issue 26)', () => {
    const input = demoInput();
    input.services[0].phase = 1;
    input.services[0].identitiesAgree = false;
    delete input.services[0].routes[2].anonymous;
    const warnings = sharedStacks(input)
      .services[0].service?.node.metadata.filter((m) => m.type === 'aws:cdk:warning')
      .map((m) => String(m.data));
    expect(warnings).toEqual([
      expect.stringContaining('users reads the legacy database with its master secret'),
      expect.stringContaining('users writes back to the legacy database with its MASTER secret'),
      expect.stringMatching(/^users: services\[0\]\.routes\[2\] \(POST \/api\/users\) has no identity/),
      expect.stringMatching(/^users's routes find the user in 3 places/),
    ]);
  });

  it('reads the legacy database with a configured read-only secret, without a warning', () => {
    const input = demoInput();
    const arn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:legacy-readonly-AbCdEf';
    input.services[0].legacyReadSecretArn = arn;
    input.services[0].writeBack.legacySecretArn = arn.replace('readonly', 'writer');
    const built = sharedStacks(input).services[0].service;
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

describe('the write-back (docs/data-contract.md)', () => {
  const phase1 = Template.fromStack(atPhase1.services[0].service as never);
  const functionId = onlyId(phase1, 'AWS::Lambda::Function', 'WriteBackFunction');

  it('is a function of the service stack, by the name the CLI and the hooks invoke, in the VPC', () => {
    phase1.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'demo-users-write-back',
      Runtime: 'nodejs24.x',
      Timeout: 60,
      VpcConfig: {
        SecurityGroupIds: [
          { 'Fn::GetAtt': [onlyId(phase1, 'AWS::EC2::SecurityGroup', 'WriteBackSecurityGroup'), 'GroupId'] },
          {
            'Fn::GetStackOutput': Match.objectLike({
              StackName: 'demo-30-platform',
              OutputName: Match.stringLikeRegexp('^PublishOutputFnGetAttLegacyDatabaseClientsSecurityGroup'),
            }),
          },
        ],
        SubnetIds: Match.anyValue(),
      },
    });
    const env = phase1.toJSON().Resources[functionId].Properties.Environment.Variables;
    expect(env.NODE_EXTRA_CA_CERTS).toBe('/var/runtime/ca-cert.pem');
    // The databases' endpoints are tokens of the data stacks, resolved inside the JSON.
    expect(JSON.stringify(env.MIGRATION_WRITE_BACK_CONFIG)).toContain('demo-20-legacy-data');
    expect(JSON.stringify(env.MIGRATION_WRITE_BACK_CONFIG)).toContain('demo-20-users-data');
  });

  it('reaches both databases on their ports, and nothing else but HTTPS; admitted to the legacy one as a client', () => {
    const group = onlyId(phase1, 'AWS::EC2::SecurityGroup', 'WriteBackSecurityGroup');
    phase1.hasResourceProperties('AWS::EC2::SecurityGroup', {
      SecurityGroupEgress: [Match.objectLike({ CidrIp: '0.0.0.0/0', FromPort: 443, ToPort: 443 })],
    });
    const rules = (type: string) =>
      Object.values(phase1.findResources(type))
        .map((r) => r.Properties)
        .filter((p) => JSON.stringify(p).includes(group));
    expect(
      rules('AWS::EC2::SecurityGroupEgress')
        .map((r) => [r.FromPort, r.DestinationSecurityGroupId['Fn::GetStackOutput'].StackName])
        .sort(),
    ).toEqual([
      [5432, 'demo-20-legacy-data'],
      [5432, 'demo-20-users-data'],
    ]);
    expect(
      rules('AWS::EC2::SecurityGroupIngress')
        .map((r) => [r.FromPort, r.GroupId['Fn::GetStackOutput'].StackName])
        .sort(),
    ).toEqual([[5432, 'demo-20-users-data']]);
  });

  it('reads both secrets and the checked cutover document, nothing else', () => {
    const role = onlyId(phase1, 'AWS::IAM::Role', 'WriteBackFunctionRole');
    const [policy] = Object.values(phase1.findResources('AWS::IAM::Policy')).filter((p) =>
      JSON.stringify(p.Properties.Roles).includes(role),
    );
    const statements = policy.Properties.PolicyDocument.Statement;
    expect(statements.map((st: Json) => st.Action)).toEqual([
      ['logs:CreateLogStream', 'logs:PutLogEvents'],
      ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'],
      'ssm:GetParameters',
    ]);
    expect(JSON.stringify(statements[1].Resource)).toMatch(/LegacyDatabaseSecret.*DatabaseSecret/);
    expect(parameterNamesOf({ Resource: [statements[2].Resource] })).toEqual([
      '/demo/migration/users/cutover',
    ]);
  });

  it('runs every minute while a rollback is possible, without retries (the next minute is the retry)', () => {
    phase1.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 minute)',
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [functionId, 'Arn'] },
          RetryPolicy: { MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 60 },
        }),
      ],
    });
    phase1.hasResourceProperties('AWS::Lambda::EventInvokeConfig', { MaximumRetryAttempts: 0 });
  });

  it('stops its schedule once the cutover is recorded, and the function refuses on its own before that', () => {
    const input = demoInput();
    input.services[0].phase = 2;
    input.services[0].cutoverRecorded = { runId: 'users-cutover-1', completedAt: '2026-12-01T10:00:00Z' };
    const after = Template.fromStack(sharedStacks(input).services[0].service as never);
    after.resourceCountIs('AWS::Events::Rule', 0);
    const fn =
      after.findResources('AWS::Lambda::Function')[onlyId(after, 'AWS::Lambda::Function', 'WriteBack')];
    expect(JSON.stringify(fn.Properties.Environment.Variables.MIGRATION_WRITE_BACK_CONFIG)).toContain(
      '\\"cutoverRecorded\\":true',
    );
  });

  it('signs in to the legacy database as the configured user, and warns loudly about the master secret', () => {
    const input = demoInput();
    input.services[0].phase = 1;
    const writer = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:legacy-writer-AbCdEf';
    input.services[0].writeBack.legacySecretArn = writer;
    const built = sharedStacks(input).services[0].service;
    expect(JSON.stringify(Template.fromStack(built as never).toJSON())).toContain(writer);
    expect(built?.node.metadata.map((m) => String(m.data))).not.toContainEqual(
      expect.stringContaining('MASTER'),
    );
  });

  it('without a write-back, says at every synth that a rollback loses the writes made on the service', () => {
    const input = demoInput();
    input.services[0].phase = 1;
    delete input.services[0].writeBack;
    const built = sharedStacks(input).services[0].service;
    expect(built?.node.metadata.map((m) => String(m.data))).toContainEqual(
      expect.stringMatching(
        /users has no write-back \(services\[\]\.writeBack\): writes its routed users make on the service stay in its database/,
      ),
    );
    // No write-back function (the stack's functions roll the endpoint's callers and gate its routing).
    expect(Object.keys(Template.fromStack(built as never).findResources('AWS::Lambda::Function'))).toEqual([
      expect.stringMatching(/^EndpointRollProvider/),
      expect.stringMatching(/^GatewayGateProvider/),
    ]);
  });
});

describe('legacy wiring, routing.mode "in-app": the monolith routes itself', () => {
  const input = demoInput();
  input.routing = { mode: 'in-app' };
  const platform = Template.fromStack(sharedStacks(input).platform);

  it('tells the monolith the service URL, phase, flag and override parameter names, label, routes and cache TTL', () => {
    const env = envOf(legacyContainer(platform, 'App'));
    expect(env).toMatchObject({
      MIGRATION_SERVICES: 'users',
      MIGRATION_FLAG_CACHE_TTL_SECONDS: '15',
      MIGRATION_FLAG_LABEL: 'last-good',
      MIGRATION_USERS_URL: 'http://users:80',
      MIGRATION_USERS_ROUTING_PARAMETER: '/demo/migration/users/routing',
      MIGRATION_USERS_CUTOVER_PARAMETER: '/demo/migration/users/cutover',
      MIGRATION_USERS_OVERRIDE_PARAMETER: '/demo/migration/users/override',
      MIGRATION_USERS_PHASE: '3',
      // Empty until the cutover is recorded in the environment file.
      MIGRATION_USERS_CUTOVER_RECORDED: '',
    });
    expect(JSON.parse(env.MIGRATION_USERS_ROUTES)[3]).toEqual({
      path: '/api/users/{id}',
      methods: ['GET', 'PUT', 'DELETE'],
      servicePath: '/v1/users/{id}',
      identity: { source: 'path', name: 'id' },
    });
  });

  it('lets the monolith read exactly routing, cutover and override, singly or in batches, and nothing else in SSM', () => {
    // Of every service, by a pattern under the prefix (lib/patterns.ts): the policy does not grow with services.
    const every = (kind: string) => demoParameterArn(kind, '*');
    expect(ssmStatements(platform)).toEqual([
      {
        Action: ['ssm:GetParameter', 'ssm:GetParameters'],
        Effect: 'Allow',
        Resource: [every('cutover'), every('override'), every('routing')],
      },
    ]);
  });
});

describe('legacy wiring, routing.mode "proxy" (the default), users at phase 1', () => {
  const platform = Template.fromStack(atPhase1.platform);

  it('tells the routing proxy the service URL, phase, flag and override parameter names, routes and refresh', () => {
    const runtime = proxyConfigOf(platform);
    expect(runtime.flags).toEqual({ refreshMs: 15000, jitterPercent: 20 });
    expect(runtime.services).toEqual([
      {
        name: 'users',
        phase: 1,
        cutoverRecorded: false,
        url: 'http://users:80',
        parameters: {
          routing: '/demo/migration/users/routing',
          cutover: '/demo/migration/users/cutover',
          override: '/demo/migration/users/override',
        },
        routes: expect.any(Array),
      },
    ]);
    const [{ routes }] = runtime.services;
    expect(routes.map((r) => r.path)).toEqual([
      '/api/login',
      '/api/logout',
      '/api/users',
      '/api/users/{id}',
      '/api/users/{id}/password',
    ]);
    expect(routes[3]).toEqual({
      path: '/api/users/{id}',
      methods: ['GET', 'PUT', 'DELETE'],
      servicePath: '/v1/users/{id}',
      identity: { source: 'path', name: 'id' },
      anonymous: 'legacy',
    });
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
  const built = sharedStacks(input);
  const inAppInput = JSON.parse(JSON.stringify(input));
  inAppInput.routing = { mode: 'in-app' };
  inAppInput.services[0].cutoverRecorded = { runId: 'run-1', completedAt: '2026-11-20T10:00:00Z' };
  const builtInApp = sharedStacks(inAppInput);

  it('creates stacks only for the services at phase 1 or later', () => {
    expect(built.all.map((s) => s.stackName)).toEqual([
      'demo-10-network',
      'demo-20-legacy-data',
      'demo-20-users-data',
      'demo-20-billing-data',
      'demo-30-platform',
      // Not routed by the gateway: deployed before it (a service leaving it goes first, decision 0018).
      'demo-40-billing-service',
      'demo-35-gateway',
      'demo-40-users-service',
      'demo-60-operations',
      'demo-65-users-operations',
      'demo-65-billing-operations',
    ]);
    expect(built.services.map((s) => [s.config.name, Boolean(s.data), Boolean(s.service)])).toEqual([
      ['users', true, true],
      ['orders', false, false],
      ['billing', true, true],
    ]);
  });

  it('wires the routing proxy to both migrating services, not to the one at phase 0', () => {
    const t = Template.fromStack(built.platform);
    expect(proxyConfigOf(t).services.map((s) => [s.name, s.phase, s.url, s.parameters.routing])).toEqual([
      ['users', 3, 'http://users:80', '/demo/migration/users/routing'],
      // billing's containers listen on 9000; its callers use the fixed Service Connect port.
      ['billing', 1, 'http://billing:80', '/demo/migration/billing/routing'],
    ]);
    const statements = ssmStatements(t);
    expect(statements).toHaveLength(1);
    // One pattern per kind for every service (lib/patterns.ts), the same with one service or twenty-five.
    expect(parameterNamesOf(statements[0])).toEqual(
      ['cutover', 'override', 'routing'].map((k) => `/demo/migration/*/${k}`),
    );
  });

  it('in-app, wires the monolith to both migrating services with their own phase and cutover marker', () => {
    const t = Template.fromStack(builtInApp.platform);
    const env = envOf(legacyContainer(t, 'App'));
    expect(env).toMatchObject({
      MIGRATION_SERVICES: 'users,billing',
      MIGRATION_BILLING_URL: 'http://billing:80',
      MIGRATION_USERS_PHASE: '3',
      MIGRATION_BILLING_PHASE: '1',
      MIGRATION_USERS_CUTOVER_RECORDED: 'run-1',
      MIGRATION_BILLING_CUTOVER_RECORDED: '',
      MIGRATION_BILLING_OVERRIDE_PARAMETER: '/demo/migration/billing/override',
    });
    expect(Object.keys(env).filter((k) => k.startsWith('MIGRATION_ORDERS'))).toEqual([]);
    const statements = ssmStatements(t);
    expect(statements).toHaveLength(1);
    // One pattern per kind for every service (lib/patterns.ts), the same with one service or twenty-five.
    expect(parameterNamesOf(statements[0])).toEqual(
      ['cutover', 'override', 'routing'].map((k) => `/demo/migration/*/${k}`),
    );
  });

  it('gives each service its own database and flags', () => {
    const billing = Template.fromStack(built.services[2].data as never);
    billing.hasResourceProperties('AWS::RDS::DBInstance', {
      Engine: 'mysql',
      DBInstanceIdentifier: 'demo-billing',
      MultiAZ: false,
    });
    expect(flagResources(billing).map((f) => f.properties.Name)).toEqual([
      '/demo/migration/billing/routing',
      '/demo/migration/billing/cutover',
      '/demo/migration/billing/gateway',
    ]);
  });
});
