/**
 * The routing proxy in front of a monolith that already runs elsewhere (`legacy.mode: "external"`): the
 * bundled proxy as a child process forwarding to an https stand-in of the monolith, whose certificate (made
 * here with openssl, trusted through NODE_EXTRA_CA_CERTS) is issued for the public name and checked against
 * `serverName`, as the company's load balancer is reached by its own DNS name.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TLSSocket, connect as tlsConnect } from 'node:tls';
import {
  closedPort,
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

const NAME = 'www.example.test';
const dir = mkdtempSync(join(tmpdir(), 'monolith-tls-'));
const cert = join(dir, 'cert.pem');
const key = join(dir, 'key.pem');
execFileSync('openssl', [
  'req',
  '-x509',
  '-newkey',
  'rsa:2048',
  '-nodes',
  '-keyout',
  key,
  '-out',
  cert,
  '-days',
  '1',
  '-subj',
  `/CN=${NAME}`,
  '-addext',
  `subjectAltName=DNS:${NAME}`,
]);

interface Seen {
  readonly url: string;
  readonly host?: string;
  readonly sni: string | false | null;
}

/** The monolith behind its load balancer: https only, answering with what it saw. */
let monolith: Server;
let monolithPort: number;
const seen: Seen[] = [];
let users: StandIn;
const running: ProxyProcess[] = [];

async function proxy(
  url: string,
  serverName: string | undefined,
  services: Parameters<typeof proxyConfig>[1] = [],
): Promise<ProxyProcess> {
  const config = proxyConfig(users, services);
  const p = await startProxy(
    { ...config, legacy: { url, healthCheckPath: '/status', ...(serverName ? { serverName } : {}) } },
    undefined,
    { NODE_EXTRA_CA_CERTS: cert },
  );
  running.push(p);
  return p;
}

/** A GET with the public name as Host, as the load balancer forwards a client's request. */
function get(
  p: ProxyProcess,
  path: string,
  host = NAME,
): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port: p.port, path, headers: { host } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (text += d));
      res.on('end', () => {
        let body: Record<string, unknown> = {};
        try {
          body = JSON.parse(text);
        } catch {
          // not JSON: the proxy's own answer
        }
        resolve({ status: res.statusCode ?? 0, body });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

beforeAll(async () => {
  monolith = createServer({ key: readFileSync(key), cert: readFileSync(cert) }, (req, res) => {
    const entry = {
      url: req.url ?? '',
      host: req.headers.host,
      sni: (req.socket as TLSSocket).servername,
    };
    seen.push(entry);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ upstream: 'monolith', ...entry }));
  });
  monolith.on('upgrade', (req, socket, head: Buffer) => {
    seen.push({ url: req.url ?? '', host: req.headers.host, sni: (socket as TLSSocket).servername });
    socket.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n');
    if (head.length > 0) socket.write(head);
    socket.on('data', (d) => socket.write(d));
  });
  await new Promise<void>((resolve) => monolith.listen(0, '127.0.0.1', resolve));
  monolithPort = (monolith.address() as AddressInfo).port;
  users = await standIn('users');
});

afterAll(async () => {
  await Promise.all(running.map((p) => p.stop('SIGKILL')));
  monolith.closeAllConnections();
  await new Promise<void>((resolve) => monolith.close(() => resolve()));
  await users.close();
});

describe('the routing proxy in front of an https monolith at its own address', () => {
  it('forwards the request untouched, over TLS checked against serverName, with the client Host', async () => {
    const p = await proxy(`https://127.0.0.1:${monolithPort}`, NAME);
    const answer = await get(p, '/cart?x=1');
    expect(answer).toMatchObject({
      status: 200,
      body: { upstream: 'monolith', url: '/cart?x=1', host: NAME, sni: NAME },
    });
    // A client's Host never chooses the name the certificate is checked against.
    expect(await get(p, '/cart', 'attacker.example')).toMatchObject({
      status: 200,
      body: { host: 'attacker.example', sni: NAME },
    });
  });

  it('health-checks the proxy and the monolith together: the check fails when the monolith is down', async () => {
    const up = await proxy(`https://127.0.0.1:${monolithPort}`, NAME);
    expect(await get(up, '/status')).toMatchObject({ status: 200, body: { url: '/status' } });
    const down = await proxy(`https://127.0.0.1:${await closedPort()}`, NAME);
    expect((await get(down, '/status')).status).toBe(502);
  });

  it('refuses a monolith whose certificate is not for serverName (502, nothing forwarded)', async () => {
    const before = seen.length;
    const p = await proxy(`https://127.0.0.1:${monolithPort}`, 'other.example.test');
    expect((await get(p, '/cart')).status).toBe(502);
    expect(seen.length).toBe(before);
  });

  it('passes a WebSocket upgrade through to the monolith over TLS', async () => {
    const p = await proxy(`https://127.0.0.1:${monolithPort}`, NAME);
    const out = await rawRequest(
      p.port,
      `GET /ws HTTP/1.1\r\nHost: ${NAME}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\nping`,
      2000,
      (data) => data.endsWith('ping'),
    );
    expect(out).toMatch(/^HTTP\/1\.1 101 Switching Protocols\r\n/);
    expect(out.endsWith('ping')).toBe(true);
    expect(seen[seen.length - 1]).toMatchObject({ url: '/ws', sni: NAME });
  });

  it("routes a migrated user to the service as with the sidecar, and the rest to the monolith's address", async () => {
    const ssm = motoSsm();
    const prefix = isolatedPrefix();
    await putFlag(ssm, `${prefix}/users/routing`, { mode: 'users', users: ['42'], percent: 0 });
    await putFlag(ssm, `${prefix}/users/cutover`, { completed: false });
    const route = {
      path: '/api/users/{id}',
      methods: ['GET' as const],
      servicePath: '/v1/users/{id}',
      identity: { source: 'path' as const, name: 'id' },
      anonymous: 'legacy' as const,
    };
    const p = await proxy(`https://127.0.0.1:${monolithPort}`, NAME, [serviceEntry(prefix, users, [route])]);
    await eventually(async () => (await get(p, '/api/users/42')).body.upstream === 'users');
    expect((await get(p, '/api/users/42')).body).toMatchObject({ upstream: 'users', url: '/v1/users/42' });
    expect((await get(p, '/api/users/7')).body).toMatchObject({ upstream: 'monolith', url: '/api/users/7' });
    ssm.destroy();
  });
});

// A TLS client check of the stand-in itself: the test certificate is what the proxy is asked to trust.
it('the stand-in presents a certificate for the public name only', async () => {
  const names = await new Promise<string>((resolve, reject) => {
    const socket = tlsConnect({
      host: '127.0.0.1',
      port: monolithPort,
      servername: NAME,
      ca: readFileSync(cert),
    });
    socket.once('secureConnect', () => {
      resolve(String(socket.getPeerCertificate().subjectaltname));
      socket.destroy();
    });
    socket.once('error', reject);
  });
  expect(names).toBe(`DNS:${NAME}`);
});
