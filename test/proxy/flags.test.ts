import type { LoadOutcome } from '../../lib/flags/loaded-flags';
import type { ProxyService } from '../../lib/proxy/contract';
import { FlagRefresher } from '../../proxy/flags';
import type { Logger } from '../../proxy/log';

const service = (name: string): ProxyService => ({
  name,
  phase: 1,
  cutoverRecorded: false,
  url: `http://${name}:80`,
  parameters: {
    routing: `/p/${name}/routing`,
    cutover: `/p/${name}/cutover`,
    override: `/p/${name}/override`,
  },
  routes: [],
});

const ok = (text: string): LoadOutcome => ({ status: 'ok', text });

function setup(responses: (Map<string, LoadOutcome> | Error)[]) {
  const calls: string[][] = [];
  const logs: { level: string; msg: string; fields?: Record<string, unknown> }[] = [];
  const logger: Logger = { log: (level, msg, fields) => logs.push({ level, msg, fields }) };
  const refresher = new FlagRefresher(
    [service('users'), service('orders')],
    async (names) => {
      calls.push([...names]);
      const next = responses.shift();
      if (next instanceof Error) throw next;
      return next ?? new Map();
    },
    { refreshMs: 15000, jitterPercent: 20 },
    logger,
  );
  return { refresher, calls, logs };
}

describe('the proxy flag refresh', () => {
  it('reads routing, cutover and override of every service in one batch', async () => {
    const { refresher, calls } = setup([
      new Map([
        ['/p/users/routing', ok('{"mode":"all","users":[],"percent":0}')],
        ['/p/users/cutover', ok('{"completed":false}')],
        ['/p/users/override', { status: 'missing' }],
      ]),
    ]);
    await refresher.refresh();
    expect(calls).toEqual([
      [
        '/p/users/routing',
        '/p/users/cutover',
        '/p/users/override',
        '/p/orders/routing',
        '/p/orders/cutover',
        '/p/orders/override',
      ],
    ]);
    expect(refresher.state('users').routing?.mode).toBe('all');
    expect(refresher.state('orders')).toEqual({});
  });

  it('keeps the last good documents when a read fails or a text does not parse, and latches the cutover', async () => {
    const completed = '{"completed":true,"completedAt":"2026-11-20T10:00:00Z","runId":"run-1"}';
    const { refresher, logs } = setup([
      new Map([
        ['/p/users/routing', ok('{"mode":"users","users":["42"],"percent":0}')],
        ['/p/users/cutover', ok(completed)],
      ]),
      new Error('ThrottlingException'),
      new Map([
        ['/p/users/routing', ok('{"mode":"nope"}')],
        ['/p/users/cutover', ok('{"completed":false}')],
      ]),
    ]);
    await refresher.refresh();
    await refresher.refresh();
    expect(refresher.state('users').routing?.mode).toBe('users');
    await refresher.refresh();
    expect(refresher.state('users').routing?.users).toEqual(['42']);
    expect(refresher.state('users').cutover?.completed).toBe(true);
    expect(logs.map((l) => `${l.level} ${l.msg}`)).toContain('warn flag read failed');
    expect(logs.some((l) => JSON.stringify(l.fields).includes('cutover stays completed'))).toBe(true);
  });

  it('logs a service only when its flag health changes', async () => {
    const same = () => new Map([['/p/users/routing', ok('{"mode":"off","users":[],"percent":0}')]]);
    const { refresher, logs } = setup([same(), same(), same()]);
    for (let i = 0; i < 3; i++) await refresher.refresh();
    expect(logs.filter((l) => l.fields?.service === 'users')).toHaveLength(1);
  });

  it('ends a read that never answers at its deadline, aborting it, and counts nothing as loaded', async () => {
    let signal: AbortSignal | undefined;
    const logs: string[] = [];
    const refresher = new FlagRefresher(
      [service('users')],
      (_names, abortSignal) => {
        signal = abortSignal;
        return new Promise(() => undefined);
      },
      { refreshMs: 15000, jitterPercent: 0, deadlineMs: 20 },
      { log: (level, msg, fields) => logs.push(`${level} ${msg} ${fields?.error ?? ''}`) },
    );
    await refresher.refresh();
    expect(signal?.aborted).toBe(true);
    expect(logs).toContain('warn flag read failed no answer from SSM within 20 ms');
    expect(refresher.state('users')).toEqual({});
  });

  it('schedules the next read whatever the last one did: a read or a logger that throws at once', async () => {
    let calls = 0;
    let logFailures = 0;
    const refresher = new FlagRefresher(
      [service('users')],
      (() => {
        calls++;
        if (calls === 1) throw new Error('not even a promise');
        return Promise.resolve(new Map([['/p/users/routing', ok('{"mode":"off","users":[],"percent":0}')]]));
      }) as never,
      { refreshMs: 10, jitterPercent: 0, firstRetryMs: 5 },
      {
        log: () => {
          if (logFailures++ < 2) throw new Error('stdout is gone');
        },
      },
    );
    refresher.start();
    try {
      const deadline = Date.now() + 2000;
      while (calls < 4 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
      expect(calls).toBeGreaterThanOrEqual(4);
      expect(refresher.state('users').routing?.mode).toBe('off');
    } finally {
      refresher.stop();
    }
  });

  it('reports the age of the last load without a failed read, from the start before the first', async () => {
    let now = 1_000_000;
    const responses: (Map<string, LoadOutcome> | Error)[] = [
      new Map<string, LoadOutcome>([
        ['/p/users/routing', ok('{"mode":"off","users":[],"percent":0}')],
        ['/p/users/cutover', { status: 'missing' }],
        ['/p/users/override', { status: 'missing' }],
      ]),
      new Error('throttled'),
    ];
    const refresher = new FlagRefresher(
      [service('users')],
      async () => {
        const next = responses.shift();
        if (next instanceof Error) throw next;
        return next ?? new Map();
      },
      { refreshMs: 15000, jitterPercent: 0, now: () => now },
      { log: () => undefined },
    );
    now += 4000;
    expect(refresher.ageSeconds('users')).toBe(4);
    await refresher.refresh(); // ok (missing documents are a successful read)
    now += 2500;
    expect(refresher.ageSeconds('users')).toBe(2.5);
    await refresher.refresh(); // failed
    now += 1000;
    expect(refresher.ageSeconds('users')).toBe(3.5);
  });
});
