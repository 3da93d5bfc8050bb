/**
 * Where the app's resources go in an imported VPC: the load balancer's nodes, the Fargate tasks and the
 * databases the app creates, each in the subnets the configuration chooses (`vpc.subnets`) or, by
 * default, in the subnets of one type (the CDK's selection by subnet type). Checked against the VPC as
 * the lookup found it (cdk.context.json), so that a VPC of another layout is a configuration problem
 * with its fix, never a stack trace at synth or a failed deploy. Pure: the network stack reads the
 * looked-up VPC into `VpcSubnet`s and turns the selections into the CDK's.
 */
import type { MigrationConfig, SubnetChoice, SubnetsConfig } from '../config/types';
import { capabilitiesOf } from '../phases';
import { type ConfigProblem, join } from '../validation/reader';

/** The type the VPC lookup gives a subnet: by its route table (or its `aws-cdk:subnet-type` tag). */
export type SubnetKind = 'Public' | 'Private' | 'Isolated';

/** The kinds of resources placed in subnets: the keys of `vpc.subnets`. */
export type SubnetRole = keyof SubnetsConfig;

export const SUBNET_ROLES: readonly SubnetRole[] = ['loadBalancer', 'tasks', 'databases'];

/** One subnet of the VPC, as the lookup found it. */
export interface VpcSubnet {
  readonly id: string;
  readonly availabilityZone: string;
  /** Its subnet group: the value of the group name tag, else its kind. */
  readonly group: string;
  readonly kind: SubnetKind;
}

/** What a role takes when the configuration does not choose: every subnet of one kind. */
export const DEFAULT_KIND: { readonly [R in SubnetRole]: SubnetKind } = {
  loadBalancer: 'Public',
  tasks: 'Private',
  databases: 'Isolated',
};

export type RoleSelection =
  | { readonly by: 'kind'; readonly kind: SubnetKind }
  | { readonly by: 'group'; readonly groupName: string }
  | { readonly by: 'ids'; readonly ids: readonly string[] };

export interface PlacementPlan {
  readonly selections: { readonly [R in SubnetRole]: RoleSelection };
  /** Each with its path under `vpc.subnets` and the fix: the synth stops. */
  readonly problems: readonly ConfigProblem[];
  /** Placements that work only with VPC endpoints the app cannot see: the synth goes on and says so. */
  readonly warnings: readonly string[];
}

const KIND_MEANING: { readonly [K in SubnetKind]: string } = {
  Public: 'a route to an internet gateway',
  Private: 'a route out through a NAT or transit gateway',
  Isolated: 'no route out of the VPC',
};

/**
 * The roles this configuration places in the VPC: the load balancer and the tasks always, the databases
 * only when the app creates one (the monolith's, or a service's from phase 1).
 */
export function rolesInUse(config: MigrationConfig): readonly SubnetRole[] {
  const databases =
    config.legacy.database.mode === 'create' || config.services.some((s) => capabilitiesOf(s).migrating);
  return databases ? SUBNET_ROLES : SUBNET_ROLES.filter((r) => r !== 'databases');
}

/**
 * Checks the chosen (or default) subnets of each role in `roles` against the VPC's subnets and returns
 * the selections. A role not in `roles` gets its selection unchecked: nothing of it is created.
 */
export function planPlacement(
  vpcId: string,
  subnets: readonly VpcSubnet[],
  config: SubnetsConfig,
  roles: readonly SubnetRole[],
): PlacementPlan {
  const problems: ConfigProblem[] = [];
  const warnings: string[] = [];
  const selections = {} as { [R in SubnetRole]: RoleSelection };
  for (const role of SUBNET_ROLES) {
    const choice = config[role];
    selections[role] = selectionOf(role, choice);
    if (!roles.includes(role)) continue;
    const path = join('vpc.subnets', role);
    const chosen = chooseSubnets(vpcId, subnets, role, choice, path, problems);
    if (chosen.length > 0) checkRole(role, chosen, subnets, choice, path, problems, warnings);
  }
  return { selections, problems, warnings };
}

function selectionOf(role: SubnetRole, choice: SubnetChoice | undefined): RoleSelection {
  if (choice?.groupName !== undefined) return { by: 'group', groupName: choice.groupName };
  if (choice?.ids !== undefined) return { by: 'ids', ids: choice.ids };
  return { by: 'kind', kind: DEFAULT_KIND[role] };
}

/** The subnets a role's choice names; a problem (and none) when it names nothing of this VPC. */
function chooseSubnets(
  vpcId: string,
  subnets: readonly VpcSubnet[],
  role: SubnetRole,
  choice: SubnetChoice | undefined,
  path: string,
  problems: ConfigProblem[],
): VpcSubnet[] {
  if (choice?.groupName !== undefined) {
    const chosen = subnets.filter((s) => s.group === choice.groupName);
    if (chosen.length === 0)
      problems.push({
        path: join(path, 'groupName'),
        message: `${vpcId} has no subnet group ${JSON.stringify(choice.groupName)}; use one of its groups: ${describeGroups(subnets)} (or set vpc.subnetGroupNameTag to the tag that names your groups)`,
      });
    return chosen;
  }
  if (choice?.ids !== undefined) {
    const byId = new Map(subnets.map((s) => [s.id, s]));
    const chosen: VpcSubnet[] = [];
    choice.ids.forEach((id, i) => {
      const subnet = byId.get(id);
      if (subnet) chosen.push(subnet);
      else
        problems.push({
          path: join(join(path, 'ids'), i),
          message: `${JSON.stringify(id)} is not a subnet of ${vpcId}; use one of its subnets: ${describeSubnets(subnets)} (if the VPC changed, refresh the lookup: npx cdk context --reset <key>)`,
        });
    });
    return chosen.length === choice.ids.length ? chosen : [];
  }
  const kind = DEFAULT_KIND[role];
  const chosen = subnets.filter((s) => s.kind === kind);
  if (chosen.length === 0)
    problems.push({
      path,
      message: `${vpcId} has no ${kind.toLowerCase()} subnets (${KIND_MEANING[kind]}) for ${WHAT[role]}; it has ${describeGroups(subnets)}. ${FIX_WITHOUT_DEFAULT[role](subnets)}`,
    });
  return chosen;
}

const WHAT: { readonly [R in SubnetRole]: string } = {
  loadBalancer: 'the internet-facing load balancer',
  tasks: 'the Fargate tasks',
  databases: 'the databases the app creates',
};

const choose = (role: SubnetRole, group: string | undefined) =>
  group === undefined
    ? `set vpc.subnets.${role} to {"groupName": "<group>"} or {"ids": ["subnet-...", ...]}`
    : `set vpc.subnets.${role} to {"groupName": ${JSON.stringify(group)}} (or to {"ids": [...]})`;

const FIX_WITHOUT_DEFAULT: { readonly [R in SubnetRole]: (subnets: readonly VpcSubnet[]) => string } = {
  loadBalancer: (subnets) => {
    const publicGroup = groups(subnets).find((g) => g.kind === 'Public');
    return publicGroup
      ? choose('loadBalancer', publicGroup.name)
      : 'An internet-facing load balancer needs public subnets in at least two availability zones: add them to the VPC, then refresh the lookup (npx cdk context --reset <key>)';
  },
  tasks: (subnets) =>
    `Choose the subnets the tasks run in: ${choose('tasks', groups(subnets).find((g) => g.kind !== 'Public')?.name)}; without a NAT route they need VPC endpoints (docs/existing-estate.md)`,
  databases: (subnets) =>
    `Choose private subnets in at least two availability zones: ${choose('databases', groups(subnets).find((g) => g.kind === 'Private')?.name)}`,
};

/** The rules of each role on the subnets it got. */
function checkRole(
  role: SubnetRole,
  chosen: readonly VpcSubnet[],
  all: readonly VpcSubnet[],
  choice: SubnetChoice | undefined,
  path: string,
  problems: ConfigProblem[],
  warnings: string[],
): void {
  const at =
    choice?.groupName !== undefined ? join(path, 'groupName') : choice?.ids ? join(path, 'ids') : path;
  const zones = new Set(chosen.map((s) => s.availabilityZone));
  if (role === 'loadBalancer') {
    const notPublic = chosen.filter((s) => s.kind !== 'Public');
    if (notPublic.length > 0)
      problems.push({
        path: at,
        message: `${describeSubnets(notPublic)} ${notPublic.length === 1 ? 'is' : 'are'} not public (no route to an internet gateway): an internet-facing load balancer there is unreachable; ${FIX_WITHOUT_DEFAULT.loadBalancer(all)}`,
      });
    const crowded = [...zones].filter((z) => chosen.filter((s) => s.availabilityZone === z).length > 1);
    if (crowded.length > 0)
      problems.push({
        path: at,
        message: `selects several subnets in ${crowded.join(', ')}: a load balancer takes one subnet per availability zone (the deploy would fail); choose one subnet group, or list one subnet per zone`,
      });
  }
  if ((role === 'loadBalancer' || role === 'databases') && zones.size < 2)
    problems.push({
      path: at,
      message: `${describeSubnets(chosen)} ${chosen.length === 1 ? 'is' : 'are'} in one availability zone (${[...zones].join('')}); ${role === 'loadBalancer' ? 'an Application Load Balancer' : 'an RDS subnet group'} needs subnets in at least two: choose subnets in two or more zones`,
    });
  const exposed = chosen.filter((s) => s.kind === 'Public');
  if (role === 'tasks' && (exposed.length > 0 || chosen.some((s) => s.kind === 'Isolated')))
    warnings.push(
      `vpc.subnets.tasks: ${describeSubnets(chosen.filter((s) => s.kind !== 'Private'))} ${exposed.length > 0 ? 'include public subnets (tasks get no public IP there)' : 'have no route out'}: the tasks reach ECR, CloudWatch Logs, Secrets Manager and SSM only through VPC endpoints (docs/existing-estate.md lists them); prefer private subnets with a NAT route`,
    );
  if (role === 'databases' && exposed.length > 0)
    warnings.push(
      `vpc.subnets.databases: ${describeSubnets(exposed)} ${exposed.length === 1 ? 'is' : 'are'} public; the databases are not publicly accessible, but private or isolated subnets are the usual place`,
    );
}

interface SubnetGroup {
  readonly name: string;
  readonly kind: SubnetKind;
  readonly zones: readonly string[];
}

function groups(subnets: readonly VpcSubnet[]): SubnetGroup[] {
  const out = new Map<string, { kind: SubnetKind; zones: Set<string> }>();
  for (const s of subnets) {
    const g = out.get(s.group) ?? { kind: s.kind, zones: new Set<string>() };
    g.zones.add(s.availabilityZone);
    out.set(s.group, g);
  }
  return [...out].map(([name, g]) => ({ name, kind: g.kind, zones: [...g.zones].sort() }));
}

/** `"app" (Private, eu-west-1a eu-west-1b), "edge" (Public, ...)`, or that there are none. */
function describeGroups(subnets: readonly VpcSubnet[]): string {
  const all = groups(subnets);
  if (all.length === 0) return 'no subnets at all';
  return all.map((g) => `${JSON.stringify(g.name)} (${g.kind}, ${g.zones.join(' ')})`).join(', ');
}

/** At most eight subnets, each with its zone and group. */
function describeSubnets(subnets: readonly VpcSubnet[]): string {
  const shown = subnets
    .slice(0, 8)
    .map((s) => `${s.id} (${s.availabilityZone}, group ${JSON.stringify(s.group)}, ${s.kind})`);
  return shown.join(', ') + (subnets.length > 8 ? ` and ${subnets.length - 8} more` : '');
}
