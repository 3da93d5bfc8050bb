/**
 * Issue 25: twenty-five services at phase 3 (half in krakend, half in alb mode, two routes each, each with
 * a bulk migration and a write-back) synthesize with cdk-nag and the limit checks, and every limit holds
 * with a margin. One synthesis (about 6 s) shared by every assertion; the limits that were designed away
 * (the policies and event patterns on name patterns, the legacy database's inbound rules on one clients
 * group) are shown not to grow from one service to 25.
 */
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import { addNagChecks, buildMigrationApp } from '../../lib/app';
import { scaledDemoInput } from '../../lib/config/scaled-demo';
import { LIMITS, largest, type Measured, measureTemplates } from '../../lib/safety/deploy-limits';
import { config, demoStacks, once, testApp } from '../helpers/test-app';

const SERVICES = 25;

const synthesized = once(() => {
  const outdir = mkdtempSync(join(tmpdir(), 'twenty-five-'));
  const app = testApp({ outdir });
  const stacks = buildMigrationApp(app, config(scaledDemoInput(SERVICES)));
  addNagChecks(app);
  // Throws on any unacknowledged cdk-nag finding and on any limit (lib/safety/deploy-limits.ts).
  app.synth();
  const texts = Object.fromEntries(
    readdirSync(outdir)
      .filter((f) => f.endsWith('.template.json'))
      .map((f) => [f.replace(/\.template\.json$/, ''), readFileSync(join(outdir, f), 'utf8')]),
  );
  return { stacks, measures: measureTemplates(texts) };
});

const max = (values: readonly number[]) => Math.max(...values);
const size = (m: Measured | undefined) => m?.size ?? 0;

describe(`${SERVICES} services at phase 3, half in krakend and half in alb mode`, () => {
  it('synthesize with cdk-nag and every limit check, one operations stack per service', () => {
    const { stacks } = synthesized();
    expect(stacks.services.filter((s) => s.config.gateway === 'alb')).toHaveLength(12);
    expect(stacks.services.every((s) => s.config.writeBack && s.config.bulkMigration)).toBe(true);
    // network, legacy data, platform, gateway; data, service and operations per service; operations.
    expect(stacks.all).toHaveLength(4 + 3 * SERVICES + 1);
    expect(stacks.services.every((s) => s.operations?.cutover)).toBe(true);
  });

  // Each limit with the margin it keeps at 25 services (measured: docs/performance.md, "Limits").
  it.each<[string, () => number, number, number]>([
    [
      'template body (bytes)',
      () => max(synthesized().measures.templates.map((t) => t.bytes)),
      LIMITS.templateBytes,
      0.25,
    ],
    [
      'resources per stack',
      () => max(synthesized().measures.templates.map((t) => t.resources)),
      LIMITS.resources,
      0.25,
    ],
    [
      'outputs per stack',
      () => max(synthesized().measures.templates.map((t) => t.outputs)),
      LIMITS.outputs,
      0.25,
    ],
    [
      'dynamic references per template',
      () => max(synthesized().measures.templates.map((t) => t.dynamicReferences)),
      LIMITS.dynamicReferences,
      0.25,
    ],
    [
      'IAM managed policy (characters)',
      () => size(largest(synthesized().measures.managedPolicies)),
      LIMITS.managedPolicyChars,
      0.5,
    ],
    [
      "a role's inline policies together (characters)",
      () => size(largest(synthesized().measures.roleInlinePolicies)),
      LIMITS.roleInlinePolicyChars,
      0.5,
    ],
    [
      'managed policies attached to a role',
      () => size(largest(synthesized().measures.roleManagedPolicies)),
      LIMITS.managedPoliciesPerRole,
      0.5,
    ],
    [
      'EventBridge event pattern (characters)',
      () => size(largest(synthesized().measures.eventPatterns)),
      LIMITS.eventPatternChars,
      0.25,
    ],
    // The legacy database admits one clients group for every service (decision 0017), not 2 per service.
    [
      'rules of one security group, per direction',
      () => size(largest(synthesized().measures.securityGroupRules)),
      LIMITS.securityGroupRules,
      0.25,
    ],
    [
      'Lambda environment (bytes)',
      () => size(largest(synthesized().measures.lambdaEnvironments)),
      LIMITS.lambdaEnvironmentBytes,
      0.5,
    ],
  ])('keep %s within its limit with a margin', (_name, measure, limit, share) => {
    const value = measure();
    expect(value).toBeGreaterThan(0);
    expect(value).toBeLessThanOrEqual(limit * share);
  });

  it('show every rollback alarm on the overview, at most 100 in one alarm status widget', () => {
    const { stacks } = synthesized();
    const body = JSON.stringify(
      Template.fromStack(stacks.operations as never).findResources('AWS::CloudWatch::Dashboard'),
    );
    // 13 krakend services with 3 alarms, 12 alb services with 6.
    expect(body.match(/:alarm:demo-[a-z0-9-]+/g) ?? []).toHaveLength(13 * 3 + 12 * 6);
    expect(body).toContain('All rollback alarms (1/2)');
    expect(body).toContain('All rollback alarms (2/2)');
  });

  it('hold policies and event patterns of the same size as with one service: they no longer grow', () => {
    const demo = demoStacks();
    const one = measureTemplates(
      Object.fromEntries(demo.all.map((s) => [s.stackName, JSON.stringify(Template.fromStack(s).toJSON())])),
    );
    const { measures } = synthesized();
    const operator = (m: typeof one) =>
      m.managedPolicies.find((p) => p.id.startsWith('PoliciesOperator'))?.size;
    expect(operator(measures)).toBe(operator(one));
    const patterns = (m: typeof one) =>
      Object.fromEntries(
        m.eventPatterns.filter((p) => p.stack.endsWith('-60-operations')).map((p) => [p.id, p.size]),
      );
    expect(patterns(measures)).toEqual(patterns(one));
    // The hooks' policies in the environment's operations stack: the same statements for 1 and 25 services.
    const hooks = (m: typeof one) =>
      Object.fromEntries(
        m.roleInlinePolicies
          .filter(
            (r) => r.stack.endsWith('-60-operations') && /^(FlagGuard|AutoRollback|CutoverSteps)/.test(r.id),
          )
          .map((r) => [r.id, r.size]),
      );
    expect(Object.keys(hooks(one))).toHaveLength(3);
    expect(hooks(measures)).toEqual(hooks(one));
  });

  it("hold the legacy database's inbound rules constant: the legacy service and the clients group (decision 0017)", () => {
    const demo = demoStacks();
    const one = measureTemplates(
      Object.fromEntries(demo.all.map((s) => [s.stackName, JSON.stringify(Template.fromStack(s).toJSON())])),
    );
    // Its inline rules (none) and the rules other stacks add to it by its output, together.
    const inbound = (m: typeof one) =>
      m.securityGroupRules
        .filter((g) => /-20-legacy-data[/:].*LegacyDatabaseSecurityGroup.* ingress$/.test(g.id))
        .reduce((n, g) => n + g.size, 0);
    expect(inbound(one)).toBe(2);
    expect(inbound(synthesized().measures)).toBe(inbound(one));
  });
});
