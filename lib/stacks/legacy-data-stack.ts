import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type { Construct } from 'constructs';
import type { CreatedDatabaseConfig } from '../config/types';
import { Database, type DatabaseEndpoint } from '../constructs/database';
import type { SubnetPlacement } from '../constructs/subnet-placement';
import { MigrationStack, type MigrationStackProps } from './migration-stack';

export interface LegacyDataStackProps extends MigrationStackProps {
  readonly vpc: ec2.IVpc;
  readonly subnets: SubnetPlacement;
  readonly database: CreatedDatabaseConfig;
}

/**
 * Stateful: the monolith's database when this app creates it. Never renamed, never replaced. The
 * database is the stack's last resource (its secret and log groups, removed if the first create rolls
 * back, come before it), so a failed first create rolls back cleanly (docs/decisions/0008).
 */
export class LegacyDataStack extends MigrationStack {
  readonly endpoint: DatabaseEndpoint;

  constructor(scope: Construct, id: string, props: LegacyDataStackProps) {
    super(scope, id, props, { phase: 0, stateful: true, summary: 'legacy database and its secret' });
    const database = new Database(this, 'LegacyDatabase', {
      vpc: props.vpc,
      subnets: props.subnets,
      config: props.database,
      instanceIdentifier: `${props.config.name}-legacy`,
    });
    this.endpoint = database.endpoint;
  }
}
