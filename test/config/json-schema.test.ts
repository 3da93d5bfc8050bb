import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import { environmentJsonSchema, JSON_SCHEMA_PATH } from '../../lib/config/json-schema';
import { parseConfig } from '../../lib/environment/parse';
import { demoInput, jwtIdentity } from '../helpers/config-input';

// biome-ignore lint/suspicious/noExplicitAny: raw JSON documents, some of them invalid on purpose
type Loose = any;

const ROOT = join(__dirname, '..', '..');
const committed = JSON.parse(readFileSync(join(ROOT, JSON_SCHEMA_PATH), 'utf8'));
const validate = new Ajv2020({ allErrors: true, strict: true }).compile(committed);

const variant = (mutate: (c: Loose) => void): Loose => {
  const c = demoInput();
  mutate(c);
  return c;
};
const envFiles = readdirSync(join(ROOT, 'envs')).filter((f) => f.endsWith('.json'));
const envFile = (name: string): Loose => JSON.parse(readFileSync(join(ROOT, 'envs', name), 'utf8'));

/** Problem paths of the parser (`services[0].cpu`), and the JSON Schema's errors as paths in the same form. */
function parserPaths(doc: unknown): string[] {
  const result = parseConfig(doc);
  return result.ok ? [] : result.problems.map((p) => p.path);
}
function schemaPaths(doc: unknown): string[] {
  if (validate(doc)) return [];
  return (validate.errors ?? []).map((e) => {
    const extra = e.keyword === 'additionalProperties' ? `/${e.params.additionalProperty}` : '';
    const path = `${e.instancePath}${extra}`
      .split('/')
      .slice(1)
      .map((part) => (/^\d+$/.test(part) ? `[${part}]` : `.${part}`))
      .join('');
    return path.startsWith('.') ? path.slice(1) : path || '(root)';
  });
}

describe('the published JSON Schema of environment files', () => {
  it(`is up to date in ${JSON_SCHEMA_PATH} (run npm run schema after a change of lib/config/schema/)`, () => {
    expect(committed).toEqual(environmentJsonSchema());
  });

  it.each(envFiles)('is named by envs/%s, which it and the parser accept', (file) => {
    const doc = envFile(file);
    expect(doc.$schema).toBe(`../${JSON_SCHEMA_PATH}`);
    expect(schemaPaths(doc)).toEqual([]);
    expect(parserPaths(doc)).toEqual([]);
  });
});

describe('the JSON Schema and the parser agree', () => {
  const marker = { runId: 'users-cutover-20261126T100000', completedAt: '2026-11-26T10:00:00.123Z' };
  const valid: [string, Loose][] = [
    ['the embedded demo', demoInput()],
    ['the minimal document', { name: 'tiny', legacy: { image: 'nginx:1.27' } }],
    ['in-app routing', variant((c) => (c.routing = { mode: 'in-app' }))],
    [
      'every proxy key',
      variant((c) => (c.routing = { mode: 'proxy', proxy: { port: 9090, drainSeconds: 60 } })),
    ],
    [
      'an imported VPC',
      variant((c) =>
        Object.assign(c, {
          account: '123456789012',
          region: 'eu-west-1',
          vpc: { mode: 'import', vpcId: 'vpc-0123456789abcdef0' },
        }),
      ),
    ],
    [
      'every identity source',
      variant((c) => {
        const routes = c.services[0].routes;
        routes[0].identity = { source: 'body', field: 'user.email', maxBytes: 4096 };
        routes[1].identity = { source: 'cookie', name: 'uid' };
        routes[2].identity = { source: 'header', name: 'X-User-Id' };
        routes[2].anonymous = 'service';
        routes[4].identity = jwtIdentity();
      }),
    ],
    ['a recorded cutover', variant((c) => (c.services[0].cutoverRecorded = marker))],
    [
      'tags, variables and secrets',
      variant((c) => {
        c.tags = { team: 'platform', 'cost:center': '42' };
        c.legacy.secrets = {
          API_KEY: {
            secretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:app/key-AbCdEf',
            field: 'key',
          },
        };
      }),
    ],
  ];

  it.each(valid)('both accept %s', (_name, doc) => {
    expect(schemaPaths(doc)).toEqual([]);
    expect(parserPaths(doc)).toEqual([]);
  });

  // Each one is refused by both, and the JSON Schema names the value the parser names.
  const invalid: [string, Loose, string][] = [
    ['a document that is not an object', [], '(root)'],
    ['a missing name', variant((c) => delete c.name), '(root)'],
    ['a name with capitals', variant((c) => (c.name = 'Demo')), 'name'],
    ['an unknown key', variant((c) => (c.legacy.memory = 1024)), 'legacy.memory'],
    ['a desired count', variant((c) => (c.services[0].desiredCount = 2)), 'services[0].desiredCount'],
    ['a Fargate cpu that does not exist', variant((c) => (c.legacy.cpu = 300)), 'legacy.cpu'],
    ['a fractional port', variant((c) => (c.legacy.port = 80.5)), 'legacy.port'],
    ['a port out of range', variant((c) => (c.legacy.port = 70000)), 'legacy.port'],
    ['a string for a number', variant((c) => (c.gateway = { timeoutMs: '3000' })), 'gateway.timeoutMs'],
    ['phase 4', variant((c) => (c.services[0].phase = 4)), 'services[0].phase'],
    [
      'a wildcard route',
      variant((c) => (c.services[0].routes[0].path = '/api/*')),
      'services[0].routes[0].path',
    ],
    [
      'a HEAD route',
      variant((c) => (c.services[0].routes[3].methods = ['GET', 'HEAD'])),
      'services[0].routes[3].methods[1]',
    ],
    [
      'a method listed twice',
      variant((c) => (c.services[0].routes[0].methods = ['POST', 'POST'])),
      'services[0].routes[0].methods',
    ],
    ['no methods', variant((c) => (c.services[0].routes[0].methods = [])), 'services[0].routes[0].methods'],
    [
      'an unknown identity source',
      variant((c) => (c.services[0].routes[3].identity = { source: 'ip' })),
      'services[0].routes[3].identity',
    ],
    [
      'a key of another identity source',
      variant((c) => (c.services[0].routes[3].identity = { source: 'cookie', name: 'uid', claim: 'sub' })),
      'services[0].routes[3].identity',
    ],
    [
      'the Authorization header',
      variant((c) => (c.services[0].routes[3].identity = { source: 'header', name: 'authorization' })),
      'services[0].routes[3].identity.name',
    ],
    [
      'a reserved variable',
      variant((c) => (c.legacy.environment = { DB_HOST: 'x' })),
      'legacy.environment.DB_HOST',
    ],
    ['a reserved tag', variant((c) => (c.tags = { 'aws:team': 'x' })), 'tags.aws:team'],
    ['a reserved service name', variant((c) => (c.services[0].name = 'gateway')), 'services[0].name'],
    [
      'a log retention CloudWatch does not offer',
      variant((c) => (c.legacy.logRetentionDays = 10)),
      'legacy.logRetentionDays',
    ],
    [
      'create-only keys on an imported VPC',
      variant((c) => (c.vpc = { mode: 'import', vpcId: 'vpc-0123456789abcdef0', maxAzs: 2 })),
      'vpc',
    ],
    [
      'proxy keys with in-app routing',
      variant((c) => (c.routing = { mode: 'in-app', proxy: { port: 9000 } })),
      'routing',
    ],
    [
      'an imported database of the services',
      variant((c) => (c.services[0].database.mode = 'import')),
      'services[0].database.mode',
    ],
    [
      'an engine version of neither engine',
      variant((c) => (c.legacy.database.engineVersion = '17')),
      'legacy.database',
    ],
    [
      'a partial secret ARN',
      variant(
        (c) =>
          (c.legacy.secrets = {
            K: { secretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:key' },
          }),
      ),
      'legacy.secrets.K.secretArn',
    ],
  ];

  it.each(invalid)('both refuse %s', (_name, doc, path) => {
    expect(parserPaths(doc)).not.toEqual([]);
    const found = schemaPaths(doc);
    expect(found).not.toEqual([]);
    // A union (vpc, routing, a database, an identity) is refused at the union or inside the option tried.
    expect(
      found.some(
        (p) =>
          p === path ||
          p.startsWith(`${path}.`) ||
          path.startsWith(`${p}.`) ||
          (p === '(root)' && path === '(root)'),
      ),
    ).toBe(true);
  });

  // Rules across fields: the JSON Schema cannot say them, so an editor accepts these and the parser does
  // not. When the schema learns one, move it to the list above.
  const parserOnly: [string, Loose][] = [
    ['memory that does not fit the cpu', variant((c) => (c.legacy.memoryMiB = 512))],
    ['minCount above maxCount', variant((c) => Object.assign(c.legacy, { minCount: 5, maxCount: 3 }))],
    ['an image without a pinned tag', variant((c) => (c.legacy.image = 'nginx:latest'))],
    ['a public CIDR', variant((c) => (c.vpc.cidr = '8.8.0.0/16'))],
    ['more NAT gateways than AZs', variant((c) => (c.vpc.natGateways = 3))],
    ['an account without a region', variant((c) => (c.account = '123456789012'))],
    ['the engine version of the other engine', variant((c) => (c.legacy.database.engineVersion = '8.4.9'))],
    [
      'a service placeholder the path lacks',
      variant((c) => (c.services[0].routes[3].servicePath = '/v1/{userId}')),
    ],
    [
      'two services claiming one endpoint',
      variant((c) =>
        c.services.push({
          name: 'accounts',
          image: 'nginx:1.27',
          routes: [{ path: '/api/users/{x}', methods: ['GET'], servicePath: '/x' }],
        }),
      ),
    ],
    [
      'phase 2 without a bulk command',
      variant((c) => Object.assign(c.services[0], { phase: 2, bulkMigration: { verify: ['/app/verify'] } })),
    ],
    [
      'a recorded cutover at phase 1',
      variant((c) => Object.assign(c.services[0], { phase: 1, cutoverRecorded: marker })),
    ],
    ['the proxy on the port of the monolith', variant((c) => (c.legacy.port = 8800))],
    ['more listener rules than the quota', variant((c) => (c.alb = { ruleQuota: 3 }))],
  ];

  it.each(parserOnly)('only the parser refuses %s', (_name, doc) => {
    expect(schemaPaths(doc)).toEqual([]);
    expect(parserPaths(doc)).toHaveLength(1);
  });
});
