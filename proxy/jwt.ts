/**
 * Verified JWT identities: the token's signature is checked against the route's JWKS (fetched and cached
 * by jose, refreshed on an unknown key id), with the issuer and audience when configured. A token that
 * does not verify, or a JWKS that cannot be fetched in time, gives no identity: the request is anonymous.
 */
import { createRemoteJWKSet, jwtVerify } from 'jose';
import type { JwtIdentity } from '../lib/config/types';
import { validUserId } from '../lib/proxy/identity';

/** Asymmetric algorithms only: a JWKS publishes public keys. */
const ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];

type KeySet = ReturnType<typeof createRemoteJWKSet>;

export class JwtVerifier {
  private readonly sets = new Map<string, KeySet>();

  constructor(private readonly timeoutMs = 2000) {}

  private keySet(url: string): KeySet {
    let set = this.sets.get(url);
    if (!set) {
      set = createRemoteJWKSet(new URL(url), {
        timeoutDuration: this.timeoutMs,
        cooldownDuration: 30_000,
        cacheMaxAge: 600_000,
      });
      this.sets.set(url, set);
    }
    return set;
  }

  /** Fetches the key sets once at start, so that the first requests do not wait for them. */
  async warm(urls: readonly string[]): Promise<void> {
    await Promise.all(
      urls.map((url) =>
        this.keySet(url)
          .reload()
          .catch(() => undefined),
      ),
    );
  }

  /** The verified claim of `token` as a user id, or undefined. Never rejects. */
  async claim(identity: JwtIdentity, token: string): Promise<string | undefined> {
    const jwks = identity.jwks;
    if (!jwks) return undefined;
    try {
      const { payload } = await jwtVerify(token, this.keySet(jwks.url), {
        algorithms: ALGORITHMS,
        clockTolerance: 30,
        ...(jwks.issuer !== undefined ? { issuer: jwks.issuer } : {}),
        ...(jwks.audience !== undefined ? { audience: jwks.audience } : {}),
      });
      return validUserId(payload[identity.claim]);
    } catch {
      return undefined;
    }
  }
}
