/**
 * What every Fargate container of the app is configured with (the monolith, each service, the gateway's
 * sizing): image, port, health check, size and scaling, variables and secrets.
 */
import type { z } from 'zod';
import { describeMemoryFor, FARGATE_CPUS, FARGATE_SIZES } from '../fargate';
import { notStartingWith, retention, secretArn } from './common';
import { int, intact, keyName, oneOfNumbers, problem, record, refused, str, strict } from './kit';

const ENV_NAME = /^[A-Z_][A-Z0-9_]*$/;
const IMAGE = /^[a-z0-9][a-z0-9._/:@-]*$/;
const HEALTH_PATH = /^\/[A-Za-z0-9/._~-]*$/;
const SECRET_FIELD = /^[A-Za-z0-9_.-]+$/;

/** Environment variable names the app sets itself; a config may not override them. */
export const RESERVED_ENV_PREFIXES = ['DB_', 'LEGACY_DB_', 'MIGRATION_'] as const;

/**
 * An image reference pins a version when it has a digest, or a tag that is not `latest`. The tag is after
 * the last colon of the last path segment: in `registry:5000/legacy` the colon is the registry's port.
 */
export function hasPinnedTag(image: string): boolean {
  if (image.includes('@')) return true;
  const last = image.slice(image.lastIndexOf('/') + 1);
  const colon = last.lastIndexOf(':');
  return colon > 0 && colon < last.length - 1 && last.slice(colon + 1) !== 'latest';
}

const secretReference = strict({
  secretArn: secretArn.meta({ description: 'Complete ARN of the Secrets Manager secret.' }),
  field: str({ pattern: SECRET_FIELD, fix: 'use a JSON key of the secret' })
    .optional()
    .meta({ description: 'JSON field of the secret to inject; absent injects the whole secret string.' }),
});

/** An environment variable name the app does not set itself. */
const envName = keyName(ENV_NAME, 'use UPPER_SNAKE_CASE').regex(notStartingWith(RESERVED_ENV_PREFIXES), {
  error: (iss) =>
    `names starting with ${RESERVED_ENV_PREFIXES.find((p) => String(iss.input).startsWith(p))} are set by this app; rename the variable`,
});

/** Fargate size, autoscaling bounds and log retention, as every service and the gateway have them. */
export const sizingShape = {
  cpu: oneOfNumbers(FARGATE_CPUS).default(512).meta({ description: 'Fargate CPU units (256 ... 16384).' }),
  memoryMiB: int({ min: 512, max: 122880 })
    .optional()
    .meta({ description: 'Fargate memory in MiB; must be valid for cpu. Default: twice the cpu units.' }),
  minCount: int({ min: 1, max: 100 }).default(2).meta({
    description:
      'Tasks always running: the lower bound of autoscaling. There is no desired count: autoscaling owns it, so a deploy never resets a scaled-out service.',
  }),
  maxCount: int({ min: 1, max: 100 }).optional().meta({ description: 'Upper bound of autoscaling.' }),
  cpuTargetPercent: int({ min: 10, max: 90 })
    .default(60)
    .meta({ description: 'Average CPU utilisation autoscaling keeps the service at.' }),
  logRetentionDays: retention(30).meta({ description: 'Days container logs are kept.' }),
};

interface SizingInput {
  readonly cpu: number;
  readonly memoryMiB?: number;
  readonly minCount: number;
  readonly maxCount?: number;
}

/** The sizing defaults that depend on other fields: memory on cpu, the upper bound on the lower one. */
export function sized<T extends SizingInput>(v: T, defaultMax: number) {
  return {
    ...v,
    memoryMiB: v.memoryMiB ?? v.cpu * 2,
    maxCount: v.maxCount ?? Math.max(defaultMax, v.minCount),
  };
}

/** The sizing rules, attached to each object with a sizing (`defaultMax` as in `sized`). */
export function sizingRules<S extends z.ZodType<SizingInput>>(schema: S, defaultMax: number): S {
  return schema
    .superRefine(
      (v, ctx) => {
        const { cpu, memoryMiB } = sized(v, defaultMax);
        if (FARGATE_SIZES.has(cpu) && !FARGATE_SIZES.get(cpu)?.includes(memoryMiB))
          problem(
            ctx,
            ['memoryMiB'],
            `${memoryMiB} is not a Fargate size for cpu ${cpu}; use ${describeMemoryFor(cpu)}`,
          );
      },
      intact('cpu', 'memoryMiB'),
    )
    .superRefine(
      (v, ctx) => {
        const { minCount, maxCount } = sized(v, defaultMax);
        if (minCount > maxCount)
          problem(ctx, ['minCount'], `${minCount} is above maxCount (${maxCount}); use minCount <= maxCount`);
      },
      intact('minCount', 'maxCount'),
    );
}

/** What every Fargate web service of the app is configured with. */
export function containerShape(defaults: { port: number; healthCheckPath: string }) {
  return {
    image: str({
      pattern: IMAGE,
      fix: 'use an image reference such as "123456789012.dkr.ecr.eu-west-1.amazonaws.com/users:1.4.2"',
    })
      .refine(hasPinnedTag, {
        error: (iss) =>
          `${JSON.stringify(iss.input)} has no pinned tag; use an immutable tag or digest so a deploy is repeatable`,
        when: (p) => typeof p.value === 'string' && p.value !== '',
      })
      .meta({ description: 'Container image with an immutable tag or digest.' }),
    port: int({ min: 1, max: 65535 })
      .default(defaults.port)
      .meta({ description: 'Port the container listens on.' }),
    healthCheckPath: str({ pattern: HEALTH_PATH, fix: 'use an absolute path such as "/health"' })
      .default(defaults.healthCheckPath)
      .meta({ description: 'HTTP path that answers 200 when a task is healthy.' }),
    ...sizingShape,
    desiredCount: refused(
      'autoscaling owns the task count so a deploy never resets it; set minCount and maxCount instead',
    ),
    environment: record(envName, str())
      .default({})
      .meta({ description: 'Plain environment variables (never secrets).' }),
    secrets: record(envName, secretReference)
      .default({})
      .meta({ description: 'Environment variables read from Secrets Manager at task start.' }),
  };
}

/** The container rules, attached to the monolith and to each service. */
export function containerRules<S extends z.ZodType<SizingInput & ContainerVariables>>(schema: S): S {
  return sizingRules(schema, 4).superRefine(
    (v, ctx) => {
      for (const key of Object.keys(v.environment)) {
        if (key in v.secrets) problem(ctx, ['environment', key], 'is also in secrets; keep one of the two');
      }
    },
    intact('environment', 'secrets'),
  );
}

interface ContainerVariables {
  readonly environment: Readonly<Record<string, string>>;
  readonly secrets: Readonly<Record<string, unknown>>;
}
