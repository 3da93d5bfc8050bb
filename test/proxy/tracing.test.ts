/**
 * A trace crosses the routing proxy unchanged, to the monolith and to the service: the W3C trace
 * context (`traceparent`, `tracestate`) and the ALB's `X-Amzn-Trace-Id` reach either side byte for byte,
 * and the proxy invents none (docs/tracing.md). The bundled proxy as a child process between two
 * stand-ins, with moto_server for SSM.
 */
import type { ProxyRoute } from '../../lib/proxy/contract';
import {
  eventually,
  isolatedPrefix,
  motoSsm,
  type ProxyProcess,
  proxyConfig,
  putFlag,
  rawRequest,
  type StandIn,
  serviceEntry,
  standIn,
  startProxy,
} from './harness';

const ssm = motoSsm();

const ROUTES: ProxyRoute[] = [
  {
    path: '/api/users/{id}',
    methods: ['GET', 'PUT'],
    servicePath: '/v1/users/{id}',
    identity: { source: 'path', name: 'id' },
    anonymous: 'legacy',
  },
  {
    path: '/api/login',
    methods: ['POST'],
    servicePath: '/v1/auth/login',
    identity: { source: 'body', field: 'username', maxBytes: 1024 },
    anonymous: 'legacy',
  },
];

/** What the ALB sends on: the client's trace context, and its own trace header with a Self field. */
const TRACE = {
  traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
  tracestate: 'rojo=00f067aa0ba902b7,congo=t61rcWkgMzE',
  'x-amzn-trace-id':
    'Self=1-67891234-12456789abcdef012345678;Root=1-67891233-abcdef012345678912345678;CalledFrom=app',
};

let legacy: StandIn;
let service: StandIn;
let p: ProxyProcess;

beforeAll(async () => {
  legacy = await standIn('legacy');
  service = await standIn('users');
  const prefix = isolatedPrefix();
  const entry = serviceEntry(prefix, service, ROUTES, { phase: 2 });
  await putFlag(ssm, entry.parameters.routing, { mode: 'users', users: ['42'], percent: 0 });
  await putFlag(ssm, entry.parameters.cutover, { completed: false });
  p = await startProxy(proxyConfig(legacy, [entry]));
  // Routing loaded: user 42 goes to the service.
  await eventually(async () => {
    await fetch(`${p.url}/api/users/42`);
    return service.seen.length > 0;
  });
});

afterAll(async () => {
  await p?.stop('SIGKILL');
  await Promise.all([legacy?.close(), service?.close()]);
});

const last = (s: StandIn) => s.seen[s.seen.length - 1];

describe('the trace context through the routing proxy', () => {
  it.each<[string, string, RequestInit, () => StandIn]>([
    ['the monolith, on a route not migrated', '/api/orders/7', {}, () => legacy],
    ['the monolith, on a migrated route for a user still there', '/api/users/7', {}, () => legacy],
    ['the service, on a migrated route for a routed user', '/api/users/42', {}, () => service],
    [
      'the service, after the proxy read the body to find the user',
      '/api/login',
      { method: 'POST', body: '{"username":"42"}', headers: { 'content-type': 'application/json' } },
      () => service,
    ],
  ])('reaches %s unchanged', async (_name, path, init, side) => {
    const res = await fetch(`${p.url}${path}`, {
      ...init,
      headers: { ...(init.headers as Record<string, string>), ...TRACE },
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { upstream: string }).upstream).toBe(side().name);
    const seen = last(side()).headers;
    expect({
      traceparent: seen.traceparent,
      tracestate: seen.tracestate,
      'x-amzn-trace-id': seen['x-amzn-trace-id'],
    }).toEqual(TRACE);
  });

  it('keeps repeated tracestate lines, in order', async () => {
    const raw = await rawRequest(
      p.port,
      'GET /api/users/42 HTTP/1.1\r\nHost: shop.example.com\r\n' +
        `TraceParent: ${TRACE.traceparent}\r\n` +
        'tracestate: rojo=00f067aa0ba902b7\r\ntracestate: congo=t61rcWkgMzE\r\n' +
        `X-Amzn-Trace-Id: ${TRACE['x-amzn-trace-id']}\r\nConnection: close\r\n\r\n`,
      2000,
      (data) => data.includes('"upstream"'),
    );
    expect(raw).toMatch(/^HTTP\/1\.1 200 /);
    const seen = last(service).headers;
    expect(seen.traceparent).toBe(TRACE.traceparent);
    // Node joins repeated lines with ", " (RFC 9110 5.3), which is how W3C combines tracestate lines too.
    expect(seen.tracestate).toBe('rojo=00f067aa0ba902b7, congo=t61rcWkgMzE');
    expect(seen['x-amzn-trace-id']).toBe(TRACE['x-amzn-trace-id']);
  });

  it('invents no trace context when the request has none', async () => {
    await fetch(`${p.url}/api/orders/8`);
    await fetch(`${p.url}/api/users/42`);
    for (const side of [legacy, service]) {
      const seen = last(side).headers;
      expect(seen.traceparent).toBeUndefined();
      expect(seen.tracestate).toBeUndefined();
      expect(seen['x-amzn-trace-id']).toBeUndefined();
    }
  });
});
