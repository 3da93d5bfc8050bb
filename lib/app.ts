import { type App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { MigrationConfig } from './config/types';
import type { DatabaseEndpoint } from './constructs/database';
import { LegacyDataStack } from './stacks/legacy-data-stack';
import type { MigrationStack } from './stacks/migration-stack';
import { stackId } from './stacks/migration-stack';
import { NetworkStack } from './stacks/network-stack';
import { PlatformStack } from './stacks/platform-stack';

/** The stacks of one environment, in deploy order. */
export interface MigrationStacks {
  readonly network: NetworkStack;
  /** Absent when the legacy database is imported. */
  readonly legacyData?: LegacyDataStack;
  readonly platform: PlatformStack;
  /** Every stack in deploy order. */
  readonly all: readonly MigrationStack[];
}

/**
 * Builds every stack of one environment. Phase decisions are plain TypeScript here: a service's phase
 * in the config decides which of its stacks exist. Stacks only compose constructs and wire them.
 */
export function buildMigrationApp(app: App, config: MigrationConfig): MigrationStacks {
  const network = new NetworkStack(app, stackId(config, 10, 'network'), { config });
  const { vpc } = network;

  const legacyDb = config.legacy.database;
  let legacyData: LegacyDataStack | undefined;
  let legacyEndpoint: DatabaseEndpoint;
  if (legacyDb.mode === 'create') {
    legacyData = new LegacyDataStack(app, stackId(config, 20, 'legacy-data'), {
      config,
      vpc,
      database: legacyDb,
    });
    legacyEndpoint = legacyData.endpoint;
  } else {
    legacyEndpoint = {
      engine: legacyDb.engine,
      hostname: legacyDb.endpoint,
      port: legacyDb.port,
      databaseName: legacyDb.databaseName,
      securityGroupId: legacyDb.securityGroupId,
      secretArn: legacyDb.secretArn,
    };
  }

  const platform = new PlatformStack(app, stackId(config, 30, 'platform'), {
    config,
    vpc,
    legacyDatabase: legacyEndpoint,
  });

  const all: MigrationStack[] = [network, ...(legacyData ? [legacyData] : []), platform];
  return { network, legacyData, platform, all };
}

/** cdk-nag AwsSolutions on the whole app: synth fails on any finding that is not acknowledged. */
export function addNagChecks(app: App): void {
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
}
