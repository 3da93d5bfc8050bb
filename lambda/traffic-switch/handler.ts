/**
 * traffic-switch: when the flag guard labels a version of a service's gateway document `last-good`
 * (the commit point of a validated write), apply its weight to the service's ALB listener rules
 * (ModifyRule), check them with DescribeRules, and record the applied weights in the live-weight
 * parameters that the rules read at deploy time, so a later deploy keeps them.
 */
import {
  DescribeRulesCommand,
  ElasticLoadBalancingV2Client,
  ModifyRuleCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import type { EventBridgeEvent } from 'aws-lambda';
import { FlagStore } from '../../lib/flags/ssm-store';
import type { HookServiceConfig } from '../shared/environment';
import { jsonLogger, type Logger } from '../shared/log';
import { type ObservedRule, rulesToModify, type SwitchTargets, type Weights, weightsFor } from './decide';

export interface SwitchedService extends SwitchTargets {
  readonly service: HookServiceConfig;
  readonly ruleArns: readonly string[];
  readonly liveWeights: { readonly legacy: string; readonly gateway: string };
}

export interface SwitchEnvironment {
  readonly services: readonly SwitchedService[];
}

export const SWITCH_ENV_VARIABLE = 'MIGRATION_SWITCH_CONFIG';

export interface SwitchDependencies {
  readonly env: SwitchEnvironment;
  readonly ssm: SSMClient;
  readonly elb: ElasticLoadBalancingV2Client;
  readonly logger: Logger;
}

export type SwitchResult =
  | { readonly status: 'ignored'; readonly reason: string }
  | { readonly status: 'applied'; readonly weights: Weights; readonly modified: readonly string[] };

export async function switchTraffic(
  event: EventBridgeEvent<string, { name?: string }>,
  deps: SwitchDependencies,
): Promise<SwitchResult> {
  const name = event?.detail?.name;
  if (typeof name !== 'string') {
    deps.logger.log('error', 'malformed event: no detail.name', { event });
    return { status: 'ignored', reason: 'malformed event: no detail.name' };
  }
  const target = deps.env.services.find((s) => s.service.names.gateway === name);
  if (!target) return { status: 'ignored', reason: `${name} is not a gateway document of this app` };

  const store = new FlagStore(target.service.names, deps.ssm, target.service.routingMaxBytes);
  // Only what the guard validated is applied: the last-good version, never an unchecked write.
  const { gateway } = await store.lastGoodSet();
  const wanted = weightsFor(gateway.weight);
  const observed = await describe(deps.elb, target.ruleArns);
  const modify = rulesToModify(observed, target, wanted);
  for (const ruleArn of modify) {
    await deps.elb.send(
      new ModifyRuleCommand({
        RuleArn: ruleArn,
        Actions: [
          {
            Type: 'forward',
            ForwardConfig: {
              TargetGroups: [
                { TargetGroupArn: target.legacyTargetGroupArn, Weight: wanted.legacy },
                { TargetGroupArn: target.newTargetGroupArn, Weight: wanted.gateway },
              ],
            },
          },
        ],
      }),
    );
  }
  const after = rulesToModify(await describe(deps.elb, target.ruleArns), target, wanted);
  if (after.length > 0)
    throw new Error(`rules still not at ${JSON.stringify(wanted)} after ModifyRule: ${after.join(', ')}`);
  for (const [key, weight] of [
    [target.liveWeights.legacy, wanted.legacy],
    [target.liveWeights.gateway, wanted.gateway],
  ] as const) {
    await deps.ssm.send(
      new PutParameterCommand({ Name: key, Value: String(weight), Type: 'String', Overwrite: true }),
    );
  }
  deps.logger.log('info', 'gateway weights applied', {
    service: target.service.service,
    weights: wanted,
    modified: modify,
  });
  deps.logger.metric('GatewayWeight', wanted.gateway, { Service: target.service.service });
  return { status: 'applied', weights: wanted, modified: modify };
}

async function describe(
  elb: ElasticLoadBalancingV2Client,
  ruleArns: readonly string[],
): Promise<ObservedRule[]> {
  const out = await elb.send(new DescribeRulesCommand({ RuleArns: [...ruleArns] }));
  return (out.Rules ?? []).map((rule) => ({
    ruleArn: rule.RuleArn ?? '',
    targets: (rule.Actions ?? [])
      .filter((a) => a.Type === 'forward')
      .flatMap(
        (a) =>
          a.ForwardConfig?.TargetGroups ??
          (a.TargetGroupArn ? [{ TargetGroupArn: a.TargetGroupArn, Weight: 1 }] : []),
      )
      .map((t) => ({ targetGroupArn: t.TargetGroupArn ?? '', weight: t.Weight ?? 1 })),
  }));
}

let dependencies: SwitchDependencies | undefined;

export async function handler(event: EventBridgeEvent<string, { name?: string }>): Promise<SwitchResult> {
  dependencies ??= (() => {
    const raw = process.env[SWITCH_ENV_VARIABLE];
    if (!raw)
      throw new Error(
        `${SWITCH_ENV_VARIABLE} is not set: the function was deployed without its configuration`,
      );
    return {
      env: JSON.parse(raw) as SwitchEnvironment,
      ssm: new SSMClient({}),
      elb: new ElasticLoadBalancingV2Client({}),
      logger: jsonLogger('traffic-switch'),
    };
  })();
  return switchTraffic(event, dependencies);
}
