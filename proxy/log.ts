/**
 * Structured JSON logs, one object per line on stdout (the awslogs driver ships them; CloudWatch turns
 * the EMF lines into metrics). Lines are batched: one write for many requests.
 */
import { write as fsWrite, writeSync } from 'node:fs';

export interface LogSink {
  /** Queues one line (without its newline). */
  line(text: string): void;
  /** Resolves once everything queued so far is written (before a normal exit). */
  flush(): Promise<void>;
  /**
   * Writes everything queued, synchronously (before an exit on a fatal error). Best effort: a batch that
   * an asynchronous write has under way is not waited for.
   */
  flushSync(): void;
}

export type Level = 'info' | 'warn' | 'error';

export interface Logger {
  log(level: Level, msg: string, fields?: Record<string, unknown>): void;
}

/** Where the sink writes: a file descriptor in production, a stand-in in tests. */
export interface LogOutput {
  /** Writes `data` from `offset` on, asynchronously; `done` gets the number of bytes written. */
  write(
    data: Buffer,
    offset: number,
    done: (err: NodeJS.ErrnoException | null, written: number) => void,
  ): void;
  writeSync(data: Buffer): void;
}

/** A file descriptor, written with `fs.write` (libuv's thread pool), never from the event loop itself. */
export function fdOutput(fd: number): LogOutput {
  return {
    write: (data, offset, done) => fsWrite(fd, data, offset, data.length - offset, null, done),
    writeSync: (data) => {
      for (let offset = 0; offset < data.length; ) offset += writeSync(fd, data, offset);
    },
  };
}

export interface SinkOptions {
  /** Queued text past which new lines are dropped (counted, and reported once the output catches up). */
  readonly maxPendingChars?: number;
  /** A batch is written at once past this size (64 Ki characters)... */
  readonly batchChars?: number;
  /** ...else this long after its first line (10 ms). */
  readonly flushMs?: number;
}

/**
 * A sink that never blocks the event loop and never grows without bound. Node writes stdout
 * synchronously when it is a file or a TTY (every request would wait for the disk or the terminal)
 * and, when it is a pipe (as in the container), asynchronously but with an unbounded buffer: a log
 * reader that falls behind would grow the proxy's memory until the container's limit kills it. Here
 * lines are gathered for `flushMs` or up to `batchChars` (at 10 000 requests per second, about 130
 * writes of 64 KiB per second rather than one per request or per event-loop turn: a write costs the
 * same few microseconds whatever its size), one asynchronous write is under way at a time, and past
 * `maxPendingChars` (4 Mi characters) new lines are dropped and counted, and a `log lines dropped`
 * warning says how many once the output catches up.
 */
export function stdoutSink(output: LogOutput = fdOutput(1), options: SinkOptions = {}): LogSink {
  const maxPending = options.maxPendingChars ?? 4 * 1024 * 1024;
  const batchChars = options.batchChars ?? 65536;
  const flushMs = options.flushMs ?? 10;
  let batch = '';
  let timer: NodeJS.Timeout | undefined;
  let writing = false;
  let dropped = 0;
  let broken = false;
  let idle: (() => void)[] = [];

  const settle = () => {
    if (writing || batch !== '') return;
    const waiting = idle;
    idle = [];
    for (const resolve of waiting) resolve();
  };
  const writeFrom = (data: Buffer, offset: number) => {
    output.write(data, offset, (err, written) => {
      if (err) {
        if (err.code === 'EAGAIN') {
          // A non-blocking descriptor that is full: try again shortly.
          setTimeout(() => writeFrom(data, offset), 10).unref();
          return;
        }
        // stdout is gone (EPIPE): nothing left to tell, and nothing to keep.
        broken = true;
        batch = '';
        writing = false;
        settle();
        return;
      }
      if (offset + written < data.length) {
        writeFrom(data, offset + written);
        return;
      }
      writing = false;
      // At once when full, or when someone waits for the flush (the proxy is stopping).
      if (batch.length >= batchChars || (batch !== '' && idle.length > 0)) start();
      else if (batch !== '') schedule();
      else settle();
    });
  };
  const schedule = () => {
    timer ??= setTimeout(start, flushMs);
  };
  const start = () => {
    if (timer !== undefined) {
      clearTimeout(timer);
      timer = undefined;
    }
    if (writing || batch === '' || broken) return;
    if (dropped > 0) {
      batch += `${JSON.stringify({ level: 'warn', msg: 'log lines dropped', time: new Date().toISOString(), dropped })}\n`;
      dropped = 0;
    }
    const data = Buffer.from(batch, 'utf8');
    batch = '';
    writing = true;
    writeFrom(data, 0);
  };

  return {
    line(text) {
      if (broken) return;
      if (batch.length >= maxPending) {
        dropped++;
        return;
      }
      batch += `${text}\n`;
      if (writing) return; // written after the write under way
      if (batch.length >= batchChars) start();
      else schedule();
    },
    flush() {
      if (!writing && batch === '') return Promise.resolve();
      if (!writing) start();
      return new Promise((resolve) => idle.push(resolve));
    },
    flushSync() {
      if (batch === '' || broken) return;
      const out = batch;
      batch = '';
      try {
        output.writeSync(Buffer.from(out, 'utf8'));
      } catch {
        // stdout is gone: nothing left to tell
      }
    },
  };
}

export function jsonLogger(sink: LogSink): Logger {
  return {
    log(level, msg, fields = {}) {
      sink.line(JSON.stringify({ level, msg, time: new Date().toISOString(), ...fields }));
    },
  };
}
