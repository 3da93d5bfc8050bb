/**
 * A tiny JSON HTTP server for the stand-ins: routes by method and path pattern, JSON bodies, a 500
 * with the error's message when a handler throws.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface Reply {
  readonly status: number;
  readonly body: unknown;
}

export type Handler = (params: Record<string, string>, body: Record<string, unknown>) => Promise<Reply>;

export interface Route {
  readonly method: string;
  /** `/v1/users/{id}`: `{name}` is one segment. */
  readonly path: string;
  readonly handler: Handler;
}

export interface RunningServer {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

function matcher(path: string): RegExp {
  return new RegExp(`^${path.replace(/\{([a-zA-Z]+)\}/g, '(?<$1>[^/]+)')}$`);
}

async function bodyOf(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text ? (JSON.parse(text) as Record<string, unknown>) : {};
}

/** Serves `routes` on 127.0.0.1 (a free port); `before` may answer instead (a failing service). */
export async function serve(
  routes: readonly Route[],
  before?: () => Reply | undefined,
): Promise<RunningServer> {
  const compiled = routes.map((r) => ({ ...r, re: matcher(r.path) }));
  const sockets = new Set<Socket>();
  const server: Server = createServer(async (req, res) => {
    const send = ({ status, body }: Reply) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    try {
      const body = await bodyOf(req);
      const early = before?.();
      if (early) return send(early);
      const path = (req.url ?? '/').split('?')[0];
      for (const r of compiled) {
        const m = r.re.exec(path);
        if (m && r.method === req.method) return send(await r.handler({ ...m.groups }, body));
      }
      send({ status: 404, body: { error: 'not found', path } });
    } catch (e) {
      send({ status: 500, body: { error: (e as Error).message } });
    }
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
