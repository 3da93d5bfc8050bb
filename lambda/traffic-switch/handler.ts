/**
 * traffic-switch: when the flag guard labels a version of a service's gateway document `last-good`
 * (the commit point of a validated write), apply it at the ALB and record what was applied in the
 * runtime parameters that the listener rules read at deploy time, so a later deploy keeps it:
 * - `weighted` (KrakenD): the weights of the service's rules (legacy vs gateway target group);
 * - `pin` (native ALB rewrite): whether the service's pin rule sends its routes to the monolith.
 * Every change is checked with DescribeRules before it is recorded.
 */
import {
  DescribeRulesCommand,
  ElasticLoadBalancingV2Client,
  ModifyRuleCommand,
  type Rule,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import type { EventBridgeEvent } from 'aws-lambda';
import { parseFlag } from '../../lib/flags/documents';
import {
  flagParameterNames,
  livePinParameterName,
  liveWeightParameterNames,
} from '../../lib/flags/parameters';
import { readChecked } from '../../lib/flags/ssm-store';
import { PIN_PINNED, PIN_RELEASED, pinRegex } from '../../lib/gateway/alb-rules';
import {
  type PinSwitch,
  SWITCH_ENV_VARIABLE,
  type SwitchEnvironment,
  type WeightedSwitch,
} from '../../lib/hooks/switch-contract';
import { jsonLogger, type Logger } from '../shared/log';
import { type ObservedRule, rulesToModify, type Weights, weightsFor } from './decide';

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
  const prefix = deps.env.parameterPrefix;
  const target = deps.env.services.find((s) => flagParameterNames(prefix, s.service).gateway === name);
  if (!target) return { status: 'ignored', reason: `${name} is not a gateway document of this app` };

  // Only what the guard validated is applied: the last-good version, never an unchecked write.
  const checked = (await readChecked(deps.ssm, [name])).get(name);
  if (checked?.status !== 'ok') throw new Error(`${name}:last-good could not be read (${checked?.status})`);
  const parsed = parseFlag('gateway', checked.text);
  if (!parsed.ok) throw new Error(`${name}:last-good does not parse: ${parsed.errors.join('; ')}`);
  const wanted = weightsFor(parsed.value.weight);
  const modified =
    target.mode === 'weighted'
      ? await applyWeights(target, wanted, liveWeightParameterNames(prefix, target.service), deps)
      : await applyPin(target, wanted, livePinParameterName(prefix, target.service), deps);
  deps.logger.log('info', 'gateway weight applied', {
    service: target.service,
    mode: target.mode,
    weights: wanted,
    modified,
  });
  deps.logger.metric('GatewayWeight', wanted.gateway, { Service: target.service });
  return { status: 'applied', weights: wanted, modified };
}

async function applyWeights(
  target: WeightedSwitch,
  wanted: Weights,
  live: { readonly legacy: string; readonly gateway: string },
  deps: SwitchDependencies,
): Promise<string[]> {
  const modify = rulesToModify(observe(await describe(deps.elb, target.ruleArns)), target, wanted);
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
  const after = rulesToModify(observe(await describe(deps.elb, target.ruleArns)), target, wanted);
  if (after.length > 0)
    throw new Error(`rules still not at ${JSON.stringify(wanted)} after ModifyRule: ${after.join(', ')}`);
  await record(deps.ssm, live.legacy, String(wanted.legacy));
  await record(deps.ssm, live.gateway, String(wanted.gateway));
  return modify;
}

/** Native rewrite: weight 0 pins the routes to the monolith, 100 releases them (the guard allows only those). */
async function applyPin(
  target: PinSwitch,
  wanted: Weights,
  livePin: string,
  deps: SwitchDependencies,
): Promise<string[]> {
  const pin = wanted.gateway === 0 ? PIN_PINNED : PIN_RELEASED;
  const regex = pinRegex(pin, target.pinRegexBody);
  const current = async () =>
    (await describe(deps.elb, [target.pinRuleArn]))[0]?.Conditions?.find((c) => c.Field === 'path-pattern')
      ?.PathPatternConfig?.RegexValues;
  const modified: string[] = [];
  if (JSON.stringify(await current()) !== JSON.stringify([regex])) {
    await deps.elb.send(
      new ModifyRuleCommand({
        RuleArn: target.pinRuleArn,
        Conditions: [{ Field: 'path-pattern', PathPatternConfig: { RegexValues: [regex] } }],
      }),
    );
    modified.push(target.pinRuleArn);
  }
  const after = await current();
  if (JSON.stringify(after) !== JSON.stringify([regex]))
    throw new Error(`pin rule still at ${JSON.stringify(after)} after ModifyRule, wanted ${regex}`);
  await record(deps.ssm, livePin, pin);
  return modified;
}

async function record(ssm: SSMClient, name: string, value: string): Promise<void> {
  await ssm.send(new PutParameterCommand({ Name: name, Value: value, Type: 'String', Overwrite: true }));
}

async function describe(elb: ElasticLoadBalancingV2Client, ruleArns: readonly string[]): Promise<Rule[]> {
  return (await elb.send(new DescribeRulesCommand({ RuleArns: [...ruleArns] }))).Rules ?? [];
}

function observe(rules: readonly Rule[]): ObservedRule[] {
  return rules.map((rule) => ({
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
