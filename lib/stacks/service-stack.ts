import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import type * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import type { ExtractedServiceConfig } from '../config/types';
import { BulkMigrationTask } from '../constructs/bulk-migration';
import type { DatabaseEndpoint } from '../constructs/database';
import { type EndpointCaller, EndpointRoll } from '../constructs/endpoint-roll';
import { parameterArn } from '../constructs/flag-parameters';
import { GatewayGate } from '../constructs/gateway-gate';
import { GatewayRoutes } from '../constructs/gateway-routes';
import { NativeRewriteRoutes } from '../constructs/native-rewrite-routes';
import { WebService } from '../constructs/web-service';
import { WriteBack } from '../constructs/write-back';
import { type FlagParameterNames, livePinParameterName, liveWeightParameterNames } from '../flags/parameters';
import { pinRegexBody, type ServiceRulePlan } from '../gateway/alb-rules';
import { SERVICE_CONNECT_PORT } from '../naming';
import { capabilitiesOf } from '../phases';
import {
  DATA_CONTRACT_VERSION,
  OUTBOX_TABLE,
  SERVICE_CONTRACT_VARIABLE,
  type ServiceContractEnvironment,
  VERIFICATION_TABLE,
  type WriteBackTables,
} from '../write-back/contract';
import { MigrationStack, type MigrationStackProps } from './migration-stack';

export interface ServiceStackProps extends MigrationStackProps {
  readonly cluster: ecs.ICluster;
  /** The subnets of the service's tasks and of its bulk migration runs. */
  readonly taskSubnets: ec2.SubnetSelection;
  readonly service: ExtractedServiceConfig;
  /** The service's own database. */
  readonly database: DatabaseEndpoint;
  /** The monolith's database, read by the organic import (and the bulk migration). */
  readonly legacyDatabase: DatabaseEndpoint;
  /**
   * The legacy database clients group (platform stack): the tasks, the bulk migration runs and the
   * write-back carry it besides their own group, and it alone is admitted to the legacy database.
   */
  readonly legacyDatabaseClientsSecurityGroupId: string;
  /** The secret the service reads the legacy database with: read-only when configured, else the master. */
  readonly legacyReadSecretArn: string;
  readonly flagNames: FlagParameterNames;
  /** Security groups of the callers (the monolith's proxy, later the gateway), admitted on the service port. */
  readonly callerSecurityGroupIds: readonly string[];
  /**
   * The ECS services that call the service through Service Connect and deploy before this stack (the
   * legacy service; the gateway in krakend mode): rolled once the service's endpoint exists.
   */
  readonly endpointCallers: readonly EndpointCaller[];
  /**
   * At phase 3: the service's ALB rules, in the service's own stack in both modes. `alb`: the ALB routes
   * the service's paths straight to it, rewritten; `krakend`: weighted between the monolith and the
   * gateway (whose target and security groups come from the gateway stack).
   */
  readonly nativeRewrite?: ServiceAlbRouting & { readonly loadBalancerSecurityGroupId: string };
  readonly gatewayRoutes?: ServiceAlbRouting & {
    readonly gatewayTargetGroupArn: string;
    readonly gatewaySecurityGroupId: string;
  };
}

/** What both routing modes of a phase-3 service need: its planned rules and the listener. */
export interface ServiceAlbRouting {
  readonly plan: ServiceRulePlan;
  readonly listener: elbv2.IApplicationListener;
  readonly legacyTargetGroupArn: string;
}

/**
 * An extracted service from phase 1: a Fargate service published under its name through Service
 * Connect (the monolith proxies to `http://<name>:<port>`), with its own database and read access to the
 * legacy database for the organic import of a user on first touch.
 */
export class ServiceStack extends MigrationStack {
  readonly web: WebService;
  /** What the operations stack's alarms and cutover need of the service. */
  readonly monitored: {
    readonly ecsServiceName: string;
    /** The tasks' security groups, their own first: the bulk migration runs with the same. */
    readonly securityGroupIds: readonly string[];
    /** In `alb` mode at phase 3: the target group the ALB sends the routes to. */
    readonly targetGroupFullName?: string;
  };
  /** From phase 2: the task that copies the remaining records; run by the cutover state machine. */
  readonly bulkMigration?: BulkMigrationTask;
  /** At phase 3 in `alb` mode: the pin rule and the rewriting rules. */
  readonly nativeRewrite?: NativeRewriteRoutes;
  /** At phase 3 in `krakend` mode: the weighted rules to the gateway. */
  readonly gatewayRoutes?: GatewayRoutes;
  /** With services[].writeBack: the function that applies the service's outbox to the legacy database. */
  readonly writeBack?: WriteBack;
  /** Rolls the callers of the service's endpoint once it exists. */
  readonly endpointRoll: EndpointRoll;
  /** Stands before the service's ALB rules, target group and ECS service (docs/decisions/0018). */
  readonly gatewayGate: GatewayGate;

  constructor(scope: Construct, id: string, props: ServiceStackProps) {
    const { service, database: db, legacyDatabase: legacyDb, config } = props;
    super(scope, id, props, {
      phase: 1,
      stateful: false,
      summary: `${service.name} service (Fargate, Service Connect)${capabilitiesOf(service).cutover ? ', bulk migration task' : ''}`,
    });

    const ownSecret = secretsmanager.Secret.fromSecretCompleteArn(this, 'DatabaseSecret', db.secretArn);
    const legacySecret = secretsmanager.Secret.fromSecretCompleteArn(
      this,
      'LegacyReadSecret',
      props.legacyReadSecretArn,
    );

    // The web service and the bulk migration task read the same databases with the same settings.
    const environment = {
      DB_HOST: db.hostname,
      DB_PORT: String(db.port),
      DB_NAME: db.databaseName,
      LEGACY_DB_ENGINE: legacyDb.engine,
      LEGACY_DB_HOST: legacyDb.hostname,
      LEGACY_DB_PORT: String(legacyDb.port),
      LEGACY_DB_NAME: legacyDb.databaseName,
      MIGRATION_SERVICE_NAME: service.name,
      MIGRATION_CUTOVER_PARAMETER: props.flagNames.cutover,
      MIGRATION_FLAG_CACHE_TTL_SECONDS: String(config.flags.cacheTtlSeconds),
      // The data contract the service implements (docs/data-contract.md): its outbox, what it may write back.
      ...(service.writeBack
        ? {
            [SERVICE_CONTRACT_VARIABLE]: JSON.stringify({
              version: DATA_CONTRACT_VERSION,
              outboxTable: OUTBOX_TABLE,
              verificationTable: VERIFICATION_TABLE,
              tables: service.writeBack.tables as WriteBackTables,
            } satisfies ServiceContractEnvironment),
          }
        : {}),
    };
    const secrets = {
      DB_USERNAME: ecs.Secret.fromSecretsManager(ownSecret, 'username'),
      DB_PASSWORD: ecs.Secret.fromSecretsManager(ownSecret, 'password'),
      LEGACY_DB_USERNAME: ecs.Secret.fromSecretsManager(legacySecret, 'username'),
      LEGACY_DB_PASSWORD: ecs.Secret.fromSecretsManager(legacySecret, 'password'),
    };
    this.web = new WebService(this, 'Service', {
      cluster: props.cluster,
      vpcSubnets: props.taskSubnets,
      config: service,
      serviceConnectDnsName: service.name,
      extraEnvironment: environment,
      extraSecrets: secrets,
      loadBalanced: props.nativeRewrite !== undefined,
      // The organic import reads the legacy database as one of its clients (one rule there, decision 0017).
      additionalSecurityGroupIds: [props.legacyDatabaseClientsSecurityGroupId],
    });
    // Tasks started before the endpoint cannot resolve it: its callers get a new deployment once it exists.
    this.endpointRoll = new EndpointRoll(this, 'EndpointRoll', {
      publisher: this.web.service,
      dnsName: service.name,
      port: SERVICE_CONNECT_PORT,
      callers: props.endpointCallers,
    });
    const routes = this.routesAtAlb(props);
    this.gatewayGate = routes.gate;
    this.nativeRewrite = routes.nativeRewrite;
    this.gatewayRoutes = routes.gatewayRoutes;
    if (capabilitiesOf(service).cutover) {
      this.bulkMigration = new BulkMigrationTask(this, 'BulkMigration', {
        service,
        environment,
        secrets,
        vpcSubnets: props.taskSubnets,
      });
    }
    if (service.writeBack) {
      this.writeBack = new WriteBack(this, 'WriteBack', {
        envName: config.name,
        service: { ...service, writeBack: service.writeBack },
        vpc: props.cluster.vpc,
        legacy: legacyDb,
        legacyClientsSecurityGroupId: props.legacyDatabaseClientsSecurityGroupId,
        outbox: db,
        legacySecretArn: service.writeBack.legacySecretArn ?? legacyDb.secretArn,
        outboxSecretArn: service.writeBack.outboxSecretArn ?? db.secretArn,
        cutoverParameter: props.flagNames.cutover,
      });
    }
    this.monitored = {
      ecsServiceName: this.web.service.serviceName,
      securityGroupIds: [this.web.securityGroup.securityGroupId, props.legacyDatabaseClientsSecurityGroupId],
      targetGroupFullName: this.nativeRewrite ? this.web.targetGroup.targetGroupFullName : undefined,
    };

    // The service reads the cutover document: after the point of no return it stops importing from legacy.
    this.web.taskDefinition.taskRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['ssm:GetParameter'],
        resources: [parameterArn(this, props.flagNames.cutover)],
      }),
    );

    for (const [i, id] of props.callerSecurityGroupIds.entries()) {
      this.web.securityGroup.addIngressRule(
        ec2.Peer.securityGroupId(id),
        ec2.Port.tcp(service.port),
        `caller ${i + 1} to the ${service.name} service (Service Connect)`,
      );
    }
    // The legacy database admits the tasks through the clients group (platform stack), not by a rule here.
    ec2.SecurityGroup.fromSecurityGroupId(this, 'DatabaseSecurityGroup', db.securityGroupId).addIngressRule(
      this.web.securityGroup,
      ec2.Port.tcp(db.port),
      `${service.name} service to its database`,
    );
  }

  /**
   * The service's ALB routing at phase 3 (either mode) and the gate before it: the gate stands before
   * every rule, target group and load balancer attachment of the service, refuses a change out of a
   * phase-3 mode while traffic goes there, and gives the alb pin rule its pin (docs/decisions/0018).
   */
  private routesAtAlb(props: ServiceStackProps): {
    gate: GatewayGate;
    nativeRewrite?: NativeRewriteRoutes;
    gatewayRoutes?: GatewayRoutes;
  } {
    const { service, config } = props;
    const live = liveWeightParameterNames(config.flags.parameterPrefix, service.name);
    const native = props.nativeRewrite;
    const gate = new GatewayGate(this, 'GatewayGate', {
      serviceName: service.name,
      routing: native ? 'alb' : props.gatewayRoutes ? 'krakend' : 'none',
      gatewayParameter: props.flagNames.gateway,
      liveGatewayWeightParameter: live.gateway,
      livePinParameter: livePinParameterName(config.flags.parameterPrefix, service.name),
      pinRuleInputs: native
        ? [
            native.listener.listenerArn,
            native.plan.pinPriority,
            pinRegexBody(service.routes),
            native.legacyTargetGroupArn,
          ].join(' ')
        : undefined,
    });
    this.web.service.node.addDependency(gate.resource);
    let nativeRewrite: NativeRewriteRoutes | undefined;
    if (native) {
      nativeRewrite = new NativeRewriteRoutes(this, 'NativeRewrite', {
        ...native,
        service,
        serviceTargetGroup: this.web.targetGroup,
        serviceSecurityGroup: this.web.securityGroup,
        pin: gate.pin,
      });
      this.web.targetGroup.node.addDependency(gate.resource);
      for (const rule of nativeRewrite.routeRules) {
        rule.node.addDependency(gate.resource);
        // ECS registers tasks only in a target group that a load balancer already uses.
        this.web.service.node.addDependency(rule);
      }
    }
    let gatewayRoutes: GatewayRoutes | undefined;
    if (props.gatewayRoutes) {
      gatewayRoutes = new GatewayRoutes(this, 'GatewayRoutes', {
        ...props.gatewayRoutes,
        service,
        serviceSecurityGroup: this.web.securityGroup,
        liveWeights: live,
      });
      for (const rule of gatewayRoutes.rules) rule.node.addDependency(gate.resource);
    }
    return { gate, nativeRewrite, gatewayRoutes };
  }
}
