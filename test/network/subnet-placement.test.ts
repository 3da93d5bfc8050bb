import { planPlacement, rolesInUse, SUBNET_ROLES, type VpcSubnet } from '../../lib/network/subnet-placement';
import { config, demoInput } from '../helpers/config-input';

const VPC = 'vpc-0123456789abcdef0';
const subnet = (id: string, az: string, group: string, kind: VpcSubnet['kind']): VpcSubnet => ({
  id,
  availabilityZone: az,
  group,
  kind,
});

/** The CDK's own layout: one group of each kind in two zones. */
const CONVENTIONAL: VpcSubnet[] = [
  subnet('subnet-01', 'eu-west-1a', 'Public', 'Public'),
  subnet('subnet-02', 'eu-west-1b', 'Public', 'Public'),
  subnet('subnet-11', 'eu-west-1a', 'Private', 'Private'),
  subnet('subnet-12', 'eu-west-1b', 'Private', 'Private'),
  subnet('subnet-21', 'eu-west-1a', 'Isolated', 'Isolated'),
  subnet('subnet-22', 'eu-west-1b', 'Isolated', 'Isolated'),
];

describe('planPlacement', () => {
  it('takes the subnets of one type per role by default, as the CDK does, when the VPC has them', () => {
    const plan = planPlacement(VPC, CONVENTIONAL, {}, SUBNET_ROLES);
    expect(plan.problems).toEqual([]);
    expect(plan.warnings).toEqual([]);
    expect(plan.selections).toEqual({
      loadBalancer: { by: 'kind', kind: 'Public' },
      tasks: { by: 'kind', kind: 'Private' },
      databases: { by: 'kind', kind: 'Isolated' },
    });
  });

  it('checks only the roles in use: without a database, a VPC without isolated subnets is fine', () => {
    const noIsolated = CONVENTIONAL.filter((s) => s.kind !== 'Isolated');
    expect(planPlacement(VPC, noIsolated, {}, ['loadBalancer', 'tasks']).problems).toEqual([]);
    expect(planPlacement(VPC, noIsolated, {}, SUBNET_ROLES).problems.map((p) => p.path)).toEqual([
      'vpc.subnets.databases',
    ]);
  });

  it.each<[string, VpcSubnet[], Parameters<typeof planPlacement>[2], string, RegExp]>([
    [
      'a load balancer in private subnets',
      CONVENTIONAL,
      { loadBalancer: { groupName: 'Private' } },
      'vpc.subnets.loadBalancer.groupName',
      /^subnet-11 \(eu-west-1a, group "Private", Private\), subnet-12 .* are not public \(no route to an internet gateway\): an internet-facing load balancer there is unreachable; set vpc\.subnets\.loadBalancer to \{"groupName": "Public"\}/,
    ],
    [
      'a load balancer in one zone',
      CONVENTIONAL,
      { loadBalancer: { ids: ['subnet-01'] } },
      'vpc.subnets.loadBalancer.ids',
      /^subnet-01 .* is in one availability zone \(eu-west-1a\); an Application Load Balancer needs subnets in at least two/,
    ],
    [
      'databases in one zone',
      CONVENTIONAL,
      { databases: { ids: ['subnet-21'] } },
      'vpc.subnets.databases.ids',
      /an RDS subnet group needs subnets in at least two: choose subnets in two or more zones$/,
    ],
    [
      'a subnet of another VPC',
      CONVENTIONAL,
      { tasks: { ids: ['subnet-11', 'subnet-99'] } },
      'vpc.subnets.tasks.ids[1]',
      /^"subnet-99" is not a subnet of vpc-0123456789abcdef0; use one of its subnets: subnet-01 \(eu-west-1a, group "Public", Public\)/,
    ],
    [
      'a VPC without public subnets',
      CONVENTIONAL.filter((s) => s.kind !== 'Public'),
      {},
      'vpc.subnets.loadBalancer',
      /has no public subnets .* An internet-facing load balancer needs public subnets in at least two availability zones: add them to the VPC/,
    ],
  ])('refuses %s, naming the key and the fix', (_name, subnets, choice, path, message) => {
    const { problems } = planPlacement(VPC, subnets, choice, SUBNET_ROLES);
    expect(problems).toEqual([{ path, message: expect.stringMatching(message) }]);
  });

  it('warns (and goes on) when the tasks run where only VPC endpoints reach AWS', () => {
    const plan = planPlacement(VPC, CONVENTIONAL, { tasks: { groupName: 'Isolated' } }, SUBNET_ROLES);
    expect(plan.problems).toEqual([]);
    expect(plan.warnings).toEqual([
      expect.stringMatching(
        /^vpc\.subnets\.tasks: subnet-21 .* have no route out: the tasks reach ECR, CloudWatch Logs, Secrets Manager and SSM only through VPC endpoints/,
      ),
    ]);
    expect(plan.selections.tasks).toEqual({ by: 'group', groupName: 'Isolated' });
  });
});

describe('rolesInUse', () => {
  it('places databases only when the app creates one', () => {
    const input = demoInput();
    expect(rolesInUse(config(input))).toEqual(SUBNET_ROLES);
    input.legacy.database = {
      mode: 'import',
      engine: 'postgres',
      endpoint: 'db.example.com',
      securityGroupId: 'sg-0123456789abcdef0',
      secretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-AbCdEf',
      databaseName: 'shop',
    };
    for (const s of input.services) s.phase = 0;
    expect(rolesInUse(config(input))).toEqual(['loadBalancer', 'tasks']);
    input.services[0].phase = 1;
    expect(rolesInUse(config(input))).toEqual(SUBNET_ROLES);
  });
});
