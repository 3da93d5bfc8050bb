/**
 * The schema of an environment file: one zod schema gives the shape parser (`parseShape`,
 * lib/config/parse.ts), the TypeScript types (types.ts) and the JSON Schema editors complete envs/*.json
 * with (schema/environment.schema.json). Each concern has its file beside this one; this one puts them
 * together and holds the rules across them.
 *
 * Field rules sit on the fields. Rules that read several fields are `superRefine`s guarded by `intact`
 * (kit.ts), so they run whenever what they read is valid. Defaults that depend on another field
 * (a task's memory on its cpu, a database's name on its service) are applied by a transform at the end
 * of their object; a rule that reads such a field applies the same default itself.
 *
 * Nothing of the domain is imported here (a check keeps it so: Biome's noImportCycles). The rules that
 * need the domain's planning (listener-rule blocks and quotas, overlapping routes) are in
 * lib/environment/checks.ts, which runs on the parsed configuration.
 */
import type { z } from 'zod';
import { listOr } from '../../validation/reader';
import { notStartingWith } from './common';
import { dns } from './dns';
import { flags } from './flags';
import { gateway } from './gateway';
import { array, bool, intact, keyName, problem, record, str, strict } from './kit';
import { legacy } from './legacy';
import { alb, vpc } from './network';
import { notifications } from './notifications';
import { arnRegion, closestRegions, KNOWN_REGIONS, REGION } from './regions';
import { routing } from './routing';
import { service } from './services';

const NAME = /^[a-z][a-z0-9-]{1,20}[a-z0-9]$/;
const ACCOUNT = /^\d{12}$/;
const TAG_KEY = /^[A-Za-z0-9 _.:/=+@-]{1,128}$/;
const TAG_VALUE = /^[A-Za-z0-9 _.:/=+@-]{0,256}$/;
/** Tag key prefixes AWS and this app own. */
const RESERVED_TAG_PREFIXES = ['aws:', 'migration:'] as const;

type Ctx = z.core.$RefinementCtx;

const environment = strict({
  $schema: str().optional().meta({ description: 'The JSON Schema of this file, for editors.' }),
  name: str({
    pattern: NAME,
    fix: 'use 3-22 lowercase letters, digits or hyphens, starting with a letter, e.g. "demo" or "shop-prod"',
  }).meta({ description: 'Name prefix of every stack and physical name.' }),
  account: str({ pattern: ACCOUNT, fix: 'use the 12-digit account id' })
    .optional()
    .meta({ description: 'AWS account id; absent (with region) means an environment-agnostic app.' }),
  region: str({ pattern: REGION, fix: 'use a region code such as "eu-west-1"' })
    .optional()
    .meta({ description: 'AWS region; absent (with account) means an environment-agnostic app.' }),
  newRegion: bool().optional().meta({
    description:
      'Set true for a region AWS opened after this release of the app, which the region check does not know yet.',
  }),
  tags: record(
    keyName(TAG_KEY, 'use 1-128 letters, digits, spaces or _ . : / = + @ -').regex(
      notStartingWith(RESERVED_TAG_PREFIXES),
      { error: 'the aws: and migration: prefixes are reserved; rename the tag' },
    ),
    str({ pattern: TAG_VALUE, fix: 'use up to 256 letters, digits, spaces or _ . : / = + @ -' }),
  )
    .default({})
    .meta({ description: 'Tags on every stack, resource and flag parameter (cost allocation, ownership).' }),
  vpc,
  alb,
  legacy,
  flags,
  notifications,
  gateway,
  services: array(service).default([]).meta({
    description: 'The services extracted from the monolith, each moving through the phases on its own.',
  }),
  routing,
  dns,
});

/** The environment as its fields parse, before the cross-field rules and the last defaults. */
type Environment = z.output<typeof environment>;

/**
 * The schema of one environment file. Its output is a complete `MigrationConfig`: every default
 * applied, so that constructs and stacks never check for `undefined`.
 */
export const environmentSchema = environment
  .superRefine(
    (v, ctx) => {
      if ((v.account === undefined) !== (v.region === undefined))
        problem(
          ctx,
          [v.account === undefined ? 'account' : 'region'],
          'set both account and region, or neither',
        );
    },
    intact('account', 'region'),
  )
  .superRefine(knownRegion, intact('region', 'newRegion'))
  .superRefine(sameRegionArns, intact('region', 'alb', 'legacy', 'services'))
  .superRefine(
    (v, ctx) => {
      if (v.vpc.mode === 'import' && (v.account === undefined || v.region === undefined))
        problem(ctx, ['vpc', 'vpcId'], 'importing a VPC needs a lookup: set account and region as well');
    },
    intact('vpc', 'account', 'region'),
  )
  .superRefine(
    (v, ctx) => {
      const aclRegion = v.alb.webAclArn?.split(':')[3];
      if (aclRegion !== undefined && v.region !== undefined && aclRegion !== v.region)
        problem(
          ctx,
          ['alb', 'webAclArn'],
          `is a web ACL of ${aclRegion}; a load balancer in ${v.region} takes a web ACL of its own region`,
        );
    },
    intact('alb.webAclArn', 'region'),
  )
  .superRefine(uniqueNames, intact('services.*.name'))
  .superRefine(ruleBlockOwners, intact('services.*.name', 'alb.ruleBlocks.{keys}'))
  .superRefine(
    writeBackEngines,
    intact('legacy.database.engine', 'services.*.database.engine', 'services.*.writeBack'),
  )
  .superRefine(
    (v, ctx) => {
      if (v.routing.mode !== 'proxy') {
        if (v.legacy.mode === 'external')
          problem(
            ctx,
            ['routing', 'mode'],
            'is "in-app", but legacy.mode "external" runs no monolith of the app that could route itself: the routing proxy forwards to it; use "proxy"',
          );
        return;
      }
      const { port, memoryMiB } = v.routing.proxy;
      if (v.legacy.mode === 'hosted' && port === v.legacy.port)
        problem(
          ctx,
          ['routing', 'proxy', 'port'],
          `${port} is also legacy.port: both containers share the task's network; use another port`,
        );
      if (memoryMiB >= v.legacy.memoryMiB)
        problem(
          ctx,
          ['routing', 'proxy', 'memoryMiB'],
          v.legacy.mode === 'hosted'
            ? `${memoryMiB} leaves nothing of legacy.memoryMiB (${v.legacy.memoryMiB}) to the monolith; use less, or raise legacy.memoryMiB`
            : `${memoryMiB} is not below legacy.memoryMiB (${v.legacy.memoryMiB}), the memory of a proxy task; use less, or raise legacy.memoryMiB`,
        );
    },
    intact('routing', 'legacy'),
  )
  .transform(({ $schema: _schema, newRegion: _newRegion, flags, ...v }) => ({
    name: v.name,
    account: v.account,
    region: v.region,
    tags: v.tags,
    vpc: v.vpc,
    alb: v.alb,
    legacy: v.legacy,
    flags: { ...flags, parameterPrefix: flags.parameterPrefix ?? `/${v.name}/migration` },
    notifications: v.notifications,
    gateway: v.gateway,
    services: v.services,
    routing: v.routing,
    ...(v.dns !== undefined ? { dns: v.dns } : {}),
  }))
  .meta({
    title: 'Environment of the strangler-fig migration',
    description:
      'One environment of the migration: pass it with -c config=<path> to cdk, or --config to the CLI.',
  });

function uniqueNames(v: Pick<Environment, 'services'>, ctx: Ctx): void {
  const names = new Map<string, number>();
  v.services.forEach((s, i) => {
    const first = names.get(s.name);
    if (first !== undefined)
      problem(
        ctx,
        ['services', i, 'name'],
        `"${s.name}" is also services[${first}].name; names must be unique`,
      );
    else names.set(s.name, i);
  });
}

/** The write-back (data contract version 1) applies PostgreSQL rows to a PostgreSQL database. */
function writeBackEngines(v: Pick<Environment, 'legacy' | 'services'>, ctx: Ctx): void {
  v.services.forEach((s, i) => {
    if (!s.writeBack) return;
    const mysql = [
      ...(v.legacy.database.engine === 'mysql' ? ['the legacy database (legacy.database.engine)'] : []),
      ...(s.database.engine === 'mysql' ? [`its own database (services[${i}].database.engine)`] : []),
    ];
    if (mysql.length > 0)
      problem(
        ctx,
        ['services', i, 'writeBack'],
        `the write-back supports PostgreSQL databases only, and ${mysql.join(' and ')} is MySQL; remove writeBack (every synth and routing change then says that writes made on the service are not written back) or see docs/decisions/0013-write-back-outbox.md for the options`,
      );
  });
}

/** alb.ruleBlocks names only services of the config. */
function ruleBlockOwners(v: Pick<Environment, 'alb' | 'services'>, ctx: Ctx): void {
  for (const name of Object.keys(v.alb.ruleBlocks)) {
    if (!v.services.some((s) => s.name === name))
      problem(
        ctx,
        ['alb', 'ruleBlocks', name],
        `no service is named "${name}"; remove the entry or fix the name`,
      );
  }
}

/** A region this release knows, or one declared new: a typo is one line, not a failed deploy. */
function knownRegion(v: Pick<Environment, 'region' | 'newRegion'>, ctx: Ctx): void {
  if (v.region === undefined || KNOWN_REGIONS.includes(v.region)) {
    if (v.newRegion)
      problem(
        ctx,
        ['newRegion'],
        v.region === undefined
          ? 'only applies with a region; remove it'
          : `${v.region} is a region this app knows; remove newRegion`,
      );
    return;
  }
  if (v.newRegion) return;
  const close = closestRegions(v.region);
  const guess = close.length > 0 ? ` (did you mean ${listOr(close.map((r) => `"${r}"`))}?)` : '';
  problem(
    ctx,
    ['region'],
    `"${v.region}" is not an AWS region this app knows${guess}; fix the spelling, or, for a region AWS opened after this release, set "newRegion": true`,
  );
}

/**
 * What the load balancer and the tasks use must be in the environment's region: an ALB takes only a
 * certificate of its own region, and the databases the tasks read are in it, so their secrets are too
 * (a replicated secret has an ARN of its own in each region).
 */
function sameRegionArns(v: Pick<Environment, 'region' | 'alb' | 'legacy' | 'services'>, ctx: Ctx): void {
  const { region } = v;
  if (region === undefined) return;
  const check = (path: PropertyKey[], arn: string | undefined, fix: string) => {
    if (arn === undefined) return;
    const found = arnRegion(arn);
    if (found !== region)
      problem(ctx, path, `is in ${found}, but the environment is in ${region} (region); ${fix}`);
  };
  check(
    ['alb', 'certificateArn'],
    v.alb.certificateArn,
    `a load balancer takes only a certificate of its own region: request or import the certificate in ACM in ${region} and use its ARN`,
  );
  if (v.legacy.database.mode === 'import')
    check(
      ['legacy', 'database', 'secretArn'],
      v.legacy.database.secretArn,
      `use the ARN of the secret in ${region} (a replica has its own ARN there)`,
    );
  v.services.forEach((s, i) => {
    check(
      ['services', i, 'legacyReadSecretArn'],
      s.legacyReadSecretArn,
      `the legacy database is in ${region}: use the ARN of its read-only user's secret in ${region} (a replica has its own ARN there)`,
    );
  });
}
