/**
 * The one hash of the project: a user's sticky bucket (lib/flags/evaluate.ts, docs/decisions/0006) and a
 * service's default listener-rule block (lib/gateway/alb-rules.ts) both come from it. Its values are part
 * of the flag contract: lib/flags/vectors.json pins them for readers in other languages.
 */

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
