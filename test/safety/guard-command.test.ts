import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

/** A minimal cloud assembly with one stack template. */
function assembly(resources: Record<string, unknown>): string {
  const dir = mkdtempSync(join(tmpdir(), 'asm-'));
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'manifest.json'), '{"version":"55.0.0","artifacts":{}}');
  writeFileSync(join(dir, 'demo-20-users-data.template.json'), JSON.stringify({ Resources: resources }));
  return dir;
}

const db = (name: string) => ({
  Type: 'AWS::RDS::DBInstance',
  Properties: { DBName: name, Engine: 'postgres' },
  DeletionPolicy: 'Snapshot',
});

function guard(...args: string[]) {
  return spawnSync(join(ROOT, 'node_modules', '.bin', 'tsx'), ['scripts/stateful-guard.ts', ...args], {
    cwd: ROOT,
    encoding: 'utf8',
  });
}

describe('npm run guard', () => {
  it('passes when nothing stateful is replaced or deleted, and fails naming the property otherwise', () => {
    const before = assembly({ Database: db('users') });
    const same = guard(
      before,
      assembly({
        Database: {
          ...db('users'),
          Properties: { DBName: 'users', Engine: 'postgres', AllocatedStorage: '50' },
        },
      }),
    );
    expect(same.status).toBe(0);
    expect(same.stdout).toContain('No stateful resource is replaced or deleted');

    const renamed = guard(before, assembly({ Database: db('accounts') }));
    expect(renamed.status).toBe(1);
    expect(renamed.stderr).toContain(
      'demo-20-users-data/Database (AWS::RDS::DBInstance) would be REPLACED: changed DBName',
    );
  });

  it('refuses a new flags.parameterPrefix, naming the prefix to set back (issue 24, item 8)', () => {
    const flag = (name: string) => ({ Type: 'Custom::MigrationFlagParameter', Properties: { Name: name } });
    const result = guard(
      assembly({ FlagsRouting: flag('/shop/migration/users/routing') }),
      assembly({ FlagsRouting: flag('/shop/flags/users/routing') }),
    );
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(
      'demo-20-users-data/FlagsRouting (Custom::MigrationFlagParameter) would be REPLACED: changed Name: /shop/migration/users/routing would move to /shop/flags/users/routing',
    );
    expect(result.stderr).toContain('Set flags.parameterPrefix back to "/shop/migration"');
  });

  it('explains its usage', () => {
    const result = guard('only-one');
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('usage: npm run guard -- <old cdk.out> <new cdk.out>');
  });
});

describe('the deploy-time marker of a recorded cutover', () => {
  it('is reported when a change removes or alters it, and not when it stays', async () => {
    const { statefulChanges } = await import('../../lib/safety/stateful-guard');
    const marker = { runId: 'users-cutover-20261126T100000', completedAt: '2026-11-26T10:00:00Z' };
    const withMarker = { Resources: {}, Metadata: { MigrationCutoverRecorded: marker } };
    expect(statefulChanges({ data: withMarker }, { data: withMarker })).toEqual([]);
    expect(statefulChanges({ data: withMarker }, { data: { Resources: {} } })).toEqual([
      expect.objectContaining({
        stack: 'data',
        change: 'unmark',
        cause: expect.stringMatching(/keep services\[\]\.cutoverRecorded/),
      }),
    ]);
    expect(
      statefulChanges(
        { data: withMarker },
        { data: { Resources: {}, Metadata: { MigrationCutoverRecorded: { ...marker, runId: 'x' } } } },
      ),
    ).toHaveLength(1);
  });
});
