import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Construct } from 'constructs';
import type { DatabaseEndpoint } from './database';

export interface LegacyDatabaseClientsProps {
  readonly vpc: ec2.IVpc;
  /** The legacy database: its security group admits the clients group on its port. */
  readonly legacy: DatabaseEndpoint;
}

/**
 * The "legacy database clients" security group (decision 0017): one group that every extracted
 * service's tasks, bulk migration runs and write-back function carry besides their own, admitted by ONE
 * ingress rule into the legacy database's group on its port, so that group's rules do not grow with the
 * number of services. Its only egress is that port at that group: a member's own group decides the rest.
 * What a member may do in the database is still limited by the user of the secret it reads.
 *
 * The group is referenced by id from the service stacks (weak references): its logical id is a contract
 * (`LegacyDatabaseClients/SecurityGroup`), renaming it would replace the group under its members.
 */
export class LegacyDatabaseClients extends Construct {
  readonly securityGroup: ec2.SecurityGroup;

  constructor(scope: Construct, id: string, props: LegacyDatabaseClientsProps) {
    super(scope, id);
    const { legacy } = props;
    const port = ec2.Port.tcp(legacy.port);
    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: 'Legacy database clients: the extracted services, their bulk migrations and write-backs',
      allowAllOutbound: false,
    });
    // Imported by id: the database's security group lives in a stateful stack (or outside the app).
    const database = ec2.SecurityGroup.fromSecurityGroupId(
      this,
      'LegacyDatabaseSecurityGroup',
      legacy.securityGroupId,
    );
    // Inline, as the group's only egress: a group created without inline egress keeps EC2's default
    // allow-all egress (a rule to another group would be a separate resource, beside that default).
    (this.securityGroup.node.defaultChild as ec2.CfnSecurityGroup).addPropertyOverride(
      'SecurityGroupEgress',
      [
        {
          Description: 'to the legacy database',
          DestinationSecurityGroupId: legacy.securityGroupId,
          IpProtocol: 'tcp',
          FromPort: legacy.port,
          ToPort: legacy.port,
        },
      ],
    );
    database.addIngressRule(this.securityGroup, port, 'legacy database clients (every extracted service)');
  }
}
