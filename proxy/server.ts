/**
 * The routing proxy's HTTP server: every request goes to the monolith untouched, except a request on a
 * service's route that the flag contract sends to the service (path rewritten to the route's
 * servicePath, through Service Connect). Bodies stream both ways; a failed service request is a 502 or
 * 504, never retried and never sent to the monolith instead (that would split a user's data).
 */
import {
  createServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
  STATUS_CODES,
} from 'node:http';
import type { Duplex, Readable } from 'node:stream';
import type { Destination, ServiceContext } from '../lib/flags/evaluate';
import type { ProxyRoute, ProxyRuntimeConfig, ProxyService } from '../lib/proxy/contract';
import { destinationFor, destinationWithoutUser, serviceContext } from '../lib/proxy/decide';
import { forwardHeaders } from '../lib/proxy/headers';
import {
  ambiguousIdentityHeader,
  bodyIdentity,
  firstHeader,
  jwtToken,
  type RequestParts,
  repeatedHost,
  requestIdentity,
} from '../lib/proxy/identity';
import { type AccessLogEntry, accessLogLine, NO_SERVICE } from '../lib/proxy/metrics';
import { type RouteMatch, RouteTable } from '../lib/proxy/routes';
import { BodyTooLarge, ClientTimeout, hasBody, limited, readPrefix } from './bodies';
import { Exchange, type ExchangeOwner } from './exchange';
import type { FlagSource } from './flags';
import { Readiness } from './health';
import type { JwtVerifier } from './jwt';
import type { Logger, LogSink } from './log';
import { Pool } from './pool';
import { Upgrades } from './upgrade';

export interface ProxyOptions {
  readonly config: ProxyRuntimeConfig;
  readonly flags: FlagSource;
  readonly sink: LogSink;
  readonly logger: Logger;
  /** Present when a route verifies JWTs. */
  readonly jwt?: JwtVerifier;
  /** Epoch milliseconds (tests move time). */
  readonly now?: () => number;
}

interface Upstream {
  readonly pool: Pool;
  /** `host:port`, sent as Host to a service (Service Connect routes on it). */
  readonly authority: string;
  readonly hostname: string;
  readonly port: number;
  /** https: the name the certificate is checked against and sent as SNI; absent for plain http. */
  readonly tls?: { readonly serverName: string };
}

interface ServiceRuntime {
  readonly entry: ProxyService;
  readonly context: ServiceContext;
  readonly upstream: Upstream;
}

const LOGGED_PATH_CHARS = 200;

function isTimeout(err: unknown): boolean {
  const code = (err as { code?: string })?.code;
  return (
    code === 'UND_ERR_CONNECT_TIMEOUT' ||
    code === 'UND_ERR_HEADERS_TIMEOUT' ||
    code === 'UND_ERR_BODY_TIMEOUT'
  );
}

export class RoutingProxy implements ExchangeOwner {
  readonly server: Server;
  private readonly legacy: Upstream;
  private readonly services: ServiceRuntime[];
  private readonly table: RouteTable<ServiceRuntime>;
  private readonly upgrades: Upgrades;
  private readonly readiness: Readiness;
  private readonly now: () => number;
  private readonly retryAfter: string;
  private draining = false;
  private inflight = 0;
  private onIdle: (() => void) | undefined;

  constructor(private readonly options: ProxyOptions) {
    const { config } = options;
    this.now = options.now ?? Date.now;
    this.retryAfter = String(Math.max(1, Math.ceil(config.flags.refreshMs / 1000)));
    this.legacy = this.upstream(config.legacy.url, config.legacy.serverName);
    this.services = config.services.map((entry) => ({
      entry,
      context: serviceContext(entry),
      upstream: this.upstream(entry.url),
    }));
    this.table = new RouteTable(
      this.services.flatMap((s) => s.entry.routes.map((route) => ({ owner: s, route }))),
      config.paths,
    );
    this.server = createServer(
      {
        maxHeaderSize: config.limits.maxHeaderBytes,
        // Longer than the ALB's idle timeout (60 s), so that the ALB, not the proxy, closes idle connections.
        keepAliveTimeout: 65_000,
        headersTimeout: 66_000,
        requestTimeout: 0,
        insecureHTTPParser: false,
        joinDuplicateHeaders: false,
      },
      (req, res) => this.handle(req, res),
    );
    this.server.on('clientError', (err, socket) => this.clientError(err, socket));
    this.readiness = new Readiness(
      this.services.map((s) => s.context),
      (service) => options.flags.state(service),
      options.logger,
    );
    this.upgrades = new Upgrades({
      legacy: this.legacy,
      connectMs: config.timeouts.connectMs,
      headersMs: config.timeouts.headersMs,
      onServiceRoute: (req) => this.table.match(req.method ?? 'GET', req.url ?? '')?.owner.entry.name,
      log: (req, outcome) =>
        this.options.sink.line(
          accessLogLine(
            {
              service: outcome.service ?? NO_SERVICE,
              side: outcome.side,
              method: req.method ?? '',
              route: (req.url ?? '').split('?')[0].slice(0, LOGGED_PATH_CHARS),
              status: outcome.status,
              latencyMs: outcome.latencyMs,
              reason: outcome.reason,
            },
            this.now(),
          ),
        ),
    });
    this.server.on('upgrade', (req, socket, head) => this.upgrades.handle(req, socket, head));
  }

  private upstream(url: string, serverName?: string): Upstream {
    const { timeouts, limits } = this.options.config;
    const parsed = new URL(url);
    // An https monolith (an existing one, at its own address): the certificate is checked against
    // serverName (default: the URL's host), with Node's trusted CAs (NODE_EXTRA_CA_CERTS adds a private one).
    const tls = parsed.protocol === 'https:' ? { serverName: serverName ?? parsed.hostname } : undefined;
    return {
      pool: new Pool(parsed.origin, {
        connect: { timeout: timeouts.connectMs, ...(tls ? { servername: tls.serverName } : {}) },
        headersTimeout: timeouts.headersMs,
        bodyTimeout: timeouts.idleMs,
        keepAliveTimeout: 4_000,
        maxHeaderSize: limits.maxHeaderBytes,
        pipelining: 1,
      }),
      authority: parsed.host,
      hostname: parsed.hostname,
      port: Number(parsed.port),
      ...(tls ? { tls } : {}),
    };
  }

  listen(port: number, host = '0.0.0.0'): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        const address = this.server.address();
        resolve(typeof address === 'object' && address ? address.port : port);
      });
    });
  }

  /**
   * Stops accepting connections, lets in-flight requests finish (their responses close their
   * connections) for up to `drainMs`, then closes everything. Resolves true when nothing was cut off.
   */
  async shutdown(drainMs: number): Promise<boolean> {
    this.draining = true;
    this.server.close();
    this.server.closeIdleConnections();
    let drained = this.inflight === 0;
    if (!drained) {
      drained = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), drainMs);
        this.onIdle = () => {
          clearTimeout(timer);
          resolve(true);
        };
      });
    }
    this.server.closeAllConnections();
    this.upgrades.closeAll();
    await Promise.all(
      [this.legacy, ...this.services.map((s) => s.upstream)].map((u) =>
        u.pool.destroy().catch(() => undefined),
      ),
    );
    return drained;
  }

  get clientIdleMs(): number {
    return this.options.config.timeouts.idleMs;
  }

  /** Whether the proxy is draining (every response then closes its connection). */
  isDraining(): boolean {
    return this.draining;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const ex = new Exchange(this, req, res);
    this.inflight++;
    res.on('close', () => this.finished(ex));
    if (this.draining) res.setHeader('connection', 'close');
    const url = req.url ?? '';
    const method = req.method ?? 'GET';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    ex.route = path.length > LOGGED_PATH_CHARS ? path.slice(0, LOGGED_PATH_CHARS) : path;
    if (url.charCodeAt(0) !== 47 /* / */) {
      this.answer(res, ex, 400, 'request-target');
      return;
    }
    const length = req.headers['content-length'];
    if (length !== undefined && Number(length) > this.options.config.limits.maxBodyBytes) {
      this.answer(res, ex, 413, 'body-too-large');
      return;
    }
    // Two Host lines: which one the monolith or a service would take is anyone's guess (RFC 9112: 400).
    if (repeatedHost(req.rawHeaders)) {
      this.answer(res, ex, 400, 'repeated-host');
      return;
    }
    if (hasBody(req)) ex.watchBody();
    // The ALB health check reaches the monolith, unless this task cannot decide a service's requests
    // yet (phase 2 or later, no marker, nothing loaded): then it takes no traffic while others can.
    if (path === this.options.config.legacy.healthCheckPath) {
      const waiting = this.readiness.waitingFor(new Date(this.now()));
      if (waiting.length > 0) this.answer(res, ex, 503, 'flags-not-loaded', undefined, waiting);
      else this.forward(ex, this.legacy, url);
      return;
    }
    const match = this.table.match(method, url);
    if (!match) {
      this.forward(ex, this.legacy, url);
      return;
    }
    ex.service = match.owner.entry.name;
    ex.route = match.route.path;
    // Another spelling of a route (a trailing slash, `%75sers`, ...): the monolith may serve it as the
    // route, so it is never passed to it untouched: routed as the route, or refused.
    if (match.variant && this.options.config.paths.handling === 'refuse') {
      this.answer(res, ex, 400, 'path-variant', match.route);
      return;
    }
    this.routed(req, res, ex, match);
  }

  /** A request on a service route: decided at once when it can be, after reading the identity when not. */
  private routed(
    req: IncomingMessage,
    res: ServerResponse,
    ex: Exchange,
    match: RouteMatch<ServiceRuntime>,
  ): void {
    const { owner: service, route } = match;
    const now = new Date(this.now());
    const state = this.options.flags.state(service.entry.name);
    const fixed = destinationWithoutUser(service.context, state, now);
    if (fixed !== undefined) {
      this.send(req, res, ex, match, fixed);
      return;
    }
    const identity = route.identity;
    if (identity && ambiguousIdentityHeader(identity, req.rawHeaders) !== undefined) {
      this.answer(res, ex, 400, 'ambiguous-identity', route);
      return;
    }
    if (identity?.source === 'body') {
      const limit = this.options.config.limits.maxBodyBytes;
      this.later(req, res, ex, match, async () => {
        const read = await readPrefix(
          ex.requestBody?.stream ?? req,
          req.headers['content-length'] === undefined,
          identity.maxBytes,
          limit,
        );
        const userId = read.complete
          ? bodyIdentity(identity.field, req.headers['content-type'], read.body as Buffer)
          : undefined;
        return { userId, body: read.body };
      });
      return;
    }
    const jwt = this.options.jwt;
    if (identity?.source === 'jwt' && identity.jwks && jwt) {
      const token = jwtToken(identity, headerOf(req));
      if (token !== undefined) {
        this.later(req, res, ex, match, async () => ({ userId: await jwt.claim(identity, token) }));
        return;
      }
    }
    const userId =
      identity && !(identity.source === 'jwt' && identity.jwks)
        ? requestIdentity(identity, { params: match.params, header: headerOf(req) } satisfies RequestParts)
        : undefined;
    this.decide(req, res, ex, match, userId, now);
  }

  /** Finds the identity asynchronously (a body, a key set), then decides with the flags of that moment. */
  private later(
    req: IncomingMessage,
    res: ServerResponse,
    ex: Exchange,
    match: RouteMatch<ServiceRuntime>,
    find: () => Promise<{ userId: string | undefined; body?: Buffer | Readable }>,
  ): void {
    find().then(
      ({ userId, body }) => this.decide(req, res, ex, match, userId, new Date(this.now()), body),
      (err: Error) => {
        if (err instanceof ClientTimeout || ex.clientsFault()) {
          // The client stopped sending the body the proxy was reading for its identity.
          if (!res.headersSent) this.answer(res, ex, 408, 'request-body-timeout');
          else res.destroy();
          return;
        }
        this.options.logger.log('error', 'request failed in the proxy', { error: err.message });
        if (!res.headersSent) this.answer(res, ex, 502, 'proxy-error');
        else res.destroy();
      },
    );
  }

  private decide(
    req: IncomingMessage,
    res: ServerResponse,
    ex: Exchange,
    match: RouteMatch<ServiceRuntime>,
    userId: string | undefined,
    now: Date,
    body?: Buffer | Readable,
  ): void {
    const service = match.owner;
    ex.identified = userId !== undefined;
    const state = this.options.flags.state(service.entry.name);
    this.send(
      req,
      res,
      ex,
      match,
      destinationFor(service.context, state, userId, match.route.anonymous, now),
      body,
    );
  }

  private send(
    req: IncomingMessage,
    res: ServerResponse,
    ex: Exchange,
    match: RouteMatch<ServiceRuntime>,
    destination: Destination,
    body?: Buffer | Readable,
  ): void {
    switch (destination) {
      case 'service':
        ex.side = 'service';
        this.forward(ex, match.owner.upstream, this.table.rewrite(match), body, true);
        return;
      case 'legacy':
        this.forward(ex, this.legacy, req.url ?? '/', body);
        return;
      case 'unavailable':
        // Only this service's routes wait: the proxy cannot know yet whether its cutover has passed.
        res.setHeader('retry-after', this.retryAfter);
        this.answer(res, ex, 503, 'flags-unavailable', match.route);
        return;
    }
  }

  /** Streams the request to an upstream and its response back. */
  private forward(
    ex: Exchange,
    upstream: Upstream,
    path: string,
    body?: Buffer | Readable,
    toService = false,
  ): void {
    const { req } = ex;
    let payload: Buffer | Readable | null = null;
    if (body !== undefined) payload = body;
    else if (ex.requestBody)
      payload =
        req.headers['content-length'] === undefined
          ? limited(ex.requestBody.stream, this.options.config.limits.maxBodyBytes)
          : ex.requestBody.stream;
    const headers = forwardHeaders(req.rawHeaders, {
      peer: req.socket.remoteAddress,
      ...(toService ? { host: upstream.authority } : {}),
    });
    ex.toService = toService;
    ex.dispatch(upstream.pool, {
      path,
      method: req.method ?? 'GET',
      headers,
      body: payload,
      // undici takes the TLS name from the Host header unless told: the configured name, never the client's.
      ...(upstream.tls ? { servername: upstream.tls.serverName } : {}),
    });
  }

  /** A failed upstream request: 413, 502 or 504 when nothing was sent yet, else the response is cut off. */
  upstreamFailed(err: unknown, ex: Exchange): void {
    const { res } = ex;
    if (ex.gone) return; // the client went away first: nobody to answer
    const code = (err as { code?: string })?.code ?? (err as Error)?.name ?? 'error';
    ex.reason = `upstream-${code}`;
    // The client's silence, not the upstream: its body stalled (the proxy's idle deadline, or the
    // upstream's own read timeout first), or it took nothing of the response. Never a service error.
    if (ex.clientsFault()) {
      if (!res.headersSent) this.answer(res, ex, 408, 'request-body-timeout');
      else {
        ex.reason = 'client-timeout';
        res.destroy();
      }
      return;
    }
    if ((err instanceof BodyTooLarge || code === 'PROXY_BODY_TOO_LARGE') && !res.headersSent) {
      this.answer(res, ex, 413, 'body-too-large');
      return;
    }
    if (!res.headersSent) {
      const status = isTimeout(err) ? 504 : 502;
      this.options.logger.log('warn', 'upstream failed', {
        side: ex.toService ? 'service' : 'legacy',
        service: ex.service,
        error: code,
        status,
      });
      this.answer(res, ex, status, ex.reason);
      return;
    }
    ex.truncated = true;
    res.destroy();
  }

  /** A response of the proxy itself (JSON, closing the connection when the request body was not read). */
  private answer(
    res: ServerResponse,
    ex: Exchange,
    status: number,
    reason: string,
    route?: ProxyRoute,
    services?: readonly string[],
  ): void {
    if (status !== 502 && status !== 504) ex.side = 'proxy';
    ex.reason = reason;
    const body = JSON.stringify({
      error: STATUS_CODES[status],
      reason,
      ...(route ? { route: route.path } : {}),
      ...(services ? { services } : {}),
    });
    // A request body left unread (400, 408, 413, a failed upstream) must not be taken for the next
    // request: close.
    const close =
      status === 400 ||
      status === 408 ||
      status === 413 ||
      this.draining ||
      (ex.requestBody !== undefined && !ex.requestBody.complete());
    res.writeHead(status, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
      ...(close ? { connection: 'close' } : {}),
    });
    res.end(body);
  }

  private finished(ex: Exchange): void {
    ex.closed();
    const { req, res } = ex;
    const entry: AccessLogEntry = {
      service: ex.service,
      side: ex.side,
      method: req.method ?? '',
      route: ex.route,
      status: res.headersSent ? res.statusCode : 499,
      latencyMs: performance.now() - ex.started,
      identified: ex.identified,
      reason: ex.reason,
      truncated: ex.truncated,
    };
    this.options.sink.line(accessLogLine(entry, this.now()));
    this.inflight--;
    if (this.inflight === 0 && this.onIdle) this.onIdle();
  }

  /** A malformed request (smuggling attempt, oversized head, bad syntax): answered, never forwarded. */
  private clientError(err: Error & { code?: string }, socket: Duplex): void {
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const status =
      err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
    this.options.sink.line(
      accessLogLine(
        {
          service: NO_SERVICE,
          side: 'proxy',
          method: '',
          route: '',
          status,
          latencyMs: 0,
          reason: err.code ?? 'parse-error',
        },
        this.now(),
      ),
    );
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`,
    );
  }
}

/** A request's headers by lowercase name, each its first value as sent (Node joins repeated ones). */
function headerOf(req: IncomingMessage): (name: string) => string | undefined {
  return (name) => firstHeader(req.rawHeaders, name);
}
