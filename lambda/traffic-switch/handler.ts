/**
 * traffic-switch: applies a service's checked gateway document (`<name>:last-good`) at the ALB and
 * records what was applied in the runtime parameters that the listener rules read at deploy time, so a
 * later deploy keeps it:
 * - `krakend` mode: the weights of the service's rules (legacy vs gateway target group);
 * - `alb` mode: whether the service's pin rule sends its routes to the monolith.
 * It runs when the flag guard labels a gateway document last-good (that service), after a stack of the
 * app settles (every service: a deploy resolves the live weights when its change set is made, so a deploy
 * in flight during an automatic rollback writes the old weights back), and on a schedule (every
 * service: missed events, hand edits). The rules are found on the listener by their priorities; every
 * change is checked with DescribeRules before it is recorded.
 *
 * Idempotent and quiet: it modifies only the rules that differ and writes a `live/` record only when its
 * value changes. A settle or scheduled run that finds nothing of its own (a listener that no longer
 * forwards to the monolith, a service with no rule in its block and mode: the events of a deploy that
 * moved them reach it before the operations stack updates its configuration) logs it and succeeds; a
 * labelled document that cannot be applied still fails (retried, then dead-lettered).
 */
import {
  DescribeListenersCommand,
  DescribeRulesCommand,
  ElasticLoadBalancingV2Client,
  ModifyRuleCommand,
  type Rule,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { GetParametersCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { parseFlag } from '../../lib/flags/documents';
import {
  flagParameterNames,
  livePinParameterName,
  liveWeightParameterNames,
} from '../../lib/flags/parameters';
import { readChecked } from '../../lib/flags/ssm-store';
import {
  SWITCH_ENV_VARIABLE,
  type SwitchEnvironment,
  type SwitchedService,
} from '../../lib/hooks/switch-contract';
import { jsonLogger, type Logger } from '../shared/log';
import {
  nothingOwned,
  type ObservedRule,
  pinPlan,
  rulesOfService,
  rulesToModify,
  type Weights,
  weightedRules,
  weightsFor,
  writesNeeded,
} from './decide';

export interface SwitchDependencies {
  readonly env: SwitchEnvironment;
  readonly ssm: SSMClient;
  readonly elb: ElasticLoadBalancingV2Client;
  readonly logger: Logger;
}

/** The events the hook is a target of: a labelled parameter, a settled stack, the schedule. */
export interface SwitchEvent {
  readonly source?: string;
  readonly 'detail-type'?: string;
  readonly detail?: { readonly name?: unknown; readonly 'stack-id'?: unknown };
}

export type ServiceResult =
  | {
      readonly service: string;
      readonly status: 'applied';
      readonly weights: Weights;
      readonly modified: readonly string[];
      /** The `live/` parameters written (only those whose value changed). */
      readonly recorded: readonly string[];
    }
  /** Nothing of the service's on the listener in its configured mode (see `nothingOwned`). */
  | { readonly service: string; readonly status: 'skipped'; readonly reason: string }
  | { readonly service: string; readonly status: 'failed'; readonly error: string };

type Trigger = 'parameter' | 'stack' | 'schedule';

export type SwitchResult =
  | { readonly status: 'ignored'; readonly reason: string }
  | {
      readonly status: 'applied';
      /** Why it ran: `parameter` (one service), `stack` or `schedule` (every service). */
      readonly trigger: Trigger;
      readonly results: readonly ServiceResult[];
    };

export async function switchTraffic(event: SwitchEvent, deps: SwitchDependencies): Promise<SwitchResult> {
  const prefix = deps.env.parameterPrefix;
  let trigger: Trigger;
  let targets: readonly SwitchedService[];
  if (event?.source === 'aws.cloudformation') {
    trigger = 'stack';
    targets = deps.env.services;
  } else if (event?.source === 'aws.events' || event?.['detail-type'] === 'Scheduled Event') {
    trigger = 'schedule';
    targets = deps.env.services;
  } else {
    const name = event?.detail?.name;
    if (typeof name !== 'string') {
      deps.logger.log('error', 'malformed event: no detail.name', { event });
      return { status: 'ignored', reason: 'malformed event: no detail.name' };
    }
    const target = deps.env.services.find((s) => flagParameterNames(prefix, s.service).gateway === name);
    if (!target) return { status: 'ignored', reason: `${name} is not a gateway document of this app` };
    trigger = 'parameter';
    targets = [target];
  }

  const listener = await observeListener(deps);
  if ('notOwned' in listener) {
    // An operator's labelled document must reach the ALB: fail, and the retry finds the new configuration.
    if (trigger === 'parameter') throw new Error(`traffic switch (parameter): ${listener.notOwned}`);
    deps.logger.log('info', 'nothing to apply: the listener is not the application listener any more', {
      trigger,
      reason: listener.notOwned,
    });
    return { status: 'ignored', reason: listener.notOwned };
  }
  const results: ServiceResult[] = [];
  for (const target of targets) {
    try {
      results.push(await applyService(target, listener, trigger, deps));
    } catch (error) {
      deps.logger.log('error', 'gateway document not applied', {
        service: target.service,
        error: String(error),
      });
      results.push({ service: target.service, status: 'failed', error: (error as Error).message });
    }
  }
  const failed = results.filter((r) => r.status === 'failed');
  // A failure leaves the system as it was for that service; throwing makes EventBridge retry, then dead-letter.
  if (failed.length > 0)
    throw new Error(
      `traffic switch (${trigger}) failed for ${failed.map((f) => `${f.service}: ${f.status === 'failed' ? f.error : ''}`).join('; ')}`,
    );
  return { status: 'applied', trigger, results };
}

interface ObservedListener {
  readonly rules: readonly ObservedRule[];
  /** The listener's default forward: the monolith. */
  readonly legacyTargetGroupArn: string;
}

async function applyService(
  target: SwitchedService,
  listener: ObservedListener,
  trigger: Trigger,
  deps: SwitchDependencies,
): Promise<ServiceResult> {
  const prefix = deps.env.parameterPrefix;
  const name = flagParameterNames(prefix, target.service).gateway;
  // Only what the guard validated is applied: the last-good version, never an unchecked write.
  const checked = (await readChecked(deps.ssm, [name])).get(name);
  if (checked?.status !== 'ok') throw new Error(`${name}:last-good could not be read (${checked?.status})`);
  const parsed = parseFlag('gateway', checked.text);
  if (!parsed.ok) throw new Error(`${name}:last-good does not parse: ${parsed.errors.join('; ')}`);
  const wanted = weightsFor(parsed.value.weight);
  const rules = rulesOfService(listener.rules, target.mode, target.block);
  const absent = nothingOwned(target, rules);
  if (absent) {
    if (trigger === 'parameter') throw new Error(absent);
    deps.logger.log('info', 'nothing to apply for this service', { service: target.service, reason: absent });
    return { service: target.service, status: 'skipped', reason: absent };
  }
  const { modified, recorded } =
    target.mode === 'krakend'
      ? await applyWeights(target, rules, listener.legacyTargetGroupArn, wanted, deps)
      : await applyPin(target, rules, wanted, deps);
  // A run that changed nothing (the schedule's usual case) logs at debug level only.
  deps.logger.log(
    modified.length + recorded.length > 0 ? 'info' : 'debug',
    modified.length + recorded.length > 0 ? 'gateway weight applied' : 'gateway weight already applied',
    { service: target.service, mode: target.mode, weights: wanted, modified, recorded },
  );
  deps.logger.metric('GatewayWeight', wanted.gateway, { Service: target.service });
  return { service: target.service, status: 'applied', weights: wanted, modified, recorded };
}

interface Applied {
  readonly modified: string[];
  readonly recorded: string[];
}

async function applyWeights(
  target: SwitchedService,
  rules: readonly ObservedRule[],
  legacyTargetGroupArn: string,
  wanted: Weights,
  deps: SwitchDependencies,
): Promise<Applied> {
  const weighted = weightedRules(target.service, rules, legacyTargetGroupArn);
  if ('problem' in weighted) throw new Error(weighted.problem);
  const modify = rulesToModify(rules, weighted, wanted);
  for (const ruleArn of modify) {
    await deps.elb.send(
      new ModifyRuleCommand({
        RuleArn: ruleArn,
        Actions: [
          {
            Type: 'forward',
            ForwardConfig: {
              TargetGroups: [
                { TargetGroupArn: weighted.legacyTargetGroupArn, Weight: wanted.legacy },
                { TargetGroupArn: weighted.gatewayTargetGroupArn, Weight: wanted.gateway },
              ],
            },
          },
        ],
      }),
    );
  }
  const after = rulesToModify(observe(await describe(deps.elb, weighted.ruleArns)), weighted, wanted);
  if (after.length > 0)
    throw new Error(`rules still not at ${JSON.stringify(wanted)} after ModifyRule: ${after.join(', ')}`);
  const live = liveWeightParameterNames(deps.env.parameterPrefix, target.service);
  const recorded = await record(deps.ssm, {
    [live.legacy]: String(wanted.legacy),
    [live.gateway]: String(wanted.gateway),
  });
  return { modified: modify, recorded };
}

async function applyPin(
  target: SwitchedService,
  rules: readonly ObservedRule[],
  wanted: Weights,
  deps: SwitchDependencies,
): Promise<Applied> {
  const plan = pinPlan(target.service, rules, target.block, wanted);
  if ('problem' in plan) throw new Error(plan.problem);
  if (plan.change) {
    await deps.elb.send(
      new ModifyRuleCommand({
        RuleArn: plan.ruleArn,
        Conditions: [{ Field: 'path-pattern', PathPatternConfig: { RegexValues: [plan.regex] } }],
      }),
    );
  }
  const [after] = observe(await describe(deps.elb, [plan.ruleArn]));
  if (JSON.stringify(after?.pathRegexes) !== JSON.stringify([plan.regex]))
    throw new Error(
      `pin rule still at ${JSON.stringify(after?.pathRegexes)} after ModifyRule, wanted ${plan.regex}`,
    );
  const recorded = await record(deps.ssm, {
    [livePinParameterName(deps.env.parameterPrefix, target.service)]: plan.pin,
  });
  return { modified: plan.change ? [plan.ruleArn] : [], recorded };
}

/** Writes the `live/` records whose value differs from the wanted one; returns the names written. */
async function record(ssm: SSMClient, wanted: Readonly<Record<string, string>>): Promise<string[]> {
  const res = await ssm.send(new GetParametersCommand({ Names: Object.keys(wanted) }));
  const current = new Map((res.Parameters ?? []).map((p) => [p.Name ?? '', p.Value]));
  const writes = writesNeeded(current, wanted);
  for (const [name, value] of writes)
    await ssm.send(new PutParameterCommand({ Name: name, Value: value, Type: 'String', Overwrite: true }));
  return writes.map(([name]) => name);
}

async function describe(elb: ElasticLoadBalancingV2Client, ruleArns: readonly string[]): Promise<Rule[]> {
  return (await elb.send(new DescribeRulesCommand({ RuleArns: [...ruleArns] }))).Rules ?? [];
}

/**
 * Every rule of the listener (all pages) and the target group of its default action; or why the
 * configured listener is not the application's any more (deleted, or a redirect since a certificate
 * moved the application to the HTTPS listener).
 */
async function observeListener(
  deps: SwitchDependencies,
): Promise<ObservedListener | { readonly notOwned: string }> {
  const listenerArn = deps.env.listenerArn;
  try {
    const [listener] =
      (await deps.elb.send(new DescribeListenersCommand({ ListenerArns: [listenerArn] }))).Listeners ?? [];
    const forward = listener?.DefaultActions?.find((a) => a.Type === 'forward');
    const legacy = forward?.TargetGroupArn ?? forward?.ForwardConfig?.TargetGroups?.[0]?.TargetGroupArn;
    if (!legacy)
      return {
        notOwned: `listener ${listenerArn} has no default forward to the monolith's target group (a certificate made it the redirect? the new listener comes with the operations stack)`,
      };
    const rules: Rule[] = [];
    let marker: string | undefined;
    do {
      const page = await deps.elb.send(
        new DescribeRulesCommand({ ListenerArn: listenerArn, Marker: marker, PageSize: 400 }),
      );
      rules.push(...(page.Rules ?? []));
      marker = page.NextMarker;
    } while (marker);
    return { rules: observe(rules), legacyTargetGroupArn: legacy };
  } catch (error) {
    if ((error as Error)?.name === 'ListenerNotFoundException')
      return { notOwned: `listener ${listenerArn} does not exist any more` };
    throw error;
  }
}

function observe(rules: readonly Rule[]): ObservedRule[] {
  return rules.map((rule) => ({
    ruleArn: rule.RuleArn ?? '',
    priority: rule.IsDefault || !/^\d+$/.test(rule.Priority ?? '') ? undefined : Number(rule.Priority),
    targets: (rule.Actions ?? [])
      .filter((a) => a.Type === 'forward')
      .flatMap(
        (a) =>
          a.ForwardConfig?.TargetGroups ??
          (a.TargetGroupArn ? [{ TargetGroupArn: a.TargetGroupArn, Weight: 1 }] : []),
      )
      .map((t) => ({ targetGroupArn: t.TargetGroupArn ?? '', weight: t.Weight ?? 1 })),
    pathRegexes:
      rule.Conditions?.find((c) => c.Field === 'path-pattern')?.PathPatternConfig?.RegexValues ?? [],
  }));
}

let dependencies: SwitchDependencies | undefined;

export async function handler(event: SwitchEvent): Promise<SwitchResult> {
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
