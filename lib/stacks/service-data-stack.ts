import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type { Construct } from 'constructs';
import type { ExtractedServiceConfig } from '../config/types';
import { Database, type DatabaseEndpoint } from '../constructs/database';
import { FlagParameters } from '../constructs/flag-parameters';
import type { SubnetPlacement } from '../constructs/subnet-placement';
import { CUTOVER_MARKER_METADATA } from '../naming';
import { MigrationStack, type MigrationStackProps } from './migration-stack';

export interface ServiceDataStackProps extends MigrationStackProps {
  readonly vpc: ec2.IVpc;
  readonly subnets: SubnetPlacement;
  readonly service: ExtractedServiceConfig;
}

/**
 * Stateful, per extracted service from phase 1: its own database and secret, and its flag parameters
 * (runtime-owned: created once, never reset by a deploy). Never renamed, never replaced. The database
 * is created last, so that a failed first create rolls back cleanly (docs/decisions/0008).
 */
export class ServiceDataStack extends MigrationStack {
  readonly endpoint: DatabaseEndpoint;
  readonly flags: FlagParameters;

  constructor(scope: Construct, id: string, props: ServiceDataStackProps) {
    const { service, config } = props;
    super(scope, id, props, {
      phase: 1,
      stateful: true,
      summary: `${service.name} database, its secret, flag parameters`,
    });
    const database = new Database(this, 'Database', {
      vpc: props.vpc,
      subnets: props.subnets,
      config: service.database,
      instanceIdentifier: `${config.name}-${service.name}`,
    });
    this.endpoint = database.endpoint;
    // The recorded cutover, visible in the template so that the stateful guard sees it removed.
    if (service.cutoverRecorded) this.addMetadata(CUTOVER_MARKER_METADATA, service.cutoverRecorded);
    this.flags = new FlagParameters(this, 'Flags', {
      parameterPrefix: config.flags.parameterPrefix,
      serviceName: service.name,
      routingTier: config.flags.tier,
      adoptExisting: config.flags.adoptExisting,
      tags: config.tags,
    });
    // The flags are the likeliest failure of a first create (an environment's leftover parameters are
    // refused unless adopted): they come first, so that a rollback meets no protected database.
    database.createAfter(this.flags);
  }
}
