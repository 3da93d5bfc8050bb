/**
 * A service's write-back (docs/data-contract.md): the legacy tables and columns its outbox may write back
 * while a rollback is possible, the secrets the product's write-back function signs in with, and when its
 * lag alarms.
 */
import { SQL_IDENTIFIER, TABLE_NAME } from '../../formats';
import { secretArn } from './common';
import { array, int, intact, keyName, problem, record, str, strict } from './kit';

const column = str({
  pattern: SQL_IDENTIFIER,
  fix: 'use the lowercase column name as in the legacy database, e.g. "password_hash"',
});

const columns = (what: string) =>
  array(column).refine((list) => list.length > 0, { error: `list at least one column (${what})` });

const table = strict({
  key: columns('the primary or a unique key').meta({
    description: 'The columns of the primary key (or a unique key) that identify a row, e.g. ["id"].',
  }),
  columns: columns('the columns the service may write').meta({
    description: 'The other columns the service may write back; nothing else is ever applied.',
  }),
  versionColumn: column.optional().meta({
    description:
      'The column the monolith changes on every write (e.g. "updated_at"): the service imports a row again when it is newer. One of `columns`.',
  }),
})
  .superRefine(
    (v, ctx) => {
      v.columns.forEach((c, i) => {
        if (v.key.includes(c))
          problem(ctx, ['columns', i], `"${c}" is in the key; list the key columns only in key`);
        else if (v.columns.indexOf(c) !== i) problem(ctx, ['columns', i], `"${c}" is listed twice`);
      });
      if (v.versionColumn !== undefined && !v.columns.includes(v.versionColumn))
        problem(
          ctx,
          ['versionColumn'],
          `"${v.versionColumn}" is not one of columns; the service writes the version it records, so list it there`,
        );
    },
    intact('key', 'columns', 'versionColumn'),
  )
  .meta({ description: 'What the service may write back to one legacy table.' });

export const writeBack = strict({
  tables: record(
    keyName(
      TABLE_NAME,
      'use the lowercase legacy table name, optionally after its schema, e.g. "users" or "app.users"',
    ),
    table,
  )
    .refine((t) => Object.keys(t).length > 0, {
      error: 'list at least one legacy table the service writes back',
    })
    .meta({ description: 'The legacy tables the service writes back, by name.' }),
  legacySecretArn: secretArn.optional().meta({
    description:
      'Secret (username, password) of a legacy database user limited to these tables and columns (docs/data-contract.md shows the grants). Default: the legacy master secret, with a warning.',
  }),
  outboxSecretArn: secretArn.optional().meta({
    description:
      "Secret of a user of the service's database limited to the contract's tables. Default: the service database's own secret.",
  }),
  alarmAfterMinutes: int({ min: 2, max: 1440 })
    .default(10)
    .meta({ description: 'The lag alarm fires when the oldest write not yet written back is older.' }),
}).meta({
  description:
    "The service's writes, written back to the legacy database from phase 1 until the cutover is recorded (docs/data-contract.md). PostgreSQL only, both databases.",
});
