/**
 * Request bodies on their way through the proxy: the size limit of a body of unknown length, and the
 * prefix read of a body whose identity the route looks for. The proxy never holds a whole body, except
 * the bounded prefix of a login request.
 */
import type { IncomingMessage } from 'node:http';
import { Readable, Transform } from 'node:stream';

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
 * Longer: a stream of what was read followed by the rest, so the body is forwarded intact either way.
 */
export async function readPrefix(
  req: IncomingMessage,
  maxBytes: number,
  maxBodyBytes: number,
): Promise<{ complete: boolean; body: Buffer | Readable }> {
  const chunks: Buffer[] = [];
  let size = 0;
  const iterator = req[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
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
    body: req.headers['content-length'] === undefined ? limited(stream, maxBodyBytes) : stream,
  };
}
