/**
 * The bundled routing proxy while SSM is hung or down (issue 23): every read has a hard deadline, the
 * refresh loop survives, the age of the flags is published.
 */
import type { ProxyRoute } from '../../lib/proxy/contract';
import {
  eventually,
  isolatedPrefix,
  motoSsm,
  type ProxyProcess,
  proxyConfig,
  putFlag,
  type StandIn,
  serviceEntry,
  ssmRelay,
  standIn,
  startProxy,
} from './harness';

const ssm = motoSsm();
const cutOver = { completed: true, completedAt: '2026-11-20T10:00:00Z', runId: 'run-1' };
const notCutOver = { completed: false };

const ROUTES: ProxyRoute[] = [
  {
    path: '/api/users/{id}',
    methods: ['GET', 'PUT'],
    servicePath: '/v1/users/{id}',
    identity: { source: 'path', name: 'id' },
    anonymous: 'legacy',
  },
];

let legacy: StandIn;
let service: StandIn;
const running: ProxyProcess[] = [];
const closing: (() => Promise<void>)[] = [];

async function proxy(...args: Parameters<typeof startProxy>): Promise<ProxyProcess> {
  const p = await startProxy(...args);
  running.push(p);
  return p;
}

async function relay() {
  const r = await ssmRelay();
  closing.push(() => r.close());
  return r;
}

/** Where a GET went: the upstream's name, or the proxy's own status. */
async function side(p: ProxyProcess, path: string): Promise<string> {
  const res = await fetch(`${p.url}${path}`);
  const text = await res.text();
  return res.status === 200 ? (JSON.parse(text) as { upstream: string }).upstream : String(res.status);
}

beforeAll(async () => {
  legacy = await standIn('legacy');
  service = await standIn('users');
});

afterAll(async () => {
  await Promise.all(running.map((p) => p.stop('SIGKILL')));
  await Promise.all(closing.map((c) => c()));
  await Promise.all([legacy.close(), service.close()]);
});

describe('3. a hung SSM', () => {
  it('started while SSM hangs: 503 on the routes until SSM answers, then the flags within a second or two', async () => {
    const prefix = isolatedPrefix();
    await putFlag(ssm, `${prefix}/users/routing`, { mode: 'off', users: [], percent: 0 });
    await putFlag(ssm, `${prefix}/users/cutover`, cutOver);
    const ssmSide = await relay();
    ssmSide.hang();
    const p = await proxy(
      proxyConfig(legacy, [serviceEntry(prefix, service, ROUTES, { phase: 2 })]),
      ssmSide.url,
    );
    expect(await side(p, '/api/users/7')).toBe('503');
    // Reads are abandoned at their deadline (500 ms at this TTL) and retried: several connections, but
    // none kept open by the proxy (the SDK's request is aborted).
    await eventually(async () => ssmSide.accepted.count >= 2, 4000);
    await eventually(async () => p.lines.some((l) => l.msg === 'flag read failed'), 4000);
    expect(ssmSide.held()).toBeLessThanOrEqual(1);
    expect(p.lines.find((l) => l.msg === 'flag read failed')?.error).toMatch(
      /no answer from SSM within 500 ms/,
    );
    ssmSide.heal();
    await eventually(async () => (await side(p, '/api/users/7')) === 'users', 5000);
  });

  it('hung while running: the loop goes on, and a later change (a rollback) is seen once SSM answers', async () => {
    const prefix = isolatedPrefix();
    await putFlag(ssm, `${prefix}/users/routing`, { mode: 'users', users: ['42'], percent: 0 });
    await putFlag(ssm, `${prefix}/users/cutover`, notCutOver);
    const ssmSide = await relay();
    const p = await proxy(
      proxyConfig(legacy, [serviceEntry(prefix, service, ROUTES, { phase: 1 })]),
      ssmSide.url,
    );
    await eventually(async () => (await side(p, '/api/users/42')) === 'users');
    ssmSide.hang();
    const before = ssmSide.accepted.count;
    await new Promise((r) => setTimeout(r, 1500)); // a few deadlines
    expect(ssmSide.accepted.count).toBeGreaterThan(before);
    expect(await side(p, '/api/users/42')).toBe('users'); // the last good flags meanwhile
    ssmSide.heal();
    await putFlag(ssm, `${prefix}/users/routing`, { mode: 'off', users: ['42'], percent: 0 });
    await eventually(async () => (await side(p, '/api/users/42')) === 'legacy', 5000);
  });

  it('publishes the age of the last successful load per service, growing while SSM hangs', async () => {
    const prefix = isolatedPrefix();
    await putFlag(ssm, `${prefix}/users/routing`, { mode: 'all', users: [], percent: 0 });
    await putFlag(ssm, `${prefix}/users/cutover`, notCutOver);
    const ssmSide = await relay();
    const p = await proxy(
      proxyConfig(legacy, [serviceEntry(prefix, service, ROUTES, { phase: 1 })]),
      ssmSide.url,
    );
    const ages = () => p.lines.filter((l) => l.msg === 'flag age').map((l) => l.ProxyFlagAge as number);
    await eventually(async () => ages().length >= 1, 3000);
    expect(p.lines.find((l) => l.msg === 'flag age')).toMatchObject({
      _aws: {
        CloudWatchMetrics: [
          {
            Namespace: 'StranglerMigration',
            Dimensions: [['Service']],
            Metrics: [{ Name: 'ProxyFlagAge', Unit: 'Seconds' }],
          },
        ],
      },
      Service: 'users',
    });
    const latest = () => ages()[ages().length - 1];
    await eventually(async () => latest() < 1.5, 5000);
    ssmSide.hang();
    await eventually(async () => latest() >= 2, 6000);
    ssmSide.heal();
    await eventually(async () => latest() < 1.5, 6000);
  });
});
