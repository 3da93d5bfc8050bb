/**
 * Structured JSON logs, one object per line on stdout (the awslogs driver ships them; CloudWatch turns
 * the EMF lines into metrics). Lines are batched per event-loop turn: one write for many requests.
 */
import { writeSync } from 'node:fs';

export interface LogSink {
  /** Queues one line (without its newline). */
  line(text: string): void;
  /** Writes everything queued, synchronously (before exit). */
  flushSync(): void;
}

export type Level = 'info' | 'warn' | 'error';

export interface Logger {
  log(level: Level, msg: string, fields?: Record<string, unknown>): void;
}

/** Queues to a batch written on the next turn of the event loop, or at once past 64 KiB. */
export function stdoutSink(write: (chunk: string) => void = (c) => process.stdout.write(c)): LogSink {
  let batch = '';
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    if (batch === '') return;
    const out = batch;
    batch = '';
    write(out);
  };
  return {
    line(text) {
      batch += `${text}\n`;
      if (batch.length > 65536) flush();
      else if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    },
    flushSync() {
      if (batch === '') return;
      const out = batch;
      batch = '';
      try {
        writeSync(1, out);
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
