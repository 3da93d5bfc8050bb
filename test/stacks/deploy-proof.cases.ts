/**
 * The changes a real account would reject or silently mis-run (issue: deploy-proof), synthesized as
 * transitions of the demo: rule priorities, replacements, weak references and limits.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fullDiff, ResourceImpact } from '@aws-cdk/cloudformation-diff';
import { CfnWaitConditionHandle, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { type GateProperties, gateDecision } from '../../lambda/gateway-gate/decide';
import { addNagChecks, buildMigrationApp } from '../../lib/app';
import { USE_HTTPS } from '../../lib/constructs/public-load-balancer';
import {
  GATEWAY_ANCHOR_PRIORITY,
  HTTP_REDIRECT_RULE_PRIORITY,
  PIN_PINNED,
  PIN_RELEASED,
} from '../../lib/gateway/alb-rules';
import { PROXY_CONFIG_VARIABLE } from '../../lib/proxy/contract';
import { formatChanges, statefulChanges } from '../../lib/safety/stateful-guard';
import {
  albMode,
  allAtPhase,
  config,
  demoInput,
  lazyRecord,
  ordersService,
  sharedStacks,
  templatesOf,
  testApp,
} from '../helpers/test-app';

type Input = ReturnType<typeof demoInput>;
// biome-ignore lint/suspicious/noExplicitAny: CloudFormation templates are untyped JSON
type Cfn = Record<string, any>;

const CERT = 'arn:aws:acm:eu-west-1:123456789012:certificate/0f4d3e2c-1b2a-4c5d-8e9f-0a1b2c3d4e5f';

const synth = (mutate?: (input: Input) => void): Record<string, Cfn> => templatesOf(mutate);

/** The configurations the transitions go between (a change of the demo input each). */
const variants: Record<string, (input: Input) => void> = {
  'users at phase 1': (i) => (i.services[0].phase = 1),
  'users at phase 2': (i) => (i.services[0].phase = 2),
  'users at phase 3, krakend': () => {},
  'users at phase 3, alb': (i) => albMode(i.services[0]),
  'users krakend, orders alb': (i) => i.services.push(ordersService('alb')),
  'orders alb, users krakend (reordered)': (i) => i.services.unshift(ordersService('alb')),
  'users and orders krakend': (i) => i.services.push(ordersService('krakend')),
  'users alb, orders krakend': (i) => {
    albMode(i.services[0]);
    i.services.push(ordersService('krakend'));
  },
  'orders alone (users removed)': (i) => (i.services = [ordersService('alb')]),
};

/** The shapes of the app the transitions go between, each built when a test first reads it. */
const shapes = lazyRecord<Record<string, Cfn>>(
  Object.fromEntries(Object.entries(variants).map(([name, mutate]) => [name, () => synth(mutate)])),
);

/** The same shapes as built apps (shared with `shapes`: one synthesis each), for their stack dependencies. */
const apps = lazyRecord(
  Object.fromEntries(
    Object.entries(variants).map(([name, mutate]) => [
      name,
      () => {
        // Synthesized first: CDK adds the dependencies that cross-stack references make at synthesis.
        void shapes[name];
        const input = demoInput();
        mutate(input);
        return sharedStacks(input);
      },
    ]),
  ),
);

/** Whether `a` deploys after `b` (a depends on b, directly or through other stacks). */
function deploysAfter(a: Stack, b: Stack): boolean {
  return a.dependencies.some((d) => d === b || deploysAfter(d, b));
}

interface Rule {
  readonly stack: string;
  readonly logicalId: string;
  readonly listener: string;
  readonly priority: number;
}

function rulesOf(templates: Record<string, Cfn>): Rule[] {
  return Object.entries(templates).flatMap(([stack, t]) =>
    Object.entries<Cfn>(t.Resources ?? {})
      .filter(([, r]) => r.Type === 'AWS::ElasticLoadBalancingV2::ListenerRule')
      .map(([logicalId, r]) => ({
        stack,
        logicalId,
        listener: JSON.stringify(r.Properties.ListenerArn),
        priority: r.Properties.Priority,
      })),
  );
}

/**
 * Rules of two shapes that could meet on one listener at one priority: CloudFormation creates a new rule
 * before it deletes the old one, and `cdk deploy --all` never deletes a stack that left the app, so any
 * two rules at one priority must be the same resource (same stack and logical id).
 */
function collisions(a: Record<string, Cfn>, b: Record<string, Cfn>): string[] {
  const out: string[] = [];
  for (const r of rulesOf(b))
    for (const q of rulesOf(a))
      if (
        q.listener === r.listener &&
        q.priority === r.priority &&
        (q.stack !== r.stack || q.logicalId !== r.logicalId)
      )
        out.push(`${r.priority}: ${q.stack}/${q.logicalId} and ${r.stack}/${r.logicalId}`);
  return out;
}

describe('deploy-proof: listener-rule priorities across every transition', () => {
  const names = Object.keys(shapes);
  const pairs = names.flatMap((a) => names.map((b) => [a, b] as const));

  it.each(names)('from %s to every other shape (and back), no two rules meet at one priority', (a) => {
    expect(pairs.filter(([x]) => x === a).flatMap(([x, y]) => collisions(shapes[x], shapes[y]))).toEqual([]);
  });

  it('the check can fail: the old layout (one block for both modes, by position) collides', () => {
    const rule = (stack: string, logicalId: string) => ({
      Resources: {
        [logicalId]: {
          Type: 'AWS::ElasticLoadBalancingV2::ListenerRule',
          Properties: { ListenerArn: 'l', Priority: 100 },
        },
      },
      stack,
    });
    const krakend = { 'demo-50-gateway': rule('g', 'UsersRule100') };
    const alb = {
      'demo-50-gateway': krakend['demo-50-gateway'],
      'demo-40-users-service': rule('s', 'NativeRewritePin'),
    };
    expect(collisions(krakend, alb)).toEqual([
      '100: demo-50-gateway/UsersRule100 and demo-40-users-service/NativeRewritePin',
    ]);
  });

  it('keep each rule of a service where it is when other services are added, removed or reordered', () => {
    const users = (shape: string) =>
      rulesOf(shapes[shape])
        .filter((r) => r.stack === 'demo-40-users-service')
        .map((r) => `${r.logicalId}@${r.priority}`);
    expect(users('users krakend, orders alb')).toEqual(users('users at phase 3, krakend'));
    expect(users('orders alb, users krakend (reordered)')).toEqual(users('users at phase 3, krakend'));
    const ordersRules = (shape: string) =>
      rulesOf(shapes[shape])
        .filter((r) => r.stack === 'demo-40-orders-service')
        .map((r) => `${r.logicalId}@${r.priority}`);
    expect(ordersRules('orders alone (users removed)')).toEqual(ordersRules('users krakend, orders alb'));
  });

  it('put the weighted rules in the service stack; the gateway keeps only its never-matching anchor', () => {
    const demo = shapes['users at phase 3, krakend'];
    const gateway = rulesOf({ 'demo-35-gateway': demo['demo-35-gateway'] });
    expect(gateway.map((r) => r.priority)).toEqual([GATEWAY_ANCHOR_PRIORITY]);
    const [anchorId] = gateway.map((r) => r.logicalId);
    expect(demo['demo-35-gateway'].Resources[anchorId].Properties.Conditions).toEqual([
      { Field: 'path-pattern', PathPatternConfig: { RegexValues: ['^#$'] } },
    ]);
    const [service] = Object.values<Cfn>(demo['demo-35-gateway'].Resources).filter(
      (r) => r.Type === 'AWS::ECS::Service',
    );
    expect(service.DependsOn).toContain(anchorId);
    // Three route rules and the composite endpoint's.
    expect(rulesOf({ s: demo['demo-40-users-service'] })).toHaveLength(4);
    expect(JSON.stringify(demo['demo-40-users-service'])).toContain('gateway to the users service');
    // Back at phase 2 the service stack has no rule left: nothing routes through a gateway left behind.
    expect(rulesOf(shapes['users at phase 2'])).toEqual([]);
  });
});

describe('deploy-proof: adding the routing proxy to a running environment', () => {
  const KEPT = [
    'AWS::ElasticLoadBalancingV2::TargetGroup',
    'AWS::ElasticLoadBalancingV2::Listener',
    'AWS::ElasticLoadBalancingV2::LoadBalancer',
    'AWS::ECS::Service',
    'AWS::ECS::Cluster',
  ];

  it.each([
    ['phase 0 without the proxy -> phase 0 with it', allAtPhase(0, 'in-app'), allAtPhase(0)],
    ['phase 0 with the proxy -> phase 1', allAtPhase(0), allAtPhase(1)],
    ['in-app at phase 1 -> proxy at phase 1', allAtPhase(1, 'in-app'), allAtPhase(1)],
  ])('replaces no target group, listener, load balancer or ECS service: %s', (_name, from, to) => {
    const before = synth(from);
    const after = synth(to);
    expect(formatChanges(statefulChanges(before, after, KEPT))).toBe('');
  });

  it('is a rolling update of the legacy service (new tasks healthy before old ones stop)', () => {
    const after = synth(allAtPhase(0))['demo-30-platform'];
    const [svc] = Object.values<Cfn>(after.Resources).filter((r) => r.Type === 'AWS::ECS::Service');
    expect(svc.Properties.DeploymentConfiguration).toMatchObject({
      MinimumHealthyPercent: 100,
      MaximumPercent: 200,
    });
  });
});

describe('deploy-proof: adding a certificate to a running environment', () => {
  const before = shapes['users at phase 3, krakend'];
  const after = synth((i) => (i.alb = { certificateArn: CERT }));

  it('turns the port-80 listener into the redirect in place: no second listener on 80, nothing removed', () => {
    const listeners = (t: Cfn) =>
      Object.entries<Cfn>(t.Resources).filter(([, r]) => r.Type === 'AWS::ElasticLoadBalancingV2::Listener');
    const [[httpId]] = listeners(before['demo-30-platform']);
    const port80 = listeners(after['demo-30-platform']).filter(([, r]) => r.Properties.Port === 80);
    expect(port80.map(([id]) => id)).toEqual([httpId]);
    // GET and HEAD are redirected by a rule; any other method gets the fixed answer (item 8 below).
    expect(port80[0][1].Properties.DefaultActions[0]).toMatchObject({
      Type: 'fixed-response',
      FixedResponseConfig: { StatusCode: '403' },
    });
    const diff = fullDiff(before['demo-30-platform'] as never, after['demo-30-platform'] as never);
    const http = diff.resources.get(httpId);
    expect(http.isRemoval).toBe(false);
    expect(http.changeImpact).not.toBe(ResourceImpact.WILL_REPLACE);
  });

  it('keeps the logical ids of every rule (they move to the HTTPS listener under the same names)', () => {
    const onHttps = (r: Rule) => /LoadBalancerHttps/.test(r.listener);
    const ids = (rules: Rule[]) => rules.map((r) => `${r.stack}/${r.logicalId}@${r.priority}`).sort();
    expect(ids(rulesOf(after).filter(onHttps))).toEqual(ids(rulesOf(before)));
    // The one other rule: the port-80 listener's redirect of GET and HEAD.
    expect(rulesOf(after).filter((r) => !onHttps(r))).toEqual([
      expect.objectContaining({ stack: 'demo-30-platform', priority: HTTP_REDIRECT_RULE_PRIORITY }),
    ]);
  });

  it('redirects only GET and HEAD on port 80 and tells every other method to use HTTPS (item 8: a 301 may turn a POST into a GET)', () => {
    const platform = after['demo-30-platform'];
    const [[, rule], ...more] = Object.entries<Cfn>(platform.Resources).filter(
      ([, r]) =>
        r.Type === 'AWS::ElasticLoadBalancingV2::ListenerRule' &&
        JSON.stringify(r.Properties.ListenerArn).includes('LoadBalancerHttp') &&
        !JSON.stringify(r.Properties.ListenerArn).includes('LoadBalancerHttps'),
    );
    expect(more).toEqual([]);
    expect(rule.Properties).toMatchObject({
      Priority: HTTP_REDIRECT_RULE_PRIORITY,
      Conditions: [{ Field: 'http-request-method', HttpRequestMethodConfig: { Values: ['GET', 'HEAD'] } }],
      Actions: [
        { Type: 'redirect', RedirectConfig: { Protocol: 'HTTPS', Port: '443', StatusCode: 'HTTP_301' } },
      ],
    });
    const [http] = Object.values<Cfn>(platform.Resources).filter(
      (r) => r.Type === 'AWS::ElasticLoadBalancingV2::Listener' && r.Properties.Port === 80,
    );
    expect(http.Properties.DefaultActions).toEqual([
      {
        Type: 'fixed-response',
        FixedResponseConfig: {
          StatusCode: String(USE_HTTPS.statusCode),
          ContentType: 'text/plain',
          MessageBody: expect.stringMatching(/requires HTTPS: send the request to https:\/\//),
        },
      },
    ]);
    expect(USE_HTTPS.statusCode).toBeGreaterThanOrEqual(400);
    expect(USE_HTTPS.body.length).toBeLessThanOrEqual(1024);
  });
});

/** The value a template expression takes in a region (enough of CloudFormation for bucket policies). */
function evaluate(t: Cfn, value: unknown, region: string): unknown {
  const NO_VALUE = Symbol('NoValue');
  const condition = (name: string): boolean => {
    const [ref, literal] = t.Conditions[name]['Fn::Equals'];
    expect(ref).toEqual({ Ref: 'AWS::Region' });
    return literal === region;
  };
  const go = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(go).filter((x) => x !== NO_VALUE);
    if (!v || typeof v !== 'object') return v;
    const o = v as Cfn;
    if ('Fn::If' in o) return go(condition(o['Fn::If'][0]) ? o['Fn::If'][1] : o['Fn::If'][2]);
    if ('Fn::Join' in o) return (go(o['Fn::Join'][1]) as string[]).join(o['Fn::Join'][0]);
    if ('Ref' in o)
      return o.Ref === 'AWS::NoValue' ? NO_VALUE : o.Ref === 'AWS::Partition' ? 'aws' : `<${o.Ref}>`;
    return Object.fromEntries(
      Object.entries(o)
        .map(([k, x]) => [k, go(x)])
        .filter(([, x]) => x !== NO_VALUE),
    );
  };
  return go(value);
}

describe('deploy-proof: ALB access logs in every region', () => {
  const platform = shapes['users at phase 3, krakend']['demo-30-platform'];
  const logDelivery = (t: Cfn) =>
    Object.values<Cfn>(t.Resources)
      .filter((r) => r.Type === 'AWS::S3::BucketPolicy')
      .flatMap((r) => r.Properties.PolicyDocument.Statement)
      .find((s: Cfn) => s.Action === 's3:PutObject');

  it('uses no region map anywhere (Fn::FindInMap fails the deploy in a region the map lacks)', () => {
    for (const [name, t] of Object.entries(shapes['users at phase 3, krakend']))
      expect([name, JSON.stringify(t).includes('Fn::FindInMap')]).toEqual([name, false]);
  });

  // This account's own root heads the list so that it is never empty; it grants nothing IAM does not.
  const own = 'arn:aws:iam::<AWS::AccountId>:root';
  const service = 'logdelivery.elasticloadbalancing.amazonaws.com';
  it.each([
    ['eu-west-1', { AWS: ['arn:aws:iam::156460612806:root', own], Service: service }],
    ['us-east-1', { AWS: ['arn:aws:iam::127311923021:root', own], Service: service }],
    ['mx-central-1', { AWS: [own], Service: service }],
    ['ap-southeast-7', { AWS: [own], Service: service }],
  ])('an environment-agnostic deploy to %s grants the right log delivery principals', (region, principal) => {
    expect(evaluate(platform, logDelivery(platform).Principal, region)).toEqual(principal);
  });

  it('a concrete environment in a region without an ELB account grants the service principal only', () => {
    const input = demoInput();
    Object.assign(input, { account: '123456789012', region: 'mx-central-1' });
    const t = Template.fromStack(sharedStacks(input).platform).toJSON();
    expect(logDelivery(t).Principal).toEqual({ Service: 'logdelivery.elasticloadbalancing.amazonaws.com' });
    expect(t.Conditions ?? {}).toEqual({});
  });
});

describe('deploy-proof: security groups', () => {
  const templates = shapes['users krakend, orders alb'];
  const groups = Object.entries(templates).flatMap(([stack, t]) =>
    Object.entries<Cfn>(t.Resources)
      .filter(([, r]) => r.Type === 'AWS::EC2::SecurityGroup')
      .map(([id, r]) => ({ stack, id, egress: r.Properties.SecurityGroupEgress })),
  );

  it('every group states its egress inline (a group without keeps the default allow-all)', () => {
    expect(groups.filter((g) => g.egress === undefined).map((g) => `${g.stack}/${g.id}`)).toEqual([]);
  });

  it('the ALB group allows no egress but its separate rules, each to a target group', () => {
    const alb = groups.find((g) => g.id.startsWith('LoadBalancerSecurityGroup'));
    expect(alb?.egress).toEqual([
      {
        CidrIp: '255.255.255.255/32',
        Description: 'Disallow all traffic',
        IpProtocol: 'icmp',
        FromPort: 252,
        ToPort: 86,
      },
    ]);
    const rules = Object.values(templates).flatMap((t) =>
      Object.values<Cfn>(t.Resources).filter(
        (r) =>
          r.Type === 'AWS::EC2::SecurityGroupEgress' &&
          JSON.stringify(r.Properties.GroupId).includes('LoadBalancerSecurityGroup'),
      ),
    );
    expect(
      rules.map((r) => [
        r.Properties.FromPort,
        'DestinationSecurityGroupId' in r.Properties,
        'CidrIp' in r.Properties,
      ]),
    ).toEqual(
      expect.arrayContaining([
        [80, true, false],
        [8080, true, false],
      ]),
    );
    expect(rules.every((r) => r.Properties.DestinationSecurityGroupId && !r.Properties.CidrIp)).toBe(true);
  });
});

/** Resource types whose reference changes on a producer deploy (or replacement) while the consumer's template does not. */
const PER_DEPLOY_TYPES = [
  'AWS::ECS::TaskDefinition',
  'AWS::Lambda::Version',
  'AWS::ElasticLoadBalancingV2::ListenerRule',
  'AWS::StepFunctions::Activity',
];

function weakReferences(templates: Record<string, Cfn>) {
  const out: { consumer: string; producer: string; output: string; type: string }[] = [];
  const walk = (consumer: string, v: unknown) => {
    if (Array.isArray(v)) for (const x of v) walk(consumer, x);
    else if (v && typeof v === 'object') {
      const o = v as Cfn;
      if ('Fn::GetStackOutput' in o) {
        const { StackName, OutputName } = o['Fn::GetStackOutput'];
        const producer = templates[StackName];
        const value = producer?.Outputs?.[OutputName]?.Value;
        const target = value?.Ref ?? value?.['Fn::GetAtt']?.[0];
        out.push({
          consumer,
          producer: StackName,
          output: OutputName,
          type: producer?.Resources?.[target]?.Type ?? '?',
        });
      }
      for (const x of Object.values(o)) walk(consumer, x);
    }
  };
  for (const [name, t] of Object.entries(templates)) walk(name, t);
  return out;
}

describe('deploy-proof: weak cross-stack references', () => {
  it.each(Object.keys(shapes))('%s: no consumer pins a value that changes on a producer deploy', (shape) => {
    const refs = weakReferences(shapes[shape]);
    expect(refs.length).toBeGreaterThan(0);
    expect(refs.filter((r) => r.type === '?' || PER_DEPLOY_TYPES.includes(r.type))).toEqual([]);
  });

  it('the check can fail: it finds a task definition ARN passed to another stack', () => {
    const templates: Record<string, Cfn> = {
      p: {
        Resources: { Td: { Type: 'AWS::ECS::TaskDefinition' } },
        Outputs: { O: { Value: { Ref: 'Td' } } },
      },
      c: {
        Resources: {
          X: { Properties: { A: { 'Fn::GetStackOutput': { StackName: 'p', OutputName: 'O' } } } },
        },
      },
    };
    expect(weakReferences(templates)).toEqual([
      { consumer: 'c', producer: 'p', output: 'O', type: 'AWS::ECS::TaskDefinition' },
    ]);
  });
});

describe('deploy-proof: a failed first create of a data stack rolls back cleanly', () => {
  const demo = shapes['users at phase 3, krakend'];
  const of = (stack: string, type: string) =>
    Object.entries<Cfn>(demo[stack].Resources).filter(([, r]) => r.Type === type);

  it.each(['demo-20-users-data', 'demo-20-legacy-data'])(
    '%s: log groups and secret are retained on update and delete, removed when the first create rolls back',
    (stack) => {
      // The database's: its log groups have fixed names, so a retained one blocks the retry of the create.
      const kept = [...of(stack, 'AWS::Logs::LogGroup'), ...of(stack, 'AWS::SecretsManager::Secret')].filter(
        ([id]) => /^(Legacy)?Database/.test(id),
      );
      expect(kept.length).toBeGreaterThanOrEqual(3);
      for (const [id, r] of kept)
        expect([id, r.DeletionPolicy, r.UpdateReplacePolicy]).toEqual([id, 'RetainExceptOnCreate', 'Retain']);
      const [[, db]] = of(stack, 'AWS::RDS::DBInstance');
      expect([db.DeletionPolicy, db.Properties.DeletionProtection]).toEqual(['Snapshot', true]);
    },
  );

  it('creates the protected database after every flag parameter (the likeliest failure of a first create)', () => {
    const [[, db]] = of('demo-20-users-data', 'AWS::RDS::DBInstance');
    const flags = Object.entries<Cfn>(demo['demo-20-users-data'].Resources)
      .filter(([, r]) => r.Type === 'Custom::MigrationFlagParameter')
      .map(([id]) => id);
    expect(flags.length).toBeGreaterThan(0);
    expect(db.DependsOn).toEqual(expect.arrayContaining(flags));
  });

  it('the flow logs of the network stack follow the same rule', () => {
    for (const [, r] of of('demo-10-network', 'AWS::Logs::LogGroup'))
      expect(r.DeletionPolicy).toBe('RetainExceptOnCreate');
  });
});

describe('deploy-proof: the traffic switch', () => {
  const ops = shapes['users krakend, orders alb']['demo-60-operations'];
  const [fn] = Object.entries<Cfn>(ops.Resources).filter(
    ([id, r]) => id.startsWith('TrafficSwitch') && r.Type === 'AWS::Lambda::Function',
  );

  it('holds no rule or target group ARN in its environment: it finds the rules on the listener', () => {
    const env = JSON.stringify(fn[1].Properties.Environment.Variables.MIGRATION_SWITCH_CONFIG);
    expect(env).toContain('\\"service\\":\\"users\\",\\"mode\\":\\"krakend\\",\\"block\\":');
    expect(env).toContain('\\"service\\":\\"orders\\",\\"mode\\":\\"alb\\",\\"block\\":');
    expect(env).not.toMatch(/RuleArn|TargetGroup/);
  });

  it('re-applies the checked documents after a deploy of a stack holding rules, and every 5 minutes', () => {
    const rules = Object.values<Cfn>(ops.Resources).filter((r) => r.Type === 'AWS::Events::Rule');
    const settled = rules.find((r) => r.Properties.EventPattern?.source?.[0] === 'aws.cloudformation');
    expect(settled?.Properties.EventPattern['detail-type']).toEqual(['CloudFormation Stack Status Change']);
    // One pattern for every service stack (they hold the rules): its size is independent of the services.
    const stackIds = settled?.Properties.EventPattern.detail['stack-id'];
    expect(stackIds).toHaveLength(1);
    expect(JSON.stringify(stackIds[0].wildcard)).toMatch(/:stack\/demo-40-\*-service\/\*"\]\]\}$/);
    expect(settled?.Properties.EventPattern.detail['status-details'].status).toEqual(
      expect.arrayContaining(['UPDATE_COMPLETE', 'UPDATE_ROLLBACK_COMPLETE']),
    );
    expect(rules.map((r) => r.Properties.ScheduleExpression)).toContain('rate(5 minutes)');
  });
});

describe('deploy-proof: limits as services grow', () => {
  // 25 services with cdk-nag and every limit, with their margins: test/stacks/limits.cases.ts (issue 25).

  it('fails the synth naming the limit when a template breaks one', () => {
    const outdir = mkdtempSync(join(tmpdir(), 'limit-'));
    const app = testApp({ outdir });
    buildMigrationApp(app, config());
    // CDK itself refuses 501 resources; it only warns about the size and knows nothing of dynamic references.
    const big = new Stack(app, 'demo-99-big');
    new CfnWaitConditionHandle(big, 'Handle').cfnOptions.metadata = {
      references: Array.from({ length: 61 }, (_, i) => `{{resolve:ssm:/demo/p${i}}}`),
      padding: 'x'.repeat(1_000_000),
    };
    addNagChecks(app);
    expect(() => app.synth()).toThrow(
      /the template has 61 dynamic references .*CloudFormation resolves 60 per template/,
    );
    const report = readFileSync(join(outdir, 'validation-report.json'), 'utf8');
    expect(report).toContain('migration-limits/dynamic-references');
    expect(report).toContain(
      'demo-99-big: the template has 61 dynamic references ({{resolve:...}}); CloudFormation resolves 60 per template',
    );
    expect(report).toContain('migration-limits/template-size');
  }, 120_000);
});

describe('deploy-proof: Service Connect callers start after the endpoints they call', () => {
  const rollsOf = (t: Cfn) =>
    Object.entries<Cfn>(t.Resources).filter(([, r]) => r.Type === 'Custom::MigrationEndpointRoll');
  const stackOf = (shape: string, name: string) => apps[shape].all.find((s) => s.stackName === name) as Stack;

  it.each(Object.keys(variants))(
    '%s: every service stack deploys after its callers and rolls each once its endpoint exists',
    (shape) => {
      const built = apps[shape];
      const deployed = built.services.filter((s) => s.service);
      expect(deployed.length).toBeGreaterThan(0);
      for (const s of deployed) {
        const name = s.service?.stackName as string;
        const t = shapes[shape][name];
        const krakend = s.config.phase === 3 && s.config.gateway === 'krakend';
        // The callers' stacks come first: the rolls are what makes their tasks resolve the endpoint.
        expect([name, deploysAfter(stackOf(shape, name), built.platform)]).toEqual([name, true]);
        if (krakend && built.gateway)
          expect([name, deploysAfter(stackOf(shape, name), built.gateway)]).toEqual([name, true]);
        const rolls = rollsOf(t);
        expect(rolls.map(([id]) => id.replace(/[0-9A-F]{8}$/, ''))).toEqual(
          krakend ? ['EndpointRollLegacy', 'EndpointRollGateway'] : ['EndpointRollLegacy'],
        );
        const [[serviceId]] = Object.entries<Cfn>(t.Resources).filter(
          ([, r]) => r.Type === 'AWS::ECS::Service',
        );
        for (const [, roll] of rolls) {
          // Keyed on the endpoint: its name, port and the ARN of the service that publishes it.
          expect(roll.Properties.Endpoint).toEqual({
            'Fn::Join': ['', [`${s.config.name}:${s.config.port}@`, { Ref: serviceId }]],
          });
          expect(roll.DependsOn).toContain(serviceId);
        }
        expect(JSON.stringify(rolls[0][1].Properties.Service)).toContain('LegacyService');
        // The provider may roll the callers and nothing else.
        const grants = Object.values<Cfn>(t.Resources)
          .filter((r) => r.Type === 'AWS::IAM::Policy')
          .flatMap((r) => r.Properties.PolicyDocument.Statement)
          .filter((st: Cfn) => JSON.stringify(st.Action).includes('ecs:UpdateService'));
        expect(grants).toHaveLength(1);
        expect(grants[0].Action).toBe('ecs:UpdateService');
        const outputs = [grants[0].Resource].flat().map((r: Cfn) => r['Fn::GetStackOutput'].OutputName);
        expect(outputs).toEqual(
          krakend
            ? [
                expect.stringMatching(/^PublishOutputRefLegacyService/),
                expect.stringMatching(/^PublishOutputRefGatewayService/),
              ]
            : [expect.stringMatching(/^PublishOutputRefLegacyService/)],
        );
      }
    },
  );

  it('the platform and gateway stacks need no roll of their own: they publish before their callers deploy', () => {
    for (const name of ['demo-30-platform', 'demo-35-gateway'])
      expect(rollsOf(shapes['users at phase 3, krakend'][name])).toEqual([]);
  });
});

describe('deploy-proof: leaving or entering a phase-3 mode drops no request', () => {
  const mode = (shape: string, service: string) => {
    const s = apps[shape].services.find((x) => x.config.name === service);
    if (!s?.service) return 'absent';
    return s.config.phase === 3 ? s.config.gateway : 'none';
  };
  const stackOf = (shape: string, service: string) =>
    apps[shape].services.find((x) => x.config.name === service)?.service as Stack;

  it.each(Object.keys(variants))(
    '%s: the gateway deploys after the services it does not route and before those it does',
    (shape) => {
      const built = apps[shape];
      // `all` is a deploy order: every stack after the stacks it depends on.
      built.all.forEach((stack, i) => {
        for (const d of stack.dependencies)
          expect([stack.stackName, built.all.indexOf(d as never) < i]).toEqual([stack.stackName, true]);
      });
      if (!built.gateway) return;
      for (const s of built.services.filter((x) => x.service)) {
        const routed = mode(shape, s.config.name) === 'krakend';
        const [first, second] = routed
          ? [s.service as Stack, built.gateway]
          : [built.gateway, s.service as Stack];
        expect([s.config.name, deploysAfter(first, second)]).toEqual([s.config.name, true]);
      }
    },
  );

  // The transitions of the matrix that take a service out of a phase-3 mode, or into alb mode.
  const transitions = Object.keys(variants).flatMap((from) =>
    Object.keys(variants).flatMap((to) =>
      ['users', 'orders']
        .map((service) => ({ from, to, service, a: mode(from, service), b: mode(to, service) }))
        .filter((t) => t.from !== t.to && t.a !== 'absent' && t.b !== 'absent' && t.a !== t.b),
    ),
  );

  it('covers phase up and down and mode switches with one and two services', () => {
    const kinds = new Set(transitions.map((t) => `${t.a}->${t.b}`));
    expect([...kinds].sort()).toEqual(
      ['alb->krakend', 'alb->none', 'krakend->alb', 'krakend->none', 'none->alb', 'none->krakend'].sort(),
    );
    expect(transitions.some((t) => t.a === 'krakend' && apps[t.to].gateway !== undefined)).toBe(true);
  });

  it('a service leaving the gateway removes its weighted rules before the gateway drops its endpoints', () => {
    const leaving = transitions.filter((t) => t.a === 'krakend' && apps[t.to].gateway);
    expect(leaving.length).toBeGreaterThan(0);
    for (const t of leaving)
      expect([
        t.from,
        t.to,
        t.service,
        deploysAfter(apps[t.to].gateway as Stack, stackOf(t.to, t.service)),
      ]).toEqual([t.from, t.to, t.service, true]);
  });

  it('the gate, fed the two templates of each transition, refuses leaving a mode above weight 0 and starts alb pinned', () => {
    const gateOf = (shape: string, service: string) => {
      const stack = stackOf(shape, service);
      const [gate] = Object.values<Cfn>(shapes[shape][stack.stackName].Resources).filter(
        (r) => r.Type === 'Custom::MigrationGatewayGate',
      );
      return gate.Properties as GateProperties;
    };
    const at = (weight: number, mode: string) => ({
      rollingBack: false,
      weight,
      liveGatewayWeight: mode === 'krakend' ? String(weight) : '0',
      livePin: mode === 'alb' && weight > 0 ? PIN_RELEASED : PIN_PINNED,
    });
    for (const t of transitions) {
      const [before, after] = [gateOf(t.from, t.service), gateOf(t.to, t.service)];
      const leavingMode = t.a !== 'none';
      const where = `${t.service}: ${t.from} -> ${t.to}`;
      expect([where, gateDecision('Update', after, before, at(50, t.a)).allow]).toEqual([
        where,
        !leavingMode,
      ]);
      const atZero = gateDecision('Update', after, before, {
        ...at(0, t.a),
        livePin: PIN_RELEASED,
        liveGatewayWeight: '0',
      });
      if (t.b === 'alb')
        expect([where, atZero]).toEqual([where, expect.objectContaining({ allow: true, pin: PIN_PINNED })]);
    }
  });

  it.each(Object.keys(variants))(
    '%s: the gate of every service stack stands before each of its rules, target groups and its ECS service',
    (shape) => {
      for (const s of apps[shape].services.filter((x) => x.service)) {
        const t = shapes[shape][(s.service as Stack).stackName];
        const gates = Object.entries<Cfn>(t.Resources).filter(
          ([, r]) => r.Type === 'Custom::MigrationGatewayGate',
        );
        expect(gates).toHaveLength(1);
        const [[gateId, gateResource]] = gates;
        expect(gateResource.Properties.Routing).toBe(mode(shape, s.config.name));
        const guarded = Object.entries<Cfn>(t.Resources).filter(([, r]) =>
          [
            'AWS::ElasticLoadBalancingV2::ListenerRule',
            'AWS::ElasticLoadBalancingV2::TargetGroup',
            'AWS::ECS::Service',
          ].includes(r.Type),
        );
        expect(guarded.length).toBeGreaterThan(0);
        for (const [id, r] of guarded) {
          const after =
            (r.DependsOn ?? []).includes(gateId) || JSON.stringify(r.Properties).includes(`"${gateId}"`);
          expect([id, after]).toEqual([id, true]);
        }
      }
    },
  );

  it("makes the alb pin rule with the gate's pin (pinned on entering), never straight from the live parameter", () => {
    const t = shapes['users at phase 3, alb']['demo-40-users-service'];
    const [[gateId, gateResource]] = Object.entries<Cfn>(t.Resources).filter(
      ([, r]) => r.Type === 'Custom::MigrationGatewayGate',
    );
    const [pin] = Object.entries<Cfn>(t.Resources).filter(([id]) => id.startsWith('NativeRewritePin'));
    const regex = JSON.stringify(pin[1].Properties.Conditions);
    expect(regex).toContain(JSON.stringify({ 'Fn::GetAtt': [gateId, 'Pin'] }));
    expect(JSON.stringify(t)).not.toContain('live/alb-pin}}');
    // The gate runs whenever the pin rule's inputs change: listener, priority, routes, the monolith's group.
    expect(JSON.stringify(gateResource.Properties.PinRule)).toContain('LoadBalancerHttp');
    expect(JSON.stringify(gateResource.Properties.PinRule)).toContain(String(pin[1].Properties.Priority));
  });
});

/**
 * Every weak reference whose producer resource a transition replaces (a new physical id, so a new ARN or
 * name under the same logical id and output) or whose output changes: the consumer's resource that reads
 * it must change too, or `cdk deploy` skips the consumer and it keeps the old value (issue 24, item 5).
 */
function staleConsumers(before: Record<string, Cfn>, after: Record<string, Cfn>): string[] {
  const stale: string[] = [];
  const replacedIn = new Map<string, Set<string>>();
  const replaced = (stack: string): Set<string> => {
    let ids = replacedIn.get(stack);
    if (!ids) {
      ids = new Set();
      const diff = fullDiff((before[stack] ?? {}) as never, after[stack] as never);
      diff.resources.forEachDifference((id, change) => {
        if (
          change.changeImpact === ResourceImpact.WILL_REPLACE ||
          change.changeImpact === ResourceImpact.MAY_REPLACE
        )
          ids?.add(id);
      });
      replacedIn.set(stack, ids);
    }
    return ids;
  };
  for (const [consumer, t] of Object.entries(after)) {
    const old = before[consumer];
    if (!old) continue; // a new stack reads every value at its first deploy
    for (const [id, resource] of Object.entries<Cfn>(t.Resources ?? {})) {
      const refs = weakReferences({ ...after, [consumer]: { Resources: { [id]: resource } } }).filter(
        (r) => r.consumer === consumer,
      );
      for (const r of refs) {
        const value = after[r.producer]?.Outputs?.[r.output]?.Value;
        const target = value?.Ref ?? value?.['Fn::GetAtt']?.[0];
        const outputChanged =
          JSON.stringify(before[r.producer]?.Outputs?.[r.output]?.Value) !== JSON.stringify(value);
        const changes = outputChanged || replaced(r.producer).has(target);
        if (changes && JSON.stringify(old.Resources?.[id]) === JSON.stringify(resource))
          stale.push(`${consumer}/${id} reads ${r.producer}/${r.output} (${r.type})`);
      }
    }
  }
  return [...new Set(stale)];
}

describe('deploy-proof: a value a producer replaces reaches every consumer', () => {
  const base = shapes['users at phase 3, krakend'];
  const alb = shapes['users at phase 3, alb'];
  it.each<[string, () => Record<string, Cfn>, () => Record<string, Cfn>]>([
    ['legacy.port 80 -> 8081, krakend mode', () => base, () => synth((i) => (i.legacy.port = 8081))],
    [
      'legacy.port 80 -> 8081, alb mode (the pin)',
      () => alb,
      () =>
        synth((i) => {
          albMode(i.services[0]);
          i.legacy.port = 8081;
        }),
    ],
    [
      "a service's port 80 -> 8081, alb mode",
      () => alb,
      () =>
        synth((i) => {
          albMode(i.services[0]);
          i.services[0].port = 8081;
        }),
    ],
    ['a certificate added', () => base, () => synth((i) => (i.alb = { certificateArn: CERT }))],
    ['krakend -> alb', () => base, () => alb],
    [
      'the monolith routes in-app -> the routing proxy',
      () => synth((i) => (i.routing = { mode: 'in-app' })),
      () => base,
    ],
    ['phase 2 -> 3', () => shapes['users at phase 2'], () => base],
    ['phase 3 -> 2', () => base, () => shapes['users at phase 2']],
    ['a second service added (orders, alb)', () => base, () => shapes['users krakend, orders alb']],
    [
      'two services: users krakend -> alb, orders stays krakend',
      () => shapes['users and orders krakend'],
      () => shapes['users alb, orders krakend'],
    ],
  ])('%s', (_name, from, to) => {
    expect(staleConsumers(from(), to())).toEqual([]);
  });

  it('the check can fail: a replaced target group read by an unchanged rule', () => {
    const producer = (port: number) => ({
      Resources: { Tg: { Type: 'AWS::ElasticLoadBalancingV2::TargetGroup', Properties: { Port: port } } },
      Outputs: { O: { Value: { Ref: 'Tg' } } },
    });
    const consumer = {
      Resources: {
        Rule: {
          Type: 'AWS::ElasticLoadBalancingV2::ListenerRule',
          Properties: { TargetGroupArn: { 'Fn::GetStackOutput': { StackName: 'p', OutputName: 'O' } } },
        },
      },
    };
    expect(staleConsumers({ p: producer(80), c: consumer }, { p: producer(8081), c: consumer })).toEqual([
      'c/Rule reads p/O (AWS::ElasticLoadBalancingV2::TargetGroup)',
    ]);
    expect(staleConsumers({ p: producer(80), c: consumer }, { p: producer(80), c: consumer })).toEqual([]);
  });
});

describe('deploy-proof: a rolling deployment cuts no request (issue 24, item 8)', () => {
  const attribute = (r: Cfn, key: string): number =>
    Number(
      [...(r.Properties.LoadBalancerAttributes ?? []), ...(r.Properties.TargetGroupAttributes ?? [])].find(
        (a: Cfn) => a.Key === key,
      )?.Value,
    );
  const resources = (templates: Record<string, Cfn>, type: string) =>
    Object.values(templates).flatMap((t) => Object.values<Cfn>(t.Resources).filter((r) => r.Type === type));

  it.each(['users at phase 3, krakend', 'users krakend, orders alb'])(
    '%s: every target group keeps a deregistering target longer than the ALB, the proxy and the gateway let a request wait',
    (shape) => {
      const templates = shapes[shape];
      const [alb] = resources(templates, 'AWS::ElasticLoadBalancingV2::LoadBalancer');
      const timeouts = [attribute(alb, 'idle_timeout.timeout_seconds')];
      for (const task of resources(templates, 'AWS::ECS::TaskDefinition'))
        for (const c of task.Properties.ContainerDefinitions)
          for (const e of c.Environment ?? [])
            if (e.Name === PROXY_CONFIG_VARIABLE) {
              const { timeouts: t } = JSON.parse(e.Value);
              timeouts.push(t.headersMs / 1000, t.idleMs / 1000);
            }
      timeouts.push(config().gateway.timeoutMs / 1000);
      expect(timeouts.length).toBeGreaterThanOrEqual(4);
      expect(timeouts[0]).toBe(60);
      const groups = resources(templates, 'AWS::ElasticLoadBalancingV2::TargetGroup');
      expect(groups.length).toBeGreaterThanOrEqual(2);
      for (const g of groups)
        expect(attribute(g, 'deregistration_delay.timeout_seconds')).toBeGreaterThan(Math.max(...timeouts));
    },
  );

  it('refuses at synth a proxy timeout the delay cannot outlast, naming the field', () => {
    expect(() => synth((i) => (i.routing = { mode: 'proxy', proxy: { headersTimeoutMs: 3600000 } }))).toThrow(
      /routing\.proxy\.headersTimeoutMs \(3600 s\) is not shorter than the target group's deregistration delay/,
    );
  });
});
