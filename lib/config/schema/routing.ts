/**
 * Where the per-user routing of phases 1-2 happens (the routing proxy, or the monolith itself), and the
 * routing proxy's port, size, timeouts, limits and the other spellings of a route it routes.
 */
import { z } from 'zod';
import { bool, int, oneOf, refused, strict, union } from './kit';

/** One spelling the monolith's router may treat as the same path (docs/routing-proxy.md). */
const same = (description: string) =>
  bool()
    .default(true)
    .meta({ description: `${description} (the monolith may serve it as the route; default true).` });

const pathVariants = strict({
  handling: oneOf(['route', 'refuse']).default('route').meta({
    description:
      'What the proxy does with another spelling of a service route: "route" it as the route, or "refuse" it with 400. Never passed to the monolith untouched.',
  }),
  trailingSlash: same('"/api/users/1/" is "/api/users/1"'),
  repeatedSlashes: same('"/api//users/1" is "/api/users/1"'),
  dotSegments: same('"/api/./users/1" and "/api/x/../users/1" are "/api/users/1"'),
  percentEncoding: same('"/api/%75sers/1" is "/api/users/1" (percent-encoded letters, digits, "-._~")'),
  letterCase: same('"/API/Users/1" is "/api/users/1" (literal segments; a placeholder keeps its case)'),
  backslashes: same('"/api\\users\\1" is "/api/users/1"'),
  encodedSlashes: same('"/api%2Fusers/1" is "/api/users/1"'),
})
  .prefault({})
  .meta({
    description:
      "Other spellings of a service route's path that the monolith may serve as the route: they are routed as the route (or refused), never passed to the monolith untouched.",
  });

const proxy = strict({
  port: int({
    min: 1024,
    max: 65535,
    fix: 'use a port from 1024 to 65535 (the proxy runs as a non-root user)',
  })
    .default(8800)
    .meta({
      description: "Port the proxy listens on in the legacy task (the legacy target group's traffic port).",
    }),
  memoryMiB: int({ min: 128, max: 4096 })
    .default(256)
    .meta({ description: "Hard memory limit of the proxy container, taken from the task's memory." }),
  connectTimeoutMs: int({ min: 100, max: 60000, fix: 'use 100 to 60000 milliseconds' })
    .default(3000)
    .meta({ description: 'Connection setup to the monolith or a service, in milliseconds (then 504).' }),
  headersTimeoutMs: int({
    min: 100,
    max: 3600000,
    fix: 'use 100 to 3600000 milliseconds; above the ALB idle timeout (60 s) the ALB gives up first',
  })
    .default(60000)
    .meta({ description: 'Wait for the response headers, in milliseconds (then 504).' }),
  idleTimeoutMs: int({ min: 100, max: 3600000, fix: 'use 100 to 3600000 milliseconds' }).default(60000).meta({
    description:
      "Longest silence while a body streams, from either side, in milliseconds: an upstream's response (then 504), the client's request body (then 408).",
  }),
  drainSeconds: int({
    min: 1,
    max: 110,
    fix: 'use 1 to 110 seconds: ECS stops a container at most 120 s after SIGTERM',
  })
    .default(25)
    .meta({
      description: 'On SIGTERM, how long in-flight requests may finish before the proxy exits, in seconds.',
    }),
  maxHeaderBytes: int({
    min: 8192,
    max: 65536,
    fix: 'use 8192 to 65536 bytes (the ALB accepts at most 64 KB of headers)',
  })
    .default(65536)
    .meta({ description: 'Largest request head (request line and headers), in bytes (then 431).' }),
  maxBodyBytes: int({ min: 1024, max: 1073741824, fix: 'use 1024 bytes to 1 GiB' })
    .default(104857600)
    .meta({ description: 'Largest request body, in bytes (then 413).' }),
  pathVariants,
});

export const routing = union('mode', [
  strict({ mode: z.literal('proxy').default('proxy'), proxy: proxy.prefault({}) }).meta({
    description:
      'The routing proxy: a second container in the legacy task, in front of the monolith, from phase 0.',
  }),
  strict({
    mode: z.literal('in-app'),
    proxy: refused('only applies when routing.mode is "proxy"; remove it or set mode "proxy"'),
  }).meta({
    description: 'The monolith routes itself, reading the environment and flags of docs/flag-contract.md.',
  }),
])
  .transform((v) => (v.mode === 'proxy' ? { mode: v.mode, proxy: v.proxy } : { mode: v.mode }))
  .prefault({})
  .meta({ description: "Where the per-user routing of phases 1-2 happens, and the routing proxy's limits." });
