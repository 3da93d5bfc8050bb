/**
 * Structured JSON logs, one object per line, and CloudWatch metrics in Embedded Metric Format (a log
 * line CloudWatch turns into a metric: no API call, no extra permission).
 */
import { METRIC_NAMESPACE } from '../../lib/hooks/contract';

export type Level = 'debug' | 'info' | 'warn' | 'error';

export interface Logger {
  log(level: Level, message: string, fields?: Record<string, unknown>): void;
  metric(name: string, value: number, dimensions: Record<string, string>): void;
}

export function jsonLogger(
  hook: string,
  write: (line: string) => void = (line) => console.log(line),
): Logger {
  return {
    log(level, message, fields = {}) {
      write(JSON.stringify({ level, hook, message, ...fields, timestamp: new Date().toISOString() }));
    },
    metric(name, value, dimensions) {
      write(
        JSON.stringify({
          _aws: {
            Timestamp: Date.now(),
            CloudWatchMetrics: [
              {
                Namespace: METRIC_NAMESPACE,
                Dimensions: [Object.keys(dimensions)],
                Metrics: [{ Name: name, Unit: 'Count' }],
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
