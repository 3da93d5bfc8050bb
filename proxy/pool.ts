/**
 * undici's connection pool, loaded on its own. `import { Pool } from 'undici'` loads the whole package
 * (fetch, WebSocket, EventSource, caches, mocks), about 9 MB more resident memory for code the proxy
 * never runs; the pool's module is the same class (test/proxy/pool.test.ts checks it, so an upgrade
 * that moves it fails there, not in production). undici is pinned (package.json).
 */
import type { Pool as UndiciPool } from 'undici';

// A deep require of the pinned package's module (no declaration of its own), typed by the index's class.
export const Pool: typeof UndiciPool = require('undici/lib/dispatcher/pool');
export type Pool = UndiciPool;
