/**
 * The JSON Schema of an environment file, generated from the environment schema (schema/) and
 * committed at schema/environment.schema.json, which envs/*.json name in their `$schema` so that editors
 * complete and check them. `npm run schema` writes it; test/config/json-schema.test.ts fails when the
 * committed file is stale.
 *
 * It describes the file as written (zod's `io: 'input'`: defaults are optional keys). It checks each
 * field's type, range, pattern, allowed values and the unknown keys; the rules across fields (a task's
 * memory for its cpu, overlapping routes, what a phase requires, ...) only the parser checks.
 */
import { z } from 'zod';
import { environmentSchema } from './schema/environment';

/** Where the committed JSON Schema lives, relative to the repository root. */
export const JSON_SCHEMA_PATH = 'schema/environment.schema.json';

export function environmentJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(environmentSchema, {
    io: 'input',
    target: 'draft-2020-12',
    unrepresentable: 'throw',
  });
}
