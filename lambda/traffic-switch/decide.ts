/**
 * The traffic-switch decision, pure: from the validated gateway document and the rules as the ALB
 * describes them, which rules need new weights.
 */
import type { SwitchTargets } from '../../lib/hooks/switch-contract';

export interface ForwardTarget {
  readonly targetGroupArn: string;
  readonly weight: number;
}

export interface ObservedRule {
  readonly ruleArn: string;
  readonly targets: readonly ForwardTarget[];
}

export interface Weights {
  readonly legacy: number;
  readonly gateway: number;
}

/** The ALB weights for a gateway document weight (0-100): the shares of legacy and gateway. */
export function weightsFor(gatewayWeight: number): Weights {
  return { legacy: 100 - gatewayWeight, gateway: gatewayWeight };
}

/** The rules whose forward weights differ from the wanted ones (compared per target group). */
export function rulesToModify(
  observed: readonly ObservedRule[],
  targets: SwitchTargets,
  wanted: Weights,
): string[] {
  return observed
    .filter((rule) => {
      const weightOf = (arn: string) => rule.targets.find((t) => t.targetGroupArn === arn)?.weight;
      return (
        weightOf(targets.legacyTargetGroupArn) !== wanted.legacy ||
        weightOf(targets.newTargetGroupArn) !== wanted.gateway
      );
    })
    .map((rule) => rule.ruleArn);
}
