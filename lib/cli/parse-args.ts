/**
 * Parses the operator CLI's arguments into a command, with `node:util` `parseArgs` (strict, one option
 * set per command). Pure: it checks the shape of what was typed (names, numbers, user ids); what is
 * allowed for the live flags is checked later against SSM.
 */
import { type ParseArgsConfig, parseArgs as parseArgv } from 'node:util';
import { FLAG_KINDS, type FlagKind, USER_ID } from '../flags/documents';
import { SERVICE_NAME } from '../naming';
import { DNS_USAGE, type DnsCommand, parseDns } from './dns-args';
import { UsageError } from './errors';

export interface GlobalOptions {
  readonly dryRun: boolean;
  readonly region?: string;
  readonly profile?: string;
  /** Environment file; absent means the embedded demo. */
  readonly config?: string;
  readonly reason?: string;
  /** The second key of the emergency override: why losing the data written since the cutover is accepted. */
  readonly acceptDataLoss?: string;
  /**
   * A list of users (a file the CLI wrote) who may leave the service with writes not yet in the legacy
   * database: a routing change goes ahead for exactly them (docs/data-contract.md).
   */
  readonly acceptLoss?: string;
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
  | { readonly name: 'cutover'; readonly service: string }
  | DnsCommand
  | { readonly name: 'pending'; readonly service: string; readonly drain: boolean };

export interface Invocation {
  readonly command: Command;
  readonly options: GlobalOptions;
}

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
  cutover <service> --confirm <service>    run the bulk migration, verify it, then record the point of no return (phase 2)
  pending <service> [--drain]              writes made on the service not yet in the legacy database, per user
                                           (--drain: write them back first, at most $MIGRATE_DRAIN_TIMEOUT_SECONDS)
${DNS_USAGE}

Options:
  --config <path>     environment file (default: $MIGRATE_CONFIG, else the embedded demo)
  --region <region>   AWS region (default: $AWS_REGION, $AWS_DEFAULT_REGION, else the file's region)
  --profile <name>    AWS profile, as defined in ~/.aws/config (default: $AWS_PROFILE)
  --reason <text>     why, stored in the document for the audit trail
  --dry-run           show what would be written, write nothing
  --accept-loss <file>
                      route and rollback: go ahead although the users listed in <file> (a list the CLI
                      wrote) leave the service with writes not yet in the legacy database
  --accept-data-loss <why>
                      route away from "all" after the point of no return; only with a valid
                      emergency override parameter (the second key; see docs/runbook.md)
  --help

--dry-run and --help are switches: give them alone (--dry-run, not --dry-run=true). A value follows its
option (--reason "ramp up") or is joined with = (--reason=-1 for a value starting with -).

Before a routing change sends users back to the monolith, the CLI writes their writes made on the service
back to the legacy database (at most $MIGRATE_DRAIN_TIMEOUT_SECONDS, 60), or refuses and lists them in a
file (in $MIGRATE_REPORT_DIR, else the system's temporary directory).
After a write the CLI has the flag guard check it and says when it is live; it waits up to
$MIGRATE_CONFIRM_TIMEOUT_SECONDS (60) for the guard's check when it cannot invoke the guard itself.`;

type Options = NonNullable<ParseArgsConfig['options']>;
type CommandName = Exclude<Command['name'], 'help'>;
type Values = Partial<Record<'config' | 'region' | 'profile' | 'reason' | 'flag' | 'confirm', string>> & {
  readonly 'accept-data-loss'?: string;
  readonly 'accept-loss'?: string;
  readonly 'dry-run'?: boolean;
  readonly drain?: boolean;
  readonly help?: boolean;
};

const GLOBAL_OPTIONS = {
  config: { type: 'string' },
  region: { type: 'string' },
  profile: { type: 'string' },
  reason: { type: 'string' },
  'dry-run': { type: 'boolean' },
  help: { type: 'boolean' },
} as const satisfies Options;
/** Each command's own options, besides GLOBAL_OPTIONS; strict parsing refuses the others. */
const COMMAND_OPTIONS: Record<CommandName, Options> = {
  status: {},
  history: { flag: { type: 'string' } },
  route: { 'accept-data-loss': { type: 'string' }, 'accept-loss': { type: 'string' } },
  gateway: {},
  rollback: { flag: { type: 'string' }, 'accept-loss': { type: 'string' } },
  cutover: { confirm: { type: 'string' } },
  dns: {},
  pending: { drain: { type: 'boolean' } },
};
const ALL_OPTIONS: Options = Object.assign({}, GLOBAL_OPTIONS, ...Object.values(COMMAND_OPTIONS));

const REGION = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$/;

const isCommand = (name: string | undefined): name is CommandName =>
  name !== undefined && Object.hasOwn(COMMAND_OPTIONS, name);

export function parseArgs(argv: readonly string[]): Invocation {
  // A lenient pass finds the command (options may come before it); its tokens explain a strict refusal.
  const lenient = { args: [...argv], options: ALL_OPTIONS, allowPositionals: true, tokens: true } as const;
  const { positionals, tokens } = parseArgv({ ...lenient, strict: false });
  const name = positionals[0];
  const command = isCommand(name) ? name : undefined;
  const allowed = command ? { ...GLOBAL_OPTIONS, ...COMMAND_OPTIONS[command] } : ALL_OPTIONS;
  let values: Values;
  let words: string[];
  try {
    const parsed = parseArgv({ args: [...argv], options: allowed, strict: true, allowPositionals: true });
    values = parsed.values as Values;
    words = parsed.positionals.slice(1);
  } catch (e) {
    if (!String((e as { code?: unknown }).code).startsWith('ERR_PARSE_ARGS_')) throw e;
    throw new UsageError(refusal(argv, tokens, allowed, command) ?? `${(e as Error).message}; see --help`);
  }
  const options = globalOptions(values);
  if (values.help || name === undefined) return { command: { name: 'help' }, options };
  if (command === undefined)
    throw new UsageError(
      `unknown command ${JSON.stringify(name)}; use status, history, route, gateway, rollback, cutover, pending or dns`,
    );
  return { command: build(command, words, values), options };
}

type Token = NonNullable<ReturnType<typeof parseArgv>['tokens']>[number];

/** What to do about the first option the strict pass refused (Node's own messages do not say). */
function refusal(
  argv: readonly string[],
  tokens: readonly Token[],
  allowed: Options,
  command?: CommandName,
): string | undefined {
  for (const t of tokens) {
    if (t.kind !== 'option') continue;
    const type = allowed[t.name]?.type;
    if (type === undefined && /^-\d/.test(t.rawName))
      return `${argv[t.index]} is negative; percent and weight are whole numbers from 0 to 100`;
    if (type === undefined && command && Object.hasOwn(ALL_OPTIONS, t.name)) {
      const takers = Object.keys(COMMAND_OPTIONS).filter((c) => t.name in COMMAND_OPTIONS[c as CommandName]);
      return `${t.rawName} does not apply to ${command}; only ${takers.join(' and ')} ${takers.length > 1 ? 'take' : 'takes'} it`;
    }
    if (type === undefined) return `unknown option ${t.rawName}; see --help`;
    if (type === 'boolean' && t.value !== undefined)
      return `${t.rawName} is a switch and takes no value: write ${t.rawName} alone (not ${t.rawName}=${t.value}), or leave it out`;
    if (type === 'string' && (t.value === undefined || (!t.inlineValue && t.value.startsWith('-'))))
      return `${t.rawName} needs a value (see --help); write ${t.rawName}=<value> for one that starts with -`;
  }
  return undefined;
}

function globalOptions(v: Values): GlobalOptions {
  if (v.config === '')
    throw new UsageError(
      '--config needs the path of an environment file, such as --config envs/prod.json; leave it out for $MIGRATE_CONFIG or the embedded demo',
    );
  if (v.region !== undefined && !REGION.test(v.region))
    throw new UsageError(`--region ${JSON.stringify(v.region)} is not a region code such as eu-west-1`);
  if (v.reason !== undefined && v.reason.length > 200)
    throw new UsageError(`--reason is ${v.reason.length} characters; keep it under 200`);
  if (v['accept-data-loss'] !== undefined && !/^.{10,150}$/s.test(v['accept-data-loss']))
    throw new UsageError('--accept-data-loss needs the reason for the emergency, 10-150 characters');
  if (v['accept-loss'] === '')
    throw new UsageError('--accept-loss needs the file of users the CLI wrote (its refusal names it)');
  return {
    dryRun: v['dry-run'] ?? false,
    region: v.region,
    profile: v.profile,
    config: v.config,
    reason: v.reason,
    acceptDataLoss: v['accept-data-loss'],
    acceptLoss: v['accept-loss'],
  };
}

function build(name: CommandName, words: readonly string[], v: Values): Command {
  /** The first word, a service name, of a command that takes `maxWords` words in all. */
  const service = (maxWords = Number.POSITIVE_INFINITY) => {
    const s = words[0];
    if (s === undefined) throw new UsageError(`${name} needs a service name; see --help`);
    if (!SERVICE_NAME.test(s))
      throw new UsageError(`${JSON.stringify(s)} is not a service name (2-16 lowercase letters or digits)`);
    if (words.length > maxWords)
      throw new UsageError(`unexpected argument ${JSON.stringify(words[maxWords])} for ${name}`);
    return s;
  };
  switch (name) {
    case 'status':
      return words.length ? { name, service: service(1) } : { name };
    case 'history':
      return { name, service: service(1), flag: flagKind(v.flag ?? 'routing', FLAG_KINDS) };
    case 'route':
      return parseRoute(service(), words.slice(1));
    case 'gateway':
      return { name, service: service(2), weight: wholeNumber('weight', words[1], 0, 100) };
    case 'rollback':
      return {
        name,
        service: service(1),
        flag: flagKind(v.flag ?? 'routing', ['routing', 'gateway'] as const),
      };
    case 'cutover': {
      const s = service(1);
      if (v.confirm === undefined)
        throw new UsageError(
          `cutover is the point of no return: repeat the service name with --confirm ${s}`,
        );
      if (v.confirm !== s)
        throw new UsageError(
          `--confirm ${JSON.stringify(v.confirm)} does not match the service ${JSON.stringify(s)}`,
        );
      return { name, service: s };
    }
    case 'dns':
      return parseDns(words);
    case 'pending':
      return { name, service: service(1), drain: v.drain ?? false };
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
