/**
 * One line per request for the playground: who the user was, which route, and which side answered.
 * A tap in front of each upstream sees what the routing proxy sent there (it forwards byte for byte and
 * reports); the route and the user are found as the proxy finds them (lib/proxy/routes.ts and
 * identity.ts), on the old paths at the monolith and on the service paths at the service. The proxy's
 * own access log never holds a user id (docs/routing-proxy.md); this is a local tool's view.
 */

import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import type { ProxyRoute } from '../../lib/proxy/contract';
import { bodyIdentity, requestIdentity } from '../../lib/proxy/identity';
import { RouteTable } from '../../lib/proxy/routes';
import { listenOnLoopback } from './listen';

export type Side = 'monolith' | 'users service';

/** What the playground prints for one request. */
export interface RequestLine {
  /** The user id the route found, `anonymous` on a route without one found, `-` off the routes. */
  readonly user: string;
  /** `METHOD /route/{template}` for a routed endpoint, else `METHOD /path`. */
  readonly route: string;
  readonly side: Side;
  readonly status: number;
}

export function formatLine(line: RequestLine): string {
  const user = line.user === '-' || line.user === 'anonymous' ? line.user : `user ${line.user}`;
  return `${user.padEnd(14)} ${line.route.padEnd(32)} -> ${line.side} (${line.status})`;
}

/** Finds the route and user of a request as seen at one side. */
export class RequestReader {
  private readonly table: RouteTable<ProxyRoute>;

  constructor(
    readonly side: Side,
    routes: readonly ProxyRoute[],
  ) {
    // At the service the paths are the service paths; the line names the old endpoint's route.
    const seen = side === 'monolith' ? routes : routes.map((r) => ({ ...r, path: r.servicePath }));
    this.table = new RouteTable(seen.map((route, i) => ({ owner: routes[i], route })));
  }

  read(req: { method: string; url: string; headers: IncomingMessage['headers']; body: Buffer }): {
    user: string;
    route: string;
  } {
    const match = this.table.match(req.method, req.url);
    if (!match) return { user: '-', route: `${req.method} ${req.url.split('?')[0]}` };
    const route = match.owner;
    const header = (name: string) => {
      const v = req.headers[name];
      return Array.isArray(v) ? v[0] : v;
    };
    const identity = route.identity;
    const user =
      identity === undefined
        ? undefined
        : identity.source === 'body'
          ? bodyIdentity(identity.field, header('content-type'), req.body)
          : requestIdentity(identity, { params: match.params, header });
    return { user: user ?? 'anonymous', route: `${req.method} ${route.path}` };
  }
}

/** A forwarder in front of an upstream that reports every request it passes on. */
export async function tap(
  target: string,
  reader: RequestReader,
  report: (line: RequestLine) => void,
): Promise<{ url: string; close(): Promise<void> }> {
  const upstream = new URL(target);
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const forward = httpRequest(
        {
          host: upstream.hostname,
          port: upstream.port,
          method: req.method,
          path: req.url,
          headers: req.headers,
        },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
          const seen = reader.read({
            method: req.method ?? 'GET',
            url: req.url ?? '/',
            headers: req.headers,
            body,
          });
          report({ ...seen, side: reader.side, status: answer.statusCode ?? 502 });
        },
      );
      forward.on('error', () => {
        res.writeHead(502);
        res.end();
      });
      forward.end(body);
    });
  });
  return listenOnLoopback(server);
}
