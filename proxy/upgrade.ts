/**
 * WebSocket and other upgrades (docs/routing-proxy.md, "Upgrades"). An upgrade on a service's route is
 * refused: a tunnel carries bytes the proxy no longer parses, so it could not be re-decided when a flag
 * changes, and after the cutover it would carry writes of a migrated endpoint to the monolith. Any other
 * upgrade goes to the monolith, and the connection becomes a byte tunnel **only on the monolith's 101**:
 * any other answer is passed back with `Connection: close` and the connection is closed, so that bytes a
 * client sends after a refused upgrade (a second request) never reach the monolith unparsed.
 */
import { type ClientRequest, request as httpRequest, type IncomingMessage, STATUS_CODES } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { forwardHeaders, responseHeaders } from '../lib/proxy/headers';
import { repeatedHost } from '../lib/proxy/identity';

export interface UpgradeOptions {
  /**
   * The monolith: on localhost in its own task, or at its address (legacy.mode "external"), over TLS
   * checked against `tls.serverName` when it is https.
   */
  readonly legacy: {
    readonly hostname: string;
    readonly port: number;
    readonly tls?: { readonly serverName: string };
  };
  /** Connection set-up plus the wait for the handshake's answer, then 504. */
  readonly connectMs: number;
  readonly headersMs: number;
  /** Whether the request is on a service's route (then it is refused). */
  readonly onServiceRoute: (req: IncomingMessage) => string | undefined;
  /** One access log line per upgrade request. */
  readonly log: (req: IncomingMessage, outcome: UpgradeOutcome) => void;
}

export interface UpgradeOutcome {
  readonly status: number;
  readonly reason: string;
  readonly latencyMs: number;
  /** The service whose route the request was on, when it was refused for that. */
  readonly service?: string;
  readonly side: 'legacy' | 'proxy';
}

/** The upgrades of one proxy: each handshake, and the tunnels it opened (closed on shutdown). */
export class Upgrades {
  private readonly open = new Set<Duplex>();

  constructor(private readonly options: UpgradeOptions) {}

  /** Closes every tunnel and handshake under way. */
  closeAll(): void {
    for (const socket of this.open) socket.destroy();
  }

  handle(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const started = performance.now();
    const { options } = this;
    const log = (status: number, reason: string, side: 'legacy' | 'proxy', service?: string) =>
      options.log(req, {
        status,
        reason,
        side,
        latencyMs: performance.now() - started,
        ...(service ? { service } : {}),
      });
    socket.on('error', () => socket.destroy());
    if (repeatedHost(req.rawHeaders)) {
      log(400, 'repeated-host', 'proxy');
      refuse(socket, 400);
      return;
    }
    const service = options.onServiceRoute(req);
    if (service !== undefined) {
      log(400, 'upgrade-on-service-route', 'proxy', service);
      refuse(socket, 400);
      return;
    }
    this.open.add(socket);
    socket.on('close', () => this.open.delete(socket));

    let upstream: ClientRequest | undefined;
    let settled = false;
    const timer = setTimeout(() => {
      if (settled) return;
      settled = true;
      log(504, 'upgrade-timeout', 'legacy');
      upstream?.destroy();
      refuse(socket, 504);
    }, options.connectMs + options.headersMs);
    const settle = () => {
      if (settled) return false;
      settled = true;
      clearTimeout(timer);
      return true;
    };
    socket.once('close', () => {
      if (settle()) upstream?.destroy();
    });

    const { tls } = options.legacy;
    upstream = (tls ? httpsRequest : httpRequest)({
      host: options.legacy.hostname,
      port: options.legacy.port,
      ...(tls ? { servername: tls.serverName } : {}),
      method: req.method,
      path: req.url,
      // As sent, Connection and Upgrade kept: the handshake needs them.
      headers: forwardHeaders(req.rawHeaders, { peer: req.socket.remoteAddress, upgrade: true }),
      setHost: false,
      agent: false,
    });
    upstream.on('error', () => {
      if (!settle()) return;
      log(502, 'upgrade-connect', 'legacy');
      refuse(socket, 502);
    });
    // The monolith switched protocols: from now on a byte tunnel, both ways.
    upstream.on('upgrade', (res: IncomingMessage, target: Socket, upstreamHead: Buffer) => {
      if (!settle()) {
        target.destroy();
        return;
      }
      target.setNoDelay(true);
      socket.write(statusHead(res, responseHeaders(res.rawHeaders, false, true)));
      if (upstreamHead.length > 0) socket.write(upstreamHead);
      if (head.length > 0) target.write(head);
      socket.pipe(target);
      target.pipe(socket);
      target.on('error', () => socket.destroy());
      target.on('close', () => socket.destroy());
      socket.on('close', () => target.destroy());
      log(101, 'upgrade', 'legacy');
    });
    // Any other answer: the upgrade did not happen. The answer is passed back and the connection closed;
    // what the client sent after its request (`head`, and anything later) is never forwarded.
    upstream.on('response', (res: IncomingMessage) => {
      if (!settle()) {
        res.destroy();
        return;
      }
      log(res.statusCode ?? 502, 'upgrade-refused', 'legacy');
      socket.write(statusHead(res, responseHeaders(res.rawHeaders, true)));
      if (req.method === 'HEAD') {
        res.destroy();
        socket.end();
        return;
      }
      res.on('data', (chunk: Buffer) => {
        if (!socket.write(chunk)) {
          res.pause();
          socket.once('drain', () => res.resume());
        }
      });
      res.on('end', () => socket.end());
      res.on('error', () => socket.destroy());
    });
    upstream.end();
  }
}

/** An answer of the proxy itself on an upgrade's raw socket, closing it. */
function refuse(socket: Duplex, status: number): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

/** A response's status line and headers (a refused upgrade's, without its framing: the body is close-delimited unless it has a Content-Length). */
function statusHead(res: IncomingMessage, headers: readonly string[]): string {
  const lines = [
    `HTTP/1.1 ${res.statusCode} ${res.statusMessage ?? STATUS_CODES[res.statusCode ?? 502] ?? ''}`,
  ];
  for (let i = 0; i < headers.length; i += 2) lines.push(`${headers[i]}: ${headers[i + 1]}`);
  return `${lines.join('\r\n')}\r\n\r\n`;
}
