/**
 * In-memory stand-ins for the playground: a monolith that answers the demo's old endpoints, and a users
 * service that answers the new ones and imports a user from the monolith's data on first touch (the
 * organic import of phase 1). Each answer says who served it (`servedBy`). They hold nothing on disk.
 *
 * The playground needs only `Upstream` of them (a URL and a way to stop): stand-ins backed by real
 * databases (the data write-back tests' PostgreSQL stand-ins) can take their place through
 * `PlaygroundOptions.upstreams` without any other change.
 */

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { listenOnLoopback } from './listen';

/** A running upstream the routing proxy forwards to. */
export interface Upstream {
  readonly url: string;
  close(): Promise<void>;
}

/** Starts the two upstreams of the playground. */
export interface UpstreamFactories {
  readonly monolith: () => Promise<Upstream>;
  readonly users: () => Promise<Upstream>;
}

interface UserRecord {
  id: string;
  name: string;
  email: string;
}

/** The monolith's data: users 1 to 100. */
function seedUsers(): Map<string, UserRecord> {
  const users = new Map<string, UserRecord>();
  for (let i = 1; i <= 100; i++)
    users.set(String(i), { id: String(i), name: `User ${i}`, email: `user${i}@example.com` });
  return users;
}

/** An unsigned JWT with `sub`, as the demo's monolith issues at login (routing reads it, never trusts it). */
function token(sub: string): string {
  const part = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  return `${part({ alg: 'none', typ: 'JWT' })}.${part({ sub })}.`;
}

type Handler = (
  method: string,
  path: string,
  body: Record<string, unknown>,
) => { status: number; body: Record<string, unknown> };

async function serve(name: string, handle: Handler): Promise<Upstream> {
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let body: Record<string, unknown> = {};
      try {
        const parsed = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
        if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) body = parsed;
      } catch {
        // not JSON: an empty body to the handler
      }
      const path = (req.url ?? '/').split('?')[0];
      const answer = handle(req.method ?? 'GET', path, body);
      res.writeHead(answer.status, { 'content-type': 'application/json' });
      res.end(`${JSON.stringify({ servedBy: name, ...answer.body })}\n`);
    });
  });
  return listenOnLoopback(server);
}

/** The account endpoints both sides answer, on their own paths (`/api/...` or `/v1/...`). */
function accountHandler(
  paths: { login: string; logout: string; users: string },
  find: (id: string) => UserRecord | undefined,
  store: Map<string, UserRecord>,
): Handler {
  const userPath = new RegExp(`^${paths.users}/([^/]+)(/password)?$`);
  return (method, path, body) => {
    if (method === 'POST' && path === paths.login) {
      const user = find(String(body.username ?? ''));
      return user
        ? { status: 200, body: { token: token(user.id), user } }
        : { status: 401, body: { error: 'unknown user' } };
    }
    if (method === 'POST' && path === paths.logout) return { status: 200, body: { loggedOut: true } };
    if (method === 'POST' && path === paths.users) {
      const id = String(Math.max(100, ...[...store.keys()].map(Number).filter(Number.isFinite)) + 1);
      const user = { id, name: String(body.name ?? `User ${id}`), email: String(body.email ?? '') };
      store.set(id, user);
      return { status: 201, body: { user } };
    }
    const m = userPath.exec(path);
    if (m) {
      const user = find(decodeURIComponent(m[1]));
      if (!user) return { status: 404, body: { error: 'no such user' } };
      if (m[2]) return { status: method === 'PUT' ? 204 : 405, body: {} };
      if (method === 'GET') return { status: 200, body: { user } };
      if (method === 'PUT') {
        Object.assign(user, typeof body.name === 'string' ? { name: body.name } : {});
        return { status: 200, body: { user } };
      }
      if (method === 'DELETE') {
        store.delete(user.id);
        return { status: 204, body: {} };
      }
    }
    return { status: 404, body: { error: 'no such endpoint', path } };
  };
}

/**
 * The in-memory pair: the monolith owns users 1-100; the users service starts empty and imports a user
 * from the monolith's data the first time it is asked for one (read only, as in phase 1).
 */
export function inMemoryStandIns(): UpstreamFactories {
  const legacy = seedUsers();
  const service = new Map<string, UserRecord>();
  return {
    monolith: () => {
      const account = accountHandler(
        { login: '/api/login', logout: '/api/logout', users: '/api/users' },
        (id) => legacy.get(id),
        legacy,
      );
      return serve('monolith', (method, path, body) =>
        path === '/health' ? { status: 200, body: { healthy: true } } : account(method, path, body),
      );
    },
    users: () =>
      serve(
        'users-service',
        accountHandler(
          { login: '/v1/auth/login', logout: '/v1/auth/logout', users: '/v1/users' },
          (id) => {
            const known = service.get(id);
            if (known) return known;
            const imported = legacy.get(id);
            if (imported) service.set(id, { ...imported });
            return service.get(id);
          },
          service,
        ),
      ),
  };
}
