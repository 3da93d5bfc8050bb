/**
 * Issue 25 item 4: an environment deployed before the operations split (decision 0017) upgrades without
 * replacing or deleting anything stateful and without resetting a flag or a live weight. The old shape is
 * test/fixtures/deployed-before-0017.json: the embedded demo as main synthesized it before the split
 * (its stateful resources and listener rules, all the stateful-change guard and these checks read).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Template as Cfn, formatChanges, statefulChanges } from '../../lib/safety/stateful-guard';
import { demoStacks, templatesOf } from '../helpers/test-app';

const before = JSON.parse(
  readFileSync(join(__dirname, '..', 'fixtures', 'deployed-before-0017.json'), 'utf8'),
).stacks as Record<string, Cfn>;
const after = templatesOf() as Record<string, Cfn>;

/** The resources of one type in every stack, by `<stack>/<logical id>`. */
function resourcesOf(templates: Record<string, Cfn>, type: string) {
  return Object.fromEntries(
    Object.entries(templates).flatMap(([stack, t]) =>
      Object.entries(t.Resources ?? {})
        .filter(([, r]) => r.Type === type)
        .map(([id, r]) => [`${stack}/${id}`, r]),
    ),
  );
}

/** The templates as a minimal cloud assembly, for `npm run guard`. */
function assembly(templates: Record<string, Cfn>): string {
  const dir = mkdtempSync(join(tmpdir(), 'upgrade-'));
  writeFileSync(join(dir, 'manifest.json'), '{"version":"55.0.0","artifacts":{}}');
  for (const [stack, t] of Object.entries(templates))
    writeFileSync(join(dir, `${stack}.template.json`), JSON.stringify(t));
  return dir;
}

describe('upgrading an environment deployed before the operations split (decision 0017)', () => {
  it('replaces or deletes nothing stateful (the stateful-change guard over the old and the new shape)', () => {
    expect(formatChanges(statefulChanges(before, after))).toBe('');
    // The same as CI runs it: npm run guard -- <old cdk.out> <new cdk.out>.
    const root = join(__dirname, '..', '..');
    const run = spawnSync(
      join(root, 'node_modules', '.bin', 'tsx'),
      ['scripts/stateful-guard.ts', assembly(before), assembly(after)],
      { cwd: root, encoding: 'utf8' },
    );
    expect(run.stderr).toBe('');
    expect(run.stdout).toMatch(/^No stateful resource is replaced or deleted/);
    expect(run.status).toBe(0);
  }, 60_000);

  it('leaves behind only retained resources: the cutover log group, which the new stack recreates', () => {
    const gone = Object.entries(before['demo-60-operations'].Resources ?? {}).filter(
      ([id]) => !after['demo-60-operations'].Resources?.[id],
    );
    expect(gone.map(([id, r]) => [id.replace(/[0-9A-F]{8}$/, ''), r.Type, r.DeletionPolicy])).toEqual([
      ['UsersCutoverLogs', 'AWS::Logs::LogGroup', 'Retain'],
    ]);
    expect(Object.values(after['demo-65-users-operations'].Resources ?? {}).map((r) => r.Type)).toContain(
      'AWS::Logs::LogGroup',
    );
  });

  it('keeps every flag parameter as it is: same stack, logical id and properties (a deploy never resets a flag)', () => {
    const flags = (t: Record<string, Cfn>) => {
      const found = resourcesOf(t, 'Custom::MigrationFlagParameter');
      for (const r of Object.values(found)) delete r.Properties.ServiceToken;
      return found;
    };
    const old = flags(before);
    expect(Object.keys(old).length).toBeGreaterThanOrEqual(6);
    expect(flags(JSON.parse(JSON.stringify(after)))).toEqual(old);
  });

  it('keeps every listener rule with the same live weights it reads at deploy (no weight reset)', () => {
    const rules = (t: Record<string, Cfn>) =>
      Object.fromEntries(
        Object.entries(resourcesOf(t, 'AWS::ElasticLoadBalancingV2::ListenerRule')).map(([id, r]) => [
          id,
          [r.Properties.Priority, JSON.stringify(r.Properties.Actions).replace(/[0-9a-f]{64}/g, '<hash>')],
        ]),
      );
    const old = rules(before);
    expect(JSON.stringify(old)).toContain('{{resolve:ssm:/demo/migration/users/live/');
    expect(rules(after)).toEqual(old);
  });

  it('deploys the environment operations stack before the service operations stack, whose names it frees', () => {
    // The state machine, alarms and dashboard keep their physical names: the 60 stack deletes them (its
    // update's cleanup) before the 65 stack creates them again, never the other way round.
    const stacks = demoStacks();
    const serviceOps = stacks.services[0].operations;
    expect(serviceOps?.dependencies.map((s) => s.stackName)).toContain('demo-60-operations');
    const names = (t: Cfn, type: string, key: string) =>
      Object.values(t.Resources ?? {})
        .filter((r) => r.Type === type)
        .map((r) => r.Properties[key]);
    expect(
      names(after['demo-65-users-operations'], 'AWS::StepFunctions::StateMachine', 'StateMachineName'),
    ).toEqual(['demo-users-cutover']);
    expect(
      names(after['demo-60-operations'], 'AWS::StepFunctions::StateMachine', 'StateMachineName'),
    ).toEqual([]);
    expect(names(after['demo-60-operations'], 'AWS::CloudWatch::Alarm', 'AlarmName')).not.toContain(
      'demo-users-5xx-rate',
    );
  });
});
