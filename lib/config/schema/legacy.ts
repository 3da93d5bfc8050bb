/**
 * The monolith: its container and its database.
 */
import { containerRules, containerShape, sized } from './containers';
import { legacyDatabase } from './databases';
import { strict } from './kit';

export const legacy = containerRules(
  strict({
    ...containerShape({ port: 80, healthCheckPath: '/health' }),
    database: legacyDatabase,
  }),
)
  .transform((v) => sized(v, 4))
  .meta({ description: 'The monolith.' });
