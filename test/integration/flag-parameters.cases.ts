/**
 * The flag parameters' custom resource across deploys: the provider (lambda/flag-parameter) runs in
 * process with the properties of the synthesized template, against the SSM emulator.
 */
import { GetParameterCommand, ListTagsForResourceCommand, PutParameterCommand } from '@aws-sdk/client-ssm';
import { Template } from 'aws-cdk-lib/assertions';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { type ProviderDependencies, provide } from '../../lambda/flag-parameter/handler';
import { jsonLogger } from '../../lambda/shared/log';
import { readChecked } from '../../lib/flags/ssm-store';
import { NetworkStack } from '../../lib/stacks/network-stack';
import { ServiceDataStack } from '../../lib/stacks/service-data-stack';
import { isolatedConfig, motoClients, versionsOf } from '../helpers/moto';
import { config, demoInput, testApp } from '../helpers/test-app';

const { ssm } = motoClients();
afterAll(() => ssm.destroy());
const deps: ProviderDependencies = { ssm, logger: jsonLogger('flag-parameter', () => {}) };

/** The properties of each flag custom resource of a synthesized data stack, by kind of flag. */
function parameters(input: ReturnType<typeof demoInput>, identity: string) {
  // Only the stacks the data stack needs: synthesizing the whole app twice would be slow.
  const cfg = config(input);
  const app = testApp();
  const network = new NetworkStack(app, 'network', { config: cfg });
  const stack = new ServiceDataStack(app, 'data', {
    config: cfg,
    vpc: network.vpc,
    subnets: network.subnets,
    service: cfg.services[0],
  });
  const resources = Object.values(Template.fromStack(stack).findResources('Custom::MigrationFlagParameter'));
  const byFlag = Object.fromEntries(
    resources.map((r) => {
      const { ServiceToken: _token, ...props } = r.Properties;
      const flag = (props.Tags as { Key: string; Value: string }[]).find(
        (t) => t.Key === 'migration:flag',
      )?.Value;
      return [flag, { ...props, Identity: identity }];
    }),
  );
  return byFlag as Record<string, Record<string, unknown> & { Name: string }>;
}

function event(
  RequestType: 'Create' | 'Update' | 'Delete',
  props: Record<string, unknown>,
  old?: Record<string, unknown>,
  physicalId = String(props.Name),
): CloudFormationCustomResourceEvent {
  return {
    RequestType,
    ServiceToken: 'arn:provider',
    ResponseURL: 'http://127.0.0.1:9/unused',
    StackId: String(props.Identity),
    RequestId: 'r1',
    LogicalResourceId: 'FlagsRouting',
    ResourceType: 'Custom::MigrationFlagParameter',
    ResourceProperties: { ServiceToken: 'arn:provider', ...props },
    ...(RequestType === 'Create' ? {} : { PhysicalResourceId: physicalId }),
    ...(old ? { OldResourceProperties: old } : {}),
  } as CloudFormationCustomResourceEvent;
}

const input = (mutate: (i: ReturnType<typeof demoInput>) => void = () => {}) => {
  const { config: cfg } = isolatedConfig();
  const i = demoInput();
  i.flags = { parameterPrefix: cfg.flags.parameterPrefix };
  mutate(i);
  return i;
};
const STACK_A = 'arn:aws:cloudformation:eu-west-1:123456789012:stack/demo-20-users-data/aaaa';
const STACK_B = 'arn:aws:cloudformation:eu-west-1:123456789012:stack/demo-20-users-data/bbbb';
const DONE = '{"completed":true,"completedAt":"2026-11-26T10:00:00Z","runId":"users-cutover-1"}';

describe('flag parameters across deploys (the custom resource against the emulator)', () => {
  it('creates each flag once with its initial value, labelled last-good so that readers can read it at once', async () => {
    const props = parameters(input(), STACK_A);
    await expect(provide(event('Create', props.routing), deps)).resolves.toMatchObject({ status: 'SUCCESS' });
    await expect(provide(event('Create', props['live-gateway-weight']), deps)).resolves.toMatchObject({
      status: 'SUCCESS',
    });
    expect(await versionsOf(ssm, props.routing.Name)).toEqual([
      { version: 1, value: '{"mode":"off","users":[],"percent":0}', labels: ['last-good'] },
    ]);
    // The live ALB values are read by CloudFormation at their latest version: no label.
    expect(await versionsOf(ssm, props['live-gateway-weight'].Name)).toEqual([
      { version: 1, value: '0', labels: [] },
    ]);
    expect((await readChecked(ssm, [props.routing.Name])).get(props.routing.Name)).toMatchObject({
      status: 'ok',
    });
  });

  it('a later deploy with changed tags never resets a live flag value, and keeps the identity', async () => {
    const first = parameters(
      input((i) => (i.tags = { team: 'platform' })),
      STACK_A,
    );
    const second = parameters(
      input((i) => (i.tags = { team: 'identity', 'cost-center': '42' })),
      STACK_A,
    );
    second.routing = { ...second.routing, Name: first.routing.Name };
    await provide(event('Create', first.routing), deps);
    await ssm.send(
      new PutParameterCommand({
        Name: first.routing.Name,
        Value: '{"mode":"all"}',
        Type: 'String',
        Overwrite: true,
      }),
    );
    await expect(provide(event('Update', second.routing, first.routing), deps)).resolves.toMatchObject({
      status: 'SUCCESS',
    });
    expect((await versionsOf(ssm, first.routing.Name)).map((v) => v.value)).toEqual([
      '{"mode":"off","users":[],"percent":0}',
      '{"mode":"all"}',
    ]);
    const tags = await ssm.send(
      new ListTagsForResourceCommand({ ResourceType: 'Parameter', ResourceId: first.routing.Name }),
    );
    expect(tags.TagList).toEqual(
      expect.arrayContaining([
        { Key: 'team', Value: 'identity' },
        { Key: 'cost-center', Value: '42' },
        { Key: 'migration:identity', Value: STACK_A },
      ]),
    );
  });

  it('a rebuilt environment does not inherit a completed cutover: the create fails and says what to do', async () => {
    const props = parameters(input(), STACK_A);
    await provide(event('Create', props.cutover), deps);
    await ssm.send(
      new PutParameterCommand({ Name: props.cutover.Name, Value: DONE, Type: 'String', Overwrite: true }),
    );

    const rebuilt = { ...props.cutover, Identity: STACK_B };
    const result = await provide(event('Create', rebuilt), deps);
    expect(result.status).toBe('FAILED');
    expect(result.reason).toMatch(
      /already exists with 2 version\(s\), created by another build of this environment/,
    );
    expect(result.reason).toMatch(/set flags.adoptExisting to true/);
    expect((await ssm.send(new GetParameterCommand({ Name: props.cutover.Name }))).Parameter?.Value).toBe(
      DONE,
    );
  });

  it('adopts a leftover parameter with its value only when flags.adoptExisting says so, and never labels it', async () => {
    const props = parameters(input(), STACK_A);
    await provide(event('Create', props.routing), deps);
    await ssm.send(
      new PutParameterCommand({
        Name: props.routing.Name,
        Value: '{"mode":"percent","percent":30}',
        Type: 'String',
        Overwrite: true,
      }),
    );
    const adopting = { ...props.routing, Identity: STACK_B, AdoptExisting: 'true' };
    await expect(provide(event('Create', adopting), deps)).resolves.toMatchObject({
      status: 'SUCCESS',
      reason: expect.stringMatching(/adopted .*flags.adoptExisting is true/),
    });
    expect((await versionsOf(ssm, props.routing.Name)).map((v) => [v.value, v.labels])).toEqual([
      ['{"mode":"off","users":[],"percent":0}', ['last-good']],
      ['{"mode":"percent","percent":30}', []],
    ]);
  });

  it('a retried first create (its stack rolled back) adopts the untouched initial value', async () => {
    const props = parameters(input(), STACK_A);
    await provide(event('Create', props.gateway), deps);
    await expect(
      provide(event('Create', { ...props.gateway, Identity: STACK_B }), deps),
    ).resolves.toMatchObject({
      status: 'SUCCESS',
      reason: expect.stringMatching(/only the initial value/),
    });
  });

  it('refuses to take a routing parameter back from the advanced to the standard tier', async () => {
    const advanced = parameters(
      input((i) => (i.flags.tier = 'advanced')),
      STACK_A,
    );
    await provide(event('Create', advanced.routing), deps);
    const standard = { ...advanced.routing, Tier: 'Standard' };
    const result = await provide(event('Update', standard, advanced.routing), deps);
    expect(result).toEqual({
      status: 'FAILED',
      reason: `${advanced.routing.Name} is in the advanced tier and SSM cannot move a parameter back to standard: set flags.tier back to "advanced" in the environment file and deploy again.`,
    });
  });

  it('refuses an update that renames the parameter (a new flags.parameterPrefix), naming the way out, before reading anything', async () => {
    const first = parameters(input(), STACK_A);
    await provide(event('Create', first.routing), deps);
    const oldPrefix = first.routing.Name.replace(/\/users\/routing$/, '');
    const moved = { ...first.routing, Name: `${oldPrefix}-moved/users/routing` };
    const update = event('Update', moved, first.routing, first.routing.Name);
    await expect(provide(update, deps)).resolves.toEqual({
      status: 'FAILED',
      reason: expect.stringContaining(
        `${first.routing.Name} would move to ${moved.Name}: a flag parameter cannot be renamed`,
      ),
    });
    const { reason } = await provide(update, deps);
    expect(reason).toContain(`Set flags.parameterPrefix back to "${oldPrefix}"`);
    // The rollback's update (the old name again) succeeds; the flag was never touched.
    await expect(
      provide(event('Update', first.routing, moved, first.routing.Name), deps),
    ).resolves.toMatchObject({
      status: 'SUCCESS',
    });
    expect(await versionsOf(ssm, first.routing.Name)).toHaveLength(1);
  });

  it('reads the tier of the newest version past the first page of the history (more than 50 versions)', async () => {
    const props = parameters(input(), STACK_A);
    await provide(event('Create', props.routing), deps);
    for (let i = 0; i < 55; i++)
      await ssm.send(
        new PutParameterCommand({
          Name: props.routing.Name,
          Value: String(props.routing.Value),
          Type: 'String',
          Overwrite: true,
          // The newest versions went to the advanced tier (a large value, or flags.tier once).
          ...(i >= 52 ? { Tier: 'Advanced' } : {}),
        }),
      );
    const result = await provide(event('Update', props.routing, props.routing), deps);
    expect(result).toEqual({
      status: 'FAILED',
      reason: expect.stringMatching(
        /is in the advanced tier and SSM cannot move a parameter back to standard/,
      ),
    });
  });

  it('leaves the parameter and its history in place when the stack or the resource is deleted', async () => {
    const props = parameters(input(), STACK_A);
    await provide(event('Create', props.routing), deps);
    await expect(provide(event('Delete', props.routing), deps)).resolves.toMatchObject({ status: 'SUCCESS' });
    expect(await versionsOf(ssm, props.routing.Name)).toHaveLength(1);
  });
});
