/**
 * The embedded default environment `demo`: environment-agnostic (no account or region), creates its own
 * VPC and databases, and synthesizes with no AWS credentials. It goes through the same parser as a JSON
 * file, so it gets the same defaults and validation.
 *
 * The images are public stand-ins that answer 200 on `/`, so that a deploy of the demo comes up healthy;
 * a real environment file names the monolith's and the extracted services' own images.
 */
export const DEMO_CONFIG_INPUT = {
  name: 'demo',
  vpc: { mode: 'create', cidr: '10.20.0.0/16', maxAzs: 2, natGateways: 1 },
  alb: {},
  legacy: {
    image: 'public.ecr.aws/nginx/nginx:1.27-alpine',
    port: 80,
    healthCheckPath: '/',
    cpu: 512,
    memoryMiB: 1024,
    minCount: 2,
    maxCount: 6,
    environment: { APP_ENV: 'demo' },
    database: {
      mode: 'create',
      engine: 'postgres',
      engineVersion: '17.9',
      instanceClass: 't4g.medium',
      allocatedStorageGiB: 50,
      multiAz: true,
      backupRetentionDays: 7,
      databaseName: 'monolith',
    },
  },
  notifications: { emails: [] },
  services: [
    {
      name: 'users',
      phase: 3,
      image: 'public.ecr.aws/nginx/nginx:1.27-alpine',
      port: 80,
      healthCheckPath: '/',
      cpu: 256,
      memoryMiB: 512,
      minCount: 2,
      maxCount: 4,
      database: { engine: 'postgres', engineVersion: '17.9', instanceClass: 't4g.medium', multiAz: true },
      // How the routing proxy recognises the user of each route (docs/routing-proxy.md). The demo's
      // monolith logs users in with their id as username and puts it in its tokens' sub, so the three
      // places carry the same string (otherwise one person could be split; the synth would warn).
      identitiesAgree: true,
      routes: [
        {
          path: '/api/login',
          methods: ['POST'],
          servicePath: '/v1/auth/login',
          identity: { source: 'body', field: 'username' },
        },
        {
          path: '/api/logout',
          methods: ['POST'],
          servicePath: '/v1/auth/logout',
          identity: { source: 'jwt', claim: 'sub' },
        },
        // A sign-up has no user yet: it stays on the monolith until routing is "all" (said explicitly).
        { path: '/api/users', methods: ['POST'], servicePath: '/v1/users', anonymous: 'legacy' },
        {
          path: '/api/users/{id}',
          methods: ['GET', 'PUT', 'DELETE'],
          servicePath: '/v1/users/{id}',
          identity: { source: 'path', name: 'id' },
        },
        {
          path: '/api/users/{id}/password',
          methods: ['PUT'],
          servicePath: '/v1/users/{id}/password',
          identity: { source: 'path', name: 'id' },
        },
      ],
      // The old mobile app's profile document, once answered by the monolith alone: the user now from the
      // users service (its new field name renamed back), the recent orders still from the monolith,
      // fetched through the routing proxy; joined by the gateway at phase 3 (docs/gateway-composition.md).
      composites: [
        {
          path: '/api/users/{id}/profile',
          parts: [
            {
              from: 'users',
              path: '/v1/users/{id}',
              allow: ['id', 'displayName', 'email'],
              mapping: { displayName: 'name' },
            },
            { from: 'legacy', path: '/api/users/{id}/orders', collection: 'orders' },
          ],
        },
      ],
      bulkMigration: {
        command: ['/app/users-service', 'migrate', '--bulk'],
        verify: ['/app/users-service', 'migrate', '--verify'],
        timeoutMinutes: 120,
      },
      // Its writes reach the legacy users table until the cutover (docs/data-contract.md). The demo writes
      // back with the legacy master secret (the synth warns); an environment names a limited user.
      writeBack: {
        tables: {
          users: {
            key: ['id'],
            columns: ['email', 'password_hash', 'display_name', 'updated_at'],
            versionColumn: 'updated_at',
          },
        },
      },
    },
  ],
} as const;
