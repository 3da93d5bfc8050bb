/**
 * The SSM adapter of the flag contract, shared by the Lambda hooks, the CLI and the routing proxy. The
 * client is injected (tests pass a mocked or emulator-bound one); nothing here decides anything.
 */
import {
  GetParameterCommand,
  GetParameterHistoryCommand,
  GetParametersCommand,
  LabelParameterVersionCommand,
  PutParameterCommand,
  type SSMClient,
} from '@aws-sdk/client-ssm';
import {
  ALL_ROUTING,
  type DocumentKind,
  type FlagDocument,
  type FlagKind,
  INITIAL_DOCUMENTS,
  type OverrideDocument,
  type ParseResult,
  parseFlag,
  serializeFlag,
  TIER_MAX_BYTES,
} from './documents';
import type { FlagSet } from './invariants';
import type { LoadOutcome } from './loaded-flags';
import { checkedName, type FlagParameterNames, LAST_GOOD_LABEL } from './parameters';

/** One version of a flag parameter. */
export interface FlagVersion {
  readonly version: number;
  readonly value: string;
  readonly labels: readonly string[];
  readonly modifiedAt?: Date;
  /** The IAM identity that wrote it (SSM's LastModifiedUser). */
  readonly modifiedBy?: string;
}

/** GetParameters takes at most this many names per call. */
export const GET_PARAMETERS_MAX_NAMES = 10;

/**
 * Reads the checked version (`<name>:last-good`) of each parameter in as few GetParameters calls as the
 * API allows. A parameter or label that does not exist is `missing`; a failed call makes its names `error`.
 * `abortSignal` ends the calls under way (a reader's own deadline).
 */
export async function readChecked(
  ssm: SSMClient,
  names: readonly string[],
  options: { readonly abortSignal?: AbortSignal } = {},
): Promise<Map<string, LoadOutcome>> {
  const out = new Map<string, LoadOutcome>();
  const batches: string[][] = [];
  for (let i = 0; i < names.length; i += GET_PARAMETERS_MAX_NAMES)
    batches.push([...names.slice(i, i + GET_PARAMETERS_MAX_NAMES)]);
  await Promise.all(
    batches.map(async (batch) => {
      try {
        const res = await ssm.send(
          new GetParametersCommand({ Names: batch.map(checkedName) }),
          options.abortSignal ? { abortSignal: options.abortSignal } : {},
        );
        for (const p of res.Parameters ?? []) {
          // SSM answers `<name>:last-good` with Name `<name>` (the label in Selector); a parameter name
          // cannot contain ":", so a name that came back with its selector is matched all the same.
          if (p.Name !== undefined && p.Value !== undefined)
            out.set(p.Name.split(':')[0], { status: 'ok', text: p.Value });
        }
        for (const name of batch) if (!out.has(name)) out.set(name, { status: 'missing' });
      } catch (error) {
        for (const name of batch) out.set(name, { status: 'error', error });
      }
    }),
  );
  return out;
}

export function isNotFound(e: unknown): boolean {
  const name = (e as Error)?.name;
  return (
    name === 'ParameterNotFound' ||
    name === 'ParameterVersionLabelNotFound' ||
    name === 'ParameterVersionNotFound'
  );
}

export interface FlagStoreOptions {
  /** SSM tier of the routing parameter (and its guard record): standard 4 KB, advanced 8 KB. */
  readonly tier: 'standard' | 'advanced';
  /** The service's emergency override parameter. */
  readonly overrideName: string;
  /** The guard's record of the last checked texts (written only by the guard). */
  readonly recordNames?: FlagParameterNames;
  /** The deploy-time marker: the environment config records the cutover as completed. */
  readonly cutoverRecorded?: { readonly runId: string; readonly completedAt: string };
}

/** One service's flag parameters. */
export class FlagStore {
  constructor(
    readonly names: FlagParameterNames,
    private readonly ssm: SSMClient,
    readonly options: FlagStoreOptions,
  ) {}

  get overrideName(): string {
    return this.options.overrideName;
  }

  /** The byte limit a write to a kind's parameter must respect (its tier). */
  maxBytes(kind: DocumentKind): number {
    return kind === 'routing' ? TIER_MAX_BYTES[this.options.tier] : TIER_MAX_BYTES.standard;
  }

  /** Parses a text as a write to this service's parameter: every rule of the contract plus its tier. */
  parse<K extends DocumentKind>(kind: K, value: string): ParseResult<FlagDocument<K>> {
    return parseFlag(kind, value, this.maxBytes(kind));
  }

  /** The latest version (no labels: use `history` for them). */
  async latest(kind: FlagKind): Promise<FlagVersion> {
    const out = await this.ssm.send(new GetParameterCommand({ Name: this.names[kind] }));
    const p = out.Parameter;
    if (p?.Value === undefined || p.Version === undefined)
      throw new Error(`${this.names[kind]}: SSM returned no value`);
    return { version: p.Version, value: p.Value, labels: [], modifiedAt: p.LastModifiedDate };
  }

  /**
   * The version of a flag labelled `last-good` (what readers read), by GetParameters on `<name>:last-good`
   * (no GetParameterHistory needed); undefined when there is none. A failed read throws.
   */
  async checkedVersion(kind: FlagKind): Promise<FlagVersion | undefined> {
    const name = this.names[kind];
    const out = await this.ssm.send(new GetParametersCommand({ Names: [checkedName(name)] }));
    const p = (out.Parameters ?? []).find((q) => q.Name?.split(':')[0] === name);
    if (p?.Version === undefined || p.Value === undefined) return undefined;
    return { version: p.Version, value: p.Value, labels: [LAST_GOOD_LABEL], modifiedAt: p.LastModifiedDate };
  }

  /** Every stored version of a parameter, oldest first (SSM keeps the last 100); throws ParameterNotFound. */
  async historyOf(name: string): Promise<FlagVersion[]> {
    const versions: FlagVersion[] = [];
    let NextToken: string | undefined;
    do {
      const out = await this.ssm.send(
        new GetParameterHistoryCommand({ Name: name, MaxResults: 50, NextToken }),
      );
      for (const p of out.Parameters ?? []) {
        if (p.Version === undefined || p.Value === undefined) continue;
        versions.push({
          version: p.Version,
          value: p.Value,
          labels: p.Labels ?? [],
          modifiedAt: p.LastModifiedDate,
          modifiedBy: p.LastModifiedUser,
        });
      }
      NextToken = out.NextToken;
    } while (NextToken);
    return versions.sort((a, b) => a.version - b.version);
  }

  history(kind: FlagKind): Promise<FlagVersion[]> {
    return this.historyOf(this.names[kind]);
  }

  /** Moves the `last-good` label to `version` (SSM moves a label that is on another version). */
  async markLastGood(name: string, version: number): Promise<void> {
    await this.ssm.send(
      new LabelParameterVersionCommand({ Name: name, ParameterVersion: version, Labels: [LAST_GOOD_LABEL] }),
    );
  }

  /** Writes a new version of a flag and returns its number. */
  async put<K extends FlagKind>(kind: K, doc: FlagDocument<K>): Promise<number> {
    return this.putRaw(kind, serializeFlag(kind, doc));
  }

  /**
   * Writes a value as it is (the guard restores the exact text of a checked version). A routing parameter
   * in the advanced tier is written as advanced, which upgrades a standard one (SSM cannot go back).
   */
  async putRaw(kind: FlagKind, value: string): Promise<number> {
    return this.putParameter(this.names[kind], value, kind === 'routing' ? this.options.tier : 'standard');
  }

  async putParameter(name: string, value: string, tier: 'standard' | 'advanced'): Promise<number> {
    const out = await this.ssm.send(
      new PutParameterCommand({
        Name: name,
        Value: value,
        Type: 'String',
        Overwrite: true,
        ...(tier === 'advanced' ? { Tier: 'Advanced' } : {}),
      }),
    );
    if (out.Version === undefined) throw new Error(`${name}: SSM returned no version`);
    return out.Version;
  }

  /** The checked text (`:last-good`) of each flag and of the override, in one GetParameters call. */
  async checkedTexts(): Promise<{ readonly [K in DocumentKind]: LoadOutcome }> {
    const loaded = await readChecked(this.ssm, [...Object.values(this.names), this.overrideName]);
    const of = (name: string): LoadOutcome => loaded.get(name) ?? { status: 'missing' };
    return {
      routing: of(this.names.routing),
      cutover: of(this.names.cutover),
      gateway: of(this.names.gateway),
      override: of(this.overrideName),
    };
  }

  /**
   * The documents as last checked by the guard (`:last-good`). A flag that is missing or unreadable counts
   * as its initial document, except that a cutover recorded in the environment config stays completed
   * (and routing then defaults to "all"). A failed read throws: a decision needs the flags.
   */
  async checkedSet(): Promise<{ flags: FlagSet; override?: OverrideDocument }> {
    const texts = await this.checkedTexts();
    const doc = <K extends DocumentKind>(kind: K): FlagDocument<K> | undefined => {
      const t = texts[kind];
      // The SDK's own error, so that callers can tell throttling, denial and missing credentials apart.
      if (t.status === 'error') throw t.error ?? new Error(`could not read the ${kind} flag`);
      if (t.status === 'missing') return undefined;
      const parsed = parseFlag(kind, t.text);
      return parsed.ok ? parsed.value : undefined;
    };
    const marker = this.options.cutoverRecorded;
    const read = doc('cutover');
    const cutover = read?.completed
      ? read
      : marker
        ? { completed: true as const, ...marker }
        : (read ?? INITIAL_DOCUMENTS.cutover);
    return {
      flags: {
        routing: doc('routing') ?? (cutover.completed ? ALL_ROUTING : INITIAL_DOCUMENTS.routing),
        cutover,
        gateway: doc('gateway') ?? INITIAL_DOCUMENTS.gateway,
      },
      override: doc('override'),
    };
  }
}
