import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { Construct } from 'constructs';
import type { ExtractedServiceConfig } from '../config/types';
import { pinRegexBody, ruleConditions, type ServiceRulePlan } from '../gateway/alb-rules';
import { allowLoadBalancerTo } from './public-load-balancer';

export interface NativeRewriteRoutesProps {
  readonly service: ExtractedServiceConfig;
  /** The service's rules from the planner, in `alb` mode (each with its rewrite, and the pin's priority). */
  readonly plan: ServiceRulePlan;
  readonly listener: elbv2.IApplicationListener;
  readonly loadBalancerSecurityGroupId: string;
  readonly legacyTargetGroupArn: string;
  /** The service's own target group. */
  readonly serviceTargetGroup: elbv2.IApplicationTargetGroup;
  readonly serviceSecurityGroup: ec2.ISecurityGroup;
  /**
   * The pin the rule is made with (PIN_PINNED / PIN_RELEASED): the gateway gate's answer, pinned when the
   * mode is entered, else the pin the traffic switch last applied (GatewayGate).
   */
  readonly pin: string;
}

/**
 * Phase 3 without KrakenD (`gateway: "alb"`): per route a listener rule that rewrites the old path to the
 * service's path with the ALB's native URL rewrite (the `Transforms` of the L1 CfnListenerRule) and
 * forwards to the service; above them, one pin rule that sends all the service's routes to the monolith
 * while the service is pinned there. A rewrite applies to a whole rule, so a weighted split between the
 * monolith (old paths) and the service (new paths) cannot exist: the switch is all or nothing, and the
 * pin's state comes from the gateway gate (the live pin the traffic switch wrote, or pinned when the mode
 * is entered), so a deploy never resets it and never releases a new, empty target group.
 */
export class NativeRewriteRoutes extends Construct {
  readonly pinRule: elbv2.CfnListenerRule;
  readonly routeRules: readonly elbv2.CfnListenerRule[];
  /** The alternation of the route regexes, which the traffic-switch hook re-applies with the pin. */
  readonly pinRegexBody: string;

  constructor(scope: Construct, id: string, props: NativeRewriteRoutesProps) {
    super(scope, id);
    const { plan } = props;
    if (plan.mode !== 'alb' || plan.pinPriority === undefined)
      throw new Error(
        `${props.service.name}: its rules are planned in ${plan.mode} mode; plan them in alb mode`,
      );
    this.pinRegexBody = pinRegexBody(props.service.routes);
    const { pin } = props;

    this.pinRule = new elbv2.CfnListenerRule(this, 'Pin', {
      listenerArn: props.listener.listenerArn,
      // The first priority of the service's alb block: above its rewrite rules.
      priority: plan.pinPriority,
      conditions: [
        { field: 'path-pattern', pathPatternConfig: { regexValues: [`^${pin}${this.pinRegexBody}$`] } },
      ],
      actions: [{ type: 'forward', targetGroupArn: props.legacyTargetGroupArn }],
    });

    // Construct ids carry the priority, never the listener: a new listener (a certificate added) moves
    // the rules without renaming them, and a changed route keeps its rule in place.
    this.routeRules = plan.rules.map((rule) => {
      if (!rule.rewrite)
        throw new Error(`${props.service.name}: rule ${rule.priority} has no rewrite; plan it in alb mode`);
      return new elbv2.CfnListenerRule(this, `Route${rule.priority}`, {
        listenerArn: props.listener.listenerArn,
        priority: rule.priority,
        conditions: ruleConditions(rule),
        transforms: [
          {
            type: 'url-rewrite',
            urlRewriteConfig: { rewrites: [{ regex: rule.rewrite.regex, replace: rule.rewrite.replace }] },
          },
        ],
        actions: [{ type: 'forward', targetGroupArn: props.serviceTargetGroup.targetGroupArn }],
      });
    });

    // ALB -> service port; the rules live here, the load balancer's group is imported by id.
    allowLoadBalancerTo(this, 'LoadBalancerToService', {
      loadBalancerSecurityGroupId: props.loadBalancerSecurityGroupId,
      target: props.serviceSecurityGroup,
      port: props.service.port,
      description: `load balancer to the ${props.service.name} service`,
    });
  }
}
