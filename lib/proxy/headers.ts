/**
 * The headers a proxy hop changes (RFC 9110 section 7.6.1): hop-by-hop headers are dropped, the
 * forwarding headers are added, everything else is passed as received (raw names, duplicates and order
 * kept). Pure.
 */

import { HOP_BY_HOP_HEADERS } from '../formats';

const HOP_BY_HOP = new Set(HOP_BY_HOP_HEADERS);

/** For an upgrade tunnel, the handshake needs these two as sent. */
const UPGRADE_KEEP = new Set(['connection', 'upgrade']);

/** The header names a Connection header lists (they are hop-by-hop too). */
function connectionTokens(raw: readonly string[]): Set<string> | undefined {
  let tokens: Set<string> | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i].length !== 10 || raw[i].toLowerCase() !== 'connection') continue;
    for (const t of raw[i + 1].split(',')) {
      const name = t.trim().toLowerCase();
      if (name === '' || name === 'close' || name === 'keep-alive' || name === 'upgrade') continue;
      tokens ??= new Set();
      tokens.add(name);
    }
  }
  return tokens;
}

export interface ForwardOptions {
  /** The address of the peer (the ALB node), appended to X-Forwarded-For. */
  readonly peer: string | undefined;
  /** Replaces Host (a service behind Service Connect is addressed by its own name); absent: Host as sent. */
  readonly host?: string;
  /** An upgrade handshake: keep Connection and Upgrade. */
  readonly upgrade?: boolean;
}

/**
 * The request headers to send upstream, as a flat [name, value, ...] list. X-Forwarded-For gets the
 * peer appended (every hop records its peer, as the ALB does); X-Forwarded-Proto and X-Forwarded-Host
 * are set only when absent (the ALB sets the protocol; the client's Host is kept for the monolith).
 */
export function forwardHeaders(raw: readonly string[], options: ForwardOptions): string[] {
  const out: string[] = [];
  const listed = connectionTokens(raw);
  let xff: string | undefined;
  let proto = false;
  let forwardedHost = false;
  let host: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i];
    const lower = name.toLowerCase();
    if ((HOP_BY_HOP.has(lower) && !(options.upgrade && UPGRADE_KEEP.has(lower))) || listed?.has(lower))
      continue;
    const value = raw[i + 1];
    switch (lower) {
      case 'x-forwarded-for':
        xff = xff === undefined ? value : `${xff}, ${value}`;
        continue;
      case 'x-forwarded-proto':
        proto = true;
        break;
      case 'x-forwarded-host':
        forwardedHost = true;
        break;
      case 'host':
        host ??= value;
        if (options.host !== undefined) continue;
        break;
    }
    out.push(name, value);
  }
  const forwardedFor =
    options.peer === undefined ? xff : xff === undefined ? options.peer : `${xff}, ${options.peer}`;
  if (forwardedFor !== undefined) out.push('x-forwarded-for', forwardedFor);
  if (!proto) out.push('x-forwarded-proto', 'http');
  if (!forwardedHost && host !== undefined) out.push('x-forwarded-host', host);
  if (options.host !== undefined) out.push('host', options.host);
  return out;
}

/** A header name or value as a string (undici hands a response's raw headers over as latin1 bytes). */
function text(value: Buffer | string): string {
  return typeof value === 'string' ? value : value.toString('latin1');
}

/**
 * The response headers to send back, as a flat [name, value, ...] list for `writeHead`: the upstream's
 * raw headers (names as sent, repeated ones such as Set-Cookie kept, in order), without its hop-by-hop
 * headers and those its Connection header lists; `Connection: close` added while the proxy drains.
 * Built from the raw list in one pass because it runs once per response: no header object in between.
 * `upgrade`: the 101 of an upgrade, whose Connection and Upgrade headers the client needs as sent.
 */
export function responseHeaders(
  raw: readonly (Buffer | string)[],
  close: boolean,
  upgrade = false,
): string[] {
  let out: string[] = [];
  let listed: Set<string> | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = text(raw[i]);
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower) && !(upgrade && UPGRADE_KEEP.has(lower))) {
      if (lower === 'connection') {
        const value = text(raw[i + 1]);
        // The usual values list no header: no split.
        if (value !== 'keep-alive' && value !== 'close') listed = connectionListed(value, listed);
      }
      continue;
    }
    out.push(name, text(raw[i + 1]));
  }
  if (listed !== undefined) {
    const kept: string[] = [];
    for (let i = 0; i < out.length; i += 2)
      if (!listed.has(out[i].toLowerCase())) kept.push(out[i], out[i + 1]);
    out = kept;
  }
  if (close) out.push('connection', 'close');
  return out;
}

/** Adds the header names a Connection value lists (not its options: `keep-alive`, `close`, `upgrade`). */
function connectionListed(value: string, listed: Set<string> | undefined): Set<string> | undefined {
  for (const t of value.split(',')) {
    const name = t.trim().toLowerCase();
    if (name === '' || name === 'close' || name === 'keep-alive' || name === 'upgrade') continue;
    listed ??= new Set();
    listed.add(name);
  }
  return listed;
}
