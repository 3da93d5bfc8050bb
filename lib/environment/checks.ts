/**
 * The checks of an environment that need the domain's planning, run on the parsed configuration (its
 * shape is the schema's, lib/config/schema/): an endpoint belongs to one service, every service's
 * listener-rule block is its own, and the phase-3 routes fit the ALB's limits as the app will plan them.
 * Pure; each problem names the field and the fix, like the schema's.
 */
import { dotted } from '../config/parse';
import { RULE_BLOCKS } from '../config/rule-layout';
import type { AlbConfig, MigrationConfig, RouteConfig } from '../config/types';
import { planProblems, ruleBlockOf } from '../gateway/alb-rules';
import { LEGACY_PART, withCompositeRoutes } from '../gateway/composites';
import { overlappingMethods, pathsOverlap, sharedExample } from '../gateway/routes';
import type { ConfigProblem } from '../validation/reader';

type Services = MigrationConfig['services'];

/** Every problem of `config` that only the domain's planning finds, in the order of the fields. */
export function domainProblems(config: MigrationConfig): ConfigProblem[] {
  return [
    ...oneOwnerPerEndpoint(config.services),
    ...compositeParts(config.services),
    ...compositeOverlaps(config.services),
    ...ruleBlocks(config.alb, config.services),
    ...listenerRules(config.alb, config.services),
  ];
}

const at = (path: PropertyKey[], message: string): ConfigProblem => ({ path: dotted(path), message });

/** Paths that differ only in their placeholders' names are one endpoint. */
function sameShape(a: string, b: string): boolean {
  const shape = (p: string) => p.replace(/\{[^}]+\}/g, '{}');
  return shape(a) === shape(b);
}

/**
 * An endpoint belongs to one service: two services may not list routes that one request can match
 * (same method; equal paths, or paths that differ only where one has a placeholder), since which one
 * wins would depend on rule order in three routers. Within a service the more specific path wins.
 */
function oneOwnerPerEndpoint(services: Services): ConfigProblem[] {
  const found: ConfigProblem[] = [];
  const seen: { service: number; route: number; config: RouteConfig }[] = [];
  services.forEach((s, i) => {
    s.routes.forEach((route, j) => {
      for (const other of seen) {
        if (other.service === i) continue;
        const methods = overlappingMethods(route, other.config);
        if (methods.length === 0) continue;
        const owner = `services[${other.service}].routes[${other.route}] (${services[other.service].name})`;
        const shared = `${methods[0]} ${sharedExample(route.path, other.config.path)}`;
        found.push(
          at(
            ['services', i, 'routes', j],
            sameShape(route.path, other.config.path)
              ? `${methods.join(', ')} ${route.path} is also claimed by services[${other.service}].routes[${other.route}]; each endpoint belongs to one service`
              : `${methods.join(', ')} ${route.path} overlaps ${other.config.path} of ${owner}: a request such as ${shared} matches both; each endpoint belongs to one service: move the route to that service, or use a path its placeholders cannot match`,
          ),
        );
      }
      seen.push({ service: i, route: j, config: route });
    });
  });
  return found;
}

/** Every service's listener-rule block is its own. */
function ruleBlocks(alb: AlbConfig, services: Services): ConfigProblem[] {
  const found: ConfigProblem[] = [];
  const owners = new Map<number, number>();
  services.forEach((s, i) => {
    const block = ruleBlockOf(alb, s.name);
    const first = owners.get(block);
    if (first === undefined) {
      owners.set(block, i);
      return;
    }
    const taken = new Set(services.map((x) => ruleBlockOf(alb, x.name)));
    let free = block;
    while (taken.has(free)) free = (free % RULE_BLOCKS) + 1;
    const explicit = alb.ruleBlocks[s.name] !== undefined;
    found.push(
      at(
        explicit ? ['alb', 'ruleBlocks', s.name] : ['services', i, 'name'],
        `${s.name} gets listener-rule block ${block}${explicit ? '' : ' (derived from its name)'}, which services[${first}] (${services[first].name}) has already; a deployed service's block must never change, so give the newer of the two a free block, e.g. "alb": {"ruleBlocks": {"${s.name}": ${free}}}`,
      ),
    );
  });
  return found;
}

/** The listener rules of the phase-3 services, planned as the app will plan them: the ALB's limits. */
function listenerRules(alb: AlbConfig, services: Services): ConfigProblem[] {
  const atPhase3 = services.map((s, i) => ({ s, i })).filter(({ s }) => s.phase === 3);
  return planProblems(
    atPhase3.map(({ s }) => withCompositeRoutes(s, { services })),
    alb,
  ).problems.map((found) => {
    const index = atPhase3.find(({ s }) => s.name === found.service)?.i;
    return at(index === undefined ? ['alb', 'ruleQuota'] : ['services', index, 'routes'], found.message);
  });
}

/**
 * A composite's parts come from the monolith (through the routing proxy) or from an extracted service
 * the gateway can reach: one of the config, in `krakend` mode (decision 0014).
 */
function compositeParts(services: Services): ConfigProblem[] {
  const found: ConfigProblem[] = [];
  const byName = new Map(services.map((s) => [s.name, s]));
  services.forEach((s, i) => {
    s.composites.forEach((c, j) => {
      c.parts.forEach((part, k) => {
        if (part.from === LEGACY_PART) return;
        const path = ['services', i, 'composites', j, 'parts', k, 'from'];
        const called = byName.get(part.from);
        if (!called)
          found.push(
            at(
              path,
              `names no service; use "${LEGACY_PART}" (the monolith, through the routing proxy) or one of ${services.map((x) => `"${x.name}"`).join(', ')}`,
            ),
          );
        else if (called.gateway === 'alb')
          found.push(
            at(
              path,
              `${called.name} is in alb mode: the ALB cannot compose, and the gateway calls ${called.name} only in krakend mode; fetch this part from the monolith through the routing proxy (from "${LEGACY_PART}", on its old path), or set ${called.name}'s gateway to "krakend"`,
            ),
          );
      });
    });
  });
  return found;
}

/**
 * A composite endpoint is one endpoint of one service: no route (of any service) and no other composite
 * may match a GET request it matches, since the rules, the gateway and the proxy would each pick one.
 */
function compositeOverlaps(services: Services): ConfigProblem[] {
  const found: ConfigProblem[] = [];
  const composites = services.flatMap((s, i) => s.composites.map((c, j) => ({ s, i, c, j })));
  for (const { s, i, c, j } of composites) {
    const path = ['services', i, 'composites', j, 'path'];
    services.forEach((other, oi) => {
      other.routes.forEach((route, ri) => {
        if (!route.methods.includes('GET') || !pathsOverlap(c.path, route.path)) return;
        found.push(
          at(
            path,
            `GET ${c.path} overlaps ${route.path} of services[${oi}].routes[${ri}] (${other.name}): a request such as GET ${sharedExample(c.path, route.path)} matches both; remove GET from the route, or use a path the other cannot match`,
          ),
        );
      });
    });
    for (const other of composites) {
      if (other.i > i || (other.i === i && other.j >= j) || !pathsOverlap(c.path, other.c.path)) continue;
      found.push(
        at(
          path,
          `GET ${c.path} overlaps the composite ${other.c.path} of services[${other.i}] (${other.s.name}): a request such as GET ${sharedExample(c.path, other.c.path)} matches both; keep one${other.s.name === s.name ? '' : ', in the service that owns the endpoint'}`,
        ),
      );
    }
  }
  return found;
}
