/**
 * Where the SSM flag parameters live and how their readers cache them.
 */
import { bool, int, oneOf, str, strict } from './kit';

const PARAM_PREFIX = /^(\/[A-Za-z0-9_.-]+){1,5}$/;

export const flags = strict({
  parameterPrefix: str({
    pattern: PARAM_PREFIX,
    fix: 'use an absolute SSM path of 1-5 segments without a trailing slash, e.g. "/shop/migration"',
  })
    .optional()
    .meta({
      description:
        'Path prefix of every flag parameter (default "/<name>/migration"); each service gets <prefix>/<service>/...',
    }),
  cacheTtlSeconds: int({
    min: 5,
    max: 300,
    fix: 'use 5 to 300 seconds: lower risks SSM throttling (40 reads/s per account), higher slows a rollback',
  })
    .default(15)
    .meta({
      description: 'Seconds a consumer caches a flag document (SSM allows 40 reads per second by default).',
    }),
  tier: oneOf(['standard', 'advanced']).default('standard').meta({
    description:
      'SSM tier of the routing parameter: standard holds 4 KB, advanced 8 KB (and costs money). SSM cannot go back from advanced.',
  }),
  adoptExisting: bool().default(false).meta({
    description:
      'Take over flag parameters left behind by another environment or an earlier build, with their values.',
  }),
}).prefault({});
