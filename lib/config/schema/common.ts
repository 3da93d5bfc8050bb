/**
 * Pieces several parts of the environment schema share: secrets, log retention, reserved prefixes.
 */
import { oneOfNumbers, str } from './kit';

const SECRET_ARN =
  /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+-[A-Za-z0-9]{6}$/;

/** Retention values CloudWatch Logs accepts. */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

/** A regex refusing strings that start with one of `prefixes` (a JSON Schema can check it too). */
export function notStartingWith(prefixes: readonly string[]): RegExp {
  return new RegExp(`^(?!${prefixes.map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')})`);
}

export const retention = (fallback: (typeof LOG_RETENTION_DAYS)[number]) =>
  oneOfNumbers(LOG_RETENTION_DAYS).default(fallback);

export const secretArn = str({
  pattern: SECRET_ARN,
  fix: 'use the complete secret ARN, ending in the 6-character suffix, e.g. "arn:aws:secretsmanager:eu-west-1:123456789012:secret:app/key-AbCdEf"',
});
