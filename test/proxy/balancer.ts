/**
 * A stand-in for the ALB in front of the legacy tasks: round-robin over healthy targets, a health check
 * of each target every `intervalMs` on `path` (200 is healthy), a new target healthy after its first
 * passing check and unhealthy after `unhealthyThreshold` failing ones (as the ALB does), and fail-open
 * when every registered target is unhealthy. Requests are forwarded with node:http (one attempt, no
 * retry, as the ALB does for a request a target received).
 */
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Target {
  readonly name: string;
  readonly port: number;
  healthy: boolean;
  /** Consecutive failing checks. */
  failures: number;
  /** Requests sent to it (health checks excluded). */
  requests: number;
}

export interface Balancer {
  readonly url: string;
  readonly targets: Target[];
  register(name: string, port: number): Target;
  /** Stops sending new requests to the target (ECS deregisters a task before it stops it). */
  deregister(name: string): void;
  close(): Promise<void>;
}

export async function balancer(options: {
  path: string;
  intervalMs: number;
  unhealthyThreshold: number;
}): Promise<Balancer> {
  const targets: Target[] = [];
  let next = 0;
  const check = (t: Target) =>
    new Promise<void>((resolve) => {
      const req = request(
        {
          host: '127.0.0.1',
          port: t.port,
          path: options.path,
          agent: false,
          timeout: options.intervalMs * 3,
        },
        (res) => {
          res.resume();
          res.on('end', () => {
            if (res.statusCode === 200) {
              t.healthy = true;
              t.failures = 0;
            } else fail(t);
            resolve();
          });
        },
      );
      req.on('timeout', () => req.destroy());
      req.on('error', () => {
        fail(t);
        resolve();
      });
      req.end();
    });
  const fail = (t: Target) => {
    t.failures++;
    if (t.failures >= options.unhealthyThreshold) t.healthy = false;
  };
  const timer = setInterval(() => {
    for (const t of targets) void check(t);
  }, options.intervalMs);

  const server: Server = createServer((req, res) => {
    const healthy = targets.filter((t) => t.healthy);
    const pool = healthy.length > 0 ? healthy : targets; // fail open
    if (pool.length === 0) {
      res.writeHead(503).end('no target');
      return;
    }
    const target = pool[next++ % pool.length];
    target.requests++;
    const upstream = request(
      {
        host: '127.0.0.1',
        port: target.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
        agent: false,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => {
      if (!res.headersSent) res.writeHead(502, { 'x-balancer': target.name }).end('target failed');
      else res.destroy();
    });
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    targets,
    register(name, port) {
      // Registered in the "initial" state: no traffic until its first check passes.
      const t: Target = { name, port, healthy: false, failures: 0, requests: 0 };
      targets.push(t);
      void check(t);
      return t;
    },
    deregister(name) {
      const i = targets.findIndex((t) => t.name === name);
      if (i !== -1) targets.splice(i, 1);
    },
    close: () =>
      new Promise<void>((resolve) => {
        clearInterval(timer);
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
