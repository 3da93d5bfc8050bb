import { join } from 'node:path';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Platform } from 'aws-cdk-lib/aws-ecr-assets';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import type { Construct } from 'constructs';
import type { ContainerServiceConfig, ExtractedServiceConfig } from '../config/types';
import { AfterEndpoints } from '../constructs/after-endpoints';
import type { EndpointCaller } from '../constructs/endpoint-roll';
import { allowLoadBalancerTo } from '../constructs/public-load-balancer';
import { WebService } from '../constructs/web-service';
import { GATEWAY_ANCHOR_PRIORITY, PIN_RELEASED } from '../gateway/alb-rules';
import { gatewayComposites } from '../gateway/composites';
import { KRAKEND_HEALTH_PATH, KRAKEND_IMAGE, krakendConfig } from '../gateway/krakend';
import { MigrationStack, type MigrationStackProps } from './migration-stack';
import type { LegacyEndpoint } from './platform-stack';

/** The port KrakenD listens on inside its task. */
export const GATEWAY_PORT = 8080;

export interface GatewayStackProps extends MigrationStackProps {
  readonly cluster: ecs.ICluster;
  /** The subnets of the gateway's tasks. */
  readonly taskSubnets: ec2.SubnetSelection;
  /** The listener the gateway's anchor rule is added to, and its load balancer's security group. */
  readonly listener: elbv2.IApplicationListener;
  readonly loadBalancerSecurityGroupId: string;
  /** The services routed through the gateway at phase 3 (their routes generate its configuration). */
  readonly services: readonly ExtractedServiceConfig[];
  /**
   * The legacy task's front door, when a composite endpoint fetches parts from the monolith (through
   * the routing proxy).
   */
  readonly legacyEndpoint?: LegacyEndpoint;
}

/**
 * Phase 3: the shared KrakenD gateway (Community Edition, pinned, its configuration generated from the
 * services' route tables and checked when the image is built), deployed before the service stacks that
 * route to it. The weighted ALB rules live in each service's stack (GatewayRoutes): this stack holds only
 * an anchor rule that never matches, which attaches the gateway's target group to the listener so that
 * ECS can register the gateway's tasks before any service routes to it, and so that a gateway stack left
 * behind (no service in krakend mode any more) routes nothing.
 */
export class GatewayStack extends MigrationStack {
  readonly gateway: WebService;
  /** What the service stacks' weighted rules forward to and admit. */
  readonly routesTarget: { readonly targetGroupArn: string; readonly securityGroupId: string };
  /** What the operations stack's gateway alarms watch. */
  readonly monitored: { readonly ecsServiceName: string; readonly targetGroupFullName: string };
  /** Never matches a request: attaches the target group (GATEWAY_ANCHOR_PRIORITY). */
  readonly anchorRule: elbv2.CfnListenerRule;
  /** The generated KrakenD configuration (also baked into the image). */
  readonly krakendConfig: Record<string, unknown>;
  /**
   * The gateway as a Service Connect client of the services it routes to: their stacks deploy after this
   * one, so each rolls the gateway once its endpoint exists (EndpointRoll).
   */
  readonly caller: EndpointCaller;

  constructor(scope: Construct, id: string, props: GatewayStackProps) {
    super(scope, id, props, {
      phase: 3,
      stateful: false,
      summary: 'KrakenD gateway (the weighted ALB rules to it are in the service stacks)',
    });
    const { config } = props;

    this.krakendConfig = krakendConfig({
      name: `${config.name}-gateway`,
      port: GATEWAY_PORT,
      timeoutMs: config.gateway.timeoutMs,
      routes: props.services.flatMap((s) =>
        s.routes.flatMap((route) =>
          route.methods.map((method) => ({
            service: s.name,
            path: route.path,
            method,
            host: `http://${s.name}:${s.port}`,
            servicePath: route.servicePath,
          })),
        ),
      ),
      composites: gatewayComposites(config, {
        legacy: () =>
          props.legacyEndpoint?.url ??
          fail(
            'a composite endpoint calls the monolith, but the platform stack publishes no legacy endpoint',
          ),
        service: (name) => {
          const called = config.services.find((s) => s.name === name);
          return called ? `http://${called.name}:${called.port}` : fail(`no service ${name}`);
        },
      }),
    });

    const gatewayConfig: ContainerServiceConfig = {
      image: KRAKEND_IMAGE,
      port: GATEWAY_PORT,
      healthCheckPath: KRAKEND_HEALTH_PATH,
      environment: {},
      secrets: {},
      ...config.gateway,
    };
    this.gateway = new WebService(this, 'Gateway', {
      cluster: props.cluster,
      vpcSubnets: props.taskSubnets,
      config: gatewayConfig,
      loadBalanced: true,
      // The port it was created with (a constant): another value would replace the group.
      targetGroupPort: GATEWAY_PORT,
      requestTimeouts: [{ name: 'gateway.timeoutMs', seconds: config.gateway.timeoutMs / 1000 }],
      image: ecs.ContainerImage.fromAsset(join(__dirname, '..', '..', 'gateway'), {
        platform: Platform.LINUX_AMD64,
        buildArgs: {
          KRAKEND_IMAGE,
          KRAKEND_CONFIG_B64: Buffer.from(JSON.stringify(this.krakendConfig)).toString('base64'),
        },
      }),
    });

    this.routesTarget = {
      targetGroupArn: this.gateway.targetGroup.targetGroupArn,
      securityGroupId: this.gateway.securityGroup.securityGroupId,
    };
    this.monitored = {
      ecsServiceName: this.gateway.service.serviceName,
      targetGroupFullName: this.gateway.targetGroup.targetGroupFullName,
    };
    this.caller = {
      id: 'Gateway',
      clusterName: props.cluster.clusterName,
      serviceName: this.gateway.service.serviceName,
      serviceArn: this.gateway.service.serviceArn,
    };

    // ALB -> gateway port. The gateway -> service rules live in the service stacks (GatewayRoutes).
    allowLoadBalancerTo(this, 'LoadBalancerToGateway', {
      loadBalancerSecurityGroupId: props.loadBalancerSecurityGroupId,
      target: this.gateway.securityGroup,
      port: GATEWAY_PORT,
      description: 'load balancer to the gateway',
    });

    this.anchorRule = new elbv2.CfnListenerRule(this, 'AnchorRule', {
      listenerArn: props.listener.listenerArn,
      priority: GATEWAY_ANCHOR_PRIORITY,
      // No request path starts with '#' (the fragment never reaches the ALB): this rule never matches.
      conditions: [{ field: 'path-pattern', pathPatternConfig: { regexValues: [`^${PIN_RELEASED}$`] } }],
      actions: [{ type: 'forward', targetGroupArn: this.gateway.targetGroup.targetGroupArn }],
    });
    // ECS registers tasks only in a target group that a load balancer already uses.
    this.gateway.service.node.addDependency(this.anchorRule);

    const legacy = props.legacyEndpoint;
    if (legacy) {
      // Composite parts from the monolith: the gateway calls the legacy task's front door, whose Service
      // Connect proxy listens on a port of its own; its tasks start after that endpoint exists.
      ec2.SecurityGroup.fromSecurityGroupId(
        this,
        'LegacySecurityGroup',
        legacy.securityGroupId,
      ).addIngressRule(
        ec2.Peer.securityGroupId(this.gateway.securityGroup.securityGroupId),
        ec2.Port.tcp(legacy.ingressPort),
        'gateway to the legacy task (composite parts, Service Connect)',
      );
      new AfterEndpoints(this, 'AfterLegacyEndpoint', {
        taskDefinition: this.gateway.taskDefinition,
        container: this.gateway.container,
        endpoints: [{ dnsName: legacy.dnsName, port: legacy.port, publisherServiceArn: legacy.serviceArn }],
      });
    }
  }
}

function fail(message: string): never {
  throw new Error(message);
}
