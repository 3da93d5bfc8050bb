/**
 * Which composite endpoints reach the gateway, and what the ALB rules and the KrakenD configuration need
 * of them. A composite belongs to one service (its owner): it uses the owner's rule block and gateway
 * weight, and reaches the gateway only when the owner and every other extracted service it calls are at
 * phase 3 in `krakend` mode; until then the monolith answers it, as before. Pure (decision 0014).
 */
import { LEGACY_PART } from '../config/schema/composites';
import type {
  CompositeConfig,
  CompositePartConfig,
  ExtractedServiceConfig,
  MigrationConfig,
  RouteConfig,
} from '../config/types';
import { capabilitiesOf } from '../phases';
import type { GatewayComposite } from './krakend';

export { LEGACY_PART };

/**
 * The Service Connect name of the legacy task's front door (the routing proxy, or the monolith when it
 * routes itself): how the gateway fetches the parts that still live in the monolith.
 */
export const LEGACY_ENDPOINT_NAME = LEGACY_PART;

/**
 * Request headers every part of a composite receives: the trace context (W3C and the ALB's), the
 * credentials the routing proxy and the services read, the client's language and agent. Any other header
 * is named per composite (`headers`) or by a route's identity (source "header").
 */
export const COMPOSITE_BASE_HEADERS: readonly string[] = [
  'Accept-Language',
  'Authorization',
  'Cookie',
  'traceparent',
  'tracestate',
  'User-Agent',
  'X-Amzn-Trace-Id',
];

/** One composite endpoint of a service, and what it waits for. */
export interface PlannedComposite {
  readonly owner: ExtractedServiceConfig;
  readonly composite: CompositeConfig;
  /**
   * The services (the owner included) not yet at phase 3 in `krakend` mode; empty when the composite is
   * at the gateway.
   */
  readonly waitingFor: readonly string[];
}

const throughGateway = (s: ExtractedServiceConfig | undefined) =>
  s !== undefined && capabilitiesOf(s).throughGateway;

/** The extracted services a composite calls directly (not through the monolith's proxy). */
export function servicesCalled(composite: CompositeConfig): string[] {
  return [...new Set(composite.parts.map((p) => p.from).filter((from) => from !== LEGACY_PART))];
}

export function callsLegacy(composite: CompositeConfig): boolean {
  return composite.parts.some((p) => p.from === LEGACY_PART);
}

/** Every composite endpoint of the configuration, with what it waits for. */
export function plannedComposites(config: Pick<MigrationConfig, 'services'>): PlannedComposite[] {
  const byName = new Map(config.services.map((s) => [s.name, s]));
  return config.services.flatMap((owner) =>
    owner.composites.map((composite) => ({
      owner,
      composite,
      waitingFor: [owner.name, ...servicesCalled(composite)].filter(
        (name, i, all) => all.indexOf(name) === i && !throughGateway(byName.get(name)),
      ),
    })),
  );
}

/** The composites at the gateway (every service they call at phase 3 in `krakend` mode). */
export function activeComposites(config: Pick<MigrationConfig, 'services'>): PlannedComposite[] {
  return plannedComposites(config).filter((c) => c.waitingFor.length === 0);
}

/** Whether the gateway fetches parts from the monolith: the legacy task then publishes its front door. */
export function gatewayCallsLegacy(config: Pick<MigrationConfig, 'services'>): boolean {
  return activeComposites(config).some((c) => callsLegacy(c.composite));
}

/**
 * The routes a phase-3 service's ALB rules match: its routes, then its composites at the gateway (GET,
 * with no path of their own on a service). The service with these routes goes to the rule planner.
 */
export function withCompositeRoutes<S extends Pick<ExtractedServiceConfig, 'name' | 'routes'>>(
  service: S,
  config: Pick<MigrationConfig, 'services'>,
): S {
  const own = activeComposites(config).filter((c) => c.owner.name === service.name);
  if (own.length === 0) return service;
  const routes: RouteConfig[] = own.map(({ composite }) => ({
    path: composite.path,
    methods: ['GET'],
    servicePath: composite.path,
  }));
  return { ...service, routes: [...service.routes, ...routes] };
}

/** The header names the routes' identities read from (source "header"), for the parts through the proxy. */
function identityHeaders(config: Pick<MigrationConfig, 'services'>): string[] {
  return config.services.flatMap((s) =>
    s.routes.flatMap((r) => (r.identity?.source === 'header' ? [r.identity.name] : [])),
  );
}

/** Header names once each, compared without case, in the order first seen. */
function uniqueHeaders(names: readonly string[]): string[] {
  const seen = new Set<string>();
  return names.filter((n) => {
    const key = n.toLowerCase();
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Where the gateway reaches each backend: the legacy front door, and each service by name. */
export interface CompositeHosts {
  /** Asked only when a composite at the gateway has a part from the monolith. */
  readonly legacy: () => string;
  readonly service: (name: string) => string;
}

function gatewayPart(part: CompositePartConfig, hosts: CompositeHosts) {
  const { from, path, group, collection, allow, deny, mapping, target } = part;
  return {
    from,
    host: from === LEGACY_PART ? hosts.legacy() : hosts.service(from),
    path,
    ...(group !== undefined ? { group } : {}),
    ...(collection !== undefined ? { collection } : {}),
    ...(allow !== undefined ? { allow } : {}),
    ...(deny !== undefined ? { deny } : {}),
    ...(mapping !== undefined ? { mapping } : {}),
    ...(target !== undefined ? { target } : {}),
  };
}

/** The composites at the gateway as the KrakenD generator reads them. */
export function gatewayComposites(
  config: Pick<MigrationConfig, 'services' | 'gateway'>,
  hosts: CompositeHosts,
): GatewayComposite[] {
  const fromRoutes = identityHeaders(config);
  return activeComposites(config).map(({ owner, composite }) => ({
    service: owner.name,
    path: composite.path,
    timeoutMs: composite.timeoutMs ?? config.gateway.timeoutMs,
    headers: uniqueHeaders([...COMPOSITE_BASE_HEADERS, ...fromRoutes, ...composite.headers]),
    parts: composite.parts.map((p) => gatewayPart(p, hosts)),
  }));
}

/** The legacy task's front door as the gateway calls it through Service Connect. */
export interface LegacyFrontDoor {
  readonly dnsName: string;
  /** The port clients call: the routing proxy's, or the monolith's when it routes itself (in-app). */
  readonly port: number;
  /**
   * The port the legacy task's Service Connect proxy listens on for it (`ingressPortOverride`), away
   * from the task's own ports, so that the load balancer's traffic keeps reaching the container directly.
   */
  readonly ingressPort: number;
}

/** The ports tried for the Service Connect proxy's ingress, in order; the first the task does not use wins. */
const INGRESS_PORTS = [8899, 8898, 8897];

export function legacyFrontDoor(config: Pick<MigrationConfig, 'legacy' | 'routing'>): LegacyFrontDoor {
  // A monolith outside the app (legacy.mode "external") has no port in the task; it routes through the
  // proxy (the schema refuses in-app routing for it).
  const monolithPort = config.legacy.mode === 'hosted' ? [config.legacy.port] : [];
  const port = config.routing.mode === 'proxy' ? config.routing.proxy.port : (monolithPort[0] as number);
  const taken = new Set([...monolithPort, port]);
  const ingressPort = INGRESS_PORTS.find((p) => !taken.has(p)) as number;
  return { dnsName: LEGACY_ENDPOINT_NAME, port, ingressPort };
}
