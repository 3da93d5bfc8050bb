import { Annotations, type App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { ExtractedServiceConfig, ImportedDatabaseConfig, MigrationConfig } from './config/types';
import type { DatabaseEndpoint } from './constructs/database';
import { legacyMigrationWiring } from './flags/legacy-wiring';
import { planListenerRules } from './gateway/alb-rules';
import { GatewayStack } from './stacks/gateway-stack';
import { LegacyDataStack } from './stacks/legacy-data-stack';
import { type MigrationStack, stackId } from './stacks/migration-stack';
import { NetworkStack } from './stacks/network-stack';
import { OperationsStack, type SwitchTarget } from './stacks/operations-stack';
import { PlatformStack } from './stacks/platform-stack';
import { ServiceDataStack } from './stacks/service-data-stack';
import { ServiceStack } from './stacks/service-stack';

/** The stacks of one extracted service; which exist depends on its phase. */
export interface ServiceStacks {
  readonly config: ExtractedServiceConfig;
  /** From phase 1: database and flags (stateful). */
  readonly data?: ServiceDataStack;
  /** From phase 1: the Fargate service. */
  readonly service?: ServiceStack;
}

/** The stacks of one environment. */
export interface MigrationStacks {
  readonly network: NetworkStack;
  /** Absent when the legacy database is imported. */
  readonly legacyData?: LegacyDataStack;
  readonly platform: PlatformStack;
  readonly services: readonly ServiceStacks[];
  /** When a service is at phase 3 through KrakenD: the gateway, its ALB rules, the traffic switch. */
  readonly gateway?: GatewayStack;
  /** From phase 1 of any service: alerts, alarms and the traffic-control hooks. */
  readonly operations?: OperationsStack;
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
  const legacyData =
    legacyDb.mode === 'create'
      ? new LegacyDataStack(app, stackId(config, 20, 'legacy-data'), { config, vpc, database: legacyDb })
      : undefined;
  const legacyEndpoint = legacyData?.endpoint ?? importedEndpoint(legacyDb as ImportedDatabaseConfig);

  const migrating = config.services.filter((s) => s.phase >= 1);
  const dataStacks = new Map(
    migrating.map((s) => [
      s.name,
      new ServiceDataStack(app, stackId(config, 20, `${s.name}-data`), { config, vpc, service: s }),
    ]),
  );

  const platform = new PlatformStack(app, stackId(config, 30, 'platform'), {
    config,
    vpc,
    legacyDatabase: legacyEndpoint,
    migration: legacyMigrationWiring(config, migrating),
  });
  // The monolith reads the flags by name (no token to carry the dependency): they must exist first.
  for (const data of dataStacks.values())
    platform.addStackDependency(data, 'the legacy service reads its flag parameters');

  // The listener rules of every phase-3 service, planned together: priorities and the ALB's limits.
  const atPhase3 = migrating.filter((s) => s.phase >= 3);
  const plannedRules = planListenerRules(atPhase3, new Map(config.services.map((s, i) => [s.name, i])));
  const rulesOf = (name: string) => plannedRules.filter((r) => r.service === name);

  const services: ServiceStacks[] = config.services.map((s) => {
    const data = dataStacks.get(s.name);
    if (!data) return { config: s };
    const nativeRewrite =
      s.phase >= 3 && s.gateway === 'alb'
        ? {
            rules: rulesOf(s.name),
            listener: platform.loadBalancer.listener,
            loadBalancerSecurityGroupId: platform.loadBalancer.securityGroup.securityGroupId,
            legacyTargetGroupArn: platform.legacy.targetGroup.targetGroupArn,
          }
        : undefined;
    const service = new ServiceStack(app, stackId(config, 40, `${s.name}-service`), {
      config,
      service: s,
      cluster: platform.cluster,
      database: data.endpoint,
      legacyDatabase: legacyEndpoint,
      legacyReadSecretArn: s.legacyReadSecretArn ?? legacyEndpoint.secretArn,
      flagNames: data.flags.names,
      callerSecurityGroupIds: [platform.legacy.securityGroup.securityGroupId],
      nativeRewrite,
    });
    if (!s.legacyReadSecretArn) {
      Annotations.of(service).addWarningV2(
        'migration:legacy-master-secret',
        `${s.name} reads the legacy database with its master secret; set services[].legacyReadSecretArn to a read-only user's secret`,
      );
    }
    return { config: s, data, service };
  });

  // The services with stacks (phase 1 and later), typed so that their stacks are known to exist.
  const deployed = services.flatMap((s) =>
    s.service && s.data ? [{ config: s.config, service: s.service, data: s.data }] : [],
  );

  const throughGateway = deployed.filter((s) => s.config.phase >= 3 && s.config.gateway === 'krakend');
  const gateway =
    throughGateway.length > 0
      ? new GatewayStack(app, stackId(config, 50, 'gateway'), {
          config,
          cluster: platform.cluster,
          listener: platform.loadBalancer.listener,
          loadBalancerSecurityGroupId: platform.loadBalancer.securityGroup.securityGroupId,
          legacyTargetGroupArn: platform.legacy.targetGroup.targetGroupArn,
          rules: throughGateway.flatMap((s) => rulesOf(s.config.name)),
          services: throughGateway.map((s) => ({
            config: s.config,
            flagNames: s.data.flags.names,
            securityGroupId: s.service.web.securityGroup.securityGroupId,
          })),
        })
      : undefined;

  const switchTarget = (s: ExtractedServiceConfig, service: ServiceStack): SwitchTarget | undefined => {
    if (service.nativeRewrite) {
      return {
        mode: 'pin',
        pinRuleArn: service.nativeRewrite.pinRule.attrRuleArn,
        pinRegexBody: service.nativeRewrite.pinRegexBody,
      };
    }
    const ruleArns = gateway?.ruleArnsByService.get(s.name);
    if (!gateway || !ruleArns) return undefined;
    return {
      mode: 'weighted',
      ruleArns,
      legacyTargetGroupArn: platform.legacy.targetGroup.targetGroupArn,
      newTargetGroupArn: gateway.gateway.targetGroup.targetGroupArn,
    };
  };

  const operations =
    deployed.length > 0
      ? new OperationsStack(app, stackId(config, 60, 'operations'), {
          config,
          legacy: {
            loadBalancerFullName: platform.loadBalancer.loadBalancer.loadBalancerFullName,
            targetGroupFullName: platform.legacy.targetGroup.targetGroupFullName,
          },
          services: deployed.map((s) => ({
            config: s.config,
            flagNames: s.data.flags.names,
            cluster: platform.cluster,
            ecsServiceName: s.service.web.service.serviceName,
            securityGroupId: s.service.web.securityGroup.securityGroupId,
            bulkMigration: s.service.bulkMigration,
            switch: switchTarget(s.config, s.service),
          })),
        })
      : undefined;

  const all: MigrationStack[] = [
    network,
    ...(legacyData ? [legacyData] : []),
    ...dataStacks.values(),
    platform,
    ...services.flatMap((s) => (s.service ? [s.service] : [])),
    ...(gateway ? [gateway] : []),
    ...(operations ? [operations] : []),
  ];
  return { network, legacyData, platform, services, gateway, operations, all };
}

function importedEndpoint(db: ImportedDatabaseConfig): DatabaseEndpoint {
  return {
    engine: db.engine,
    hostname: db.endpoint,
    port: db.port,
    databaseName: db.databaseName,
    securityGroupId: db.securityGroupId,
    secretArn: db.secretArn,
  };
}

/** cdk-nag AwsSolutions on the whole app: synth fails on any finding that is not acknowledged. */
export function addNagChecks(app: App): void {
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
}
