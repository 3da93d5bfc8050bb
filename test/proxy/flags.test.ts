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
});
