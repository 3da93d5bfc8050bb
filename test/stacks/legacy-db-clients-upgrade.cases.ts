/**
 * Decision 0017, the legacy database clients group: an environment deployed before it upgrades without
 * a moment in which a service's tasks or its write-back cannot reach the legacy database, and without
 * replacing anything stateful or any security group. The old shape is
 * test/fixtures/deployed-before-legacy-db-clients.json: the embedded demo as main synthesized it before
 * the change (its stateful resources, security groups and rules, ECS services and functions in the VPC).
 *
 * The order: the platform stack (30) deploys first and creates the clients group with its one rule into
 * the legacy database's group; then each service stack (40) attaches the group to its tasks (a rolling
 * ECS deployment, which CloudFormation waits for) and to its write-back function (a VPC config update),
 * and deletes its own rules into the legacy database's group only in its update's cleanup phase, which
 * CloudFormation runs once every create and update of the stack has completed.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type Template as Cfn,
  formatChanges,
  STATEFUL_TYPES,
  statefulChanges,
} from '../../lib/safety/stateful-guard';
import { demoStacks, templatesOf } from '../helpers/test-app';

const before = JSON.parse(
  readFileSync(join(__dirname, '..', 'fixtures', 'deployed-before-legacy-db-clients.json'), 'utf8'),
).stacks as Record<string, Cfn>;
const after = templatesOf() as Record<string, Cfn>;

const PLATFORM = 'demo-30-platform';
const SERVICE = 'demo-40-users-service';

type Resource = { Type: string; Properties: Record<string, unknown> };
const resources = (t: Cfn) => Object.entries((t.Resources ?? {}) as Record<string, Resource>);

/** The rules of a stack into the legacy database's group (an output of the legacy data stack). */
function legacyDatabaseIngress(t: Cfn) {
  return resources(t).filter(
    ([, r]) =>
      r.Type === 'AWS::EC2::SecurityGroupIngress' &&
      JSON.stringify(r.Properties.GroupId).includes('"StackName":"demo-20-legacy-data"'),
  );
}

const clientsOutput = /^PublishOutputFnGetAttLegacyDatabaseClientsSecurityGroup/;
const carriesClients = (groups: unknown) =>
  (groups as { 'Fn::GetStackOutput'?: { StackName: string; OutputName: string } }[]).some(
    (g) =>
      g['Fn::GetStackOutput']?.StackName === PLATFORM &&
      clientsOutput.test(g['Fn::GetStackOutput'].OutputName),
  );

describe('upgrading to the legacy database clients group (decision 0017)', () => {
  it("replaces or deletes nothing stateful, no security group (the databases' among them), no ECS service or function", () => {
    const watched = [
      ...STATEFUL_TYPES,
      'AWS::EC2::SecurityGroup',
      'AWS::ECS::Service',
      'AWS::Lambda::Function',
    ];
    expect(Object.keys(before[SERVICE].Resources ?? {}).length).toBeGreaterThan(0);
    expect(formatChanges(statefulChanges(before, after, watched))).toBe('');
  });

  it('creates the group and its one rule in the platform stack, which the service stacks deploy after', () => {
    const added = legacyDatabaseIngress(after[PLATFORM]).filter(([id]) => !before[PLATFORM].Resources?.[id]);
    expect(added.map(([, r]) => JSON.stringify(r.Properties.SourceSecurityGroupId))).toEqual([
      expect.stringContaining('LegacyDatabaseClientsSecurityGroup'),
    ]);
    // The legacy service's own rule stays as it was.
    for (const [id, r] of legacyDatabaseIngress(before[PLATFORM]))
      expect(after[PLATFORM].Resources?.[id]).toEqual({ Type: r.Type, Properties: r.Properties });
    // CloudFormation deploys the service stack only once the platform stack's update is complete.
    const service = demoStacks().services[0].service;
    expect(service?.dependencies.map((s) => s.stackName)).toContain(PLATFORM);
  });

  it("attaches the group to the service's tasks and write-back in the update that removes their old rules", () => {
    // The service stack's old rules into the legacy database's group: its tasks' and its write-back's.
    const old = legacyDatabaseIngress(before[SERVICE]);
    expect(old.map(([, r]) => r.Properties.Description).sort()).toEqual([
      'users service to the legacy database (organic import)',
      'users write-back',
    ]);
    // Gone from the new template: CloudFormation deletes them in the update's cleanup phase, after the
    // rolling deployment of the tasks that carry the group and the function's new VPC config.
    for (const [id] of old) expect(after[SERVICE].Resources?.[id]).toBeUndefined();
    expect(legacyDatabaseIngress(after[SERVICE])).toEqual([]);
    const now = resources(after[SERVICE]);
    const [ecs] = now.filter(([, r]) => r.Type === 'AWS::ECS::Service');
    const network = ecs[1].Properties.NetworkConfiguration as {
      AwsvpcConfiguration: { SecurityGroups: unknown[] };
    };
    expect(carriesClients(network.AwsvpcConfiguration.SecurityGroups)).toBe(true);
    const [writeBack] = now.filter(
      ([, r]) => r.Type === 'AWS::Lambda::Function' && r.Properties.FunctionName === 'demo-users-write-back',
    );
    expect(
      carriesClients((writeBack[1].Properties.VpcConfig as { SecurityGroupIds: unknown[] }).SecurityGroupIds),
    ).toBe(true);
    // Before, neither carried it: the old template's service and function had their own group only.
    const [oldEcs] = resources(before[SERVICE]).filter(([, r]) => r.Type === 'AWS::ECS::Service');
    expect(ecs[0]).toBe(oldEcs[0]);
    expect(JSON.stringify(oldEcs[1])).not.toMatch(/LegacyDatabaseClients/);
  });
});
