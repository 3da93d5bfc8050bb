/**
 * Runs the bundled routing proxy (bundled once by jest's global setup) as a child process between
 * stand-in upstream servers on loopback, with moto_server for SSM.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type AddressInfo, connect, createServer as createTcpServer, type Socket } from 'node:net';
import { LabelParameterVersionCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import type { ProxyRoute, ProxyRuntimeConfig, ProxyService } from '../../lib/proxy/contract';
import { DEFAULT_PATH_VARIANTS } from '../../lib/proxy/paths';
// Not test/helpers/moto: it loads the CDK test app (aws-cdk-lib), which these tests do not need.
import { motoClientConfig, motoEndpoint, REGION } from '../helpers/moto-endpoint';

/** An SSM client bound to the emulator (maxAttempts 1: a retried error would hide the real one). */
export function motoSsm(): SSMClient {
  return new SSMClient(motoClientConfig());
}

/** What a stand-in saw of one request. */
export interface Seen {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingMessage['headers'];
  readonly bytes: number;
  readonly sha256: string;
}

export interface StandIn {
  readonly name: string;
  readonly url: string;
  readonly port: number;
  readonly seen: Seen[];
  /** Delay before answering, in ms. */
  delayMs: number;
  /** `reset`: destroy the connection instead of answering. */
  fail?: 'reset';
  /** Responses whose connection closed before they were complete (the proxy gave up on them). */
  aborted: number;
  close(): Promise<void>;
}

export interface StandInOptions {
  /**
   * False: the server has no upgrade handler, so it answers an upgrade request as a plain request (200)
   * and goes on parsing HTTP on that connection, as many application servers do.
   */
  readonly upgrades?: boolean;
  /**
   * Drops the connection of a request whose body has not arrived in full within this many ms, as a
   * server's read timeout does (Go's ReadTimeout, PHP-FPM's request_terminate_timeout).
   */
  readonly readTimeoutMs?: number;
}

/**
 * An HTTP server that answers every request with JSON describing it (and `/download/<n>` with n bytes);
 * by default it accepts every upgrade with a 101 and echoes what follows.
 */
export async function standIn(name: string, options: StandInOptions = {}): Promise<StandIn> {
  const seen: Seen[] = [];
  const sockets = new Set<Socket>();
  const state: { delayMs: number; fail?: 'reset'; aborted: number } = { delayMs: 0, aborted: 0 };
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    res.on('close', () => {
      if (!res.writableFinished && state.fail !== 'reset') state.aborted++;
    });
    const hash = createHash('sha256');
    let bytes = 0;
    if (options.readTimeoutMs !== undefined) {
      const timer = setTimeout(() => {
        if (!req.complete) req.socket.destroy();
      }, options.readTimeoutMs);
      req.on('end', () => clearTimeout(timer));
      req.on('close', () => clearTimeout(timer));
    }
    req.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      hash.update(chunk);
    });
    req.on('end', () => {
      const entry = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        bytes,
        sha256: hash.digest('hex'),
      };
      seen.push(entry);
      if (state.fail === 'reset') {
        req.socket.destroy();
        return;
      }
      setTimeout(() => {
        const download = /^\/download\/(\d+)$/.exec(req.url ?? '');
        if (download) {
          const total = Number(download[1]);
          res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': total });
          const chunk = Buffer.alloc(65536, 7);
          let sent = 0;
          const pump = () => {
            while (sent < total) {
              const part = chunk.subarray(0, Math.min(chunk.length, total - sent));
              sent += part.length;
              if (!res.write(part)) {
                res.once('drain', pump);
                return;
              }
            }
            res.end();
          };
          pump();
          return;
        }
        res.writeHead(200, {
          'content-type': 'application/json',
          'x-upstream': name,
          'set-cookie': ['a=1', 'b=2'],
        });
        res.end(JSON.stringify({ upstream: name, ...entry }));
      }, state.delayMs);
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  if (options.upgrades !== false)
    server.on('upgrade', (req, socket, head: Buffer) => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, bytes: 0, sha256: '' });
      socket.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n');
      if (head.length > 0) socket.write(head);
      socket.on('data', (d) => socket.write(d));
    });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return Object.assign(state, {
    name,
    url: `http://127.0.0.1:${port}`,
    port,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  });
}

export interface SsmRelay {
  readonly url: string;
  /** SSM "goes down": open connections are cut, new ones refused. */
  cut(): void;
  /** SSM accepts connections and never answers (a hung endpoint). */
  hang(): void;
  /** Back to relaying every connection to moto. */
  heal(): void;
  /** Connections that a hang holds open now. */
  held(): number;
  /** Connections accepted so far. */
  readonly accepted: { count: number };
  close(): Promise<void>;
}

/** A TCP relay to moto that can be cut, or hung, while the proxy runs. */
export async function ssmRelay(): Promise<SsmRelay> {
  const target = new URL(motoEndpoint());
  /** Relayed connections: the client's socket and its connection to moto. */
  const open = new Map<Socket, Socket>();
  const hung = new Set<Socket>();
  let mode: 'up' | 'down' | 'hang' = 'up';
  const accepted = { count: 0 };
  const hold = (client: Socket) => {
    hung.add(client);
    client.on('data', () => undefined);
    client.on('error', () => client.destroy());
    client.on('close', () => hung.delete(client));
  };
  const server = createTcpServer((client) => {
    accepted.count++;
    if (mode === 'down') {
      client.destroy();
      return;
    }
    if (mode === 'hang') {
      hold(client);
      return;
    }
    const upstream = connect(Number(target.port), target.hostname);
    open.set(client, upstream);
    client.pipe(upstream).pipe(client);
    const end = () => {
      if (open.get(client) !== upstream) return; // held since: the client stays open
      client.destroy();
      upstream.destroy();
      open.delete(client);
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    accepted,
    cut() {
      mode = 'down';
      for (const [client, upstream] of open) {
        client.destroy();
        upstream.destroy();
      }
    },
    hang() {
      mode = 'hang';
      // A connection kept alive from before stays open and answers no more either.
      for (const [client, upstream] of open) {
        open.delete(client);
        client.unpipe(upstream);
        upstream.unpipe(client);
        upstream.destroy();
        hold(client);
      }
    },
    heal() {
      mode = 'up';
    },
    held: () => hung.size,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of [...open.keys(), ...open.values(), ...hung]) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A loopback port nothing listens on. */
export async function closedPort(): Promise<number> {
  const server = createTcpServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface ProxyProcess {
  readonly port: number;
  readonly url: string;
  readonly proc: ChildProcess;
  /** Every line the proxy wrote, parsed. */
  readonly lines: Record<string, unknown>[];
  /** Access log lines (one per request). */
  requests(): Record<string, unknown>[];
  /** Sends a signal and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * The proxy's request log line that matches, once it has come through the process's stdout (which may
 * follow the answer the client already has); fails the test after `timeoutMs`.
 */
export async function logged(
  p: Pick<ProxyProcess, 'requests'>,
  match: (line: Record<string, unknown>) => boolean,
  timeoutMs = 10_000,
): Promise<Record<string, unknown> | undefined> {
  await eventually(async () => p.requests().some(match), timeoutMs).catch(() => undefined);
  return p.requests().find(match);
}

/** The flag documents the proxy tests write most. */
export const DOCS = {
  off: { mode: 'off', users: [], percent: 0 },
  notCutOver: { completed: false },
  cutOver: { completed: true, completedAt: '2026-11-20T10:00:00Z', runId: 'run-1' },
} as const;

/**
 * The proxies a test file starts, each killed by `stopAll` (its afterAll): `start` is `startProxy` with
 * the process remembered.
 */
export function proxyPool() {
  const running: ProxyProcess[] = [];
  return {
    async start(...args: Parameters<typeof startProxy>): Promise<ProxyProcess> {
      const p = await startProxy(...args);
      running.push(p);
      return p;
    },
    stopAll: () => Promise.all(running.map((p) => p.stop('SIGKILL'))),
  };
}

/** Starts the bundled proxy with a configuration and waits until it listens. */
export async function startProxy(
  config: ProxyRuntimeConfig,
  ssmEndpoint = motoEndpoint(),
  /** More environment, e.g. NODE_EXTRA_CA_CERTS for an https monolith with a test certificate. */
  env: Record<string, string> = {},
): Promise<ProxyProcess> {
  const bundle = process.env.ROUTING_PROXY_BUNDLE;
  if (!bundle)
    throw new Error('ROUTING_PROXY_BUNDLE is not set: run the tests through jest (global setup bundles it)');
  const proc = spawn(process.execPath, [bundle], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      PATH: process.env.PATH,
      ROUTING_PROXY_CONFIG: JSON.stringify(config),
      AWS_ENDPOINT_URL: ssmEndpoint,
      AWS_REGION: REGION,
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
      AWS_MAX_ATTEMPTS: '1',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      ...env,
    },
  });
  const lines: Record<string, unknown>[] = [];
  let stderr = '';
  let buffer = '';
  proc.stderr?.on('data', (d) => (stderr += d));
  const listening = new Promise<number>((resolve, reject) => {
    proc.stdout?.on('data', (d: Buffer) => {
      buffer += d.toString('utf8');
      let nl = buffer.indexOf('\n');
      while (nl !== -1) {
        const line = JSON.parse(buffer.slice(0, nl)) as Record<string, unknown>;
        lines.push(line);
        if (line.msg === 'listening') resolve(line.port as number);
        buffer = buffer.slice(nl + 1);
        nl = buffer.indexOf('\n');
      }
    });
    proc.once('exit', (code) =>
      reject(new Error(`proxy exited with ${code}: ${JSON.stringify(lines)} ${stderr}`)),
    );
  });
  const port = await listening;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    proc,
    lines,
    requests: () => lines.filter((l) => l.msg === 'request'),
    stop: (signal = 'SIGTERM') => {
      if (proc.exitCode === null) proc.kill(signal);
      return exited;
    },
  };
}

/** A flag prefix of its own: the emulator is shared by every test file. */
export function isolatedPrefix(): string {
  return `/px${randomBytes(4).toString('hex')}/migration`;
}

export function serviceEntry(
  prefix: string,
  upstream: StandIn,
  routes: readonly ProxyRoute[],
  extra: Partial<ProxyService> = {},
): ProxyService {
  return {
    name: 'users',
    phase: 1,
    cutoverRecorded: false,
    url: upstream.url,
    parameters: {
      routing: `${prefix}/users/routing`,
      cutover: `${prefix}/users/cutover`,
      override: `${prefix}/users/override`,
    },
    routes,
    ...extra,
  };
}

export function proxyConfig(
  legacy: StandIn,
  services: readonly ProxyService[],
  overrides: {
    timeouts?: Partial<ProxyRuntimeConfig['timeouts']>;
    limits?: Partial<ProxyRuntimeConfig['limits']>;
    paths?: Partial<ProxyRuntimeConfig['paths']>;
  } = {},
): ProxyRuntimeConfig {
  return {
    version: 1,
    port: 0,
    legacy: { url: legacy.url, healthCheckPath: '/health' },
    flags: { refreshMs: 150, jitterPercent: 20 },
    timeouts: { connectMs: 1000, headersMs: 2000, idleMs: 2000, drainMs: 3000, ...overrides.timeouts },
    limits: { maxHeaderBytes: 16384, maxBodyBytes: 32 * 1024 * 1024, ...overrides.limits },
    paths: { ...DEFAULT_PATH_VARIANTS, ...overrides.paths },
    services,
  };
}

/** Writes a flag version and moves `last-good` to it (what the flag guard does after checking it). */
export async function putFlag(ssm: SSMClient, name: string, value: unknown): Promise<void> {
  const out = await ssm.send(
    new PutParameterCommand({ Name: name, Value: JSON.stringify(value), Type: 'String', Overwrite: true }),
  );
  await ssm.send(
    new LabelParameterVersionCommand({ Name: name, ParameterVersion: out.Version, Labels: ['last-good'] }),
  );
}

/** Writes a flag version without moving `last-good` (an unchecked write: readers must not see it). */
export async function putUnchecked(ssm: SSMClient, name: string, value: unknown): Promise<void> {
  await ssm.send(
    new PutParameterCommand({ Name: name, Value: JSON.stringify(value), Type: 'String', Overwrite: true }),
  );
}

/**
 * Polls `check` until it returns true (the proxy refreshes in the background), for up to 10 s by default:
 * the test machines are shared and often loaded.
 */
export async function eventually(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`not reached within ${timeoutMs} ms`);
}

/** Sends raw bytes and returns everything the server answered before closing (or `waitMs`). */
export function rawRequest(
  port: number,
  bytes: string,
  waitMs = 1000,
  until: (data: string) => boolean = () => false,
): Promise<string> {
  return new Promise((resolve) => {
    let data = '';
    const socket = connect(port, '127.0.0.1', () => socket.write(bytes));
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(data);
    };
    const timer = setTimeout(done, waitMs);
    socket.on('data', (d) => {
      data += d.toString('latin1');
      if (until(data)) done();
    });
    socket.on('close', done);
    socket.on('error', done);
  });
}
