/**
 * What `cdk synth` stores in cdk.context.json after looking a VPC up (`Vpc.fromLookup`), for test apps
 * (testApp's `context`): a company's VPC with the subnet groups a test needs, offline.
 */

export interface LookedUpGroup {
  readonly name: string;
  readonly type: 'Public' | 'Private' | 'Isolated';
  /** `[availability zone, subnet id]` of each subnet of the group. */
  readonly subnets: readonly (readonly [string, string])[];
}

export interface VpcLookup {
  readonly account: string;
  readonly region: string;
  readonly vpcId: string;
  /** As `vpc.subnetGroupNameTag` passes it to the lookup (it is part of the context key). */
  readonly subnetGroupNameTag?: string;
  readonly groups: readonly LookedUpGroup[];
}

/** The context entry of the lookup, keyed as aws-cdk-lib's context provider keys it. */
export function vpcLookupContext(lookup: VpcLookup): Record<string, unknown> {
  const key = [
    'vpc-provider',
    `account=${lookup.account}`,
    `filter.vpc-id=${lookup.vpcId}`,
    `region=${lookup.region}`,
    'returnAsymmetricSubnets=true',
    ...(lookup.subnetGroupNameTag ? [`subnetGroupNameTag=${lookup.subnetGroupNameTag}`] : []),
  ].join(':');
  let n = 0;
  return {
    [key]: {
      vpcId: lookup.vpcId,
      vpcCidrBlock: '10.90.0.0/16',
      ownerAccountId: lookup.account,
      availabilityZones: [],
      subnetGroups: lookup.groups.map((g) => ({
        name: g.name,
        type: g.type,
        subnets: g.subnets.map(([availabilityZone, subnetId]) => ({
          subnetId,
          availabilityZone,
          cidr: `10.90.${n++}.0/24`,
          routeTableId: `rtb-${subnetId.slice('subnet-'.length)}`,
        })),
      })),
    },
  };
}

/** The company's VPC of issue 27: public and private subnets in two zones, no isolated ones. */
export const COMPANY_VPC: VpcLookup = {
  account: '123456789012',
  region: 'eu-west-1',
  vpcId: 'vpc-0c0ffee0c0ffee000',
  groups: [
    {
      name: 'Public',
      type: 'Public',
      subnets: [
        ['eu-west-1a', 'subnet-0a0000000000000a1'],
        ['eu-west-1b', 'subnet-0a0000000000000b1'],
      ],
    },
    {
      name: 'Private',
      type: 'Private',
      subnets: [
        ['eu-west-1a', 'subnet-0b0000000000000a2'],
        ['eu-west-1b', 'subnet-0b0000000000000b2'],
      ],
    },
  ],
};
