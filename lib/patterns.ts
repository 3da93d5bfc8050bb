/**
 * The name patterns that IAM policies and EventBridge rules use instead of one name per service, so that
 * their size does not grow with the number of services (decision 0017). Pure: the names themselves are in
 * lib/naming.ts and lib/flags/parameters.ts; a pattern here is the same function with `*` for the service.
 *
 * Two kinds, and what each can match besides this environment's services:
 * - **parameter patterns** (`<prefix>/*\/routing`): closed by the prefix's own `/`; they match parameters
 *   of this environment only, including those of a service no longer in the config, and (since `*`
 *   crosses `/`) the guard's records of the same kind (`<prefix>/<svc>/guard/routing`);
 * - **name-prefix patterns** (`<name>-*-write-back`, `<name>-*-cutover`, alarm names): they also match the
 *   resources of another environment whose name starts with `<name>-` (`shop` and `shop-eu`). Give
 *   environments that share an account and region names where neither is `<other>-...` (the runbook
 *   says so), or a separate account per environment.
 */
import { FLAG_KINDS, type FlagKind } from './flags/documents';
import { flagParameterNames, guardRecordNames, overrideParameterName } from './flags/parameters';
import {
  cutoverStateMachineName,
  gatewayAlarmNames,
  serviceAlarmNames,
  writeBackFunctionName,
} from './naming';

/** Stands for any service in a pattern. */
export const ANY = '*';

/** Every service's flag of these kinds: `<prefix>/*\/<kind>`. */
export function flagPatterns(prefix: string, kinds: readonly FlagKind[] = FLAG_KINDS): string[] {
  const names = flagParameterNames(prefix, ANY);
  return kinds.map((k) => names[k]);
}

/** Every service's emergency override: `<prefix>/*\/override`. */
export function overridePattern(prefix: string): string {
  return overrideParameterName(prefix, ANY);
}

/** Every service's guard records: `<prefix>/*\/guard/*`. */
export function guardRecordPattern(prefix: string): string {
  return guardRecordNames(prefix, ANY).routing.replace(/\/routing$/, `/${ANY}`);
}

/** Every service's live ALB state: `<prefix>/*\/live/*`. */
export function livePattern(prefix: string): string {
  return `${prefix}/${ANY}/live/${ANY}`;
}

/** Every parameter under the prefix: `<prefix>/*`. */
export function underPrefix(prefix: string): string {
  return `${prefix}/${ANY}`;
}

/** Every service's cutover state machine: `<name>-*-cutover`. */
export function cutoverStateMachinePattern(envName: string): string {
  return cutoverStateMachineName(envName, ANY);
}

/** Every service's write-back function: `<name>-*-write-back`. */
export function writeBackFunctionPattern(envName: string): string {
  return writeBackFunctionName(envName, ANY);
}

/**
 * The alarms an automatic rollback reacts to, of every service and the gateway: `<name>-*-5xx-rate` and the
 * like (the gateway's `<name>-gateway-...` alarms included, as `gateway` in the place of a service).
 * Sorted and without duplicates (the `alb-` alarms are matched by the same patterns).
 */
export function rollbackAlarmPatterns(envName: string): string[] {
  const patterns = new Set<string>();
  const suffixes = [
    ...Object.values(serviceAlarmNames(envName, ANY)),
    ...Object.values(gatewayAlarmNames(envName)),
  ].map((name) => name.slice(`${envName}-`.length).replace(/^(\*|gateway)-(alb-)?/, ''));
  for (const suffix of suffixes) patterns.add(`${envName}-${ANY}-${suffix}`);
  return [...patterns].sort();
}
