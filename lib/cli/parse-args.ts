/**
 * Parses the operator CLI's arguments into a command. Pure: it checks the shape of what was typed
 * (names, numbers, user ids); what is allowed for the live flags is checked later against SSM.
 */
import { FLAG_KINDS, type FlagKind, USER_ID } from '../flags/documents';

export interface GlobalOptions {
  readonly dryRun: boolean;
  readonly region?: string;
  readonly profile?: string;
  /** Environment file; absent means the embedded demo. */
  readonly config?: string;
  readonly reason?: string;
  /** The second key of the emergency override: why losing the data written since the cutover is accepted. */
  readonly acceptDataLoss?: string;
}

export type Command =
  | { readonly name: 'help' }
  | { readonly name: 'status'; readonly service?: string }
  | { readonly name: 'history'; readonly service: string; readonly flag: FlagKind }
  | { readonly name: 'route'; readonly service: string; readonly mode: 'off' | 'all' }
  | {
      readonly name: 'route';
      readonly service: string;
      readonly mode: 'users';
      readonly users: readonly string[];
    }
  | { readonly name: 'route'; readonly service: string; readonly mode: 'percent'; readonly percent: number }
  | { readonly name: 'gateway'; readonly service: string; readonly weight: number }
  | { readonly name: 'rollback'; readonly service: string; readonly flag: 'routing' | 'gateway' }
  | { readonly name: 'cutover'; readonly service: string };

export interface Invocation {
  readonly command: Command;
  readonly options: GlobalOptions;
}

import { UsageError } from './errors';

export { UsageError };

export const USAGE = `Usage: npx migrate <command> [options]     (or: npm run migrate -- <command> [options])

Commands:
  status [service]                         flags, cutover and gateway state of each service
  history <service> [--flag routing|cutover|gateway]
                                           every stored version, who wrote it, which is last-good
  route <service> off                      everyone back to the monolith (before the point of no return)
  route <service> all                      everyone to the service
  route <service> users <id> [<id>...]     only these users to the service
  route <service> percent <0-100>          a sticky share of users (plus listed users)
  gateway <service> <0-100>                share of the service's routes through the gateway (phase 3)
  rollback <service> [--flag routing|gateway]
                                           back to the version validated before the current one
  cutover <service> --confirm <service>    run the bulk migration, then record the point of no return (phase 2)

Options:
  --config <file>     environment file (default: $MIGRATE_CONFIG, else the embedded demo)
  --region <region>   AWS region (default: $AWS_REGION, $AWS_DEFAULT_REGION, else the file's region)
  --profile <name>    AWS profile
  --reason <text>     why, stored in the document for the audit trail
  --dry-run           show what would be written, write nothing
  --accept-data-loss <why>
                      route away from "all" after the point of no return; only with a valid
                      emergency override parameter (the second key; see docs/runbook.md)
  --help

After a write the CLI has the flag guard check it and says when it is live; it waits up to
$MIGRATE_CONFIRM_TIMEOUT_SECONDS (60) for the guard's check when it cannot invoke the guard itself.`;

const SERVICE = /^[a-z][a-z0-9]{1,15}$/;
const REGION = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$/;
const VALUE_OPTIONS = [
  '--config',
  '--region',
  '--profile',
  '--reason',
  '--flag',
  '--confirm',
  '--accept-data-loss',
] as const;
const FLAG_OPTIONS = ['--dry-run', '--help'] as const;

export function parseArgs(argv: readonly string[]): Invocation {
  const positional: string[] = [];
  const values: Partial<Record<(typeof VALUE_OPTIONS)[number], string>> = {};
  const flags = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg.startsWith('--')) {
      const [key, inline] = arg.split(/=(.*)/s, 2);
      if ((VALUE_OPTIONS as readonly string[]).includes(key)) {
        const value = inline ?? argv[++i];
        if (value === undefined || value.startsWith('--')) throw new UsageError(`${key} needs a value`);
        values[key as (typeof VALUE_OPTIONS)[number]] = value;
      } else if ((FLAG_OPTIONS as readonly string[]).includes(key) && inline === undefined) {
        flags.add(key);
      } else {
        throw new UsageError(`unknown option ${key}; see --help`);
      }
    } else {
      positional.push(arg);
    }
  }

  if (values['--region'] !== undefined && !REGION.test(values['--region'])) {
    throw new UsageError(
      `--region ${JSON.stringify(values['--region'])} is not a region code such as eu-west-1`,
    );
  }
  if (values['--reason'] !== undefined && values['--reason'].length > 200) {
    throw new UsageError(`--reason is ${values['--reason'].length} characters; keep it under 200`);
  }
  const options: GlobalOptions = {
    dryRun: flags.has('--dry-run'),
    region: values['--region'],
    profile: values['--profile'],
    config: values['--config'],
    reason: values['--reason'],
    acceptDataLoss: values['--accept-data-loss'],
  };
  if (options.acceptDataLoss !== undefined && !/^.{10,150}$/s.test(options.acceptDataLoss)) {
    throw new UsageError('--accept-data-loss needs the reason for the emergency, 10-150 characters');
  }
  if (flags.has('--help') || positional.length === 0) return { command: { name: 'help' }, options };

  const [name, ...rest] = positional;
  const allowed = (...keys: string[]) => {
    for (const key of ['--flag', '--confirm', '--accept-data-loss'] as const) {
      if (values[key] !== undefined && !keys.includes(key))
        throw new UsageError(`${key} does not apply to ${name}`);
    }
  };
  const service = () => {
    const s = rest[0];
    if (s === undefined) throw new UsageError(`${name} needs a service name; see --help`);
    if (!SERVICE.test(s))
      throw new UsageError(`${JSON.stringify(s)} is not a service name (2-16 lowercase letters or digits)`);
    return s;
  };
  const noMore = (count: number) => {
    if (rest.length > count)
      throw new UsageError(`unexpected argument ${JSON.stringify(rest[count])} for ${name}`);
  };

  switch (name) {
    case 'status':
      allowed();
      noMore(1);
      return { command: rest.length ? { name, service: service() } : { name }, options };
    case 'history': {
      allowed('--flag');
      const s = service();
      noMore(1);
      return {
        command: { name, service: s, flag: flagKind(values['--flag'] ?? 'routing', FLAG_KINDS) },
        options,
      };
    }
    case 'route':
      allowed('--accept-data-loss');
      return { command: parseRoute(service(), rest.slice(1)), options };
    case 'gateway': {
      allowed();
      const s = service();
      noMore(2);
      return { command: { name, service: s, weight: wholeNumber('weight', rest[1], 0, 100) }, options };
    }
    case 'rollback': {
      allowed('--flag');
      const s = service();
      noMore(1);
      return {
        command: {
          name,
          service: s,
          flag: flagKind(values['--flag'] ?? 'routing', ['routing', 'gateway'] as const),
        },
        options,
      };
    }
    case 'cutover': {
      allowed('--confirm');
      const s = service();
      noMore(1);
      const confirm = values['--confirm'];
      if (confirm === undefined)
        throw new UsageError(
          `cutover is the point of no return: repeat the service name with --confirm ${s}`,
        );
      if (confirm !== s)
        throw new UsageError(
          `--confirm ${JSON.stringify(confirm)} does not match the service ${JSON.stringify(s)}`,
        );
      return { command: { name, service: s }, options };
    }
    default:
      throw new UsageError(
        `unknown command ${JSON.stringify(name)}; use status, history, route, gateway, rollback or cutover`,
      );
  }
}

function parseRoute(service: string, args: readonly string[]): Command {
  const [mode, ...rest] = args;
  switch (mode) {
    case 'off':
    case 'all':
      if (rest.length > 0)
        throw new UsageError(`route ${mode} takes no further arguments, got ${JSON.stringify(rest[0])}`);
      return { name: 'route', service, mode };
    case 'users': {
      if (rest.length === 0) throw new UsageError('route users needs at least one user id');
      const bad = rest.find((u) => !USER_ID.test(u));
      if (bad !== undefined)
        throw new UsageError(
          `${JSON.stringify(bad)} is not a valid user id; use 1-64 letters, digits or _ . @ : -`,
        );
      const duplicate = rest.find((u, i) => rest.indexOf(u) !== i);
      if (duplicate !== undefined) throw new UsageError(`user ${JSON.stringify(duplicate)} is listed twice`);
      return { name: 'route', service, mode, users: rest };
    }
    case 'percent':
      if (rest.length > 1)
        throw new UsageError(`route percent takes one number, got also ${JSON.stringify(rest[1])}`);
      return { name: 'route', service, mode, percent: wholeNumber('percent', rest[0], 0, 100) };
    case undefined:
      throw new UsageError('route needs a mode: off, all, users <ids...> or percent <n>');
    default:
      throw new UsageError(`unknown routing mode ${JSON.stringify(mode)}; use off, all, users or percent`);
  }
}

function wholeNumber(what: string, text: string | undefined, min: number, max: number): number {
  if (text === undefined) throw new UsageError(`${what} needs a whole number from ${min} to ${max}`);
  if (!/^\d+$/.test(text))
    throw new UsageError(`${what} ${JSON.stringify(text)} is not a whole number from ${min} to ${max}`);
  const n = Number(text);
  if (n < min || n > max) throw new UsageError(`${what} ${n} is out of range; use ${min} to ${max}`);
  return n;
}

function flagKind<T extends string>(text: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(text)) {
    throw new UsageError(`--flag ${JSON.stringify(text)} is not one of ${allowed.join(', ')}`);
  }
  return text as T;
}
