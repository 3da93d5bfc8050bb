/**
 * Request bodies on their way through the proxy: the idle deadline of a body the client stops sending,
 * the size limit of a body of unknown length, and the prefix read of a body whose identity the route
 * looks for. The proxy never holds a whole body, except the bounded prefix of a login request.
 */
import type { IncomingMessage } from 'node:http';
import { Readable, Transform } from 'node:stream';

/** The client sent nothing of its body, or read nothing of its response, for the idle timeout. */
export class ClientTimeout extends Error {
  readonly code = 'PROXY_CLIENT_TIMEOUT';
}

/**
 * A failure of the upstream while the client has been silent this long (its body stalled) or has not
 * taken the response for this long is the client's doing (the service's own read or write timeout fired
 * first): never a service error.
 */
export const CLIENT_STALL_MS = 1000;

/** A request body as the proxy reads it, with the time of the client's last byte. */
export interface WatchedBody {
  /** What the proxy reads and forwards (the body passes through it unchanged). */
  readonly stream: Readable;
  /** `performance.now()` of the client's last body byte (of the start before the first). */
  lastByteAt(): number;
  /** Whether the client has sent the whole body. */
  complete(): boolean;
}

/**
 * Watches a request body: when the client sends nothing for `idleMs` while the proxy waits for it, the
 * body stream is destroyed with ClientTimeout (which fails the upstream request, or the prefix read) and
 * `onIdle` is called. The clock stops while the proxy itself holds the body back (the upstream is not
 * taking it yet: the pipe has paused the request), so only the client's silence counts.
 */
export function watchBody(
  req: IncomingMessage,
  idleMs: number,
  onIdle: (err: ClientTimeout) => void,
): WatchedBody {
  let last = performance.now();
  let done = false;
  let timer: NodeJS.Timeout | undefined;
  const stream = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      last = performance.now();
      timer?.refresh();
      callback(null, chunk);
    },
  });
  const disarm = () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
  };
  const fire = () => {
    timer = undefined;
    if (done) return;
    const err = new ClientTimeout(`the client sent nothing of its body for ${idleMs} ms`);
    stream.destroy(err);
    onIdle(err);
  };
  const arm = () => {
    if (done || timer) return;
    timer = setTimeout(fire, idleMs);
  };
  req.on('pause', disarm);
  req.on('resume', arm);
  req.once('end', () => {
    done = true;
    disarm();
  });
  req.once('close', disarm);
  req.on('error', (err) => stream.destroy(err));
  req.pipe(stream);
  arm();
  return { stream, lastByteAt: () => last, complete: () => done };
}

/** A body went past `maxBodyBytes`: answered 413 when nothing was sent yet. */
export class BodyTooLarge extends Error {
  readonly code = 'PROXY_BODY_TOO_LARGE';
}

/** Whether a request has a body to forward (RFC 9112: Content-Length or Transfer-Encoding). */
export function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return (length !== undefined && length !== '0') || req.headers['transfer-encoding'] !== undefined;
}

/** A body of unknown length, cut off with BodyTooLarge past `limit` bytes. */
export function limited(req: Readable, limit: number): Readable {
  let seen = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      seen += chunk.length;
      if (seen > limit) callback(new BodyTooLarge(`the request body is over ${limit} bytes`));
      else callback(null, chunk);
    },
  });
  req.on('error', (err) => counter.destroy(err));
  return req.pipe(counter);
}

/**
 * Reads the body up to `maxBytes` to find an identity in it. Complete: the whole body as a Buffer.
 * Longer: a stream of what was read followed by the rest, so the body is forwarded intact either way
 * (cut off past `maxBodyBytes` when its length was not declared: `chunked`).
 */
export async function readPrefix(
  body: Readable,
  chunked: boolean,
  maxBytes: number,
  maxBodyBytes: number,
): Promise<{ complete: boolean; body: Buffer | Readable }> {
  const chunks: Buffer[] = [];
  let size = 0;
  const iterator = body[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  while (size <= maxBytes) {
    const next = await iterator.next();
    if (next.done) return { complete: true, body: Buffer.concat(chunks, size) };
    chunks.push(next.value);
    size += next.value.length;
  }
  async function* rest() {
    yield* chunks;
    while (true) {
      const next = await iterator.next();
      if (next.done) return;
      yield next.value;
    }
  }
  const stream = Readable.from(rest(), { objectMode: false });
  return {
    complete: false,
    body: chunked ? limited(stream, maxBodyBytes) : stream,
  };
}
