/**
 * Formats that the configuration, the flag contract and the routing proxy all check, kept on the ground
 * floor so that none of them imports another for them: the contract's time and run id (a cutover marker
 * in the configuration copies the cutover document's), the headers an HTTP proxy hop owns, and the SQL
 * names of the data contract (the configuration names the legacy tables a service writes back). No imports.
 */

/** A legacy column name: a lowercase SQL identifier. */
export const SQL_IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;
/** A legacy table name: a lowercase SQL identifier, optionally after its schema (`app.users`). */
export const TABLE_NAME = /^[a-z_][a-z0-9_]{0,62}(\.[a-z_][a-z0-9_]{0,62})?$/;

/** A run id: the name of a Step Functions execution of the service's cutover state machine. */
export const RUN_ID = /^[A-Za-z0-9_-]{1,80}$/;

/** `YYYY-MM-DDTHH:MM:SS[.fraction]Z`, a real calendar date and time in UTC. */
const TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?Z$/;

export function isContractTime(text: string): boolean {
  const m = TIME.exec(text);
  if (!m) return false;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number);
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1];
  return (
    year >= 1970 &&
    month >= 1 &&
    month <= 12 &&
    day >= 1 &&
    day <= (days ?? 0) &&
    hour <= 23 &&
    minute <= 59 &&
    second <= 59
  );
}

/**
 * Hop-by-hop headers (RFC 9110 section 7.6.1), plus `expect` (the proxy's own server answered it) and
 * h2c's settings: a proxy hop drops them, so none of them can carry a user's identity.
 */
export const HOP_BY_HOP_HEADERS: readonly string[] = [
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'proxy-authorization',
  'proxy-authenticate',
  'expect',
  'http2-settings',
];
