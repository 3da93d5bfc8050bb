/**
 * The users service image's commands, as the cutover runs them in an ECS task (services[].bulkMigration):
 *
 *     users-service migrate --bulk      the bulk migration
 *     users-service migrate --verify    the verification of a cutover run (docs/data-contract.md, section 6)
 *
 * The test runs them as local processes against PostgreSQL, with DB_URL and LEGACY_DB_URL in place of the
 * task's database settings and secrets, and the variables the state machine sets (MIGRATION_RUN_ID,
 * MIGRATION_WRITE_BACK_APPLIED_THROUGH). STANDIN_MIGRATION_BUG=<user> makes the migration copy that user's
 * e-mail wrongly: an image with a bug, for the verification to catch. Exit code 0: done (verified).
 */
import { bulkMigrate, verifyMigration } from './users-service';

async function run(args: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const serviceUrl = env.DB_URL;
  const legacyUrl = env.LEGACY_DB_URL;
  if (!serviceUrl || !legacyUrl) throw new Error('DB_URL and LEGACY_DB_URL are required');
  if (args[0] !== 'migrate')
    throw new Error(`unknown command ${args[0]}; use migrate --bulk or migrate --verify`);
  if (args.includes('--verify')) {
    const runId = env.MIGRATION_RUN_ID;
    const appliedThrough = env.MIGRATION_WRITE_BACK_APPLIED_THROUGH;
    if (!runId || appliedThrough === undefined)
      throw new Error('the verification needs MIGRATION_RUN_ID and MIGRATION_WRITE_BACK_APPLIED_THROUGH');
    const verdict = await verifyMigration({ serviceUrl, legacyUrl, runId, appliedThrough });
    console.log(verdict.message);
    return verdict.passed ? 0 : 1;
  }
  const done = await bulkMigrate({
    serviceUrl,
    legacyUrl,
    mangle: env.STANDIN_MIGRATION_BUG || undefined,
    repair: true,
  });
  console.log(`copied ${done.copied} users, repaired ${done.repaired}`);
  return 0;
}

run(process.argv.slice(2), process.env).then(
  (code) => process.exit(code),
  (e) => {
    console.error((e as Error).message);
    process.exit(2);
  },
);
