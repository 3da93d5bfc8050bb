import { RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import {
  DEFAULT_SUBNET_PLACEMENT,
  lookedUpPlacement,
  type SubnetPlacement,
} from '../constructs/subnet-placement';
import { rolesInUse } from '../network/subnet-placement';
import { MigrationStack, type MigrationStackProps } from './migration-stack';

/**
 * The VPC: public subnets for the ALB, private ones with egress for tasks, isolated ones for databases.
 * An imported VPC's subnets are chosen by `vpc.subnets` and checked against its lookup.
 */
export class NetworkStack extends MigrationStack {
  readonly vpc: ec2.IVpc;
  /** Where the load balancer, the tasks and the databases go. */
  readonly subnets: SubnetPlacement;

  constructor(scope: Construct, id: string, props: MigrationStackProps) {
    super(scope, id, props, { phase: 0, stateful: false, summary: 'VPC, subnets and flow logs' });
    const { vpc } = props.config;
    if (vpc.mode === 'import') {
      this.vpc = ec2.Vpc.fromLookup(this, 'Vpc', {
        vpcId: vpc.vpcId,
        ...(vpc.subnetGroupNameTag !== undefined ? { subnetGroupNameTag: vpc.subnetGroupNameTag } : {}),
      });
      this.subnets = lookedUpPlacement(this, this.vpc, vpc, rolesInUse(props.config));
      return;
    }
    this.subnets = DEFAULT_SUBNET_PLACEMENT;
    const flowLogs = new logs.LogGroup(this, 'FlowLogs', {
      retention: vpc.flowLogRetentionDays as logs.RetentionDays,
      // Kept when the stack is updated or deleted; removed if its first create rolls back (nothing to keep).
      removalPolicy: RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
    });
    this.vpc = new ec2.Vpc(this, 'Vpc', {
      ipAddresses: ec2.IpAddresses.cidr(vpc.cidr),
      maxAzs: vpc.maxAzs,
      natGateways: vpc.natGateways,
      subnetConfiguration: [
        { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
        { name: 'private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 22 },
        { name: 'isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 },
      ],
      flowLogs: {
        all: {
          destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogs),
          trafficType: ec2.FlowLogTrafficType.ALL,
        },
      },
      restrictDefaultSecurityGroup: true,
    });
  }
}
