/**
 * Structured JSON logs, one object per line, and CloudWatch metrics in Embedded Metric Format (a log
 * line CloudWatch turns into a metric: no API call, no extra permission).
 *
 * The hooks run with Lambda's JSON log format, whose runtime wraps everything written through `console`
 * in its own JSON object (`{"timestamp","level","requestId","message":"..."}`): CloudWatch would no
 * longer see an EMF document, and every hook metric (and the alarms on it) would stay empty. So log
 * lines go through `console` at their level (Lambda adds the request id and filters by the function's
 * log level), and EMF lines are written to stdout directly, unwrapped, as the EMF libraries do.
 */
import { METRIC_NAMESPACE } from '../../lib/hooks/contract';

export type Level = 'debug' | 'info' | 'warn' | 'error';

export interface Logger {
  log(level: Level, message: string, fields?: Record<string, unknown>): void;
  /** One metric datapoint; `unit` is a CloudWatch unit (default Count). */
  metric(name: string, value: number, dimensions: Record<string, string>, unit?: string): void;
}

const CONSOLE: Record<Level, (line: string) => void> = {
  debug: (line) => console.debug(line),
  info: (line) => console.info(line),
  warn: (line) => console.warn(line),
  error: (line) => console.error(line),
};

/** An EMF line, past the runtime's console: one write of the whole line. */
const rawStdout = (line: string) => {
  process.stdout.write(`${line}\n`);
};

/** `write`, when given, receives every line (tests); by default see the file's comment. */
export function jsonLogger(hook: string, write?: (line: string) => void): Logger {
  const logLine = (level: Level, line: string) => (write ?? CONSOLE[level])(line);
  const metricLine = write ?? rawStdout;
  return {
    log(level, message, fields = {}) {
      logLine(
        level,
        JSON.stringify({ level, hook, message, ...fields, timestamp: new Date().toISOString() }),
      );
    },
    metric(name, value, dimensions, unit = 'Count') {
      metricLine(
        JSON.stringify({
          _aws: {
            Timestamp: Date.now(),
            CloudWatchMetrics: [
              {
                Namespace: METRIC_NAMESPACE,
                Dimensions: [Object.keys(dimensions)],
                Metrics: [{ Name: name, Unit: unit }],
              },
            ],
          },
          ...dimensions,
          [name]: value,
        }),
      );
    },
  };
}
