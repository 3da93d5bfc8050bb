/**
 * Plans the ALB listener rules of the phase-3 services, within the ALB's and CloudFormation's limits.
 * Pure: the service stacks turn the plan into CfnListenerRules, the config check and the traffic-switch
 * hook use the same priority arithmetic, the tests read it directly.
 *
 * Priorities are stable per service and per mode (docs/decisions/0007): a service owns a block of
 * BLOCK_SIZE priorities, derived from its name (or set in `alb.ruleBlocks`), once in the `alb` range and
 * once in the `krakend` range. Adding, removing or reordering services moves no other service's rules,
 * and switching a service's mode creates its new rules where no old rule can be.
 */
import { RULE_BLOCKS } from '../config/rule-layout';
import type { AlbConfig, ExtractedServiceConfig, HttpMethod, RouteConfig } from '../config/types';
import { fnv1a32 } from '../hash';
import { bySpecificity, isPlaceholder, pathSegments } from './routes';

export const MAX_CONDITION_VALUES_PER_RULE = 5;
/** Characters an ALB condition value may hold. */
export const MAX_REGEX_LENGTH = 128;
/** CloudFormation resolves at most this many dynamic references per template. */
export const MAX_DYNAMIC_REFERENCES_PER_TEMPLATE = 60;
/** Each weighted rule reads two live weights (legacy and gateway) with dynamic references. */
export const DYNAMIC_REFERENCES_PER_WEIGHTED_RULE = 2;

/** Priorities per service and mode: a service has at most this many rules in one mode. */
export const BLOCK_SIZE = 32;
export type GatewayMode = ExtractedServiceConfig['gateway'];
/** Where each mode's priorities start: `alb` rules (1-24999) are evaluated before `krakend` ones (25000-49999). */
export const MODE_BASE: Readonly<Record<GatewayMode, number>> = { alb: 0, krakend: 25000 };
/**
 * The gateway stack's own rule, which never matches a request: it attaches the gateway's target group
 * to the listener (ECS registers tasks only in a target group a load balancer uses) before any service
 * stack routes to it. The last priority an ALB allows.
 */
export const GATEWAY_ANCHOR_PRIORITY = 50000;

/** The block a service's name gives it when `alb.ruleBlocks` does not set one. */
export function derivedRuleBlock(name: string): number {
  return 1 + (fnv1a32(name) % RULE_BLOCKS);
}

/** The listener-rule block of a service: `alb.ruleBlocks[name]`, else the one derived from its name. */
export function ruleBlockOf(alb: Pick<AlbConfig, 'ruleBlocks'>, name: string): number {
  return alb.ruleBlocks[name] ?? derivedRuleBlock(name);
}

/** The priorities a service's rules occupy in a mode: `first` is its pin (alb) or first weighted rule. */
export function priorityRange(mode: GatewayMode, block: number): { first: number; last: number } {
  const first = MODE_BASE[mode] + block * BLOCK_SIZE;
  return { first, last: first + BLOCK_SIZE - 1 };
}

export interface PlannedRule {
  readonly service: string;
  readonly mode: GatewayMode;
  readonly priority: number;
  /** Anchored regular expressions over the path, one segment per placeholder: `/api/users/{id}` is `^/api/users/[^/]+$`. */
  readonly pathRegexes: readonly string[];
  readonly methods: readonly HttpMethod[];
  /** For the native ALB rewrite (`alb` mode): one rewrite of the rule's single path. */
  readonly rewrite?: { readonly regex: string; readonly replace: string };
}

/** The rules of one phase-3 service. */
export interface ServiceRulePlan {
  readonly service: string;
  readonly mode: GatewayMode;
  readonly block: number;
  /** `alb` mode: the priority of the pin rule, above the rewriting rules. */
  readonly pinPriority?: number;
  readonly rules: readonly PlannedRule[];
}

export class AlbRulesError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Cannot route the phase-3 services at the ALB:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'AlbRulesError';
  }
}

/** One problem of a rule plan; `service` names the service it belongs to, if one. */
export interface RulePlanProblem {
  readonly service?: string;
  readonly message: string;
}

const escapeRegex = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The anchored regex a listener rule condition matches a route path with (the path only, no query). */
export function pathRegex(path: string): string {
  const body = pathSegments(path)
    .map((s) => (isPlaceholder(s) ? '[^/]+' : escapeRegex(s)))
    .join('/');
  return `^/${body}$`;
}

/**
 * The regex of the native rewrite: one capture group per placeholder, and a last, optional group for a
 * query string. The condition matches the path only; whether the ALB matches a rewrite against the path
 * or against the path and its query, the query is kept: it is captured and appended, or absent from the
 * match and left alone (docs/decisions/0007).
 */
export function rewriteRegex(path: string): string {
  const body = pathSegments(path)
    .map((s) => (isPlaceholder(s) ? '([^/?]+)' : escapeRegex(s)))
    .join('/');
  return `^/${body}(\\?.*)?$`;
}

/** The replacement for the native rewrite: `/v1/users/{id}` with `{id}` as the n-th group, then the query group. */
export function rewriteReplacement(route: RouteConfig): string {
  const order = pathSegments(route.path)
    .filter(isPlaceholder)
    .map((s) => s.slice(1, -1));
  const path = route.servicePath.replace(
    /\{([a-zA-Z][a-zA-Z0-9_]*)\}/g,
    (_m, name: string) => `$${order.indexOf(name) + 1}`,
  );
  return `${path}$${order.length + 1}`;
}

type PlannableService = Pick<ExtractedServiceConfig, 'name' | 'routes' | 'gateway'>;

/**
 * The rules of one service in its block. Routes with the same methods share a rule while paths plus
 * methods fit in five condition values; `alb` mode gives every path its own rule (a rule holds one
 * rewrite), more specific paths first (`/api/users/me` before `/api/users/{id}`), under the pin rule.
 */
export function planServiceRules(
  service: PlannableService,
  block: number,
): { plan: ServiceRulePlan; problems: string[] } {
  const problems: string[] = [];
  const mode = service.gateway;
  const { first } = priorityRange(mode, block);
  const routes =
    mode === 'alb' ? [...service.routes].sort((a, b) => bySpecificity(a.path, b.path)) : service.routes;
  const groups = new Map<string, RouteConfig[]>();
  for (const route of routes) {
    const methods = [...route.methods].sort();
    if (methods.length >= MAX_CONDITION_VALUES_PER_RULE) {
      problems.push(
        `${route.path} lists ${methods.length} methods; a rule holds ${MAX_CONDITION_VALUES_PER_RULE} condition values (methods plus paths): split the route`,
      );
      continue;
    }
    const key = methods.join(',');
    groups.set(key, [...(groups.get(key) ?? []), route]);
  }
  const unprioritized: Omit<PlannedRule, 'priority'>[] = [];
  if (mode === 'alb') {
    for (const route of routes) {
      if (!groups.get([...route.methods].sort().join(','))?.includes(route)) continue;
      unprioritized.push({
        service: service.name,
        mode,
        pathRegexes: [pathRegex(route.path)],
        methods: [...route.methods].sort(),
        rewrite: { regex: rewriteRegex(route.path), replace: rewriteReplacement(route) },
      });
    }
  } else {
    for (const [key, grouped] of groups) {
      const methods = key.split(',') as HttpMethod[];
      const perRule = MAX_CONDITION_VALUES_PER_RULE - methods.length;
      for (let i = 0; i < grouped.length; i += perRule) {
        unprioritized.push({
          service: service.name,
          mode,
          pathRegexes: grouped.slice(i, i + perRule).map((r) => pathRegex(r.path)),
          methods,
        });
      }
    }
  }
  // alb: the first priority of the block is the pin rule.
  const offset = mode === 'alb' ? 1 : 0;
  if (unprioritized.length + offset > BLOCK_SIZE) {
    problems.push(
      `needs ${unprioritized.length + offset} listener rules in ${mode} mode; a service's block holds ${BLOCK_SIZE}: split it into two services`,
    );
  }
  if (mode === 'krakend') {
    const references = unprioritized.length * DYNAMIC_REFERENCES_PER_WEIGHTED_RULE;
    if (references > MAX_DYNAMIC_REFERENCES_PER_TEMPLATE) {
      problems.push(
        `its ${unprioritized.length} weighted rules read ${references} live weights with dynamic references; a CloudFormation template resolves ${MAX_DYNAMIC_REFERENCES_PER_TEMPLATE}: group routes with the same methods, or split the service`,
      );
    }
  } else {
    const length = pinRegex(PIN_PINNED, pinRegexBody(service.routes)).length;
    if (length > MAX_REGEX_LENGTH) {
      problems.push(
        `its pin rule regex would be ${length} characters; an ALB condition value holds ${MAX_REGEX_LENGTH}: use fewer routes per service in alb mode, or krakend`,
      );
    }
  }
  const rules = unprioritized.map((r, i) => ({ ...r, priority: first + offset + i }));
  return {
    plan: { service: service.name, mode, block, pinPriority: mode === 'alb' ? first : undefined, rules },
    problems,
  };
}

/**
 * With a certificate, the port-80 listener's one rule: GET and HEAD are redirected to HTTPS, every other
 * method gets a fixed answer (its default action), since a 301 or 302 may turn a POST into a GET. The
 * quota counts the rules of every listener of the load balancer, so it counts too.
 */
export const HTTP_REDIRECT_RULE_PRIORITY = 1;

/**
 * Listener rules the load balancer holds: the services' rules, their pins, the gateway's anchor, and
 * (with a certificate) the port-80 listener's redirect rule.
 */
export function ruleCount(
  plans: readonly ServiceRulePlan[],
  alb: Pick<AlbConfig, 'certificateArn'> = {},
): number {
  const anchor = plans.some((p) => p.mode === 'krakend') ? 1 : 0;
  const redirect = alb.certificateArn ? 1 : 0;
  return plans.reduce(
    (n, p) => n + p.rules.length + (p.pinPriority === undefined ? 0 : 1),
    anchor + redirect,
  );
}

/** Every problem of planning these phase-3 services' rules on one ALB, without throwing. */
export function planProblems(
  services: readonly PlannableService[],
  alb: Pick<AlbConfig, 'ruleBlocks' | 'ruleQuota' | 'certificateArn'>,
): { plans: ServiceRulePlan[]; problems: RulePlanProblem[] } {
  const problems: RulePlanProblem[] = [];
  const plans = services.map((s) => {
    const { plan, problems: own } = planServiceRules(s, ruleBlockOf(alb, s.name));
    problems.push(...own.map((message) => ({ service: s.name, message })));
    return plan;
  });
  const count = ruleCount(plans, alb);
  if (count > alb.ruleQuota) {
    problems.push({
      message: `the phase-3 routes need ${count} listener rules${alb.certificateArn ? ' (with the port-80 redirect rule)' : ''}; the load balancer's quota (alb.ruleQuota) is ${alb.ruleQuota}: group routes with the same methods, move a service back to phase 2, or raise the quota with AWS and then alb.ruleQuota`,
    });
  }
  return { plans, problems };
}

/** The rule plans of the phase-3 services; throws an `AlbRulesError` listing every problem. */
export function planListenerRules(
  services: readonly PlannableService[],
  alb: Pick<AlbConfig, 'ruleBlocks' | 'ruleQuota' | 'certificateArn'>,
): ServiceRulePlan[] {
  const { plans, problems } = planProblems(services, alb);
  if (problems.length > 0)
    throw new AlbRulesError(problems.map((p) => (p.service ? `${p.service}: ${p.message}` : p.message)));
  return plans;
}

/**
 * The pin rule of an `alb`-mode service forwards all its routes to the monolith while the service is
 * "pinned" there. Its path regex is `^<pin><body>$`, where `<pin>` comes from a runtime parameter at
 * deploy time (a CloudFormation dynamic reference) and from the traffic-switch hook at run time:
 * PINNED (`/?`) lets the regex match the routes; RELEASED (`#`) can never match a path, so the
 * service's own rules (with the URL rewrite) take the requests.
 */
export const PIN_PINNED = '/?';
export const PIN_RELEASED = '#';

/** The alternation of a service's route regexes, without anchors: the `<body>` of its pin rule. */
export function pinRegexBody(routes: readonly RouteConfig[]): string {
  return `(${[...new Set(routes.map((r) => pathRegex(r.path).slice(1, -1)))].join('|')})`;
}

export function pinRegex(pin: string, body: string): string {
  return `^${pin}${body}$`;
}

/** The pin and body of a pin rule's regex as the ALB describes it; undefined when it is not one. */
export function parsePinRegex(regex: string): { pin: string; body: string } | undefined {
  for (const pin of [PIN_PINNED, PIN_RELEASED]) {
    const prefix = `^${pin}`;
    if (regex.startsWith(`${prefix}(`) && regex.endsWith(')$'))
      return { pin, body: regex.slice(prefix.length, -1) };
  }
  return undefined;
}

/** The listener rule conditions of a planned rule: its path regexes and its methods. */
export function ruleConditions(rule: PlannedRule) {
  return [
    { field: 'path-pattern', pathPatternConfig: { regexValues: [...rule.pathRegexes] } },
    { field: 'http-request-method', httpRequestMethodConfig: { values: [...rule.methods] } },
  ];
}
