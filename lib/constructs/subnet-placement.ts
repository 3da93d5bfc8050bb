import { Annotations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type { IConstruct } from 'constructs';
import { ConfigError } from '../config/parse';
import type { ImportedVpcConfig } from '../config/types';
import {
  planPlacement,
  type RoleSelection,
  type SubnetKind,
  type SubnetRole,
  type VpcSubnet,
} from '../network/subnet-placement';

/** The subnets each kind of resource goes in: the stacks hand them to the constructs. */
export interface SubnetPlacement {
  /** The internet-facing load balancer's nodes. */
  readonly loadBalancer: ec2.SubnetSelection;
  /** Every Fargate task (and the databases' rotation functions, which call Secrets Manager). */
  readonly tasks: ec2.SubnetSelection;
  /** The databases the app creates. */
  readonly databases: ec2.SubnetSelection;
}

const SUBNET_TYPE: { readonly [K in SubnetKind]: ec2.SubnetType } = {
  Public: ec2.SubnetType.PUBLIC,
  Private: ec2.SubnetType.PRIVATE_WITH_EGRESS,
  Isolated: ec2.SubnetType.PRIVATE_ISOLATED,
};

/** A created VPC's placement (and an imported one's by default): public, private with egress, isolated. */
export const DEFAULT_SUBNET_PLACEMENT: SubnetPlacement = {
  loadBalancer: { subnetType: ec2.SubnetType.PUBLIC },
  tasks: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
  databases: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
};

/**
 * The placement in a VPC found by `Vpc.fromLookup`, checked against its subnets
 * (lib/network/subnet-placement.ts): a `ConfigError` naming each problem's key and fix, warnings as
 * annotations on `scope`. While the lookup is pending (the first synth of an environment: the CDK CLI
 * looks the VPC up and synthesizes again), the VPC is the CDK's stand-in and nothing is checked.
 */
export function lookedUpPlacement(
  scope: IConstruct,
  vpc: ec2.IVpc,
  config: ImportedVpcConfig,
  roles: readonly SubnetRole[],
): SubnetPlacement {
  if (vpc.vpcId !== config.vpcId) return DEFAULT_SUBNET_PLACEMENT;
  const groups: [SubnetKind, readonly ec2.ISubnet[]][] = [
    ['Public', vpc.publicSubnets],
    ['Private', vpc.privateSubnets],
    ['Isolated', vpc.isolatedSubnets],
  ];
  const subnets: VpcSubnet[] = groups.flatMap(([kind, list]) =>
    list.map((s) => ({
      id: s.subnetId,
      availabilityZone: s.availabilityZone,
      // The lookup names each subnet construct `<group>Subnet<n>` (aws-cdk-lib's LookedUpVpc).
      group: s.node.id.replace(/Subnet\d+$/, ''),
      kind,
    })),
  );
  const plan = planPlacement(config.vpcId, subnets, config.subnets, roles);
  if (plan.problems.length > 0)
    throw new ConfigError(`for ${config.vpcId} as looked up (cdk.context.json)`, plan.problems);
  for (const warning of plan.warnings) Annotations.of(scope).addWarningV2('migration:subnets', warning);
  const byId = new Map(groups.flatMap(([, list]) => list.map((s) => [s.subnetId, s] as const)));
  const selection = (s: RoleSelection): ec2.SubnetSelection => {
    switch (s.by) {
      case 'kind':
        return { subnetType: SUBNET_TYPE[s.kind] };
      case 'group':
        return { subnetGroupName: s.groupName };
      case 'ids':
        return { subnets: s.ids.map((id) => byId.get(id) as ec2.ISubnet) };
    }
  };
  return {
    loadBalancer: selection(plan.selections.loadBalancer),
    tasks: selection(plan.selections.tasks),
    databases: selection(plan.selections.databases),
  };
}
