/**
 * Writes schema/environment.schema.json from the environment schema: `npm run schema` after a change of
 * lib/config/schema/ (a test fails while the committed file is stale).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { environmentJsonSchema, JSON_SCHEMA_PATH } from '../lib/config/json-schema';

const path = join(__dirname, '..', JSON_SCHEMA_PATH);
writeFileSync(path, `${JSON.stringify(environmentJsonSchema(), null, 2)}\n`);
console.log(`wrote ${JSON_SCHEMA_PATH}`);
