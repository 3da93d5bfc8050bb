import { join } from 'node:path';
import { CfnDynamicReference, CfnDynamicReferenceService, Token, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Platform } from 'aws-cdk-lib/aws-ecr-assets';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import type { SwitchEnvironment } from '../../lambda/traffic-switch/handler';
import { SWITCH_ENV_VARIABLE } from '../../lambda/traffic-switch/handler';
import type { ContainerServiceConfig, ExtractedServiceConfig } from '../config/types';
import { parameterArn } from '../constructs/flag-parameters';
import { HookFunction, hookDeadLetterQueue } from '../constructs/hook-function';
import { WebService } from '../constructs/web-service';
import { TIER_MAX_BYTES } from '../flags/documents';
import {
  type FlagParameterNames,
  liveWeightParameterNames,
  overrideParameterName,
} from '../flags/parameters';
import { planListenerRules } from '../gateway/alb-rules';
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
}

/**
 * Phase 3: the shared KrakenD gateway (Community Edition, pinned, its configuration generated from the
 * services' route tables and checked when the image is built), the ALB rules that send each service's
 * routes to it with weights, and the traffic-switch hook that applies the gateway flag to those weights.
 * The rules read their weights from the live-weight parameters at deploy time: a deploy never resets a
 * weight the hook has applied.
 */
export class GatewayStack extends MigrationStack {
  readonly gateway: WebService;
  readonly rules: readonly elbv2.CfnListenerRule[];
  readonly trafficSwitch: HookFunction;
  /** The generated KrakenD configuration (also baked into the image). */
  readonly krakendConfig: Record<string, unknown>;

  constructor(scope: Construct, id: string, props: GatewayStackProps) {
    super(scope, id, props, {
      phase: 3,
      stateful: false,
      summary: 'KrakenD gateway, ALB rules to it, traffic-switch hook',
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
    const albGroup = ec2.SecurityGroup.fromSecurityGroupId(
      this,
      'LoadBalancerSecurityGroup',
      props.loadBalancerSecurityGroupId,
    );
    this.gateway.securityGroup.addIngressRule(
      albGroup,
      ec2.Port.tcp(GATEWAY_PORT),
      'load balancer to the gateway',
    );
    new ec2.CfnSecurityGroupEgress(this, 'LoadBalancerToGateway', {
      groupId: props.loadBalancerSecurityGroupId,
      ipProtocol: 'tcp',
      fromPort: GATEWAY_PORT,
      toPort: GATEWAY_PORT,
      destinationSecurityGroupId: this.gateway.securityGroup.securityGroupId,
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

    const positions = new Map(config.services.map((s, i) => [s.name, i]));
    const rulesByService = new Map<string, elbv2.CfnListenerRule[]>();
    for (const planned of planListenerRules(
      props.services.map((s) => s.config),
      positions,
    )) {
      const live = liveWeightParameterNames(config.flags.parameterPrefix, planned.service);
      const weight = (name: string) =>
        Token.asNumber(new CfnDynamicReference(CfnDynamicReferenceService.SSM, name));
      const rule = new elbv2.CfnListenerRule(this, `${pascal(planned.service)}Rule${planned.priority}`, {
        listenerArn: props.listener.listenerArn,
        priority: planned.priority,
        conditions: [
          { field: 'path-pattern', pathPatternConfig: { regexValues: [...planned.pathRegexes] } },
          { field: 'http-request-method', httpRequestMethodConfig: { values: [...planned.methods] } },
        ],
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

    const switchEnvironment: SwitchEnvironment = {
      services: props.services.map((s) => ({
        service: {
          service: s.config.name,
          phase: s.config.phase,
          names: s.flagNames,
          overrideName: overrideParameterName(config.flags.parameterPrefix, s.config.name),
          routingMaxBytes: TIER_MAX_BYTES[config.flags.tier],
          alarmNames: [],
        },
        ruleArns: (rulesByService.get(s.config.name) ?? []).map((r) => r.attrRuleArn),
        legacyTargetGroupArn: props.legacyTargetGroupArn,
        newTargetGroupArn: this.gateway.targetGroup.targetGroupArn,
        liveWeights: liveWeightParameterNames(config.flags.parameterPrefix, s.config.name),
      })),
    };
    this.trafficSwitch = new HookFunction(this, 'TrafficSwitch', {
      hook: 'traffic-switch',
      description: 'Applies a validated gateway weight to the ALB rules and records it for later deploys',
      environment: { [SWITCH_ENV_VARIABLE]: this.toJsonString(switchEnvironment) },
    });
    const role = this.trafficSwitch.role;
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['elasticloadbalancing:ModifyRule'],
        resources: this.rules.map((r) => r.attrRuleArn),
      }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['elasticloadbalancing:DescribeRules'], resources: ['*'] }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['ssm:GetParameterHistory'],
        resources: props.services.flatMap((s) =>
          Object.values(s.flagNames).map((n) => parameterArn(this, n)),
        ),
      }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['ssm:PutParameter'],
        resources: props.services.flatMap((s) =>
          Object.values(liveWeightParameterNames(config.flags.parameterPrefix, s.config.name)).map((n) =>
            parameterArn(this, n),
          ),
        ),
      }),
    );
    const policy = role.node.tryFindChild('DefaultPolicy');
    if (policy) {
      Validations.of(policy).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'elasticloadbalancing:DescribeRules supports no resource-level permission; ModifyRule is limited to the gateway rules.',
      });
    }

    const deadLetters = hookDeadLetterQueue(this, 'DeadLetters');
    new events.Rule(this, 'GatewayWeightValidated', {
      description: 'The flag guard labelled a version of a gateway document last-good',
      eventPattern: {
        source: ['aws.ssm'],
        detailType: ['Parameter Store Change'],
        detail: {
          name: props.services.map((s) => s.flagNames.gateway),
          operation: ['LabelParameterVersion'],
        },
      },
      targets: [this.trafficSwitch.eventTarget(deadLetters)],
    });
  }
}

function pascal(name: string): string {
  return name[0].toUpperCase() + name.slice(1);
}
