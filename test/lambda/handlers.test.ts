import { SFNClient } from '@aws-sdk/client-sfn';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import {
  GetParameterCommand,
  GetParameterHistoryCommand,
  GetParametersCommand,
  LabelParameterVersionCommand,
  ParameterNotFound,
  PutParameterCommand,
  SSMClient,
  SSMServiceException,
} from '@aws-sdk/client-ssm';
import type { EventBridgeEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { type AlarmChangeDetail, rollback } from '../../lambda/auto-rollback/handler';
import { guard, type ParameterChangeDetail } from '../../lambda/flag-guard/handler';
import { Alerts } from '../../lambda/shared/alerts';
import type { Logger } from '../../lambda/shared/log';
import { flagParameterNames, guardRecordNames } from '../../lib/flags/parameters';
import { hookService, ready } from '../helpers/hooks';

const ssmMock = mockClient(SSMClient);
const snsMock = mockClient(SNSClient);
const names = flagParameterNames('/demo/migration', 'users');
const records = guardRecordNames('/demo/migration', 'users');
const topicArn = 'arn:aws:sns:eu-west-1:123456789012:alerts';

function deps() {
  const lines: { level?: string; message?: string; [k: string]: unknown }[] = [];
  const logger: Logger = {
    log: (level, message, fields) => lines.push({ level, message, ...fields }),
    metric: (name, value, dimensions) => lines.push({ metric: name, value, ...dimensions }),
  };
  const ssm = new SSMClient({ region: 'eu-west-1', maxAttempts: 1 });
  const alerts = new Alerts(topicArn, ready(new SNSClient({ region: 'eu-west-1', maxAttempts: 1 })));
  return {
    deps: {
      services: [hookService('/demo/migration')],
      ssm,
      sfn: ready(new SFNClient({ region: 'eu-west-1', maxAttempts: 1 })),
      alerts,
      logger,
    },
    lines,
  };
}

type Version = { version: number; value: string; labels?: string[] };
/** SSM with these version histories per parameter name (the guard's records are parameters too). */
function history(byName: Record<string, Version[]>) {
  const latestOf = (name: string) => byName[name]?.[byName[name].length - 1];
  const labelled = (name: string) => byName[name]?.find((v) => v.labels?.includes('last-good'));
  ssmMock.on(GetParameterHistoryCommand).callsFake(({ Name }) => {
    if (!byName[Name]) throw new ParameterNotFound({ message: `${Name} not found`, $metadata: {} });
    return {
      Parameters: byName[Name].map((v) => ({
        Name,
        Version: v.version,
        Value: v.value,
        Labels: v.labels ?? [],
        LastModifiedUser: 'arn:aws:iam::123456789012:user/alice',
      })),
    };
  });
  ssmMock.on(GetParameterCommand).callsFake(({ Name }) => {
    const last = latestOf(Name);
    if (!last) throw new ParameterNotFound({ message: `${Name} not found`, $metadata: {} });
    return { Parameter: { Name, Version: last.version, Value: last.value } };
  });
  ssmMock.on(GetParametersCommand).callsFake(({ Names }: { Names: string[] }) => {
    const found = Names.map((n) => {
      const [name, label] = n.split(':');
      const v = label ? labelled(name) : latestOf(name);
      return v ? { Name: name, Version: v.version, Value: v.value } : undefined;
    });
    return {
      Parameters: found.filter((p) => p !== undefined),
      InvalidParameters: Names.filter((_n, i) => found[i] === undefined),
    };
  });
}

const changeEvent = (name: unknown) =>
  ({
    source: 'aws.ssm',
    'detail-type': 'Parameter Store Change',
    detail: { operation: 'Update', name },
  }) as unknown as EventBridgeEvent<string, ParameterChangeDetail>;

beforeEach(() => {
  ssmMock.reset();
  snsMock.reset();
  snsMock.on(PublishCommand).resolves({ MessageId: 'm-1' });
});

describe('flag guard handler', () => {
  it('records the accepted text before it labels it: whoever sees the label can rely on the record (the automatic rollback does)', async () => {
    history({
      [names.gateway]: [
        { version: 1, value: '{"weight":50}', labels: ['last-good'] },
        { version: 2, value: '{"weight":0}' },
      ],
      [records.gateway]: [{ version: 1, value: '{"weight":50}' }],
      [names.routing]: [{ version: 1, value: '{"mode":"all"}', labels: ['last-good'] }],
    });
    ssmMock.on(LabelParameterVersionCommand).resolves({});
    ssmMock.on(PutParameterCommand).resolves({ Version: 2 });
    const { deps: d } = deps();
    await expect(guard(changeEvent(names.gateway), d)).resolves.toEqual({ status: 'labelled', version: 2 });
    const writes = ssmMock
      .calls()
      .map((c) => c.args[0])
      .filter((c) => c instanceof PutParameterCommand || c instanceof LabelParameterVersionCommand)
      .map((c) => `${c.constructor.name} ${(c.input as { Name: string }).Name}`);
    expect(writes).toEqual([
      `PutParameterCommand ${records.gateway}`,
      `LabelParameterVersionCommand ${names.gateway}`,
    ]);
  });

  it('labels a valid write, records it, and publishes nothing', async () => {
    history({
      [names.routing]: [
        { version: 1, value: '{"mode":"off"}', labels: ['last-good'] },
        { version: 2, value: '{"mode":"users","users":["42"]}' },
      ],
      [records.routing]: [{ version: 1, value: '{"mode":"off"}' }],
    });
    ssmMock.on(LabelParameterVersionCommand).resolves({});
    ssmMock.on(PutParameterCommand).resolves({ Version: 2 });
    const { deps: d } = deps();
    await expect(guard(changeEvent(names.routing), d)).resolves.toEqual({ status: 'labelled', version: 2 });
    expect(ssmMock).toHaveReceivedCommandWith(LabelParameterVersionCommand, {
      Name: names.routing,
      ParameterVersion: 2,
      Labels: ['last-good'],
    });
    expect(ssmMock).toHaveReceivedCommandTimes(PutParameterCommand, 1);
    expect(ssmMock).toHaveReceivedCommandWith(PutParameterCommand, {
      Name: records.routing,
      Value: '{"mode":"users","users":["42"]}',
    });
    expect(snsMock).not.toHaveReceivedCommand(PublishCommand);
  });

  it('restores a bad write, alerts with who wrote it, and counts it', async () => {
    history({
      [names.routing]: [
        { version: 1, value: '{"mode":"off"}', labels: ['last-good'] },
        { version: 2, value: '{"mode":"percent","percent":101}' },
      ],
      [records.routing]: [{ version: 1, value: '{"mode":"off"}' }],
    });
    ssmMock.on(PutParameterCommand).resolves({ Version: 3 });
    ssmMock.on(LabelParameterVersionCommand).resolves({});
    const { deps: d, lines } = deps();
    const result = await guard(changeEvent(names.routing), d);
    expect(result).toEqual({
      status: 'restored',
      badVersion: 2,
      newVersion: 3,
      problems: [expect.stringMatching(/^routing.percent: 101 is out of range/)],
    });
    expect(ssmMock).toHaveReceivedCommandWith(PutParameterCommand, {
      Name: names.routing,
      Value: '{"mode":"off"}',
      Overwrite: true,
    });
    // Its own restore is checked at once: labelled, so readers never see a gap.
    expect(ssmMock).toHaveReceivedCommandWith(LabelParameterVersionCommand, {
      Name: names.routing,
      ParameterVersion: 3,
    });
    expect(snsMock).toHaveReceivedCommandWith(PublishCommand, {
      TopicArn: topicArn,
      Subject: `Migration flag restored: ${names.routing}`,
    });
    const message = JSON.parse(snsMock.commandCalls(PublishCommand)[0].args[0].input.Message as string);
    expect(message).toMatchObject({
      writtenBy: 'arn:aws:iam::123456789012:user/alice',
      rejectedVersion: 2,
      restoredValue: '{"mode":"off"}',
    });
    expect(lines).toContainEqual({ metric: 'FlagRestored', value: 1, Service: 'users' });
  });

  it('is idempotent: a repeated event for a checked version changes nothing', async () => {
    history({
      [names.routing]: [{ version: 2, value: '{"mode":"all"}', labels: ['last-good'] }],
      [records.routing]: [{ version: 1, value: '{"mode":"all"}' }],
    });
    const { deps: d } = deps();
    await expect(guard(changeEvent(names.routing), d)).resolves.toMatchObject({
      status: 'unchanged',
      version: 2,
    });
    expect(ssmMock).not.toHaveReceivedCommand(PutParameterCommand);
    expect(ssmMock).not.toHaveReceivedCommand(LabelParameterVersionCommand);
  });

  it('never overwrites a newer write that raced in after the bad one', async () => {
    const versions = [
      { version: 1, value: '{"mode":"off"}', labels: ['last-good'] },
      { version: 2, value: 'not json' },
    ];
    history({ [names.routing]: versions, [records.routing]: [{ version: 1, value: '{"mode":"off"}' }] });
    // Between the history read and the restore, an operator writes version 3.
    ssmMock
      .on(GetParameterCommand, { Name: names.routing })
      .resolves({ Parameter: { Name: names.routing, Version: 3, Value: '{"mode":"all"}' } });
    const { deps: d } = deps();
    await expect(guard(changeEvent(names.routing), d)).resolves.toEqual({
      status: 'superseded',
      badVersion: 2,
      latestVersion: 3,
    });
    expect(ssmMock).not.toHaveReceivedCommand(PutParameterCommand);
  });

  it('ignores a malformed event and a parameter it does not own, changing nothing', async () => {
    const { deps: d, lines } = deps();
    await expect(guard({} as never, d)).resolves.toEqual({
      status: 'ignored',
      reason: 'malformed event: no detail.name',
    });
    await expect(guard(changeEvent(42), d)).resolves.toMatchObject({ status: 'ignored' });
    await expect(guard(changeEvent('/other/param'), d)).resolves.toEqual({
      status: 'ignored',
      reason: '/other/param is not a migration flag of this app',
    });
    expect(lines).toContainEqual({ metric: 'MalformedEvent', value: 1, Hook: 'flag-guard' });
    expect(ssmMock.calls()).toHaveLength(0);
  });

  it("ignores what its rule's name patterns also match: its own record, a service not in its environment (decision 0017)", async () => {
    const { deps: d } = deps();
    for (const name of ['/demo/migration/users/guard/routing', '/demo/migration/gone/routing']) {
      await expect(guard(changeEvent(name), d)).resolves.toEqual({
        status: 'ignored',
        reason: `${name} is not a migration flag of this app`,
      });
    }
    expect(ssmMock.calls()).toHaveLength(0);
  });

  it.each([
    [
      'throttled',
      new SSMServiceException({
        name: 'ThrottlingException',
        $fault: 'client',
        message: 'Rate exceeded',
        $metadata: {},
      }),
      /Rate exceeded/,
    ],
    [
      'denied',
      new SSMServiceException({
        name: 'AccessDeniedException',
        $fault: 'client',
        message: 'not authorized to perform: ssm:GetParameterHistory',
        $metadata: {},
      }),
      /not authorized/,
    ],
  ])(
    'fails without writing when SSM is %s (EventBridge retries, then the dead-letter queue)',
    async (_name, error, message) => {
      ssmMock.on(GetParameterHistoryCommand).rejects(error);
      const { deps: d } = deps();
      await expect(guard(changeEvent(names.routing), d)).rejects.toThrow(message);
      expect(ssmMock).not.toHaveReceivedCommand(PutParameterCommand);
      expect(ssmMock).not.toHaveReceivedCommand(LabelParameterVersionCommand);
      expect(snsMock).not.toHaveReceivedCommand(PublishCommand);
    },
  );
});

const alarmEvent = (alarmName: unknown, value = 'ALARM') =>
  ({ detail: { alarmName, state: { value, reason: 'Threshold Crossed' } } }) as unknown as EventBridgeEvent<
    string,
    AlarmChangeDetail
  >;

describe('auto-rollback handler', () => {
  it('switches routing off before the point of no return and alerts', async () => {
    history({
      [names.routing]: [
        { version: 4, value: '{"mode":"percent","users":[],"percent":30}', labels: ['last-good'] },
      ],
      [names.cutover]: [{ version: 1, value: '{"completed":false}', labels: ['last-good'] }],
      [names.gateway]: [{ version: 1, value: '{"weight":0}', labels: ['last-good'] }],
    });
    ssmMock.on(PutParameterCommand).resolves({ Version: 5 });
    const { deps: d } = deps();
    await expect(rollback(alarmEvent('demo-users-5xx-rate'), d)).resolves.toEqual({
      status: 'done',
      summary: 'users: routing percent -> off',
      wrote: [`${names.routing} v5`],
      // This service has no write-back: the alert says so (the writes follow their users in
      // test/integration/writes-follow-users.int.test.ts).
      writeBack: {
        users: { next: expect.stringMatching(/^users has no write-back \(services\[\]\.writeBack\)/) },
      },
    });
    expect(ssmMock).toHaveReceivedCommandWith(PutParameterCommand, {
      Name: names.routing,
      Value: '{"mode":"off","users":[],"percent":30,"reason":"auto-rollback: demo-users-5xx-rate"}',
    });
    expect(snsMock).toHaveReceivedCommandWith(PublishCommand, { Subject: 'Migration rolled back: users' });
  });

  it('only alerts after the point of no return', async () => {
    history({
      [names.routing]: [{ version: 4, value: '{"mode":"all"}', labels: ['last-good'] }],
      [names.cutover]: [
        {
          version: 2,
          value: '{"completed":true,"completedAt":"2026-11-26T10:00:00Z","runId":"r"}',
          labels: ['last-good'],
        },
      ],
    });
    const { deps: d, lines } = deps();
    await expect(rollback(alarmEvent('demo-users-5xx-rate'), d)).resolves.toMatchObject({
      status: 'done',
      wrote: [],
    });
    expect(ssmMock).not.toHaveReceivedCommand(PutParameterCommand);
    expect(snsMock).toHaveReceivedCommandWith(PublishCommand, {
      Subject: 'Migration alarm, no rollback possible: users',
    });
    expect(lines).toContainEqual({ metric: 'AutoRollbackNotPossible', value: 1, Service: 'users' });
  });

  it('ignores OK transitions, unknown alarms and malformed events without any call', async () => {
    const { deps: d } = deps();
    await expect(rollback(alarmEvent('demo-users-5xx-rate', 'OK'), d)).resolves.toMatchObject({
      status: 'ignored',
    });
    await expect(rollback(alarmEvent('someone-elses-alarm'), d)).resolves.toMatchObject({
      status: 'ignored',
    });
    // What the rule's name patterns also match (decision 0017): a service not in the hook's environment,
    // and an environment whose name starts with this one's.
    for (const alarm of ['demo-gone-5xx-rate', 'demo-eu-users-5xx-rate'])
      await expect(rollback(alarmEvent(alarm), d)).resolves.toEqual({
        status: 'ignored',
        reason: `${alarm} belongs to no migrating service`,
      });
    await expect(rollback({ detail: {} } as never, d)).resolves.toEqual({
      status: 'ignored',
      reason: 'malformed event',
    });
    expect(ssmMock.calls()).toHaveLength(0);
    expect(snsMock.calls()).toHaveLength(0);
  });

  describe('at phase 3 before the cutover: the weight first, then routing once the guard labelled it (issue 24)', () => {
    /** SSM whose writes append versions, and where `labelGateway` places the label as the guard would. */
    function ssmWithWrites(
      gateway: Version[] = [{ version: 6, value: '{"weight":50}', labels: ['last-good'] }],
    ) {
      const byName: Record<string, Version[]> = {
        [names.routing]: [
          { version: 4, value: '{"mode":"all","users":[],"percent":30}', labels: ['last-good'] },
        ],
        [names.cutover]: [{ version: 1, value: '{"completed":false}', labels: ['last-good'] }],
        [names.gateway]: gateway,
      };
      history(byName);
      const order: string[] = [];
      ssmMock.on(PutParameterCommand).callsFake(({ Name, Value }) => {
        const versions = byName[Name];
        const version = versions[versions.length - 1].version + 1;
        versions.push({ version, value: Value });
        order.push(`put ${Name} v${version}`);
        return { Version: version };
      });
      const labelGateway = () => {
        const versions = byName[names.gateway];
        for (const v of versions) v.labels = [];
        versions[versions.length - 1].labels = ['last-good'];
        order.push(`guard labels ${names.gateway} v${versions[versions.length - 1].version}`);
      };
      return { order, labelGateway };
    }
    const phase3 = (extra: { sleep: (ms: number) => Promise<void>; clock?: () => number }) => {
      const made = deps();
      return {
        ...made,
        deps: { ...made.deps, services: [hookService('/demo/migration', { phase: 3 })], ...extra },
      };
    };

    it('writes the gateway weight 0, waits for its label, then writes routing off', async () => {
      const { order, labelGateway } = ssmWithWrites();
      let polls = 0;
      // The guard labels the rollback's gateway write after the second look.
      const sleep = async () => {
        if (++polls === 2) labelGateway();
      };
      const { deps: d } = phase3({ sleep });
      await expect(rollback(alarmEvent('demo-users-5xx-rate'), d)).resolves.toMatchObject({
        status: 'done',
        summary: 'users: gateway weight 50 -> 0, routing all -> off',
        wrote: [`${names.gateway} v7`, `${names.routing} v5`],
      });
      expect(order).toEqual([
        `put ${names.gateway} v7`,
        `guard labels ${names.gateway} v7`,
        `put ${names.routing} v5`,
      ]);
      expect(ssmMock).toHaveReceivedCommandWith(GetParametersCommand, {
        Names: [`${names.gateway}:last-good`],
      });
      expect(snsMock).toHaveReceivedCommandWith(PublishCommand, { Subject: 'Migration rolled back: users' });
    });

    it('throws before writing routing when the label does not come within the bound, after logging and alerting', async () => {
      const { order } = ssmWithWrites();
      let now = 0;
      const slept: number[] = [];
      const sleep = async (ms: number) => {
        slept.push(ms);
        now += ms;
      };
      const { deps: d, lines } = phase3({ sleep, clock: () => now });
      await expect(rollback(alarmEvent('demo-users-5xx-rate'), d)).rejects.toThrow(
        /wrote \/demo\/migration\/users\/gateway v7 \(weight 0\), but the flag guard has not labelled it last-good within 8 s \(the checked version is v6\), so routing is not narrowed yet/,
      );
      expect(order).toEqual([`put ${names.gateway} v7`]);
      expect(ssmMock).not.toHaveReceivedCommandWith(PutParameterCommand, { Name: names.routing });
      // Bounded: it looked every 250-500 ms for 8 s, then gave up.
      expect(now).toBeGreaterThanOrEqual(8_000);
      expect(now).toBeLessThan(9_000);
      expect(Math.min(...slept)).toBeGreaterThanOrEqual(250);
      expect(Math.max(...slept)).toBeLessThanOrEqual(500);
      expect(lines).toContainEqual({ metric: 'AutoRollbackIncomplete', value: 1, Service: 'users' });
      expect(lines).toContainEqual(
        expect.objectContaining({ level: 'error', wrote: [`${names.gateway} v7`] }),
      );
      expect(snsMock).toHaveReceivedCommandWith(PublishCommand, {
        Subject: 'Migration rollback incomplete: users',
      });
    });

    it('on the retry, with the weight 0 checked since, writes only routing, without waiting', async () => {
      // What the first attempt left: weight 0 written (v7), and labelled by the guard after it gave up.
      const { order } = ssmWithWrites([
        { version: 6, value: '{"weight":50}' },
        {
          version: 7,
          value: '{"weight":0,"reason":"auto-rollback: demo-users-5xx-rate"}',
          labels: ['last-good'],
        },
      ]);
      const sleep = jest.fn(async () => {});
      const { deps: d } = phase3({ sleep });
      await expect(rollback(alarmEvent('demo-users-5xx-rate'), d)).resolves.toMatchObject({
        status: 'done',
        summary: 'users: routing all -> off',
        wrote: [`${names.routing} v5`],
      });
      expect(order).toEqual([`put ${names.routing} v5`]);
      expect(sleep).not.toHaveBeenCalled();
    });
  });

  it('fails without writing when SSM denies the read', async () => {
    ssmMock.on(GetParametersCommand).rejects(
      new SSMServiceException({
        name: 'AccessDeniedException',
        $fault: 'client',
        message: 'denied',
        $metadata: {},
      }),
    );
    const { deps: d } = deps();
    await expect(rollback(alarmEvent('demo-users-5xx-rate'), d)).rejects.toThrow('denied');
    expect(ssmMock).not.toHaveReceivedCommand(PutParameterCommand);
  });
});
