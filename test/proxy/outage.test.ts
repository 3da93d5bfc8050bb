/**
 * The bundled routing proxy while SSM is hung or down (issue 23): every read has a hard deadline, the
 * refresh loop survives, the age of the flags is published; a task that cannot decide takes no traffic
 * behind a health-checking load balancer, so a rolling restart during an SSM outage drops no request.
 */
import type { ProxyRoute } from '../../lib/proxy/contract';
import { balancer } from './balancer';
import {
  DOCS,
  eventually,
  isolatedPrefix,
  motoSsm,
  type ProxyProcess,
  proxyConfig,
  proxyPool,
  putFlag,
  type StandIn,
  serviceEntry,
  ssmRelay,
  standIn,
} from './harness';

const ssm = motoSsm();
const { notCutOver, cutOver } = DOCS;

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
const closing: (() => Promise<void>)[] = [];
const pool = proxyPool();
const proxy = pool.start;

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
  await pool.stopAll();
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
    await eventually(async () => ssmSide.accepted.count >= 2, 10000);
    await eventually(async () => p.lines.some((l) => l.msg === 'flag read failed'), 10000);
    expect(ssmSide.held()).toBeLessThanOrEqual(1);
    expect(p.lines.find((l) => l.msg === 'flag read failed')?.error).toMatch(
      /no answer from SSM within 500 ms/,
    );
    ssmSide.heal();
    await eventually(async () => (await side(p, '/api/users/7')) === 'users', 10000);
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
    await eventually(async () => (await side(p, '/api/users/42')) === 'legacy', 10000);
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
    await eventually(async () => ages().length >= 1, 10000);
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
    await eventually(async () => latest() < 1.5, 10000);
    ssmSide.hang();
    await eventually(async () => latest() >= 2, 10000);
    ssmSide.heal();
    await eventually(async () => latest() < 1.5, 10000);
  });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('7. a task that cannot decide takes no traffic while others can', () => {
  it('fails its health check until its first load at phase 2 (no marker), and passes it through later outages', async () => {
    const prefix = isolatedPrefix();
    await putFlag(ssm, `${prefix}/users/routing`, { mode: 'all', users: [], percent: 0 });
    await putFlag(ssm, `${prefix}/users/cutover`, notCutOver);
    const ssmSide = await relay();
    ssmSide.cut();
    const p = await proxy(
      proxyConfig(legacy, [serviceEntry(prefix, service, ROUTES, { phase: 2 })]),
      ssmSide.url,
    );
    const health = async () => {
      const res = await fetch(`${p.url}/health`);
      return `${res.status} ${await res.text()}`;
    };
    expect(await health()).toMatch(/^503 .*"reason":"flags-not-loaded".*"services":\["users"\]/);
    ssmSide.heal();
    await eventually(async () => (await health()).startsWith('200'), 10000);
    // Its log line comes through the process's stdout, which may follow the health answer.
    await eventually(async () => p.lines.some((l) => l.msg === 'ready'));
    expect(p.lines.filter((l) => l.msg === 'ready')).toHaveLength(1);
    const failing = () => p.lines.filter((l) => l.msg === 'flags' && l.cutover === 'error').length;
    const before = failing();
    ssmSide.cut();
    await eventually(async () => failing() > before, 10000);
    expect(await health()).toMatch(/^200 .*"upstream":"legacy"/);
  });

  it('passes its health check at once at phase 1, and at phase 2 with the deploy-time marker', async () => {
    const prefix = isolatedPrefix();
    const down = await relay();
    down.cut();
    for (const extra of [{ phase: 1 as const }, { phase: 2 as const, cutoverRecorded: true }]) {
      const p = await proxy(proxyConfig(legacy, [serviceEntry(prefix, service, ROUTES, extra)]), down.url);
      expect((await fetch(`${p.url}/health`)).status).toBe(200);
      await p.stop('SIGKILL');
    }
  });

  it('a rolling restart during an SSM outage, behind a health-checking balancer, drops no request', async () => {
    const prefix = isolatedPrefix();
    await putFlag(ssm, `${prefix}/users/routing`, { mode: 'all', users: [], percent: 0 });
    await putFlag(ssm, `${prefix}/users/cutover`, notCutOver);
    const ssmSide = await relay();
    const config = proxyConfig(legacy, [serviceEntry(prefix, service, ROUTES, { phase: 2 })]);
    const lb = await balancer({ path: '/health', intervalMs: 100, unhealthyThreshold: 2 });
    closing.push(() => lb.close());
    const a = await proxy(config, ssmSide.url);
    const b = await proxy(config, ssmSide.url);
    lb.register('a', a.port);
    lb.register('b', b.port);
    await eventually(async () => lb.targets.every((t) => t.healthy), 10000);

    // Clients, three at a time, for the whole rehearsal.
    const answers: string[] = [];
    let running = true;
    const clients = Promise.all(
      [1, 2, 3].map(async (i) => {
        while (running) {
          try {
            const res = await fetch(`${lb.url}/api/users/${i}`);
            const text = await res.text();
            answers.push(
              res.status === 200 ? (JSON.parse(text) as { upstream: string }).upstream : String(res.status),
            );
          } catch {
            answers.push('error');
          }
        }
      }),
    );
    const target = (name: string) => lb.targets.find((t) => t.name === name);
    try {
      ssmSide.cut();
      // ECS replaces task a: it starts c first (minimum healthy 100 %), which cannot load its flags.
      const c = await proxy(config, ssmSide.url);
      lb.register('c', c.port);
      await sleep(800); // the health-check grace period, scaled down: c never passed a check
      expect(target('c')).toMatchObject({ healthy: false, requests: 0 });
      // After the grace period ECS stops the unhealthy task and starts another (a failed task for the
      // deployment circuit breaker), which cannot load either while SSM is down.
      lb.deregister('c');
      await c.stop('SIGTERM');
      const d = await proxy(config, ssmSide.url);
      lb.register('d', d.port);
      await sleep(500);
      expect(target('d')).toMatchObject({ healthy: false, requests: 0 });

      // SSM is back: d loads, passes, and only then is a deregistered and stopped.
      ssmSide.heal();
      await eventually(async () => target('d')?.healthy === true, 10000);
      lb.deregister('a');
      await sleep(200); // the deregistration delay, scaled down: a finishes what it has
      expect(await a.stop('SIGTERM')).toEqual({ code: 0, signal: null });
      await eventually(async () => (target('d')?.requests ?? 0) > 5, 10000);
    } finally {
      running = false;
      await clients;
    }

    expect(answers.length).toBeGreaterThan(30);
    expect([...new Set(answers)]).toEqual(['users']);
    expect(target('b')?.requests).toBeGreaterThan(0);
  });
});
