/**
 * Plans the ALB listener rules that send a phase-3 service's routes to the gateway, within the ALB's
 * limits (5 condition values per rule, 100 rules per load balancer). Pure: the gateway stack turns the
 * plan into CfnListenerRules, the tests read it directly.
 */
import type { ExtractedServiceConfig, HttpMethod, RouteConfig } from '../config/types';

export const MAX_CONDITION_VALUES_PER_RULE = 5;
export const MAX_RULES_PER_LOAD_BALANCER = 100;
/** Rules of the service at position i of the config start at (i + 1) * PRIORITY_BLOCK. */
export const PRIORITY_BLOCK = 100;
/** Characters an ALB condition value may hold. */
export const MAX_REGEX_LENGTH = 128;

export interface PlannedRule {
  readonly service: string;
  readonly priority: number;
  /** Anchored regular expressions, one segment per placeholder: `/api/users/{id}` is `^/api/users/[^/]+$`. */
  readonly pathRegexes: readonly string[];
  readonly methods: readonly HttpMethod[];
  /** For the native ALB rewrite (`alb` mode): one rewrite of the rule's single path. */
  readonly rewrite?: { readonly regex: string; readonly replace: string };
}

export class AlbRulesError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Cannot route the phase-3 services at the ALB:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'AlbRulesError';
  }
}

const escapeRegex = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const PLACEHOLDER = /\{([a-zA-Z][a-zA-Z0-9_]*)\}/g;

/** The anchored regex matching a route path, with one capture group per placeholder when `capture`. */
export function pathRegex(path: string, capture = false): string {
  const parts = path.split(PLACEHOLDER);
  // split with a capture group alternates literal text and placeholder names
  const body = parts
    .map((part, i) => (i % 2 === 0 ? escapeRegex(part) : capture ? '([^/]+)' : '[^/]+'))
    .join('');
  return `^${body}$`;
}

/** The replacement for the native rewrite: `/v1/users/{id}` with `{id}` as the n-th group of the path. */
export function rewriteReplacement(route: RouteConfig): string {
  const order = [...route.path.matchAll(PLACEHOLDER)].map((m) => m[1]);
  return route.servicePath.replace(PLACEHOLDER, (_m, name: string) => `$${order.indexOf(name) + 1}`);
}

/**
 * The rules for each service, in config order (its position fixes its priority block, so append new
 * services at the end). Routes with the same methods share a rule while paths plus methods fit in five
 * condition values; `alb` mode gives every path its own rule, since a rule holds one rewrite.
 */
export function planListenerRules(
  services: readonly Pick<ExtractedServiceConfig, 'name' | 'routes' | 'gateway'>[],
  positions: ReadonlyMap<string, number>,
  existingRules = 0,
): PlannedRule[] {
  const problems: string[] = [];
  const rules: PlannedRule[] = [];
  for (const service of services) {
    const base = ((positions.get(service.name) ?? 0) + 1) * PRIORITY_BLOCK;
    const groups = new Map<string, RouteConfig[]>();
    for (const route of service.routes) {
      const methods = [...route.methods].sort();
      if (methods.length >= MAX_CONDITION_VALUES_PER_RULE) {
        problems.push(
          `${service.name}: ${route.path} lists ${methods.length} methods; a rule holds ${MAX_CONDITION_VALUES_PER_RULE} condition values (methods plus paths): split the route`,
        );
        continue;
      }
      const key = methods.join(',');
      groups.set(key, [...(groups.get(key) ?? []), route]);
    }
    const serviceRules: PlannedRule[] = [];
    for (const [key, routes] of groups) {
      const methods = key.split(',') as HttpMethod[];
      const perRule = service.gateway === 'alb' ? 1 : MAX_CONDITION_VALUES_PER_RULE - methods.length;
      for (let i = 0; i < routes.length; i += perRule) {
        const chunk = routes.slice(i, i + perRule);
        serviceRules.push({
          service: service.name,
          priority: 0,
          pathRegexes: chunk.map((r) => pathRegex(r.path, service.gateway === 'alb')),
          methods,
          rewrite:
            service.gateway === 'alb'
              ? { regex: pathRegex(chunk[0].path, true), replace: rewriteReplacement(chunk[0]) }
              : undefined,
        });
      }
    }
    if (serviceRules.length >= PRIORITY_BLOCK - 1) {
      problems.push(
        `${service.name}: ${serviceRules.length} rules do not fit in its priority block of ${PRIORITY_BLOCK}`,
      );
    }
    // In alb mode the first priority of the block is the service's pin rule.
    const first = service.gateway === 'alb' ? base + 1 : base;
    rules.push(...serviceRules.map((r, i) => ({ ...r, priority: first + i })));
  }
  const pins = services.filter((s) => s.gateway === 'alb').length;
  for (const service of services.filter((s) => s.gateway === 'alb')) {
    const length = pinRegex(PIN_PINNED, pinRegexBody(service.routes)).length;
    if (length > MAX_REGEX_LENGTH) {
      problems.push(
        `${service.name}: its pin rule regex would be ${length} characters; an ALB condition value holds ${MAX_REGEX_LENGTH}: use fewer routes per service in alb mode, or krakend`,
      );
    }
  }
  if (rules.length + pins + existingRules > MAX_RULES_PER_LOAD_BALANCER) {
    problems.push(
      `the phase-3 routes need ${rules.length + pins} listener rules${existingRules ? ` besides ${existingRules} others` : ''}; an ALB holds ${MAX_RULES_PER_LOAD_BALANCER}: group routes with the same methods, or move a service back to phase 2`,
    );
  }
  if (problems.length > 0) throw new AlbRulesError(problems);
  return rules;
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

/** The listener rule conditions of a planned rule: its path regexes and its methods. */
export function ruleConditions(rule: PlannedRule) {
  return [
    { field: 'path-pattern', pathPatternConfig: { regexValues: [...rule.pathRegexes] } },
    { field: 'http-request-method', httpRequestMethodConfig: { values: [...rule.methods] } },
  ];
}
