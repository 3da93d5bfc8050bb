/**
 * Configurations that look right and route nobody: the routing proxy moves a chosen user (routing mode
 * `users` or `percent`) only on the routes where it finds who the user is (`routes[].identity`), and it
 * compares and hashes the string it finds there. So
 * - a route without an identity never moves anyone in those modes (its requests follow `anonymous`);
 *   a service none of whose routes has one cannot move anybody but with `all`;
 * - routes that find the user in different places (a login body's e-mail, a JWT's `sub`, a path id)
 *   give one person different strings, which may fall on different sides: one person split between
 *   the monolith and the service, with data on both.
 * Pure: the app turns these into synth warnings (lib/app.ts), the CLI refuses `users`/`percent` for a
 * service that identifies nobody (lib/cli/identity-check.ts). Only with `routing.mode: "proxy"`: a
 * monolith that routes itself knows its user from its own session.
 */
import type { ExtractedServiceConfig, MigrationConfig, RouteConfig } from '../config/types';
import { capabilitiesOf } from '../phases';

type Identity = NonNullable<RouteConfig['identity']>;

/** A warning about one service, with the CDK annotation id it is raised under. */
export interface IdentityWarning {
  readonly service: string;
  readonly id: 'migration:route-without-identity' | 'migration:mixed-identity-sources';
  readonly message: string;
}

/** Where an identity finds the user, as one string: two routes with the same place agree. */
export function identityPlace(identity: Identity): string {
  switch (identity.source) {
    case 'path':
      return `path {${identity.name}}`;
    case 'header':
      return `header ${identity.name.toLowerCase()}`;
    case 'cookie':
      return `cookie ${identity.name}`;
    case 'jwt':
      return `JWT claim ${identity.claim}`;
    case 'body':
      return `body field ${identity.field}`;
  }
}

/** Whether per-user routing applies to the service: the proxy routes it, from phase 1. */
function proxyRouted(config: MigrationConfig, service: ExtractedServiceConfig): boolean {
  return config.routing.mode === 'proxy' && capabilitiesOf(service).migrating;
}

/** Whether no request of the service can ever be identified (no route names an identity). */
export function identifiesNobody(service: ExtractedServiceConfig): boolean {
  return !service.routes.some((r) => r.identity !== undefined);
}

const describeRoute = (r: RouteConfig) => `${r.methods.join(',')} ${r.path}`;

/** The warnings of every proxy-routed service at phase 1 or later. */
export function identityWarnings(config: MigrationConfig): IdentityWarning[] {
  const warnings: IdentityWarning[] = [];
  config.services.forEach((service, i) => {
    if (!proxyRouted(config, service)) return;
    const at = `services[${i}]`;
    // An explicit `anonymous` says the author knows the route identifies nobody (a sign-up).
    const unidentified = service.routes
      .map((route, j) => ({ route, j }))
      .filter(({ route }) => route.identity === undefined && route.anonymous === undefined);
    if (unidentified.length > 0) {
      const which = unidentified.map(({ route, j }) => `${at}.routes[${j}] (${describeRoute(route)})`);
      const nobody = identifiesNobody(service);
      warnings.push({
        service: service.name,
        id: 'migration:route-without-identity',
        message:
          `${service.name}: ${which.join(', ')} ${unidentified.length === 1 ? 'has' : 'have'} no identity, so with routing "users" or "percent" no request on ${unidentified.length === 1 ? 'it' : 'them'} is identified and none moves (they follow "anonymous", default "legacy")` +
          `${nobody ? `; no route of ${service.name} has one, so only "all" moves anybody` : ''}. ` +
          'Set routes[].identity to where the user is found (docs/routing-proxy.md, "Who is the user?"), or set routes[].anonymous to say it is meant (a sign-up has no user yet).',
      });
    }
    const places = new Map<string, string[]>();
    for (const route of service.routes) {
      if (!route.identity) continue;
      const place = identityPlace(route.identity);
      places.set(place, [...(places.get(place) ?? []), describeRoute(route)]);
    }
    if (places.size > 1 && !service.identitiesAgree) {
      const list = [...places].map(([place, routes]) => `${place} on ${routes.join(' and ')}`);
      warnings.push({
        service: service.name,
        id: 'migration:mixed-identity-sources',
        message:
          `${service.name}'s routes find the user in ${places.size} places (${list.join('; ')}). ` +
          'The proxy compares and hashes the string it finds, so unless they are the same user id, one person can be split between the monolith and the service: "users" must list each of their strings, and "percent" may put them on different sides. ' +
          `Make every route carry the same id (e.g. a JWT claim on each), or set ${at}.identitiesAgree to true when they already do.`,
      });
    }
  });
  return warnings;
}
