import { PutParameterCommand } from '@aws-sdk/client-ssm';
import type { EventBridgeEvent } from 'aws-lambda';
import { type GuardDependencies, guard, type ParameterChangeDetail } from '../../lambda/flag-guard/handler';
import { Alerts } from '../../lambda/shared/alerts';
import { jsonLogger } from '../../lambda/shared/log';
import { hookService } from '../helpers/hooks';
import { createTopic, deployFlags, isolatedConfig, motoClients, versionsOf } from '../helpers/moto';

const { ssm, sns } = motoClients();
afterAll(() => {
  ssm.destroy();
  sns.destroy();
});
const event = (name: string) =>
  ({
    source: 'aws.ssm',
    'detail-type': 'Parameter Store Change',
    detail: { operation: 'Update', name },
  }) as EventBridgeEvent<string, ParameterChangeDetail>;

async function setup() {
  const { config } = isolatedConfig();
  const names = await deployFlags(ssm, config);
  const topic = await createTopic(sns);
  const deps: GuardDependencies = {
    env: {
      alertTopicArn: topic,
      services: [hookService(config.flags.parameterPrefix)],
    },
    ssm,
    alerts: new Alerts(topic, sns),
    logger: jsonLogger('flag-guard', () => {}),
  };
  // What the guard does on the deploy's Create events: validate the initial documents.
  for (const name of Object.values(names)) await guard(event(name), deps);
  const put = (name: string, value: string) =>
    ssm.send(new PutParameterCommand({ Name: name, Value: value, Type: 'String', Overwrite: true }));
  return { names, deps, put };
}

describe('flag guard against the SSM emulator', () => {
  it('labels the deployed initial documents last-good', async () => {
    const { names } = await setup();
    for (const name of Object.values(names)) {
      expect(await versionsOf(ssm, name)).toEqual([
        expect.objectContaining({ version: 1, labels: ['last-good'] }),
      ]);
    }
  });

  it('restores a bad raw write with a new version, then validates its own restore once and stops', async () => {
    const { names, deps, put } = await setup();
    await put(names.routing, '{"mode":"percent","percent":150}');

    await expect(guard(event(names.routing), deps)).resolves.toMatchObject({
      status: 'restored',
      badVersion: 2,
      newVersion: 3,
    });
    // The restore is itself a Parameter Store Change: the guard checks it like any write.
    await expect(guard(event(names.routing), deps)).resolves.toEqual({ status: 'labelled', version: 3 });
    await expect(guard(event(names.routing), deps)).resolves.toMatchObject({ status: 'unchanged' });

    expect(await versionsOf(ssm, names.routing)).toEqual([
      { version: 1, value: '{"mode":"off","users":[],"percent":0}', labels: [] },
      { version: 2, value: '{"mode":"percent","percent":150}', labels: [] },
      { version: 3, value: '{"mode":"off","users":[],"percent":0}', labels: ['last-good'] },
    ]);
  });

  it('moves last-good to each valid write', async () => {
    const { names, deps, put } = await setup();
    await put(names.routing, '{"mode":"users","users":["42"]}');
    await expect(guard(event(names.routing), deps)).resolves.toEqual({ status: 'labelled', version: 2 });
    const versions = await versionsOf(ssm, names.routing);
    expect(versions.map((v) => v.labels)).toEqual([[], ['last-good']]);
  });

  it('after the point of no return, undoes a raw write that routes users back to legacy', async () => {
    const { names, deps, put } = await setup();
    await put(names.routing, '{"mode":"all"}');
    await guard(event(names.routing), deps);
    await put(names.cutover, '{"completed":true,"completedAt":"2026-11-26T10:00:00Z","runId":"run-1"}');
    await expect(guard(event(names.cutover), deps)).resolves.toMatchObject({ status: 'labelled' });

    await put(names.routing, '{"mode":"off"}');
    const result = await guard(event(names.routing), deps);
    expect(result).toMatchObject({
      status: 'restored',
      problems: [expect.stringMatching(/routing must stay "all"/)],
    });
    const versions = await versionsOf(ssm, names.routing);
    expect(versions[versions.length - 1].value).toBe('{"mode":"all"}');

    await put(names.cutover, '{"completed":false}');
    await expect(guard(event(names.cutover), deps)).resolves.toMatchObject({
      status: 'restored',
      problems: [expect.stringMatching(/cannot be undone/)],
    });
  });

  it('honours a valid emergency override after the point of no return, and only then', async () => {
    const { names, deps, put } = await setup();
    await put(names.routing, '{"mode":"all"}');
    await guard(event(names.routing), deps);
    await put(names.cutover, '{"completed":true,"completedAt":"2026-11-26T10:00:00Z","runId":"run-1"}');
    await guard(event(names.cutover), deps);

    const overrideName = deps.env.services[0].overrideName;
    const expiresAt = new Date(Date.now() + 3600_000).toISOString();
    await put(
      overrideName,
      JSON.stringify({ acceptDataLoss: true, reason: 'users DB corrupted, INC-4711', expiresAt }),
    );
    await put(names.routing, '{"mode":"off","reason":"INC-4711"}');
    await expect(guard(event(names.routing), deps)).resolves.toMatchObject({ status: 'labelled' });

    // An expired override is no override.
    await put(names.routing, '{"mode":"all"}');
    await guard(event(names.routing), deps);
    await put(
      overrideName,
      JSON.stringify({
        acceptDataLoss: true,
        reason: 'users DB corrupted, INC-4711',
        expiresAt: '2026-01-01T00:00:00Z',
      }),
    );
    await put(names.routing, '{"mode":"off"}');
    await expect(guard(event(names.routing), deps)).resolves.toMatchObject({ status: 'restored' });
  });
});
