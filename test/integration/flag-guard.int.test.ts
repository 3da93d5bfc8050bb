/**
 * The point of no return against the SSM emulator: real versions, labels and deletions, the guard
 * called in process with the EventBridge event the test builds (the emulator emits no Parameter Store
 * events and runs no Lambda), and readers that read what every reader reads: `<name>:last-good`.
 */
import {
  DeleteParameterCommand,
  GetParameterHistoryCommand,
  LabelParameterVersionCommand,
  PutParameterCommand,
  SSMClient,
  UnlabelParameterVersionCommand,
} from '@aws-sdk/client-ssm';
import type { EventBridgeEvent } from 'aws-lambda';
import { rollback } from '../../lambda/auto-rollback/handler';
import { type GuardDependencies, guard, type ParameterChangeDetail } from '../../lambda/flag-guard/handler';
import { Alerts } from '../../lambda/shared/alerts';
import { jsonLogger } from '../../lambda/shared/log';
import { destinationOf } from '../../lib/flags/evaluate';
import { type FlagLoad, nextFlagState } from '../../lib/flags/loaded-flags';
import { guardRecordNames } from '../../lib/flags/parameters';
import { readChecked } from '../../lib/flags/ssm-store';
import { hookService, ready, verifiedRun } from '../helpers/hooks';
import { createTopic, deployFlags, isolatedConfig, motoClients, REGION, versionsOf } from '../helpers/moto';

const { ssm, sns, sfn } = motoClients();
afterAll(() => {
  ssm.destroy();
  sns.destroy();
  sfn.destroy();
});
const event = (name: string, operation = 'Update') =>
  ({
    source: 'aws.ssm',
    'detail-type': 'Parameter Store Change',
    detail: { operation, name },
  }) as EventBridgeEvent<string, ParameterChangeDetail>;
const schedule = { 'detail-type': 'Scheduled Event', source: 'aws.events' } as unknown as EventBridgeEvent<
  string,
  ParameterChangeDetail
>;

const ALL = '{"mode":"all","users":[],"percent":0}';
const DONE =
  '{"completed":true,"completedAt":"2026-11-26T10:00:00.123Z","runId":"users-cutover-20261126T100000"}';

async function setup(
  options: { phase?: number; cutoverRecorded?: { runId: string; completedAt: string } } = {},
) {
  const { config } = isolatedConfig();
  const names = await deployFlags(ssm, config);
  const topic = await createTopic(sns);
  const service = hookService(config.flags.parameterPrefix, { phase: options.phase ?? 2, ...options });
  const deps: GuardDependencies = {
    services: [service],
    ssm,
    sfn: ready(sfn),
    alerts: new Alerts(topic, ready(sns)),
    logger: jsonLogger('flag-guard', () => {}),
  };
  // What the guard does on the deploy's Create events: check and record the initial documents.
  for (const name of Object.values(names)) await guard(event(name, 'Create'), deps);
  const put = (name: string, value: string) =>
    ssm.send(new PutParameterCommand({ Name: name, Value: value, Type: 'String', Overwrite: true }));
  const checked = async (name: string) => (await readChecked(ssm, [name])).get(name);
  return {
    names,
    deps,
    put,
    checked,
    service,
    records: guardRecordNames(config.flags.parameterPrefix, 'users'),
  };
}

/**
 * The cutover as recorded: the guard accepted it once (with a verified run) and recorded it. The run
 * check itself is unit-tested (test/lambda/flag-guard-decide.test.ts); here the record is what counts.
 */
async function recordCutover(s: Awaited<ReturnType<typeof setup>>) {
  await s.put(s.names.routing, ALL);
  await guard(event(s.names.routing), s.deps);
  await s.put(s.names.cutover, DONE);
  const verified = { ...s.deps, sfn: verifiedRun() };
  await expect(guard(event(s.names.cutover), verified)).resolves.toMatchObject({ status: 'labelled' });
}

describe('flag guard against the SSM emulator', () => {
  it('checks and records the deployed initial documents, which the deploy labelled already', async () => {
    const { names, records } = await setup();
    for (const name of Object.values(names))
      expect(await versionsOf(ssm, name)).toEqual([
        expect.objectContaining({ version: 1, labels: ['last-good'] }),
      ]);
    expect((await versionsOf(ssm, records.routing))[0].value).toBe('{"mode":"off","users":[],"percent":0}');
  });

  it('restores a bad raw write with a new, labelled version; readers never saw the bad one', async () => {
    const { names, deps, put, checked } = await setup();
    await put(names.routing, '{"mode":"percent","percent":150}');
    expect(await checked(names.routing)).toEqual({
      status: 'ok',
      text: '{"mode":"off","users":[],"percent":0}',
    });

    await expect(guard(event(names.routing), deps)).resolves.toMatchObject({
      status: 'restored',
      badVersion: 2,
      newVersion: 3,
    });
    await expect(guard(event(names.routing), deps)).resolves.toMatchObject({
      status: 'unchanged',
      version: 3,
    });
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
    expect((await versionsOf(ssm, names.routing)).map((v) => v.labels)).toEqual([[], ['last-good']]);
  });
});

describe('after the point of no return, nothing routes a user back to the monolith', () => {
  it('a raw write of routing off is never read by a reader, and is undone', async () => {
    const s = await setup();
    await recordCutover(s);
    await s.put(s.names.routing, '{"mode":"off","users":[],"percent":0}');
    // Between the write and the guard's check, every reader still reads the checked "all".
    expect(await s.checked(s.names.routing)).toEqual({ status: 'ok', text: ALL });
    await expect(guard(event(s.names.routing), s.deps)).resolves.toMatchObject({
      status: 'restored',
      problems: [expect.stringMatching(/routing must stay "all"/)],
    });
    expect(await s.checked(s.names.routing)).toEqual({ status: 'ok', text: ALL });
  });

  it('a deleted cutover parameter comes back completed, from the guard record', async () => {
    const s = await setup();
    await recordCutover(s);
    await ssm.send(new DeleteParameterCommand({ Name: s.names.cutover }));
    await expect(guard(event(s.names.cutover, 'Delete'), s.deps)).resolves.toMatchObject({
      status: 'restored',
    });
    expect(await s.checked(s.names.cutover)).toEqual({ status: 'ok', text: DONE });
    // And routing away is still refused.
    await s.put(s.names.routing, '{"mode":"off","users":[],"percent":0}');
    await expect(guard(event(s.names.routing), s.deps)).resolves.toMatchObject({ status: 'restored' });
  });

  it('a cutover deleted and re-created as {"completed":false} is restored to completed', async () => {
    const s = await setup();
    await recordCutover(s);
    await ssm.send(new DeleteParameterCommand({ Name: s.names.cutover }));
    await s.put(s.names.cutover, '{"completed":false}');
    await expect(guard(event(s.names.cutover, 'Create'), s.deps)).resolves.toMatchObject({
      status: 'restored',
      problems: [expect.stringMatching(/cannot be undone/)],
    });
    expect(await s.checked(s.names.cutover)).toEqual({ status: 'ok', text: DONE });
  });

  it('a removed last-good label (which emits no event) is put back by the scheduled re-check', async () => {
    const s = await setup();
    await recordCutover(s);
    const [labelled] = (await versionsOf(ssm, s.names.cutover)).filter((v) => v.labels.includes('last-good'));
    await ssm.send(
      new UnlabelParameterVersionCommand({
        Name: s.names.cutover,
        ParameterVersion: labelled.version,
        Labels: ['last-good'],
      }),
    );
    expect(await s.checked(s.names.cutover)).toEqual({ status: 'missing' });
    await expect(guard(schedule, s.deps)).resolves.toMatchObject({ status: 'reconciled' });
    expect(await s.checked(s.names.cutover)).toEqual({ status: 'ok', text: DONE });
  });

  it('a routing parameter deleted and re-created as the initial "off" is restored to "all", once', async () => {
    const s = await setup();
    await recordCutover(s);
    await ssm.send(new DeleteParameterCommand({ Name: s.names.routing }));
    await s.put(s.names.routing, '{"mode":"off","users":[],"percent":0}');
    await expect(guard(event(s.names.routing, 'Create'), s.deps)).resolves.toMatchObject({
      status: 'restored',
    });
    // Its own restore (an Update event) and its label (a LabelParameterVersion event) change nothing.
    await expect(guard(event(s.names.routing), s.deps)).resolves.toMatchObject({ status: 'unchanged' });
    await expect(guard(event(s.names.routing, 'LabelParameterVersion'), s.deps)).resolves.toMatchObject({
      status: 'unchanged',
    });
    const history = await ssm.send(new GetParameterHistoryCommand({ Name: s.names.routing }));
    expect(history.Parameters?.map((p) => p.Value)).toEqual(['{"mode":"off","users":[],"percent":0}', ALL]);
  });

  it('even the guard record and the parameter deleted together: the deploy-time marker keeps it completed', async () => {
    const marker = { runId: 'users-cutover-20261126T100000', completedAt: '2026-11-26T10:00:00.123Z' };
    const s = await setup({ cutoverRecorded: marker });
    await recordCutover(s);
    for (const name of [s.names.cutover, s.records.cutover, s.names.routing, s.records.routing])
      await ssm.send(new DeleteParameterCommand({ Name: name }));
    await guard(event(s.names.cutover, 'Delete'), s.deps);
    await guard(event(s.names.routing, 'Delete'), s.deps);
    expect(await s.checked(s.names.cutover)).toEqual({ status: 'ok', text: DONE });
    expect(await s.checked(s.names.routing)).toEqual({ status: 'ok', text: ALL });
  });

  it('a hand-written completed cutover naming no run of the state machine is undone', async () => {
    const s = await setup();
    await s.put(s.names.routing, ALL);
    await guard(event(s.names.routing), s.deps);
    await s.put(s.names.cutover, DONE.replace('users-cutover-20261126T100000', 'made-up-run'));
    // The emulator's Step Functions knows no such execution.
    await expect(guard(event(s.names.cutover), s.deps)).resolves.toMatchObject({
      status: 'restored',
      problems: [expect.stringMatching(/made-up-run is not an execution of the cutover state machine/)],
    });
    expect(await s.checked(s.names.cutover)).toEqual({ status: 'ok', text: '{"completed":false}' });
  });

  it('key one alone (a valid override plus a raw write without the second key) is undone; both keys pass', async () => {
    const s = await setup();
    await recordCutover(s);
    const expiresAt = new Date(Date.now() + 3600_000).toISOString();
    await s.put(
      s.service.overrideName,
      JSON.stringify({ acceptDataLoss: true, reason: 'users DB corrupted, INC-4711', expiresAt }),
    );
    await expect(guard(event(s.service.overrideName), s.deps)).resolves.toMatchObject({ status: 'labelled' });

    await s.put(s.names.routing, '{"mode":"off","users":[],"percent":0}');
    await expect(guard(event(s.names.routing), s.deps)).resolves.toMatchObject({ status: 'restored' });

    const both = JSON.stringify({
      mode: 'off',
      users: [],
      percent: 0,
      override: { expiresAt, acceptDataLoss: 'INC-4711, approved by the CTO' },
    });
    await s.put(s.names.routing, both);
    await expect(guard(event(s.names.routing), s.deps)).resolves.toMatchObject({ status: 'labelled' });
    expect(await s.checked(s.names.routing)).toEqual({ status: 'ok', text: both });
  });
});

describe('an alarm during the bulk migration', () => {
  it('routing set off by the automatic rollback makes the later cutover write fail the guard', async () => {
    const s = await setup();
    await s.put(s.names.routing, ALL);
    await guard(event(s.names.routing), s.deps);
    const alarm = {
      detail: { alarmName: 'demo-users-5xx-rate', state: { value: 'ALARM', reason: 'Threshold Crossed' } },
    } as never;
    await expect(rollback(alarm, s.deps)).resolves.toMatchObject({
      status: 'done',
      summary: 'users: routing all -> off',
    });
    await expect(guard(event(s.names.routing), s.deps)).resolves.toMatchObject({ status: 'labelled' });

    await s.put(s.names.cutover, DONE);
    await expect(guard(event(s.names.cutover), { ...s.deps, sfn: verifiedRun() })).resolves.toMatchObject({
      status: 'restored',
      problems: ['the cutover can only be recorded while routing is "all" (it is "off")'],
    });
  });
});

describe('an alarm at phase 3 before the cutover (issue 24)', () => {
  it('the rollback writes the weight 0, narrows routing once the guard labelled it, and the guard accepts both', async () => {
    const s = await setup({ phase: 3 });
    await s.put(s.names.routing, ALL);
    await guard(event(s.names.routing), s.deps);
    await s.put(s.names.gateway, '{"weight":50}');
    await expect(guard(event(s.names.gateway), s.deps)).resolves.toMatchObject({ status: 'labelled' });
    const alarm = {
      detail: { alarmName: 'demo-users-5xx-rate', state: { value: 'ALARM', reason: 'Threshold Crossed' } },
    } as never;
    // EventBridge runs the guard on the rollback's gateway write while the rollback waits for its label.
    const sleep = async () => {
      await guard(event(s.names.gateway), s.deps);
    };
    await expect(rollback(alarm, { ...s.deps, sleep })).resolves.toMatchObject({
      status: 'done',
      summary: 'users: gateway weight 50 -> 0, routing all -> off',
    });
    await expect(guard(event(s.names.routing), s.deps)).resolves.toMatchObject({ status: 'labelled' });
    expect(await s.checked(s.names.gateway)).toEqual({
      status: 'ok',
      text: '{"weight":0,"reason":"auto-rollback: demo-users-5xx-rate"}',
    });
    expect(await s.checked(s.names.routing)).toEqual({
      status: 'ok',
      text: '{"mode":"off","users":[],"percent":0,"reason":"auto-rollback: demo-users-5xx-rate"}',
    });
  });

  it('routing written before the guard labelled the weight would be restored: why the rollback waits', async () => {
    const s = await setup({ phase: 3 });
    await s.put(s.names.routing, ALL);
    await guard(event(s.names.routing), s.deps);
    await s.put(s.names.gateway, '{"weight":50}');
    await guard(event(s.names.gateway), s.deps);
    await s.put(s.names.gateway, '{"weight":0}');
    await s.put(s.names.routing, '{"mode":"off","users":[],"percent":0}');
    await expect(guard(event(s.names.routing), s.deps)).resolves.toMatchObject({
      status: 'restored',
      problems: [expect.stringMatching(/routing narrows only once the gateway weight is 0/)],
    });
    expect(await s.checked(s.names.routing)).toEqual({ status: 'ok', text: ALL });
  });
});

describe('from phase 2, the guard never re-initialises what it cannot know (issue 23)', () => {
  /** Where a reader that starts now sends user 42 of `users` at phase 2 (no marker). */
  async function freshReader(s: Awaited<ReturnType<typeof setup>>) {
    const loaded = await readChecked(ssm, [s.names.routing, s.names.cutover, s.service.overrideName]);
    const of = (name: string) => loaded.get(name) ?? ({ status: 'missing' } as const);
    const { state } = nextFlagState(
      {},
      { routing: of(s.names.routing), cutover: of(s.names.cutover), override: of(s.service.overrideName) },
    );
    return destinationOf(
      { service: 'users', phase: 2, cutoverRecorded: false },
      state,
      { userId: '42', anonymous: 'legacy' },
      new Date(),
    );
  }
  const alerts = (s: Awaited<ReturnType<typeof setup>>) => {
    const published: string[] = [];
    return {
      deps: {
        ...s.deps,
        alerts: { publish: async (subject: string) => void published.push(subject) } as never,
      },
      published,
    };
  };

  it('after the cutover, its records and both flag parameters deleted: writes nothing back, alerts; readers wait', async () => {
    const s = await setup();
    await recordCutover(s);
    for (const name of [s.records.cutover, s.records.routing, s.names.cutover, s.names.routing])
      await ssm.send(new DeleteParameterCommand({ Name: name }));
    const { deps, published } = alerts(s);
    await expect(guard(event(s.names.cutover, 'Delete'), deps)).resolves.toMatchObject({
      status: 'held',
      problems: expect.arrayContaining([expect.stringMatching(/cannot know whether the cutover happened/)]),
    });
    await expect(guard(event(s.names.routing, 'Delete'), deps)).resolves.toMatchObject({ status: 'held' });
    await expect(guard(schedule, deps)).resolves.toMatchObject({ status: 'reconciled' });
    expect(await s.checked(s.names.cutover)).toEqual({ status: 'missing' });
    expect(await s.checked(s.names.routing)).toEqual({ status: 'missing' });
    expect(published).toEqual(expect.arrayContaining([expect.stringMatching(/^Migration flag held/)]));
    // Never the monolith: a reader that starts now cannot decide, and waits.
    expect(await freshReader(s)).toBe('unavailable');
  });

  it('after the cutover, its cutover record and parameter deleted and a forged cutover written: never the initial document', async () => {
    const s = await setup();
    await recordCutover(s);
    for (const name of [s.records.cutover, s.names.cutover])
      await ssm.send(new DeleteParameterCommand({ Name: name }));
    await s.put(s.names.cutover, DONE.replace('users-cutover-20261126T100000', 'forged-run'));
    const { deps } = alerts(s);
    await expect(guard(event(s.names.cutover, 'Create'), deps)).resolves.toMatchObject({
      status: 'held',
      problems: expect.arrayContaining([expect.stringMatching(/forged-run is not an execution/)]),
    });
    const versions = await versionsOf(ssm, s.names.cutover);
    expect(versions.map((v) => v.value)).not.toContain('{"completed":false}');
    expect(await freshReader(s)).not.toBe('legacy');
  });

  it('after the cutover, records deleted, labels moved by hand onto the first cutover version and a raw routing off: neither taken', async () => {
    const s = await setup();
    await recordCutover(s);
    for (const name of [s.records.cutover, s.records.routing])
      await ssm.send(new DeleteParameterCommand({ Name: name }));
    const [first] = await versionsOf(ssm, s.names.cutover);
    await ssm.send(
      new LabelParameterVersionCommand({
        Name: s.names.cutover,
        ParameterVersion: first.version,
        Labels: ['last-good'],
      }),
    );
    await s.put(s.names.routing, '{"mode":"off","users":[],"percent":0}');
    const { deps } = alerts(s);
    await expect(guard(event(s.names.routing), deps)).resolves.toMatchObject({ status: 'held' });
    await expect(guard(event(s.names.cutover, 'LabelParameterVersion'), deps)).resolves.toMatchObject({
      status: 'held',
    });
    expect(await s.checked(s.names.routing)).toEqual({ status: 'ok', text: ALL });
    expect(await freshReader(s)).toBe('service');
  });

  it('with the deploy-time marker added, the same deletions are restored completed (the way out)', async () => {
    const marker = { runId: 'users-cutover-20261126T100000', completedAt: '2026-11-26T10:00:00.123Z' };
    const s = await setup();
    await recordCutover(s);
    for (const name of [s.records.cutover, s.records.routing, s.names.cutover, s.names.routing])
      await ssm.send(new DeleteParameterCommand({ Name: name }));
    const marked = {
      ...s.deps,
      services: [
        hookService(s.service.names.routing.replace('/users/routing', ''), {
          phase: 2,
          cutoverRecorded: marker,
        }),
      ],
    };
    await guard(event(s.names.cutover, 'Delete'), marked);
    await guard(event(s.names.routing, 'Delete'), marked);
    expect(await s.checked(s.names.cutover)).toEqual({ status: 'ok', text: DONE });
    expect(await s.checked(s.names.routing)).toEqual({ status: 'ok', text: ALL });
  });

  it('at phase 2 before any cutover, a deleted routing parameter is still restored from the record', async () => {
    const s = await setup();
    await ssm.send(new DeleteParameterCommand({ Name: s.names.routing }));
    await expect(guard(event(s.names.routing, 'Delete'), s.deps)).resolves.toMatchObject({
      status: 'restored',
    });
  });
});

describe('readers that start while SSM is unreachable', () => {
  const unreachable = new SSMClient({
    region: REGION,
    endpoint: 'http://127.0.0.1:9',
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    maxAttempts: 1,
  });
  afterAll(() => unreachable.destroy());

  async function loadOnce(names: { routing: string; cutover: string }, override: string) {
    const loaded = await readChecked(unreachable, [names.routing, names.cutover, override]);
    const load: FlagLoad = {
      routing: loaded.get(names.routing) ?? { status: 'missing' },
      cutover: loaded.get(names.cutover) ?? { status: 'missing' },
      override: loaded.get(override) ?? { status: 'missing' },
    };
    return nextFlagState({}, load);
  }

  it('wait on a phase-2 service without the marker, go to the service with it, and keep phase 1 on the monolith', async () => {
    const s = await setup();
    const { state } = await loadOnce(s.names, s.service.overrideName);
    expect(state).toEqual({});
    const user = { userId: '42', anonymous: 'legacy' as const };
    const now = new Date();
    expect(destinationOf({ service: 'users', phase: 2, cutoverRecorded: false }, state, user, now)).toBe(
      'unavailable',
    );
    expect(destinationOf({ service: 'users', phase: 2, cutoverRecorded: true }, state, user, now)).toBe(
      'service',
    );
    expect(destinationOf({ service: 'users', phase: 1, cutoverRecorded: false }, state, user, now)).toBe(
      'legacy',
    );
  });

  it('keep a completed cutover they saw, whatever a later load says', async () => {
    const s = await setup();
    await recordCutover(s);
    const first = nextFlagState(
      {},
      {
        routing: (await readChecked(ssm, [s.names.routing])).get(s.names.routing) ?? { status: 'missing' },
        cutover: (await readChecked(ssm, [s.names.cutover])).get(s.names.cutover) ?? { status: 'missing' },
        override: { status: 'missing' },
      },
    ).state;
    expect(first.cutover).toMatchObject({ completed: true });
    const { state } = await loadOnce(s.names, s.service.overrideName);
    const later = nextFlagState(first, {
      routing: { status: 'ok', text: '{"mode":"off"}' },
      cutover: { status: 'ok', text: '{"completed":false}' },
      override: { status: 'missing' },
    }).state;
    expect(state).toEqual({});
    expect(
      destinationOf(
        { service: 'users', phase: 2, cutoverRecorded: false },
        later,
        { userId: '42', anonymous: 'legacy' },
        new Date(),
      ),
    ).toBe('service');
  });
});
