import { Aws, Duration } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import type * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as servicediscovery from 'aws-cdk-lib/aws-servicediscovery';
import type { Construct } from 'constructs';
import type { DatabaseEndpoint } from '../constructs/database';
import type { EndpointCaller } from '../constructs/endpoint-roll';
import { parameterArn } from '../constructs/flag-parameters';
import { LegacyDatabaseClients } from '../constructs/legacy-database-clients';
import { LoadBalancerDns } from '../constructs/load-balancer-dns';
import { acknowledgeOnDefaultPolicy, wildcardResourceFinding } from '../constructs/nag';
import { PublicLoadBalancer } from '../constructs/public-load-balancer';
import { RoutingProxyImage } from '../constructs/routing-proxy';
import type { SubnetPlacement } from '../constructs/subnet-placement';
import { type FrontProxyProps, WebService } from '../constructs/web-service';
import { gatewayCallsLegacy, legacyFrontDoor } from '../gateway/composites';
import { flagPatterns, overridePattern } from '../patterns';
import { proxyNodeOptions } from '../proxy/bundle';
import { PROXY_CONFIG_VARIABLE, proxyConfigText } from '../proxy/contract';
import type { RoutingWiring } from '../proxy/wiring';
import { ALB_IDLE_TIMEOUT_SECONDS } from '../timeouts';
import { MigrationStack, type MigrationStackProps } from './migration-stack';
import { admitLegacyService, monolithTask } from './monolith';

export interface PlatformStackProps extends MigrationStackProps {
  readonly vpc: ec2.IVpc;
  readonly subnets: SubnetPlacement;
  readonly legacyDatabase: DatabaseEndpoint;
  /**
   * Where routing happens and what it needs to know about the extracted services: the routing proxy's
   * configuration, or the monolith's own environment (in-app), and the flag parameters each may read.
   */
  readonly migration: RoutingWiring;
}

/** The ECS cluster, the public ALB, and the monolith behind it (the listener's default action). */
export class PlatformStack extends MigrationStack {
  readonly cluster: ecs.Cluster;
  readonly legacy: WebService;
  readonly loadBalancer: PublicLoadBalancer;
  /** The load balancer's full name: the dimension of every target group metric. */
  readonly loadBalancerFullName: string;
  /** The listener that serves the application: the service stacks add their rules to it. */
  readonly listener: elbv2.IApplicationListener;
  readonly loadBalancerSecurityGroupId: string;
  /** The monolith's target group (the listener's default) and its tasks' security group. */
  readonly legacyTargetGroup: { readonly arn: string; readonly fullName: string };
  readonly legacySecurityGroupId: string;
  /**
   * The "legacy database clients" group: the extracted services' tasks, bulk migrations and write-backs
   * carry it, and it alone is admitted to the legacy database for them (one rule, decision 0017).
   */
  readonly legacyDatabaseClientsSecurityGroupId: string;
  /**
   * When the gateway fetches composite parts from the monolith: the legacy task's front door, published
   * through Service Connect (decision 0014).
   */
  readonly legacyEndpoint?: LegacyEndpoint;
  /**
   * The legacy service as a Service Connect client: its routing proxy (or the monolith routing itself)
   * calls every migrating service, so each service's stack rolls it once its endpoint exists (EndpointRoll).
   */
  readonly legacyCaller: EndpointCaller;

  constructor(scope: Construct, id: string, props: PlatformStackProps) {
    super(scope, id, props, {
      phase: 0,
      stateful: false,
      summary: 'ECS cluster, public ALB, legacy service',
    });
    const { config, legacyDatabase: db } = props;

    this.cluster = new ecs.Cluster(this, 'Cluster', {
      vpc: props.vpc,
      containerInsightsV2: ecs.ContainerInsights.ENHANCED,
      defaultCloudMapNamespace: {
        name: serviceConnectNamespace(config.name),
        type: servicediscovery.NamespaceType.HTTP,
        useForServiceConnect: true,
      },
    });

    const { migration } = props;
    // Published only while a composite at the gateway calls the monolith: publishing rolls the legacy
    // service, and the load balancer's traffic keeps bypassing the Service Connect proxy (its own port).
    const door = gatewayCallsLegacy(config) ? legacyFrontDoor(config) : undefined;
    const routingProxy = migration.mode === 'proxy' ? this.routingProxy(migration) : undefined;
    this.legacy = new WebService(this, 'Legacy', {
      cluster: this.cluster,
      vpcSubnets: props.subnets.tasks,
      loadBalanced: true,
      // What the routing proxy lets a request wait: the deregistration delay outlasts it.
      requestTimeouts:
        migration.mode === 'proxy'
          ? [
              { name: 'routing.proxy.headersTimeoutMs', seconds: migration.proxy.timeouts.headersMs / 1000 },
              { name: 'routing.proxy.idleTimeoutMs', seconds: migration.proxy.timeouts.idleMs / 1000 },
            ]
          : [],
      // The monolith's container and the proxy in front of it, or the proxy alone (legacy.mode).
      ...monolithTask(this, config.legacy, db, migration, routingProxy),
      ...(door
        ? {
            serviceConnectFrontDoor: {
              dnsName: door.dnsName,
              ingressPort: door.ingressPort,
              // The gateway's own timeout ends a part first (at most 60 s, the ALB's idle timeout).
              perRequestTimeout: Duration.seconds(ALB_IDLE_TIMEOUT_SECONDS),
            },
          }
        : {}),
    });

    // The kinds of flag parameters the reader reads, singly or in batches (docs/flag-contract.md), of
    // every service by a name pattern (lib/patterns.ts): the policy does not grow with services.
    const readable =
      migration.mode === 'proxy' ? migration.readableParameters : migration.inApp.readableParameters;
    if (readable.length > 0) {
      const prefix = config.flags.parameterPrefix;
      const patterns = [...flagPatterns(prefix, ['routing', 'cutover']), overridePattern(prefix)].map((n) =>
        parameterArn(this, n),
      );
      this.legacy.taskDefinition.taskRole.addToPrincipalPolicy(
        new iam.PolicyStatement({ actions: ['ssm:GetParameters', 'ssm:GetParameter'], resources: patterns }),
      );
      acknowledgeOnDefaultPolicy(
        this.legacy.taskDefinition.taskRole,
        ...patterns.map((arn) => ({
          id: wildcardResourceFinding(this, arn),
          reason:
            "Reads (never writes) the routing, cutover and override parameters of this environment's services, by a pattern under its parameter prefix: one statement keeps the policy's size independent of the number of services.",
        })),
      );
    }

    admitLegacyService(this, config.legacy, db, this.legacy.securityGroup);
    // In every legacy mode: an external monolith's database may still be read by the services.
    this.legacyDatabaseClientsSecurityGroupId = new LegacyDatabaseClients(this, 'LegacyDatabaseClients', {
      vpc: props.vpc,
      legacy: db,
    }).securityGroup.securityGroupId;

    this.loadBalancer = new PublicLoadBalancer(this, 'LoadBalancer', {
      vpc: props.vpc,
      vpcSubnets: props.subnets.loadBalancer,
      config: config.alb,
      defaultTargetGroup: this.legacy.targetGroup,
    });
    // Its DNS name as an output, the optional alias record, the DNS operator policy (dns.*).
    new LoadBalancerDns(this, 'Dns', {
      loadBalancer: this.loadBalancer.loadBalancer,
      dns: config.dns,
      envName: config.name,
    });
    this.loadBalancerFullName = this.loadBalancer.loadBalancer.loadBalancerFullName;
    this.listener = this.loadBalancer.listener;
    this.loadBalancerSecurityGroupId = this.loadBalancer.securityGroup.securityGroupId;
    this.legacyTargetGroup = {
      arn: this.legacy.targetGroup.targetGroupArn,
      fullName: this.legacy.targetGroup.targetGroupFullName,
    };
    this.legacySecurityGroupId = this.legacy.securityGroup.securityGroupId;
    this.legacyCaller = {
      id: 'Legacy',
      clusterName: this.cluster.clusterName,
      serviceName: this.legacy.service.serviceName,
      serviceArn: this.legacy.service.serviceArn,
    };
    if (door)
      this.legacyEndpoint = {
        url: `http://${door.dnsName}:${door.port}`,
        dnsName: door.dnsName,
        port: door.port,
        ingressPort: door.ingressPort,
        securityGroupId: this.legacySecurityGroupId,
        serviceArn: this.legacy.service.serviceArn,
      };
  }

  /** The routing proxy container (docs/routing-proxy.md): its image, configuration and drain time. */
  private routingProxy(wiring: Extract<RoutingWiring, { mode: 'proxy' }>): FrontProxyProps {
    const drainSeconds = Math.ceil(wiring.proxy.timeouts.drainMs / 1000);
    return {
      image: new RoutingProxyImage(this, 'RoutingProxyImage').image,
      port: wiring.proxy.port,
      memoryLimitMiB: wiring.memoryMiB,
      // The drain, plus time to flush the logs and exit.
      stopTimeout: Duration.seconds(drainSeconds + 5),
      environment: {
        [PROXY_CONFIG_VARIABLE]: proxyConfigText(wiring.proxy),
        AWS_REGION: Aws.REGION,
        NODE_OPTIONS: proxyNodeOptions(wiring.memoryMiB),
      },
    };
  }
}

/** The legacy task's front door as the gateway reaches it (Service Connect), with what its rules need. */
export interface LegacyEndpoint {
  /** `http://legacy:<port>`: the base URL of the composite parts fetched from the monolith. */
  readonly url: string;
  readonly dnsName: string;
  readonly port: number;
  /** The port the gateway's traffic arrives on (the legacy task's Service Connect proxy). */
  readonly ingressPort: number;
  readonly securityGroupId: string;
  /** The legacy ECS service: re-created, it publishes a new endpoint (AfterEndpoints). */
  readonly serviceArn: string;
}

/** The Cloud Map namespace Service Connect names live in. */
export function serviceConnectNamespace(name: string): string {
  return `${name}.internal`;
}
