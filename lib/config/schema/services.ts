/**
 * An extracted service: its container, phase, routes, database, gateway mode, alarm thresholds, bulk
 * migration and its verification, its write-back, and the deploy-time record of its cutover.
 */
import { z } from 'zod';
import { isContractTime, RUN_ID } from '../../formats';
import { SERVICE_NAME } from '../../naming';
import { secretArn } from './common';
import { composite } from './composites';
import { containerRules, containerShape, sized } from './containers';
import { createdDatabase, withDatabaseDefaults } from './databases';
import { array, bool, int, intact, oneOf, oneOfNumbers, problem, str, strict } from './kit';
import { route } from './routes';
import { writeBack } from './write-back';

/** Service names the app's own stacks and parameters use. */
const RESERVED_SERVICE_NAMES = ['legacy', 'gateway'] as const;

const alarms = strict({
  errorRatePercent: int({ min: 1, max: 100 })
    .default(5)
    .meta({ description: 'Target 5xx responses as a percentage of requests over the evaluation window.' }),
  p99LatencyMs: int({ min: 10, max: 60000 })
    .default(1500)
    .meta({ description: 'p99 target response time in milliseconds.' }),
  unhealthyHosts: int({ min: 1, max: 100 })
    .default(1)
    .meta({ description: 'Unhealthy hosts at or above this count alarm.' }),
  evaluationMinutes: int({ min: 1, max: 60 })
    .default(3)
    .meta({ description: 'One-minute periods evaluated.' }),
})
  .prefault({})
  .meta({ description: 'Alarm thresholds that trigger the automatic rollback of the service.' });

const bulkMigration = strict({
  command: array(str()).default([]).meta({
    description: 'Command run in the service image, e.g. ["/app/migrate", "--all"]; required from phase 2.',
  }),
  verify: array(str()).default([]).meta({
    description:
      'Command run in the service image after the migration, e.g. ["/app/migrate", "--verify"]: proves both databases agree before the cutover is recorded (docs/data-contract.md); required from phase 2.',
  }),
  timeoutMinutes: int({ min: 5, max: 1440 })
    .default(120)
    .meta({ description: 'Timeout of one run (the migration, and the verification) in minutes.' }),
})
  .prefault({})
  .meta({ description: 'The bulk data migration of phase 2 and its verification.' });

const fromCutover = 'copy it from the output of the cutover (or npm run migrate -- status)';

const cutoverMarker = strict({
  runId: str({ pattern: RUN_ID, fix: `use the run id of the cutover; ${fromCutover}` }).meta({
    description: "The cutover document's run id (the execution name).",
  }),
  completedAt: str({ fix: fromCutover })
    .refine(isContractTime, {
      error: (iss) => `${JSON.stringify(iss.input)} is not a UTC time; ${fromCutover}`,
    })
    .meta({ description: "The cutover document's completedAt." }),
}).meta({
  description:
    "The deploy-time record of a completed cutover (the point of no return), copied from the CLI's success output. Readers then route the service to the new service before their first read of the flags and whenever SSM fails.",
});

export const service = containerRules(
  strict({
    ...containerShape({ port: 8080, healthCheckPath: '/health' }),
    name: str({
      pattern: SERVICE_NAME,
      fix: 'use 2-16 lowercase letters or digits, starting with a letter, e.g. "users"',
    })
      .regex(new RegExp(`^(?!(${RESERVED_SERVICE_NAMES.join('|')})$)`), {
        error: (iss) => `${JSON.stringify(iss.input)} is reserved; choose another name`,
      })
      .meta({
        description:
          'Short lowercase name: used in stack names, parameter paths and the Service Connect DNS name.',
      }),
    phase: oneOfNumbers([0, 1, 2, 3]).default(0).meta({
      description:
        'The phase this service is at (see the phase table in the README). Each service moves on its own.',
    }),
    routes: array(route)
      .default([])
      .meta({ description: "The endpoints it takes over, in the monolith's URL space." }),
    composites: array(composite).default([]).meta({
      description:
        'Old GET endpoints whose document the gateway assembles from this service and others (at phase 3 in krakend mode, with its rules and weight).',
    }),
    identitiesAgree: bool().default(false).meta({
      description:
        'Set true when routes that find the user in different places (a login body field, a JWT claim, a path id) all yield the same user id string: the routing proxy compares and hashes that string, so otherwise one person can be split between the monolith and the service. Silences the synth warning about mixed identity sources.',
    }),
    database: createdDatabase(
      z
        .literal('create', {
          error: 'an extracted service always owns its database; use "create" or remove the key',
        })
        .default('create'),
    )
      .prefault({})
      .meta({ description: 'Its own database, created in its stateful stack from phase 1.' }),
    legacyReadSecretArn: secretArn.optional().meta({
      description:
        'Secret for reading the legacy database during organic and bulk import; should be a read-only user. Default: the legacy master secret, with a warning.',
    }),
    gateway: oneOf(['krakend', 'alb']).default('krakend').meta({
      description:
        'At phase 3: through the shared KrakenD gateway, or straight to the service with native ALB URL rewrite.',
    }),
    alarms,
    bulkMigration,
    writeBack: writeBack.optional(),
    cutoverRecorded: cutoverMarker.optional(),
  }),
)
  .superRefine(
    (v, ctx) => {
      if (v.phase === 3 && v.routes.length === 0)
        problem(
          ctx,
          ['routes'],
          "phase 3 routes the service's endpoints at the ALB; list at least one route",
        );
    },
    intact('phase', 'routes'),
  )
  .superRefine(
    (v, ctx) => {
      if (v.gateway === 'alb' && v.composites.length > 0)
        problem(
          ctx,
          ['composites'],
          'the ALB cannot compose: a composite endpoint is answered by the KrakenD gateway, which this service does not use in alb mode; set gateway "krakend", or remove the composites',
        );
    },
    intact('gateway', 'composites'),
  )
  .superRefine(
    (v, ctx) => {
      if (v.phase >= 2 && v.bulkMigration.command.length === 0)
        problem(
          ctx,
          ['bulkMigration', 'command'],
          'required from phase 2; set the command that copies the remaining records, e.g. ["/app/service", "migrate", "--bulk"]',
        );
      // Once the cutover is recorded nothing verifies any more: a marker needs no command.
      if (v.phase >= 2 && v.bulkMigration.verify.length === 0 && v.cutoverRecorded === undefined)
        problem(
          ctx,
          ['bulkMigration', 'verify'],
          'required from phase 2; set the command that proves both databases agree before the cutover is recorded, e.g. ["/app/service", "migrate", "--verify"] (docs/data-contract.md)',
        );
    },
    intact('phase', 'bulkMigration', 'cutoverRecorded'),
  )
  .superRefine((v, ctx) => {
    if (v.cutoverRecorded !== undefined && v.phase < 2)
      problem(
        ctx,
        ['phase'],
        `is ${v.phase}, but the cutover of this service is recorded (cutoverRecorded): it stays at phase 2 or later, since its data now lives only in the new database`,
      );
  }, intact('phase'))
  .transform(({ cutoverRecorded, ...v }) => ({
    ...sized(v, 4),
    database: withDatabaseDefaults(v.database, v.name),
    ...(cutoverRecorded === undefined ? {} : { cutoverRecorded }),
  }))
  .meta({ description: 'A service extracted from the monolith.' });
