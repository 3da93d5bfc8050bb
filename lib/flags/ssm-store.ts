/**
 * The SSM adapter of the flag contract, shared by the Lambda hooks and the CLI. The client is injected
 * (tests pass a mocked or emulator-bound one); nothing here decides anything.
 */
import {
  GetParameterCommand,
  GetParameterHistoryCommand,
  LabelParameterVersionCommand,
  PutParameterCommand,
  type SSMClient,
} from '@aws-sdk/client-ssm';
import {
  type FlagDocument,
  type FlagKind,
  INITIAL_DOCUMENTS,
  type OverrideDocument,
  type ParseResult,
  parseFlag,
  parseOverride,
  serializeFlag,
  TIER_MAX_BYTES,
} from './documents';
import type { FlagSet } from './invariants';
import { type FlagParameterNames, LAST_GOOD_LABEL } from './parameters';

/** One version of a flag parameter. */
export interface FlagVersion {
  readonly version: number;
  readonly value: string;
  readonly labels: readonly string[];
  readonly modifiedAt?: Date;
  /** The IAM identity that wrote it (SSM's LastModifiedUser). */
  readonly modifiedBy?: string;
}

export class FlagStore {
  constructor(
    readonly names: FlagParameterNames,
    private readonly ssm: SSMClient,
    private readonly routingMaxBytes: number = TIER_MAX_BYTES.standard,
    /** The service's emergency override parameter; absent: overrides are never honoured. */
    readonly overrideName?: string,
  ) {}

  /**
   * The emergency override, when its parameter exists, parses and has not expired. Otherwise why not
   * (a message for the operator); a missing parameter is the normal case.
   */
  async override(now: Date): Promise<{ value?: OverrideDocument; problem: string }> {
    if (!this.overrideName) return { problem: 'this service has no override parameter configured' };
    try {
      const out = await this.ssm.send(new GetParameterCommand({ Name: this.overrideName }));
      const parsed = parseOverride(out.Parameter?.Value ?? '', now);
      return parsed.ok ? { value: parsed.value, problem: '' } : { problem: parsed.errors.join('; ') };
    } catch (e) {
      if ((e as Error).name === 'ParameterNotFound')
        return { problem: `${this.overrideName} does not exist` };
      throw e;
    }
  }

  /** The byte limit of a kind's parameter tier. */
  maxBytes(kind: FlagKind): number {
    return kind === 'routing' ? this.routingMaxBytes : TIER_MAX_BYTES.standard;
  }

  parse<K extends FlagKind>(kind: K, value: string): ParseResult<FlagDocument<K>> {
    return parseFlag(kind, value, this.maxBytes(kind));
  }

  /** The latest version (no labels: use `history` for them). */
  async latest(kind: FlagKind): Promise<FlagVersion> {
    const out = await this.ssm.send(new GetParameterCommand({ Name: this.names[kind] }));
    const p = out.Parameter;
    if (!p?.Value || p.Version === undefined) throw new Error(`${this.names[kind]}: SSM returned no value`);
    return { version: p.Version, value: p.Value, labels: [], modifiedAt: p.LastModifiedDate };
  }

  /** Every stored version, oldest first (SSM keeps the last 100). */
  async history(kind: FlagKind): Promise<FlagVersion[]> {
    const versions: FlagVersion[] = [];
    let NextToken: string | undefined;
    do {
      const out = await this.ssm.send(
        new GetParameterHistoryCommand({ Name: this.names[kind], MaxResults: 50, NextToken }),
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

  /** The version labelled `last-good`, if the guard ever validated one. */
  async lastGood(kind: FlagKind): Promise<FlagVersion | undefined> {
    return (await this.history(kind)).find((v) => v.labels.includes(LAST_GOOD_LABEL));
  }

  /** Moves the `last-good` label to `version` (SSM moves a label that is on another version). */
  async markLastGood(kind: FlagKind, version: number): Promise<void> {
    await this.ssm.send(
      new LabelParameterVersionCommand({
        Name: this.names[kind],
        ParameterVersion: version,
        Labels: [LAST_GOOD_LABEL],
      }),
    );
  }

  /** Writes a new version and returns its number. */
  async put<K extends FlagKind>(kind: K, doc: FlagDocument<K>): Promise<number> {
    return this.putRaw(kind, serializeFlag(kind, doc));
  }

  /** Writes a value as it is (the guard restores the exact text of a last-good version). */
  async putRaw(kind: FlagKind, value: string): Promise<number> {
    const out = await this.ssm.send(
      new PutParameterCommand({ Name: this.names[kind], Value: value, Type: 'String', Overwrite: true }),
    );
    if (out.Version === undefined) throw new Error(`${this.names[kind]}: SSM returned no version`);
    return out.Version;
  }

  /**
   * The documents as last validated by the guard: each kind's `last-good` version, or the initial
   * document when none was labelled yet (the deploy's safe value).
   */
  async lastGoodSet(): Promise<FlagSet> {
    const read = async <K extends FlagKind>(kind: K): Promise<FlagDocument<K>> => {
      const good = await this.lastGood(kind);
      if (!good) return INITIAL_DOCUMENTS[kind];
      const parsed = this.parse(kind, good.value);
      return parsed.ok ? parsed.value : INITIAL_DOCUMENTS[kind];
    };
    const [routing, cutover, gateway] = await Promise.all([
      read('routing'),
      read('cutover'),
      read('gateway'),
    ]);
    return { routing, cutover, gateway };
  }
}
