import {
  AddTagsToResourceCommand,
  ListTagsForResourceCommand,
  PutParameterCommand,
  type SSMClient,
} from '@aws-sdk/client-ssm';
import { Template } from 'aws-cdk-lib/assertions';
import { NetworkStack } from '../../lib/stacks/network-stack';
import { ServiceDataStack } from '../../lib/stacks/service-data-stack';
import { isolatedConfig, motoClients, versionsOf } from '../helpers/moto';
import { config, demoInput, testApp } from '../helpers/test-app';

const { ssm } = motoClients();
afterAll(() => ssm.destroy());

interface SdkCall {
  action: string;
  parameters: Record<string, unknown>;
  ignoreErrorCodesMatching?: string;
}

/** The flag custom resources of a synthesized data stack: their Create and Update SDK calls. */
function flagCalls(input: Parameters<typeof config>[0]) {
  // Only the stacks the data stack needs: synthesizing the whole app twice would be slow.
  const cfg = config(input);
  const app = testApp();
  const network = new NetworkStack(app, 'network', { config: cfg });
  const stack = new ServiceDataStack(app, 'data', {
    config: cfg,
    vpc: network.vpc,
    service: cfg.services[0],
  });
  const resources = Template.fromStack(stack).findResources('Custom::MigrationFlagParameter');
  return Object.fromEntries(
    Object.entries(resources).map(([id, r]) => [
      id,
      {
        create: JSON.parse(r.Properties.Create) as SdkCall,
        update: JSON.parse(r.Properties.Update) as SdkCall,
      },
    ]),
  );
}

/** Executes a call as the AwsCustomResource provider does (same SDK action, same parameters, same ignored errors). */
async function execute(client: SSMClient, call: SdkCall) {
  try {
    if (call.action === 'putParameter') await client.send(new PutParameterCommand(call.parameters as never));
    else if (call.action === 'addTagsToResource')
      await client.send(new AddTagsToResourceCommand(call.parameters as never));
    else throw new Error(`unexpected SDK action ${call.action}`);
  } catch (e) {
    if (!call.ignoreErrorCodesMatching || !new RegExp(call.ignoreErrorCodesMatching).test((e as Error).name))
      throw e;
  }
}

describe('flag parameters across deploys (the synthesized SDK calls run against the emulator)', () => {
  it('a later deploy with changed tags never resets a live flag value', async () => {
    const { config: cfg } = isolatedConfig();
    const input = (tags: Record<string, string>) => ({
      ...JSON.parse(JSON.stringify(cfgInput(cfg.flags.parameterPrefix))),
      tags,
    });
    const v1 = flagCalls(input({ team: 'platform' }));
    const v2 = flagCalls(input({ team: 'identity', 'cost-center': '42' }));
    const routing = Object.keys(v1).find((id) => id.startsWith('FlagsRouting')) as string;
    const name = v1[routing].create.parameters.Name as string;

    // Deploy 1 creates the parameter with routing off.
    await execute(ssm, v1[routing].create);
    // An operator (or a hook) flips it.
    await ssm.send(
      new PutParameterCommand({ Name: name, Value: '{"mode":"all"}', Type: 'String', Overwrite: true }),
    );
    // Deploy 2 changed the tags: CloudFormation sends an Update to the custom resource.
    expect(v2[routing].update).not.toEqual(v1[routing].update);
    await execute(ssm, v2[routing].update);

    const versions = await versionsOf(ssm, name);
    expect(versions.map((v) => v.value)).toEqual(['{"mode":"off","users":[],"percent":0}', '{"mode":"all"}']);
    const tags = await ssm.send(
      new ListTagsForResourceCommand({ ResourceType: 'Parameter', ResourceId: name }),
    );
    expect(tags.TagList).toEqual(
      expect.arrayContaining([
        { Key: 'team', Value: 'identity' },
        { Key: 'cost-center', Value: '42' },
      ]),
    );
  });

  it('a re-created stack adopts an existing parameter with its live value', async () => {
    const { config: cfg } = isolatedConfig();
    const calls = flagCalls(cfgInput(cfg.flags.parameterPrefix));
    const routing = Object.values(calls)[0];
    const name = routing.create.parameters.Name as string;
    await execute(ssm, routing.create);
    await ssm.send(
      new PutParameterCommand({
        Name: name,
        Value: '{"mode":"percent","percent":30}',
        Type: 'String',
        Overwrite: true,
      }),
    );
    await execute(ssm, routing.create); // Create again: ParameterAlreadyExists is ignored, nothing is written
    expect((await versionsOf(ssm, name)).map((v) => v.value)).toEqual([
      '{"mode":"off","users":[],"percent":0}',
      '{"mode":"percent","percent":30}',
    ]);
  });
});

function cfgInput(prefix: string) {
  const input = demoInput();
  input.flags = { parameterPrefix: prefix };
  return input;
}
