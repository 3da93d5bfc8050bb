/**
 * One request through the proxy, from its arrival to its access log line, and the undici dispatch
 * handler of its upstream request.
 */
import { IncomingMessage, type ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { responseHeaders } from '../lib/proxy/headers';
import { NO_SERVICE, type Side } from '../lib/proxy/metrics';
import { CLIENT_STALL_MS, ClientTimeout, type WatchedBody, watchBody } from './bodies';
import type { Pool } from './pool';

/** The client went away before its response ended. */
export class ClientGone extends Error {
  readonly code = 'PROXY_CLIENT_GONE';
}

/** What an exchange asks of the proxy that handles it. */
export interface ExchangeOwner {
  /** Whether the proxy is draining (every response then closes its connection). */
  isDraining(): boolean;
  /** Longest silence of the client while a body streams in either direction (`timeouts.idleMs`). */
  readonly clientIdleMs: number;
  /** The upstream request failed (before or after the response's headers). */
  upstreamFailed(err: unknown, ex: Exchange): void;
}

/**
 * One request, from its arrival to its access log line (what the line says is filled in as it is
 * handled). While the request is forwarded it is also the undici dispatch handler of the upstream
 * request: the response streams straight into the client's response, with undici's back-pressure. One
 * object per request, where `pool.stream` would add a stream handler (an async resource), a promise,
 * stream-finished listeners and an abort listener. It implements the handler methods undici 7's client
 * itself calls (`onConnect`, `onHeaders`, ...; typed deprecated in favour of `onRequestStart` and the
 * like, which undici 7 adapts to these with a wrapper that also parses every response's headers into an
 * object); undici is pinned, and the tests run this handler through every path (stream, abort, failure).
 */
export class Exchange implements Dispatcher.DispatchHandler {
  service = NO_SERVICE;
  side: Side = 'legacy';
  route = '';
  identified: boolean | undefined = undefined;
  reason: string | undefined = undefined;
  truncated = false;
  readonly started = performance.now();
  /** Whether the current upstream request goes to a service (for the log of a failure). */
  toService = false;
  /** The request body given to undici (destroyed when the upstream request fails). */
  private body: Buffer | Readable | null = null;
  private abortUpstream: ((err?: Error) => void) | undefined = undefined;
  private resumeUpstream: (() => void) | undefined = undefined;
  /** The client went away before its response ended. */
  gone = false;
  /** The request's body, as the proxy reads it (absent: no body). */
  requestBody: WatchedBody | undefined = undefined;
  /** The client's silence ended the exchange (its body stalled, or it stopped reading the response). */
  clientTimedOut = false;
  /** Since when the response waits for the client to take what is buffered (`performance.now()`). */
  private drainWaitSince: number | undefined = undefined;
  private drainTimer: NodeJS.Timeout | undefined = undefined;

  constructor(
    private readonly proxy: ExchangeOwner,
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
  ) {}

  /**
   * Reads the request's body through an idle deadline: a client that stops sending it for the idle
   * timeout gets 408, and its upstream request is given up (the body stream fails it).
   */
  watchBody(): void {
    this.requestBody = watchBody(this.req, this.proxy.clientIdleMs, (err) => {
      this.clientTimedOut = true;
      this.abortUpstream?.(err);
    });
  }

  /**
   * Whether a failure now is the client's doing: it timed out, or its body has been stalled (or its
   * response untaken) for CLIENT_STALL_MS, so that the upstream's own read or write timeout fired first.
   * Such a failure is answered 408 (or cut off) and never counted as the service's.
   */
  clientsFault(): boolean {
    if (this.clientTimedOut) return true;
    const now = performance.now();
    const body = this.requestBody;
    if (body && !body.complete() && now - body.lastByteAt() >= CLIENT_STALL_MS) return true;
    return this.drainWaitSince !== undefined && now - this.drainWaitSince >= CLIENT_STALL_MS;
  }

  /** Sends the request to an upstream (`dispatch` never throws: it reports through `onError`). */
  dispatch(pool: Pool, options: Dispatcher.DispatchOptions): void {
    this.body = (options.body as Buffer | Readable | null | undefined) ?? null;
    pool.dispatch(options, this);
  }

  /** The client's response closed (ended or not). */
  closed(): void {
    if (this.drainTimer) clearTimeout(this.drainTimer);
    if (this.res.writableFinished) return;
    this.gone = true;
    this.abortUpstream?.(new ClientGone('the client went away'));
  }

  onConnect(abort: (err?: Error) => void): void {
    if (this.gone) abort(new ClientGone('the client went away'));
    else this.abortUpstream = abort;
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void): boolean {
    // 1xx: the proxy's own server has answered `Expect: 100-continue` already.
    if (statusCode < 200) return true;
    this.resumeUpstream = resume;
    this.res.writeHead(statusCode, responseHeaders(rawHeaders, this.proxy.isDraining()));
    return true;
  }

  onData(chunk: Buffer): boolean {
    if (this.res.write(chunk)) return true;
    // undici pauses reading the upstream until the client has taken what is buffered; a client that
    // takes nothing for the idle timeout is let go (it would hold the upstream connection for good).
    this.drainWaitSince = performance.now();
    this.drainTimer = setTimeout(() => {
      this.clientTimedOut = true;
      const err = new ClientTimeout(`the client read nothing for ${this.proxy.clientIdleMs} ms`);
      if (this.abortUpstream) this.abortUpstream(err);
      else this.res.destroy(); // the upstream is done; the rest of the response waits for nobody
    }, this.proxy.clientIdleMs);
    this.res.once('drain', () => {
      clearTimeout(this.drainTimer);
      this.drainWaitSince = undefined;
      this.resumeUpstream?.();
    });
    return false;
  }

  onComplete(): void {
    this.abortUpstream = undefined;
    this.res.end();
  }

  onError(err: Error): void {
    this.abortUpstream = undefined;
    if (this.drainTimer) clearTimeout(this.drainTimer);
    const body = this.body;
    this.body = null;
    if (body !== null && !Buffer.isBuffer(body)) destroyBody(body, err);
    // The rest of a body the proxy will not read: the connection closes after the answer.
    if (this.requestBody && !this.requestBody.complete()) destroyBody(this.req, err);
    this.proxy.upstreamFailed(err, this);
  }
}

/**
 * Destroys a request body after a failed upstream request, as undici's own handlers do; a client's
 * IncomingMessage is detached from its socket first, so that the proxy can still answer on it.
 */
function destroyBody(body: Readable, err: Error): void {
  if (body.destroyed) return;
  if (body instanceof IncomingMessage) (body as { socket: unknown }).socket = null;
  body.destroy(err);
}
