import { Annotations, type App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { ExtractedServiceConfig, ImportedDatabaseConfig, MigrationConfig } from './config/types';
import type { DatabaseEndpoint } from './constructs/database';
import { planListenerRules } from './gateway/alb-rules';
import { withCompositeRoutes } from './gateway/composites';
import { ANY } from './patterns';
import { capabilitiesOf } from './phases';
import { identityWarnings } from './proxy/identity-coverage';
import { routingWiring } from './proxy/wiring';
import { DeployLimitsCheck } from './safety/deploy-limits';
import { acknowledgeOverflowPolicies } from './safety/overflow-policies';
import {
  absentStackNotice,
  absentStacks,
  GATEWAY_STACK_ORDER,
  SERVICE_OPERATIONS_STACK_ORDER,
} from './stack-shape';
import { GatewayStack } from './stacks/gateway-stack';
import { LegacyDataStack } from './stacks/legacy-data-stack';
import { type MigrationStack, stackId } from './stacks/migration-stack';
import { NetworkStack } from './stacks/network-stack';
import { type OperatedService, OperationsStack, type SwitchTarget } from './stacks/operations-stack';
import { PlatformStack } from './stacks/platform-stack';
import { ServiceDataStack } from './stacks/service-data-stack';
import { ServiceOperationsStack } from './stacks/service-operations-stack';
import { ServiceStack } from './stacks/service-stack';

/** The stacks of one extracted service; which exist depends on its phase. */
export interface ServiceStacks {
  readonly config: ExtractedServiceConfig;
  /** From phase 1: database and flags (stateful). */
  readonly data?: ServiceDataStack;
  /** From phase 1: the Fargate service. */
  readonly service?: ServiceStack;
  /** From phase 1: its alarms, dashboard and cutover (`<name>-65-<service>-operations`). */
  readonly operations?: ServiceOperationsStack;
}

/** The stacks of one environment. */
export interface MigrationStacks {
  readonly network: NetworkStack;
  /** Absent when the legacy database is imported. */
  readonly legacyData?: LegacyDataStack;
  readonly platform: PlatformStack;
  readonly services: readonly ServiceStacks[];
  /** When a service is at phase 3 through KrakenD: the gateway (the rules to it are in the service stacks). */
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
  const { vpc, subnets } = network;

  const legacyDb = config.legacy.database;
  const legacyData =
    legacyDb.mode === 'create'
      ? new LegacyDataStack(app, stackId(config, 20, 'legacy-data'), {
          config,
          vpc,
          subnets,
          database: legacyDb,
        })
      : undefined;
  const legacyEndpoint = legacyData?.endpoint ?? importedEndpoint(legacyDb as ImportedDatabaseConfig);

  const migrating = config.services.filter((s) => capabilitiesOf(s).migrating);
  const dataStacks = new Map(
    migrating.map((s) => [
      s.name,
      new ServiceDataStack(app, stackId(config, 20, `${s.name}-data`), { config, vpc, subnets, service: s }),
    ]),
  );

  const platform = new PlatformStack(app, stackId(config, 30, 'platform'), {
    config,
    vpc,
    subnets,
    legacyDatabase: legacyEndpoint,
    migration: routingWiring(config, migrating),
  });
  // The monolith reads the flags by name (no token to carry the dependency): they must exist first.
  for (const data of dataStacks.values())
    platform.addStackDependency(data, 'the legacy service reads its flag parameters');

  // The listener rules of every phase-3 service, planned together: stable priorities per service and
  // mode (decision 0007) and the ALB's limits (the config check reports the same problems first).
  const atPhase3 = migrating.filter((s) => capabilitiesOf(s).atAlb);
  // A composite endpoint at the gateway is one more GET route of its owner (decision 0014).
  const plans = new Map(
    planListenerRules(
      atPhase3.map((s) => withCompositeRoutes(s, config)),
      config.alb,
    ).map((p) => [p.service, p]),
  );
  const listener = platform.listener;
  const legacyTargetGroupArn = platform.legacyTargetGroup.arn;
  const loadBalancerSecurityGroupId = platform.loadBalancerSecurityGroupId;

  // The gateway comes before the stacks of the services it routes: their weighted rules forward to it.
  const throughGateway = atPhase3.filter((s) => capabilitiesOf(s).throughGateway);
  const gateway =
    throughGateway.length > 0
      ? new GatewayStack(app, stackId(config, GATEWAY_STACK_ORDER, 'gateway'), {
          config,
          cluster: platform.cluster,
          taskSubnets: subnets.tasks,
          listener,
          loadBalancerSecurityGroupId,
          services: throughGateway,
          legacyEndpoint: platform.legacyEndpoint,
        })
      : undefined;

  // A service's stack: its ALB rules are there (the traffic switch watches these stacks by a pattern).
  const serviceStackId = (name: string) => stackId(config, 40, `${name}-service`);
  const warnings = identityWarnings(config);
  const services: ServiceStacks[] = config.services.map((s) => {
    const data = dataStacks.get(s.name);
    if (!data) return { config: s };
    const plan = plans.get(s.name);
    const routing = plan ? { plan, listener, legacyTargetGroupArn } : undefined;
    const service = new ServiceStack(app, serviceStackId(s.name), {
      config,
      service: s,
      cluster: platform.cluster,
      taskSubnets: subnets.tasks,
      database: data.endpoint,
      legacyDatabase: legacyEndpoint,
      legacyReadSecretArn: s.legacyReadSecretArn ?? legacyEndpoint.secretArn,
      flagNames: data.flags.names,
      callerSecurityGroupIds: [platform.legacySecurityGroupId],
      legacyDatabaseClientsSecurityGroupId: platform.legacyDatabaseClientsSecurityGroupId,
      // Deployed before this stack, they call the service's endpoint: rolled once it exists.
      endpointCallers: [
        platform.legacyCaller,
        ...(plan?.mode === 'krakend' && gateway ? [gateway.caller] : []),
      ],
      nativeRewrite:
        routing && plan?.mode === 'alb' ? { ...routing, loadBalancerSecurityGroupId } : undefined,
      gatewayRoutes:
        routing && plan?.mode === 'krakend' && gateway
          ? {
              ...routing,
              gatewayTargetGroupArn: gateway.routesTarget.targetGroupArn,
              gatewaySecurityGroupId: gateway.routesTarget.securityGroupId,
            }
          : undefined,
    });
    if (!s.legacyReadSecretArn) {
      Annotations.of(service).addWarningV2(
        'migration:legacy-master-secret',
        `${s.name} reads the legacy database with its master secret; set services[].legacyReadSecretArn to a read-only user's secret`,
      );
    }
    if (s.writeBack && !s.writeBack.legacySecretArn) {
      Annotations.of(service).addWarningV2(
        'migration:write-back-master-secret',
        `${s.name} writes back to the legacy database with its MASTER secret: the product applies only the configured tables and columns, but nothing in the database enforces it; set services[].writeBack.legacySecretArn to a user limited to them (docs/data-contract.md, section 4)`,
      );
    }
    if (!s.writeBack && capabilitiesOf(s).reversible) {
      Annotations.of(service).addWarningV2(
        'migration:no-write-back',
        `${s.name} has no write-back (services[].writeBack): writes its routed users make on the service stay in its database, and routing them back to the monolith (route off, a lower percentage, rollback, the automatic rollback) loses them until the cutover; see docs/data-contract.md`,
      );
    }
    // Routes that identify nobody, or identify one person by different strings (identity-coverage.ts).
    for (const w of warnings.filter((w) => w.service === s.name))
      Annotations.of(service).addWarningV2(w.id, w.message);
    return { config: s, data, service };
  });

  // The gateway deploys after the stacks of the services it does not route (phase 1-2, alb mode), and
  // before those it does (their rules forward to it): a service leaving it removes its weighted rules
  // before the gateway drops its endpoints (docs/decisions/0018).
  if (gateway)
    for (const s of services)
      if (s.service && !capabilitiesOf(s.config).throughGateway)
        gateway.addStackDependency(s.service, `${s.config.name} is not routed by the gateway`);

  // The services with stacks (phase 1 and later), typed so that their stacks are known to exist.
  const deployed = services.flatMap((s) =>
    s.service && s.data ? [{ config: s.config, service: s.service, data: s.data }] : [],
  );

  const switchTarget = (s: ExtractedServiceConfig): SwitchTarget | undefined => {
    const plan = plans.get(s.name);
    return plan ? { mode: plan.mode, block: plan.block } : undefined;
  };

  const operated: OperatedService[] = deployed.map((s) => ({
    config: s.config,
    flagNames: s.data.flags.names,
    cluster: platform.cluster,
    ecsServiceName: s.service.monitored.ecsServiceName,
    securityGroupIds: s.service.monitored.securityGroupIds,
    bulkMigration: s.service.bulkMigration,
    switch: switchTarget(s.config),
    targetGroup: s.service.monitored.targetGroupFullName
      ? {
          loadBalancerFullName: platform.loadBalancerFullName,
          targetGroupFullName: s.service.monitored.targetGroupFullName,
        }
      : undefined,
  }));
  const legacy = {
    loadBalancerFullName: platform.loadBalancerFullName,
    targetGroupFullName: platform.legacyTargetGroup.fullName,
  };
  const operations =
    operated.length > 0
      ? new OperationsStack(app, stackId(config, 60, 'operations'), {
          config,
          legacy,
          applicationListenerArn: plans.size > 0 ? listener.listenerArn : undefined,
          rulesStackPattern: plans.size > 0 ? serviceStackId(ANY) : undefined,
          gateway: gateway
            ? {
                ecsServiceName: gateway.monitored.ecsServiceName,
                targetGroup: {
                  loadBalancerFullName: platform.loadBalancerFullName,
                  targetGroupFullName: gateway.monitored.targetGroupFullName,
                },
              }
            : undefined,
          services: operated,
        })
      : undefined;
  // Each service's alarms, dashboard and cutover in a stack of its own (decision 0017), after the
  // environment's operations stack (the alert topic, the hooks its cutover invokes by name).
  const serviceOperations = new Map(
    operations
      ? operated.map((s) => [
          s.config.name,
          new ServiceOperationsStack(
            app,
            stackId(config, SERVICE_OPERATIONS_STACK_ORDER, `${s.config.name}-operations`),
            {
              config,
              service: s,
              legacy,
              alerts: operations.alertTopicReference,
            },
          ),
        ])
      : [],
  );
  const withOperations = services.map((s) => ({ ...s, operations: serviceOperations.get(s.config.name) }));

  const serviceStacks = (routedByGateway: boolean) =>
    services.flatMap((s) =>
      s.service && capabilitiesOf(s.config).throughGateway === routedByGateway ? [s.service] : [],
    );
  const all: MigrationStack[] = [
    network,
    ...(legacyData ? [legacyData] : []),
    ...dataStacks.values(),
    platform,
    ...serviceStacks(false),
    ...(gateway ? [gateway] : []),
    ...serviceStacks(true),
    ...(operations ? [operations] : []),
    ...serviceOperations.values(),
  ];
  // cdk deploy --all never deletes a stack that is no longer in the app: say which ones may be left.
  for (const absent of absentStacks(config)) Annotations.of(network).addInfo(absentStackNotice(absent));
  return { network, legacyData, platform, services: withOperations, gateway, operations, all };
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
  // CDK splits a large role policy into OverflowPolicy managed policies at synth: they carry the
  // acknowledgements of the policy they were split from. And CloudFormation's limits, checked at synth.
  acknowledgeOverflowPolicies(app);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new DeployLimitsCheck());
}
