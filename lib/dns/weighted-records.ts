/**
 * Moving the clients' DNS name from the company's load balancer to the app's, in steps, reversibly: the
 * name's record becomes a pair of weighted records (the company's target as it is, and an alias to the
 * app's load balancer), whose weights the operator CLI steps (`migrate dns weight <0-100>`), and the pair
 * becomes the original record again (`migrate dns restore`). Each change is one Route 53 change batch,
 * which Route 53 applies atomically: resolvers see the old answer or the new one, never no answer.
 *
 * The records are runtime-owned (decision 0002): no template holds them, so a deploy never resets a
 * step. Pure: the CLI's adapter (lib/cli/dns.ts) lists the records and submits the plan.
 */

/** The Route 53 record set fields this module reads and writes (the SDK's `ResourceRecordSet`). */
export interface RecordSet {
  readonly Name: string;
  readonly Type: string;
  readonly SetIdentifier?: string;
  readonly Weight?: number;
  readonly TTL?: number;
  readonly ResourceRecords?: readonly { readonly Value: string }[];
  readonly AliasTarget?: {
    readonly HostedZoneId: string;
    readonly DNSName: string;
    readonly EvaluateTargetHealth: boolean;
  };
  readonly HealthCheckId?: string;
  /** Any other routing policy (latency, failover, geolocation, multivalue, ...): not this module's. */
  readonly [other: string]: unknown;
}

export interface Change {
  readonly Action: 'CREATE' | 'DELETE' | 'UPSERT';
  readonly ResourceRecordSet: RecordSet;
}

/** The app's load balancer, as the platform stack's outputs give it. */
export interface AppTarget {
  readonly dnsName: string;
  readonly hostedZoneId: string;
}

/** The platform stack's outputs that name the app's load balancer (and the alias record, if any). */
export const APP_TARGET_OUTPUTS = {
  dnsName: 'LoadBalancerDnsName',
  hostedZoneId: 'LoadBalancerCanonicalHostedZoneId',
  aliasName: 'LoadBalancerAliasName',
} as const;

/** The set identifiers of the weighted pair. */
export const LEGACY_RECORD_ID = 'legacy';
export const APP_RECORD_ID = 'app';

/** Record types that can hold the clients' name: an address record (alias or not), or a CNAME. */
const NAME_TYPES = ['A', 'CNAME'] as const;
type NameType = (typeof NAME_TYPES)[number];

/** The fields of a routing policy other than simple and weighted. */
const OTHER_POLICIES = [
  'Region',
  'Failover',
  'GeoLocation',
  'GeoProximityLocation',
  'MultiValueAnswer',
  'CidrRoutingConfig',
  'TrafficPolicyInstanceId',
];

export type DnsState =
  | { readonly kind: 'simple'; readonly type: NameType; readonly record: RecordSet }
  | {
      readonly kind: 'weighted';
      readonly type: NameType;
      readonly legacy: RecordSet;
      readonly app: RecordSet;
    };

export type Reading =
  | { readonly ok: true; readonly state: DnsState }
  | { readonly ok: false; readonly problem: string };

/** `www.example.com` from `WWW.Example.com.` (Route 53 answers with the trailing dot). */
export function normalName(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}

/**
 * What the name's records are: one simple record, or the weighted pair this module made; anything else
 * is a problem that says what to do (the CLI changes nothing then).
 */
export function readState(name: string, records: readonly RecordSet[]): Reading {
  const own = records.filter((r) => normalName(r.Name) === normalName(name));
  if (own.some((r) => r.Type === 'AAAA'))
    return {
      ok: false,
      problem: `${name} has AAAA records: IPv6 clients would keep reaching the company's load balancer, and the app's load balancer has no IPv6 address; remove the AAAA records first (or move them by hand)`,
    };
  const types = [
    ...new Set(own.filter((r) => (NAME_TYPES as readonly string[]).includes(r.Type)).map((r) => r.Type)),
  ];
  if (types.length === 0)
    return {
      ok: false,
      problem: `${name} has no A or CNAME record in the hosted zone; dns.recordName must be the name clients call today, pointing at the monolith`,
    };
  const type = types[0] as NameType;
  const set = own.filter((r) => r.Type === type);
  const foreign = set.find((r) => OTHER_POLICIES.some((p) => r[p] !== undefined));
  if (foreign)
    return {
      ok: false,
      problem: `${name} uses a routing policy other than simple or weighted (${OTHER_POLICIES.filter((p) => foreign[p] !== undefined).join(', ')}); move it by hand (docs/runbook.md, "Moving production traffic onto the app")`,
    };
  if (set.length === 1 && set[0].SetIdentifier === undefined)
    return { ok: true, state: { kind: 'simple', type, record: set[0] } };
  const legacy = set.find((r) => r.SetIdentifier === LEGACY_RECORD_ID);
  const app = set.find((r) => r.SetIdentifier === APP_RECORD_ID);
  const others = set.filter((r) => r !== legacy && r !== app);
  if (!legacy || !app || others.length > 0 || set.some((r) => r.Weight === undefined))
    return {
      ok: false,
      problem: `${name} has ${type} records this tool did not make (set identifiers: ${set.map((r) => r.SetIdentifier ?? '(simple)').join(', ')}); it steps only a simple record, or the pair "${LEGACY_RECORD_ID}" and "${APP_RECORD_ID}" it made from one`,
    };
  return { ok: true, state: { kind: 'weighted', type, legacy, app } };
}

/** A record as Route 53 takes it back: an alias has no TTL (the emulator lists one). */
function writable(r: RecordSet): RecordSet {
  const { TTL, ...rest } = r;
  return r.AliasTarget ? rest : { ...rest, TTL };
}

/** The app's record of the pair: an alias to its load balancer (A), or a CNAME with the legacy TTL. */
function appRecord(
  type: NameType,
  name: string,
  target: AppTarget,
  weight: number,
  ttl: number | undefined,
): RecordSet {
  const base = { Name: name, Type: type, SetIdentifier: APP_RECORD_ID, Weight: weight };
  if (type === 'CNAME') return { ...base, TTL: ttl ?? 60, ResourceRecords: [{ Value: target.dnsName }] };
  // EvaluateTargetHealth: while the app's load balancer has no healthy target, Route 53 answers with the
  // company's record only, whatever the weights say.
  return {
    ...base,
    AliasTarget: { HostedZoneId: target.hostedZoneId, DNSName: target.dnsName, EvaluateTargetHealth: true },
  };
}

function pointsAtApp(r: RecordSet, target: AppTarget): boolean {
  const to = r.AliasTarget?.DNSName ?? r.ResourceRecords?.[0]?.Value ?? '';
  return normalName(to).replace(/^dualstack\./, '') === normalName(target.dnsName);
}

export interface Plan {
  /** Empty: nothing to change. */
  readonly changes: readonly Change[];
  /** One line for the operator: what the change does. */
  readonly summary: string;
}

/** The change that gives the app `percent` % of the name's answers (and the company's record the rest). */
export function planWeight(state: DnsState, target: AppTarget, percent: number): Plan {
  if (!Number.isInteger(percent) || percent < 0 || percent > 100)
    throw new Error(`percent ${percent} is not 0-100`);
  const legacyWeight = 100 - percent;
  if (state.kind === 'simple') {
    const r = state.record;
    if (pointsAtApp(r, target))
      return {
        changes: [],
        summary: `${r.Name} already points at the app's load balancer only; nothing to step`,
      };
    return {
      changes: [
        { Action: 'DELETE', ResourceRecordSet: writable(r) },
        {
          Action: 'CREATE',
          ResourceRecordSet: writable({ ...r, SetIdentifier: LEGACY_RECORD_ID, Weight: legacyWeight }),
        },
        { Action: 'CREATE', ResourceRecordSet: appRecord(state.type, r.Name, target, percent, r.TTL) },
      ],
      summary: `${normalName(r.Name)}: the simple record becomes the weighted pair, ${describeWeights(legacyWeight, percent)}`,
    };
  }
  const { legacy, app } = state;
  const moved = !pointsAtApp(app, target);
  if (legacy.Weight === legacyWeight && app.Weight === percent && !moved)
    return {
      changes: [],
      summary: `${normalName(legacy.Name)} is at ${describeWeights(legacyWeight, percent)} already`,
    };
  return {
    changes: [
      { Action: 'UPSERT', ResourceRecordSet: writable({ ...legacy, Weight: legacyWeight }) },
      {
        Action: 'UPSERT',
        ResourceRecordSet: appRecord(state.type, app.Name, target, percent, app.TTL ?? legacy.TTL),
      },
    ],
    summary: `${normalName(legacy.Name)}: ${describeWeights(legacy.Weight ?? 0, app.Weight ?? 0)} -> ${describeWeights(legacyWeight, percent)}${moved ? " (the app's record now names its current load balancer)" : ''}`,
  };
}

/** The change that puts the company's record back as the name's only, simple record. */
export function planRestore(state: DnsState): Plan {
  if (state.kind === 'simple')
    return {
      changes: [],
      summary: `${normalName(state.record.Name)} is a simple record already; nothing to restore`,
    };
  const { SetIdentifier: _id, Weight: _weight, ...original } = state.legacy;
  return {
    changes: [
      { Action: 'DELETE', ResourceRecordSet: writable(state.app) },
      { Action: 'DELETE', ResourceRecordSet: writable(state.legacy) },
      // UPSERT, not CREATE: the same in Route 53 after the two deletes of the batch, and what the emulator
      // (moto) accepts too (it checks a CREATE against the weighted records the batch deletes).
      { Action: 'UPSERT', ResourceRecordSet: writable(original) },
    ],
    summary: `${normalName(state.legacy.Name)}: back to the company's record alone (the app's record is removed)`,
  };
}

/**
 * The end of the move: the pair, at app 100, becomes a simple record of the app's load balancer, once the
 * company's load balancer is to be retired. There is no way back through this tool after it: the
 * company's target is gone from the zone.
 */
export function planFinish(state: DnsState, target: AppTarget): Plan {
  if (state.kind === 'simple') {
    const done = pointsAtApp(state.record, target);
    if (done)
      return {
        changes: [],
        summary: `${normalName(state.record.Name)} points at the app's load balancer only already`,
      };
    throw new FinishRefused(
      `${normalName(state.record.Name)} is the company's simple record: step it first (dns weight 0, then up to 100)`,
    );
  }
  if (state.app.Weight !== 100 || state.legacy.Weight !== 0)
    throw new FinishRefused(
      `${normalName(state.app.Name)} is at ${describeWeights(state.legacy.Weight ?? 0, state.app.Weight ?? 0)}: step it to 100 first, and wait until the company's load balancer serves no request`,
    );
  const {
    SetIdentifier: _id,
    Weight: _weight,
    ...app
  } = appRecord(state.type, state.app.Name, target, 100, state.app.TTL);
  return {
    changes: [
      { Action: 'DELETE', ResourceRecordSet: writable(state.app) },
      { Action: 'DELETE', ResourceRecordSet: writable(state.legacy) },
      {
        Action: 'UPSERT',
        ResourceRecordSet: app.AliasTarget
          ? { ...app, AliasTarget: { ...app.AliasTarget, EvaluateTargetHealth: false } }
          : app,
      },
    ],
    summary: `${normalName(state.app.Name)}: the app's load balancer alone, as a simple record (the company's record is removed)`,
  };
}

/** A finish the state does not allow; the CLI refuses with the message. */
export class FinishRefused extends Error {
  override readonly name = 'FinishRefused';
}

export function describeWeights(legacy: number, app: number): string {
  const total = legacy + app;
  const share = total === 0 ? 50 : Math.round((app * 100) / total);
  return `legacy ${legacy} / app ${app} (${share} % of answers to the app)`;
}

/** `alias old-alb-1.eu-west-1.elb.amazonaws.com` or `CNAME x (TTL 300)` or `A 192.0.2.1, 192.0.2.2 (TTL 60)`. */
export function describeTarget(r: RecordSet): string {
  if (r.AliasTarget) return `alias ${normalName(r.AliasTarget.DNSName)}`;
  return `${r.Type} ${(r.ResourceRecords ?? []).map((v) => v.Value).join(', ')} (TTL ${r.TTL ?? '?'})`;
}

/** The lines `migrate dns status` prints. */
export function describeState(state: DnsState, target: AppTarget | undefined): string[] {
  const app = target
    ? `the app's load balancer: ${target.dnsName}`
    : "the app's load balancer: not deployed yet";
  if (state.kind === 'simple')
    return [
      `${normalName(state.record.Name)} ${state.type}: simple record, ${describeTarget(state.record)}${target && pointsAtApp(state.record, target) ? " (the app's load balancer)" : ''}`,
      app,
    ];
  return [
    `${normalName(state.legacy.Name)} ${state.type}: weighted, ${describeWeights(state.legacy.Weight ?? 0, state.app.Weight ?? 0)}`,
    `  ${LEGACY_RECORD_ID}: ${describeTarget(state.legacy)}`,
    `  ${APP_RECORD_ID}: ${describeTarget(state.app)}`,
    app,
  ];
}
