import { join } from 'node:path';
import { CfnDynamicReference, CfnDynamicReferenceService, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Platform } from 'aws-cdk-lib/aws-ecr-assets';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import type { Construct } from 'constructs';
import type { ContainerServiceConfig, ExtractedServiceConfig } from '../config/types';
import { allowLoadBalancerTo } from '../constructs/public-load-balancer';
import { WebService } from '../constructs/web-service';
import { type FlagParameterNames, liveWeightParameterNames } from '../flags/parameters';
import { type PlannedRule, ruleConditions } from '../gateway/alb-rules';
import { KRAKEND_HEALTH_PATH, KRAKEND_IMAGE, krakendConfig } from '../gateway/krakend';
import { MigrationStack, type MigrationStackProps } from './migration-stack';

/** The port KrakenD listens on inside its task. */
export const GATEWAY_PORT = 8080;

/** A service routed through the gateway at phase 3. */
export interface GatewayRoutedService {
  readonly config: ExtractedServiceConfig;
  readonly flagNames: FlagParameterNames;
  /** The service's task security group: the gateway is admitted on the service port. */
  readonly securityGroupId: string;
}

export interface GatewayStackProps extends MigrationStackProps {
  readonly cluster: ecs.ICluster;
  /** The listener the rules are added to, and its load balancer's security group. */
  readonly listener: elbv2.IApplicationListener;
  readonly loadBalancerSecurityGroupId: string;
  /** The monolith's target group: the other side of every weighted rule. */
  readonly legacyTargetGroupArn: string;
  readonly services: readonly GatewayRoutedService[];
  /** The planned listener rules of these services (lib/gateway/alb-rules.ts, planned with all phase-3 services). */
  readonly rules: readonly PlannedRule[];
}

/**
 * Phase 3: the shared KrakenD gateway (Community Edition, pinned, its configuration generated from the
 * services' route tables and checked when the image is built) and the ALB rules that send each service's
 * routes to it with weights. The rules read their weights from the live-weight parameters at deploy
 * time, which the traffic-switch hook (operations stack) writes: a deploy never resets a live weight.
 */
export class GatewayStack extends MigrationStack {
  readonly gateway: WebService;
  readonly rules: readonly elbv2.CfnListenerRule[];
  /** The weighted rules of each service, for the traffic-switch hook (operations stack). */
  readonly ruleArnsByService: ReadonlyMap<string, readonly string[]>;
  /** The generated KrakenD configuration (also baked into the image). */
  readonly krakendConfig: Record<string, unknown>;

  constructor(scope: Construct, id: string, props: GatewayStackProps) {
    super(scope, id, props, {
      phase: 3,
      stateful: false,
      summary: 'KrakenD gateway and the weighted ALB rules to it',
    });
    const { config } = props;

    this.krakendConfig = krakendConfig({
      name: `${config.name}-gateway`,
      port: GATEWAY_PORT,
      timeoutMs: config.gateway.timeoutMs,
      routes: props.services.flatMap((s) =>
        s.config.routes.flatMap((route) =>
          route.methods.map((method) => ({
            service: s.config.name,
            path: route.path,
            method,
            host: `http://${s.config.name}:${s.config.port}`,
            servicePath: route.servicePath,
          })),
        ),
      ),
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
      config: gatewayConfig,
      loadBalanced: true,
      image: ecs.ContainerImage.fromAsset(join(__dirname, '..', '..', 'gateway'), {
        platform: Platform.LINUX_AMD64,
        buildArgs: {
          KRAKEND_IMAGE,
          KRAKEND_CONFIG_B64: Buffer.from(JSON.stringify(this.krakendConfig)).toString('base64'),
        },
      }),
    });

    // Security groups: ALB -> gateway port; gateway -> each service port. Rules live here, groups are imported by id.
    allowLoadBalancerTo(this, 'LoadBalancerToGateway', {
      loadBalancerSecurityGroupId: props.loadBalancerSecurityGroupId,
      target: this.gateway.securityGroup,
      port: GATEWAY_PORT,
      description: 'load balancer to the gateway',
    });
    for (const s of props.services) {
      ec2.SecurityGroup.fromSecurityGroupId(
        this,
        `${pascal(s.config.name)}SecurityGroup`,
        s.securityGroupId,
      ).addIngressRule(
        this.gateway.securityGroup,
        ec2.Port.tcp(s.config.port),
        `gateway to the ${s.config.name} service`,
      );
    }

    const rulesByService = new Map<string, elbv2.CfnListenerRule[]>();
    for (const planned of props.rules) {
      const live = liveWeightParameterNames(config.flags.parameterPrefix, planned.service);
      const weight = (name: string) =>
        Token.asNumber(new CfnDynamicReference(CfnDynamicReferenceService.SSM, name));
      const rule = new elbv2.CfnListenerRule(this, `${pascal(planned.service)}Rule${planned.priority}`, {
        listenerArn: props.listener.listenerArn,
        priority: planned.priority,
        conditions: ruleConditions(planned),
        actions: [
          {
            type: 'forward',
            forwardConfig: {
              targetGroups: [
                { targetGroupArn: props.legacyTargetGroupArn, weight: weight(live.legacy) },
                { targetGroupArn: this.gateway.targetGroup.targetGroupArn, weight: weight(live.gateway) },
              ],
            },
          },
        ],
      });
      rulesByService.set(planned.service, [...(rulesByService.get(planned.service) ?? []), rule]);
    }
    this.rules = [...rulesByService.values()].flat();
    // ECS registers tasks only in a target group that a load balancer already uses.
    for (const rule of this.rules) this.gateway.service.node.addDependency(rule);

    this.ruleArnsByService = new Map(
      [...rulesByService].map(([service, rules]) => [service, rules.map((r) => r.attrRuleArn)]),
    );
  }
}

function pascal(name: string): string {
  return name[0].toUpperCase() + name.slice(1);
}
