/**
 * A company's existing VPC (`vpc.mode: "import"`), looked up from the context a test app is given as
 * `cdk synth` would find it in cdk.context.json: its subnets for the load balancer, the tasks and the
 * databases, and every layout the app cannot use as a configuration problem with its fix.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import { ConfigError } from '../../lib/config/parse';
import { formatChanges, statefulChanges } from '../../lib/safety/stateful-guard';
import { buildStacks, config, demoInput, once, templateOf } from '../helpers/test-app';
import { COMPANY_VPC, type VpcLookup, vpcLookupContext } from '../helpers/vpc-lookup';

// biome-ignore lint/suspicious/noExplicitAny: CloudFormation templates are untyped JSON
type Json = any;

/** The demo in the company's account, in its VPC (and `mutate`'s changes), at `phase`. */
function companyInput(phase: number, vpc: Json = {}, mutate: (input: Json) => void = () => {}) {
  const input = demoInput();
  Object.assign(input, { account: COMPANY_VPC.account, region: COMPANY_VPC.region });
  input.vpc = { mode: 'import', vpcId: COMPANY_VPC.vpcId, ...vpc };
  for (const s of input.services) s.phase = phase;
  mutate(input);
  return input;
}

const build = (input: Json, lookup: VpcLookup = COMPANY_VPC) =>
  buildStacks(config(input), { context: vpcLookupContext(lookup) });

const ids = (lookup: VpcLookup, group: string) =>
  lookup.groups.find((g) => g.name === group)?.subnets.map(([, id]) => id);

function propertiesOf(t: Template, type: string): Json[] {
  return Object.values(t.findResources(type)).map((r) => r.Properties);
}

describe('an imported VPC with public and private subnets and no isolated ones', () => {
  it('is a configuration problem naming vpc.subnets.databases and the fix, not a stack trace', () => {
    // Before issue 27: "There are no 'Isolated' subnet groups in this VPC" from deep inside the CDK.
    const attempt = () => build(companyInput(1));
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(
      /vpc\.subnets\.databases: vpc-0c0ffee0c0ffee000 has no isolated subnets \(no route out of the VPC\) for the databases the app creates; it has "Public" \(Public, eu-west-1a eu-west-1b\), "Private" \(Private, eu-west-1a eu-west-1b\)\. Choose private subnets in at least two availability zones: set vpc\.subnets\.databases to \{"groupName": "Private"\}/,
    );
  });

  // Phase 2: the databases, the services, the bulk migration's runs; the monolith's database is the app's.
  const placed = once(() => build(companyInput(2, { subnets: { databases: { groupName: 'Private' } } })));

  it('puts the databases in the subnets vpc.subnets.databases names', () => {
    const built = placed();
    for (const stack of ['20-legacy-data', '20-users-data']) {
      expect(propertiesOf(templateOf(built, stack), 'AWS::RDS::DBSubnetGroup')).toEqual([
        expect.objectContaining({ SubnetIds: ids(COMPANY_VPC, 'Private') }),
      ]);
    }
  });

  it('keeps the load balancer in the public subnets and every task in the private ones', () => {
    const built = placed();
    const platform = templateOf(built, '30-platform');
    expect(propertiesOf(platform, 'AWS::ElasticLoadBalancingV2::LoadBalancer')).toEqual([
      expect.objectContaining({ Subnets: ids(COMPANY_VPC, 'Public') }),
    ]);
    for (const stack of ['30-platform', '40-users-service']) {
      expect(
        propertiesOf(templateOf(built, stack), 'AWS::ECS::Service').map(
          (s) => s.NetworkConfiguration.AwsvpcConfiguration.Subnets,
        ),
      ).toEqual([ids(COMPANY_VPC, 'Private')]);
    }
    // The bulk migration's runs, started by the cutover state machine.
    const [machine] = propertiesOf(
      templateOf(built, '65-users-operations'),
      'AWS::StepFunctions::StateMachine',
    );
    const definition = JSON.stringify(machine.DefinitionString);
    for (const id of ids(COMPANY_VPC, 'Private') ?? []) expect(definition).toContain(id);
    expect(definition).not.toContain(ids(COMPANY_VPC, 'Public')?.[0]);
  });
});

/** A VPC whose groups are named by the company's own tag, with a second public group (partners). */
const TAGGED_VPC: VpcLookup = {
  ...COMPANY_VPC,
  subnetGroupNameTag: 'Tier',
  groups: [
    {
      name: 'edge',
      type: 'Public',
      subnets: [
        ['eu-west-1a', 'subnet-0e0000000000000a1'],
        ['eu-west-1b', 'subnet-0e0000000000000b1'],
      ],
    },
    {
      name: 'partner',
      type: 'Public',
      subnets: [
        ['eu-west-1a', 'subnet-0f0000000000000a1'],
        ['eu-west-1b', 'subnet-0f0000000000000b1'],
      ],
    },
    {
      name: 'app',
      type: 'Private',
      subnets: [
        ['eu-west-1a', 'subnet-0a0000000000000a9'],
        ['eu-west-1b', 'subnet-0a0000000000000b9'],
      ],
    },
    {
      name: 'batch',
      type: 'Private',
      subnets: [['eu-west-1c', 'subnet-0b0000000000000c9']],
    },
  ],
};

/** Phase 0 with the monolith's database imported: only the network and the platform stack. */
function taggedInput(subnets: Json) {
  return companyInput(0, { subnetGroupNameTag: 'Tier', subnets }, (i) => {
    i.legacy.database = {
      mode: 'import',
      engine: 'postgres',
      endpoint: 'shop-legacy.abcdefghijkl.eu-west-1.rds.amazonaws.com',
      securityGroupId: 'sg-0123456789abcdef0',
      secretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:shop/legacy-db-AbCdEf',
      databaseName: 'shop',
    };
  });
}

describe('an imported VPC of the layout the app has always expected', () => {
  const CONVENTIONAL: VpcLookup = {
    ...COMPANY_VPC,
    groups: [
      ...COMPANY_VPC.groups,
      {
        name: 'Isolated',
        type: 'Isolated',
        subnets: [
          ['eu-west-1a', 'subnet-0c0000000000000a3'],
          ['eu-west-1b', 'subnet-0c0000000000000b3'],
        ],
      },
    ],
  };

  it('synthesizes as before, and choosing the default subnets explicitly changes no template', () => {
    const templates = (vpc: Json) => {
      const built = build(companyInput(2, vpc), CONVENTIONAL);
      const assembly = built.app.synth();
      return Object.fromEntries(
        built.all.map((s) => [s.stackName, assembly.getStackByName(s.stackName).template]),
      );
    };
    const before = templates({});
    const explicit = templates({
      subnets: {
        loadBalancer: { groupName: 'Public' },
        tasks: { groupName: 'Private' },
        databases: { ids: ids(CONVENTIONAL, 'Isolated') },
      },
    });
    expect(formatChanges(statefulChanges(before, explicit))).toBe('');
    expect(explicit).toEqual(before);
    expect(
      propertiesOf(
        templateOf(build(companyInput(2), CONVENTIONAL), '20-users-data'),
        'AWS::RDS::DBSubnetGroup',
      ),
    ).toEqual([expect.objectContaining({ SubnetIds: ids(CONVENTIONAL, 'Isolated') })]);
  });
});

describe('an imported VPC whose subnet groups a tag names', () => {
  it('refuses a load balancer over two public groups (two subnets per zone), naming the zones', () => {
    // Before issue 27 the synth passed and the deploy failed: one subnet per zone for a load balancer.
    expect(() => build(taggedInput({ tasks: { groupName: 'app' } }), TAGGED_VPC)).toThrow(
      /vpc\.subnets\.loadBalancer: selects several subnets in eu-west-1a, eu-west-1b: a load balancer takes one subnet per availability zone/,
    );
  });

  it('places the load balancer by subnet ids and the tasks by group name', () => {
    const built = build(
      taggedInput({
        loadBalancer: { ids: ['subnet-0e0000000000000a1', 'subnet-0f0000000000000b1'] },
        tasks: { groupName: 'app' },
      }),
      TAGGED_VPC,
    );
    // No database is created: the isolated subnets the VPC lacks are no problem.
    expect(built.all.map((s) => s.stackName)).toEqual(['demo-10-network', 'demo-30-platform']);
    const platform = Template.fromStack(built.platform);
    expect(propertiesOf(platform, 'AWS::ElasticLoadBalancingV2::LoadBalancer')).toEqual([
      expect.objectContaining({ Subnets: ['subnet-0e0000000000000a1', 'subnet-0f0000000000000b1'] }),
    ]);
    expect(
      propertiesOf(platform, 'AWS::ECS::Service').map(
        (s) => s.NetworkConfiguration.AwsvpcConfiguration.Subnets,
      ),
    ).toEqual([ids(TAGGED_VPC, 'app')]);
  });

  it('names the groups of the VPC when a group name is not one of them', () => {
    expect(() =>
      build(
        taggedInput({ loadBalancer: { groupName: 'edge' }, tasks: { groupName: 'private' } }),
        TAGGED_VPC,
      ),
    ).toThrow(
      /vpc\.subnets\.tasks\.groupName: vpc-0c0ffee0c0ffee000 has no subnet group "private"; use one of its groups: "edge" \(Public, eu-west-1a eu-west-1b\), "partner" \(Public, eu-west-1a eu-west-1b\), "app" \(Private, eu-west-1a eu-west-1b\), "batch" \(Private, eu-west-1c\)/,
    );
  });
});

describe('envs/existing-estate.example.json (docs/existing-estate.md)', () => {
  it('synthesizes in the company VPC: external monolith, domain, WAF, users then orders at phase 1', () => {
    const input = JSON.parse(
      readFileSync(join(__dirname, '..', '..', 'envs', 'existing-estate.example.json'), 'utf8'),
    );
    input.services[0].phase = 1;
    const built = build(input);
    expect(built.all.map((s) => s.stackName)).toEqual([
      'shop-prod-10-network',
      'shop-prod-20-users-data',
      'shop-prod-30-platform',
      'shop-prod-40-users-service',
      'shop-prod-60-operations',
      'shop-prod-65-users-operations',
    ]);
    const platform = Template.fromStack(built.platform);
    platform.resourceCountIs('AWS::WAFv2::WebACLAssociation', 1);
    platform.resourceCountIs('AWS::Route53::RecordSet', 1);
    expect(propertiesOf(templateOf(built, '20-users-data'), 'AWS::RDS::DBSubnetGroup')).toEqual([
      expect.objectContaining({ SubnetIds: ids(COMPANY_VPC, 'Private') }),
    ]);
  });
});

describe('the first synth of an imported VPC, before the lookup is in cdk.context.json', () => {
  it('asks for the lookup and checks nothing: the CDK CLI synthesizes again with its result', () => {
    const built = buildStacks(config(taggedInput({ loadBalancer: { groupName: 'edge' } })));
    const missing = built.app.synth().manifest.missing ?? [];
    expect(missing.map((m) => m.key)).toEqual([
      `vpc-provider:account=123456789012:filter.vpc-id=${COMPANY_VPC.vpcId}:region=eu-west-1:returnAsymmetricSubnets=true:subnetGroupNameTag=Tier`,
    ]);
  });
});
