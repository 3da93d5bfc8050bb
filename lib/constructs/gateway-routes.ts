import { CfnDynamicReference, CfnDynamicReferenceService, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { Construct } from 'constructs';
import type { ExtractedServiceConfig } from '../config/types';
import { ruleConditions, type ServiceRulePlan } from '../gateway/alb-rules';

export interface GatewayRoutesProps {
  readonly service: ExtractedServiceConfig;
  /** The service's rules from the planner, in `krakend` mode. */
  readonly plan: ServiceRulePlan;
  readonly listener: elbv2.IApplicationListener;
  /** The monolith's target group: the other side of every weighted rule. */
  readonly legacyTargetGroupArn: string;
  /** The KrakenD gateway's target group and security group (gateway stack). */
  readonly gatewayTargetGroupArn: string;
  readonly gatewaySecurityGroupId: string;
  /** The service's task security group: the gateway is admitted on the service port. */
  readonly serviceSecurityGroup: ec2.ISecurityGroup;
  /** The runtime parameters holding the live weights, written only by the traffic-switch hook. */
  readonly liveWeights: { readonly legacy: string; readonly gateway: string };
}

/**
 * Phase 3 through KrakenD (`gateway: "krakend"`): the ALB rules that send the service's routes to the
 * shared gateway with weights, and the gateway's access to the service. They live in the service's own
 * stack, not in the gateway's: each template holds only its service's dynamic references (at most 60 per
 * template), a mode switch happens within one stack, and a service leaving phase 3 takes its rules
 * with it in the same deploy. The weights are CloudFormation dynamic references to the live-weight
 * parameters, so a deploy re-creates a rule with the live weights, never the template's.
 */
export class GatewayRoutes extends Construct {
  readonly rules: readonly elbv2.CfnListenerRule[];

  constructor(scope: Construct, id: string, props: GatewayRoutesProps) {
    super(scope, id);
    const { plan } = props;
    if (plan.mode !== 'krakend')
      throw new Error(
        `${props.service.name}: its rules are planned in ${plan.mode} mode; plan them in krakend mode`,
      );
    const weight = (name: string) =>
      Token.asNumber(new CfnDynamicReference(CfnDynamicReferenceService.SSM, name));

    // Construct ids carry the priority, never the listener (see NativeRewriteRoutes).
    this.rules = plan.rules.map(
      (rule) =>
        new elbv2.CfnListenerRule(this, `Rule${rule.priority}`, {
          listenerArn: props.listener.listenerArn,
          priority: rule.priority,
          conditions: ruleConditions(rule),
          actions: [
            {
              type: 'forward',
              forwardConfig: {
                targetGroups: [
                  { targetGroupArn: props.legacyTargetGroupArn, weight: weight(props.liveWeights.legacy) },
                  { targetGroupArn: props.gatewayTargetGroupArn, weight: weight(props.liveWeights.gateway) },
                ],
              },
            },
          ],
        }),
    );

    props.serviceSecurityGroup.addIngressRule(
      ec2.Peer.securityGroupId(props.gatewaySecurityGroupId),
      ec2.Port.tcp(props.service.port),
      `gateway to the ${props.service.name} service`,
    );
  }
}
