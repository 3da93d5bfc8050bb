/**
 * `route <service> users|percent` moves a user only on the routes where the routing proxy finds who the
 * user is. For a service none of whose routes names an identity, those modes are accepted by the flag
 * contract yet move nobody: the CLI refuses them with the fix (lib/proxy/identity-coverage.ts says why).
 */
import type { MigrationConfig } from '../config/types';
import { capabilitiesOf } from '../phases';
import { identifiesNobody } from '../proxy/identity-coverage';
import { RefusedError } from './errors';
import type { Command } from './parse-args';

/** Throws when the command is `route <service> users|percent` for a service that identifies nobody. */
export function refuseUnidentifiable(config: MigrationConfig, command: Command): void {
  if (command.name !== 'route' || (command.mode !== 'users' && command.mode !== 'percent')) return;
  const index = config.services.findIndex((s) => s.name === command.service);
  const service = config.services[index];
  // An unknown service or one at phase 0 gets its own message from the command.
  if (!service || !capabilitiesOf(service).migrating || config.routing.mode !== 'proxy') return;
  if (!identifiesNobody(service)) return;
  const routes = service.routes.length === 0 ? 'has no routes' : 'has no route with an identity';
  throw new RefusedError(
    `refused: ${service.name} ${routes} (services[${index}].routes[].identity), so the routing proxy identifies no request of it and "${command.mode}" would move nobody. ` +
      `Set each route's identity (where the user is found: path, header, cookie, jwt or body; docs/routing-proxy.md, "Who is the user?") and deploy, or move everyone with: route ${service.name} all`,
  );
}
