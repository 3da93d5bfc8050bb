/**
 * Does user X go to the new service? The one evaluator; PHP and Go implement the same rules and prove it
 * against lib/flags/vectors.json (see docs/flag-contract.md).
 */
import type { RoutingDocument } from './documents';

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
const encoder = new TextEncoder();

/** 32-bit FNV-1a over the UTF-8 bytes of `text` (Go: hash/fnv New32a; PHP: hash('fnv1a32', ...)). */
export function fnv1a32(text: string): number {
  let hash = FNV_OFFSET;
  // ASCII fast path; user ids are ASCII by contract, service names too.
  let ascii = true;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c > 0x7f) {
      ascii = false;
      break;
    }
    hash = Math.imul(hash ^ c, FNV_PRIME);
  }
  if (ascii) return hash >>> 0;
  hash = FNV_OFFSET;
  for (const byte of encoder.encode(text)) hash = Math.imul(hash ^ byte, FNV_PRIME);
  return hash >>> 0;
}

/**
 * The user's sticky bucket, 0-99: FNV-1a-32 of the UTF-8 bytes of `<service>:<userId>`, modulo 100.
 * A user is in at `percent` when bucket < percent, so a user in at 10 stays in at 20. The service
 * name in the key gives each service an independent sample.
 */
export function bucketOf(service: string, userId: string): number {
  return fnv1a32(`${service}:${userId}`) % 100;
}

/** Whether requests of `userId` for `service` go to the new service under `doc`. */
export function routesToService(doc: RoutingDocument, service: string, userId: string): boolean {
  switch (doc.mode) {
    case 'off':
      return false;
    case 'all':
      return true;
    case 'users':
      return doc.users.includes(userId);
    case 'percent':
      return doc.users.includes(userId) || bucketOf(service, userId) < doc.percent;
  }
}
