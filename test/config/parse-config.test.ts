import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../lib/config/parse';
import { demoConfig, loadConfigFile, selectConfig } from '../../lib/environment/load';
import { parseConfig } from '../../lib/environment/parse';
import { demoInput } from '../helpers/test-app';

// biome-ignore lint/suspicious/noExplicitAny: tests deliberately write invalid values into the document
type Loose = any;

function importedDatabase() {
  return {
    engine: 'mysql',
    endpoint: 'db.example.com',
    securityGroupId: 'sg-0123456789abcdef0',
    secretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-AbCdEf',
    databaseName: 'shop',
  };
}

function problemsOf(mutate: (c: Loose) => void): string[] {
  const input = demoInput();
  mutate(input);
  const result = parseConfig(input);
  if (result.ok) return [];
  return result.problems.map((p) => `${p.path}: ${p.message}`);
}

describe('the embedded demo config', () => {
  it('is valid and environment-agnostic, with users as an extracted service', () => {
    const config = demoConfig();
    expect(config.account).toBeUndefined();
    expect(config.region).toBeUndefined();
    expect(config.vpc).toMatchObject({ mode: 'create', cidr: '10.20.0.0/16' });
    expect(config.services.map((s) => s.name)).toEqual(['users']);
  });

  it('gets the documented defaults', () => {
    const config = demoConfig();
    expect(config.flags).toEqual({
      parameterPrefix: '/demo/migration',
      cacheTtlSeconds: 15,
      tier: 'standard',
      adoptExisting: false,
    });
    expect(config.legacy.cpuTargetPercent).toBe(60);
    expect(config.legacy.logRetentionDays).toBe(30);
    expect(config.alb.certificateArn).toBeUndefined();
    expect(config.alb.deletionProtection).toBe(true);
    expect(config.alb.webAclArn).toBeUndefined();
    expect(config.services[0].gateway).toBe('krakend');
    expect(config.services[0].database.databaseName).toBe('users');
    expect(config.services[0].database.secretRotationDays).toBeUndefined();
  });
});

describe('bad configurations', () => {
  const cases: [string, (c: Loose) => void, RegExp][] = [
    [
      'Fargate cpu',
      (c) => (c.legacy.cpu = 300),
      /^legacy\.cpu: 300 is not allowed; use 256, 512, 1024, 2048, 4096, 8192 or 16384$/,
    ],
    [
      'memory that does not fit the cpu',
      (c) => (c.legacy.memoryMiB = 512),
      /^legacy\.memoryMiB: 512 is not a Fargate size for cpu 512; use 1024, 2048, 3072, 4096$/,
    ],
    [
      'name with capitals',
      (c) => (c.name = 'Demo'),
      /^name: "Demo" is not valid; use 3-22 lowercase letters/,
    ],
    [
      'account without region',
      (c) => (c.account = '123456789012'),
      /^region: set both account and region, or neither$/,
    ],
    [
      'short account id',
      (c) => Object.assign(c, { account: '1234', region: 'eu-west-1' }),
      /^account: "1234" is not valid; use the 12-digit account id$/,
    ],
    [
      'public CIDR',
      (c) => (c.vpc.cidr = '8.8.0.0/16'),
      /^vpc\.cidr: "8\.8\.0\.0\/16" is not valid; use a private IPv4 CIDR/,
    ],
    [
      'CIDR too small for the AZs',
      (c) => Object.assign(c.vpc, { cidr: '10.0.0.0/22', maxAzs: 3 }),
      /^vpc\.cidr: a \/22 holds 1024 addresses but 3 AZs need 4608/,
    ],
    [
      'one AZ',
      (c) => (c.vpc.maxAzs = 1),
      /^vpc\.maxAzs: 1 is out of range; an ALB needs at least 2 availability zones/,
    ],
    [
      'more NAT gateways than AZs',
      (c) => (c.vpc.natGateways = 3),
      /^vpc\.natGateways: 3 is more than maxAzs \(2\); use at most 2$/,
    ],
    [
      'VPC import without an environment',
      (c) => (c.vpc = { mode: 'import', vpcId: 'vpc-0123456789abcdef0' }),
      /^vpc\.vpcId: importing a VPC needs a lookup: set account and region as well$/,
    ],
    [
      'VPC import with create-only keys',
      (c) => Object.assign(c.vpc, { mode: 'import', vpcId: 'vpc-01234567' }),
      /^vpc\.cidr: only applies when vpc\.mode is "create"; remove it$/,
    ],
    [
      'subnets chosen for a VPC the app creates',
      (c) => (c.vpc.subnets = { tasks: { groupName: 'app' } }),
      /^vpc\.subnets: only applies when vpc\.mode is "import" \(a created VPC has the subnet groups public, private and isolated\); remove it$/,
    ],
    [
      'a subnet choice with both a group and ids',
      (c) =>
        Object.assign(c, {
          account: '123456789012',
          region: 'eu-west-1',
          vpc: {
            mode: 'import',
            vpcId: 'vpc-0123456789abcdef0',
            subnets: { tasks: { groupName: 'app', ids: ['subnet-0123456789abcdef0'] } },
          },
        }),
      /^vpc\.subnets\.tasks: set exactly one of groupName or ids$/,
    ],
    [
      'a subnet id that is not one',
      (c) =>
        Object.assign(c, {
          account: '123456789012',
          region: 'eu-west-1',
          vpc: { mode: 'import', vpcId: 'vpc-0123456789abcdef0', subnets: { databases: { ids: ['sn-1'] } } },
        }),
      /^vpc\.subnets\.databases\.ids\[0\]: "sn-1" is not valid; use a subnet id like "subnet-0123456789abcdef0"$/,
    ],
    [
      'a subnet listed twice',
      (c) =>
        Object.assign(c, {
          account: '123456789012',
          region: 'eu-west-1',
          vpc: {
            mode: 'import',
            vpcId: 'vpc-0123456789abcdef0',
            subnets: { loadBalancer: { ids: ['subnet-0123456789abcdef0', 'subnet-0123456789abcdef0'] } },
          },
        }),
      /^vpc\.subnets\.loadBalancer\.ids: lists a subnet twice; list each once$/,
    ],
    [
      'a global (CloudFront) web ACL',
      (c) =>
        (c.alb.webAclArn =
          'arn:aws:wafv2:us-east-1:123456789012:global/webacl/edge/0f4d3e2c-1b2a-4c5d-8e9f-0a1b2c3d4e5f'),
      /^alb\.webAclArn: ".*" is not valid; use the ARN of a regional AWS WAF web ACL, .*\(a load balancer takes no global, CloudFront-scope ACL\)$/,
    ],
    [
      'a web ACL of another region',
      (c) =>
        Object.assign(c, {
          account: '123456789012',
          region: 'eu-west-1',
          alb: {
            webAclArn:
              'arn:aws:wafv2:eu-central-1:123456789012:regional/webacl/edge/0f4d3e2c-1b2a-4c5d-8e9f-0a1b2c3d4e5f',
          },
        }),
      /^alb\.webAclArn: is a web ACL of eu-central-1; a load balancer in eu-west-1 takes a web ACL of its own region$/,
    ],
    [
      'an external monolith with the keys of a hosted one',
      (c) =>
        (c.legacy = {
          mode: 'external',
          image: 'shop:1',
          endpoint: { url: 'http://10.0.12.7:8080' },
          database: { mode: 'import', ...importedDatabase() },
        }),
      /^legacy\.image: the app runs no monolith container when legacy\.mode is "external" \(its image\); remove it, or set mode "hosted"$/,
    ],
    [
      'an external monolith whose database the app would create',
      (c) => (c.legacy = { mode: 'external', endpoint: { url: 'http://10.0.12.7:8080' } }),
      /^legacy\.database\.mode: a monolith that runs elsewhere has its database already; import it/,
    ],
    [
      'an external monolith address with a path',
      (c) =>
        (c.legacy = {
          mode: 'external',
          endpoint: { url: 'https://shop.internal/app' },
          database: { mode: 'import', ...importedDatabase() },
        }),
      /^legacy\.endpoint\.url: "https:\/\/shop\.internal\/app" is not valid; use the address the monolith answers on inside the network/,
    ],
    [
      'a server name for plain http',
      (c) =>
        (c.legacy = {
          mode: 'external',
          endpoint: { url: 'http://10.0.12.7:8080', serverName: 'www.example.com' },
          database: { mode: 'import', ...importedDatabase() },
        }),
      /^legacy\.endpoint\.serverName: only applies to an https url; remove it, or use https$/,
    ],
    [
      'an external monolith that would route itself',
      (c) => {
        c.legacy = {
          mode: 'external',
          endpoint: { url: 'http://10.0.12.7:8080' },
          database: { mode: 'import', ...importedDatabase() },
        };
        c.routing = { mode: 'in-app' };
      },
      /^routing\.mode: is "in-app", but legacy\.mode "external" runs no monolith of the app that could route itself/,
    ],
    [
      'a database variable the environment sets too',
      (c) => {
        c.legacy.databaseVariables = { host: 'DATABASE_HOST' };
        c.legacy.environment = { DATABASE_HOST: 'x' };
      },
      /^legacy\.environment\.DATABASE_HOST: is also databaseVariables\.host, which the app sets; rename one of them$/,
    ],
    [
      'two database variables of one name',
      (c) => (c.legacy.databaseVariables = { username: 'DB_USER', password: 'DB_USER' }),
      /^legacy\.databaseVariables\.password: "DB_USER" is also username; give each a name of its own$/,
    ],
    [
      'a DNS name outside its zone',
      (c) =>
        (c.dns = {
          hostedZoneId: 'Z0123456789ABCDEFGHIJ',
          zoneName: 'example.com',
          recordName: 'www.example.org',
        }),
      /^dns\.recordName: "www\.example\.org" is not in the zone example\.com; use a name that ends in \.example\.com$/,
    ],
    [
      "an alias record on the clients' name",
      (c) =>
        (c.dns = {
          hostedZoneId: 'Z0123456789ABCDEFGHIJ',
          zoneName: 'example.com',
          recordName: 'www.example.com',
          aliasName: 'www.example.com',
        }),
      /^dns\.aliasName: is recordName: a record in the template would take the name from the monolith in one deploy/,
    ],
    [
      'certificate that is not an ACM ARN',
      (c) => (c.alb.certificateArn = 'my-cert'),
      /^alb\.certificateArn: "my-cert" is not valid; use an ACM certificate ARN/,
    ],
    [
      'image without a tag',
      (c) => (c.legacy.image = 'nginx'),
      /^legacy\.image: "nginx" has no pinned tag; use an immutable tag or digest/,
    ],
    [
      'image tagged latest',
      (c) => (c.legacy.image = 'nginx:latest'),
      /^legacy\.image: "nginx:latest" has no pinned tag/,
    ],
    [
      'min above max',
      (c) => Object.assign(c.legacy, { minCount: 5, maxCount: 3 }),
      /^legacy\.minCount: 5 is above maxCount \(3\); use minCount <= maxCount$/,
    ],
    [
      'a desired count',
      (c) => (c.legacy.desiredCount = 2),
      /^legacy\.desiredCount: autoscaling owns the task count so a deploy never resets it; set minCount and maxCount instead$/,
    ],
    [
      'port out of range',
      (c) => (c.legacy.port = 70000),
      /^legacy\.port: 70000 is out of range; use a whole number from 1 to 65535$/,
    ],
    [
      'health check path without slash',
      (c) => (c.legacy.healthCheckPath = 'health'),
      /^legacy\.healthCheckPath: "health" is not valid; use an absolute path such as "\/health"$/,
    ],
    [
      'reserved environment variable',
      (c) => (c.legacy.environment = { DB_HOST: 'x' }),
      /^legacy\.environment\.DB_HOST: names starting with DB_ are set by this app; rename the variable$/,
    ],
    [
      'lowercase environment variable',
      (c) => (c.legacy.environment = { debug: '1' }),
      /^legacy\.environment\.debug: invalid name; use UPPER_SNAKE_CASE$/,
    ],
    [
      'secret with a partial ARN',
      (c) =>
        (c.legacy.secrets = {
          API_KEY: { secretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:key' },
        }),
      /^legacy\.secrets\.API_KEY\.secretArn: .* is not valid; use the complete secret ARN/,
    ],
    [
      'unknown engine',
      (c) => (c.legacy.database.engine = 'oracle'),
      /^legacy\.database\.engine: "oracle" is not allowed; use "postgres" or "mysql"$/,
    ],
    [
      'engine version of the other engine',
      (c) => (c.legacy.database.engineVersion = '8.4.9'),
      /^legacy\.database\.engineVersion: "8\.4\.9" is not valid; use a full Postgres version such as "17\.9"$/,
    ],
    [
      'backup retention too long',
      (c) => (c.legacy.database.backupRetentionDays = 40),
      /^legacy\.database\.backupRetentionDays: 40 is out of range; use a whole number from 1 to 35$/,
    ],
    [
      'storage ceiling below storage',
      (c) => (c.legacy.database.maxAllocatedStorageGiB = 30),
      /^legacy\.database\.maxAllocatedStorageGiB: 30 is below allocatedStorageGiB \(50\); raise it$/,
    ],
    [
      'imported database without a security group',
      (c) =>
        (c.legacy.database = {
          mode: 'import',
          engine: 'mysql',
          endpoint: 'db.example.com',
          secretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-AbCdEf',
          databaseName: 'shop',
        }),
      /^legacy\.database\.securityGroupId: expected a string \(use an id like "sg-0123456789abcdef0"\), got missing$/,
    ],
    [
      'typo in a key',
      (c) => (c.legacy.memory = 1024),
      /^legacy\.memory: unknown key; expected one of image, port, /,
    ],
    [
      'service name with a hyphen',
      (c) => (c.services[0].name = 'user-svc'),
      /^services\[0\]\.name: "user-svc" is not valid; use 2-16 lowercase letters or digits/,
    ],
    [
      'duplicate service names',
      (c) => c.services.push({ ...c.services[0], routes: [] }),
      /^services\[1\]\.name: "users" is also services\[0\]\.name; names must be unique$/,
    ],
    [
      'phase 4',
      (c) => (c.services[0].phase = 4),
      /^services\[0\]\.phase: 4 is not allowed; use 0, 1, 2 or 3$/,
    ],
    [
      'route placeholder the path lacks',
      (c) => (c.services[0].routes[3].servicePath = '/v1/users/{userId}'),
      /^services\[0\]\.routes\[3\]\.servicePath: uses \{userId\}, which path "\/api\/users\/\{id\}" does not define; use \{id\}$/,
    ],
    [
      'wildcard route',
      (c) => (c.services[0].routes[0].path = '/api/*'),
      /^services\[0\]\.routes\[0\]\.path: "\/api\/\*" is not valid; .*wildcards are not allowed$/,
    ],
    [
      'unknown method',
      (c) => (c.services[0].routes[0].methods = ['FETCH']),
      /^services\[0\]\.routes\[0\]\.methods\[0\]: "FETCH" is not allowed; use "GET", /,
    ],
    [
      'phase 2 without a verification',
      (c) => Object.assign(c.services[0].bulkMigration, { verify: [] }),
      /^services\[0\]\.bulkMigration\.verify: required from phase 2; set the command that proves both databases agree/,
    ],
    [
      'a write-back to a MySQL legacy database',
      (c) => Object.assign(c.legacy.database, { engine: 'mysql', engineVersion: '8.4.9' }),
      /^services\[0\]\.writeBack: the write-back supports PostgreSQL databases only, and the legacy database \(legacy\.database\.engine\) is MySQL; remove writeBack/,
    ],
    [
      'a write-back of a key column',
      (c) => c.services[0].writeBack.tables.users.columns.push('id'),
      /^services\[0\]\.writeBack\.tables\.users\.columns\[4\]: "id" is in the key; list the key columns only in key$/,
    ],
    [
      'a version column it does not write',
      (c) => (c.services[0].writeBack.tables.users.versionColumn = 'modified_at'),
      /^services\[0\]\.writeBack\.tables\.users\.versionColumn: "modified_at" is not one of columns/,
    ],
    [
      'a write-back table that is no SQL name',
      (c) => (c.services[0].writeBack.tables = { 'Users Table': { key: ['id'], columns: ['email'] } }),
      /^services\[0\]\.writeBack\.tables\.Users Table: invalid name; use the lowercase legacy table name/,
    ],
    [
      'a write-back of nothing',
      (c) => (c.services[0].writeBack.tables = {}),
      /^services\[0\]\.writeBack\.tables: list at least one legacy table/,
    ],
    [
      'phase 2 without a bulk command',
      (c) => Object.assign(c.services[0], { phase: 2, bulkMigration: {} }),
      /^services\[0\]\.bulkMigration\.command: required from phase 2/,
    ],
    [
      'flag prefix without a slash',
      (c) => (c.flags = { parameterPrefix: 'demo/flags' }),
      /^flags\.parameterPrefix: "demo\/flags" is not valid; use an absolute SSM path/,
    ],
    [
      'flag cache TTL too low',
      (c) => (c.flags = { cacheTtlSeconds: 1 }),
      /^flags\.cacheTtlSeconds: 1 is out of range; use 5 to 300 seconds: lower risks SSM throttling/,
    ],
    [
      'bad e-mail',
      (c) => (c.notifications.emails = ['ops']),
      /^notifications\.emails\[0\]: "ops" is not valid; use an e-mail address$/,
    ],
    [
      'log retention CloudWatch does not offer',
      (c) => (c.legacy.logRetentionDays = 10),
      /^legacy\.logRetentionDays: 10 is not allowed; use 1, 3, 5, 7, 14, 30/,
    ],
    [
      'gateway memory that does not fit its cpu',
      (c) => (c.gateway = { cpu: 1024, memoryMiB: 1024 }),
      /^gateway\.memoryMiB: 1024 is not a Fargate size for cpu 1024; use 2048 to 8192 in steps of 1024$/,
    ],
    [
      'gateway timeout too short',
      (c) => (c.gateway = { timeoutMs: 10 }),
      /^gateway\.timeoutMs: 10 is out of range; use a whole number from 100 to 60000$/,
    ],
  ];

  it.each(cases)('%s', (_name, mutate, expected) => {
    const problems = problemsOf(mutate);
    expect(problems).toEqual(expect.arrayContaining([expect.stringMatching(expected)]));
  });

  it('reports every problem of a document at once', () => {
    const problems = problemsOf((c) => {
      c.legacy.cpu = 300;
      c.name = 'X';
      c.services[0].phase = 9;
    });
    expect(problems).toEqual([
      expect.stringMatching(/^name: /),
      expect.stringMatching(/^legacy\.cpu: /),
      expect.stringMatching(/^services\[0\]\.phase: /),
    ]);
  });

  it('rejects a document that is not an object', () => {
    expect(parseConfig([])).toEqual({
      ok: false,
      problems: [{ path: '(root)', message: 'expected an object, got an array' }],
    });
  });

  it('offers only the keys it accepts: desiredCount is refused with its reason, not listed', () => {
    const [unknown] = problemsOf((c) => (c.legacy.memory = 1024));
    expect(unknown).toMatch(
      /^legacy\.memory: unknown key; expected one of image, port, healthCheckPath, cpu,/,
    );
    expect(unknown).not.toContain('desiredCount');
  });

  it('runs a rule across fields whenever the fields it reads are valid, whatever else is wrong', () => {
    const problems = problemsOf((c: Loose) => {
      c.legacy.cpu = 300;
      c.services[0].image = 'nginx';
      c.services.push({
        name: 'users',
        image: 'public.ecr.aws/nginx/nginx:1.27-alpine',
        memoryMiB: 3,
      });
    });
    expect(problems).toEqual([
      expect.stringMatching(/^legacy\.cpu: 300 is not allowed/),
      expect.stringMatching(/^services\[0\]\.image: "nginx" has no pinned tag/),
      expect.stringMatching(/^services\[1\]\.memoryMiB: 3 is out of range/),
      'services[1].name: "users" is also services[0].name; names must be unique',
    ]);
  });

  it("runs the domain's checks (overlapping routes, listener rules) once the shape is valid", () => {
    const accounts = (memoryMiB: number) => ({
      name: 'accounts',
      image: 'public.ecr.aws/nginx/nginx:1.27-alpine',
      memoryMiB,
      routes: [{ path: '/api/users/{userId}', methods: ['GET'], servicePath: '/x/{userId}' }],
    });
    expect(problemsOf((c: Loose) => c.services.push(accounts(3)))).toEqual([
      expect.stringMatching(/^services\[1\]\.memoryMiB: 3 is out of range/),
    ]);
    expect(problemsOf((c: Loose) => c.services.push(accounts(1024)))).toEqual([
      'services[1].routes[0]: GET /api/users/{userId} is also claimed by services[0].routes[3]; each endpoint belongs to one service',
    ]);
  });

  it('accepts and drops the $schema key editors read', () => {
    const withSchema = parseConfig({ ...demoInput(), $schema: '../schema/environment.schema.json' });
    expect(withSchema).toEqual(parseConfig(demoInput()));
    expect(withSchema.ok && '$schema' in withSchema.config).toBe(false);
    expect(problemsOf((c) => (c.$schema = 42))).toEqual(['$schema: expected a string, got 42']);
  });

  it('rejects the same endpoint claimed by two services', () => {
    const problems = problemsOf((c: Loose) =>
      c.services.push({
        name: 'accounts',
        image: 'public.ecr.aws/nginx/nginx:1.27-alpine',
        routes: [{ path: '/api/users/{userId}', methods: ['GET'], servicePath: '/x/{userId}' }],
      }),
    );
    expect(problems).toContain(
      'services[1].routes[0]: GET /api/users/{userId} is also claimed by services[0].routes[3]; each endpoint belongs to one service',
    );
  });
});

describe('loading a file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'config-'));

  it('loads and validates a JSON environment file', () => {
    const path = join(dir, 'ok.json');
    writeFileSync(path, JSON.stringify({ ...demoInput(), name: 'shop-prod' }));
    expect(loadConfigFile(path).name).toBe('shop-prod');
    expect(selectConfig(path).name).toBe('shop-prod');
  });

  it('names the file and every problem', () => {
    const path = join(dir, 'bad.json');
    writeFileSync(
      path,
      JSON.stringify({ ...demoInput(), name: 'X', legacy: { ...demoInput().legacy, cpu: 300 } }),
    );
    expect(() => loadConfigFile(path)).toThrow(ConfigError);
    expect(() => loadConfigFile(path)).toThrow(
      new RegExp(
        `^Invalid configuration ${path} \\(2 problems\\):\\n  - name: .*\\n  - legacy\\.cpu: 300 is not allowed`,
      ),
    );
  });

  it('says when the file is not JSON or missing', () => {
    const path = join(dir, 'broken.json');
    writeFileSync(path, '{ "name": ');
    expect(() => loadConfigFile(path)).toThrow(/\(file\): is not valid JSON/);
    expect(() => loadConfigFile(join(dir, 'nope.json'))).toThrow(
      /\(file\): cannot read it .*check the path given with -c config=<path> to cdk$/,
    );
  });

  it('uses the demo when no config is given', () => {
    expect(selectConfig(undefined).name).toBe('demo');
    expect(() => selectConfig(42)).toThrow(/config: pass a file path: -c config=envs\/prod\.json/);
  });
});

describe('envs/example.json', () => {
  it('is a valid environment file (the README points to it)', () => {
    const example = loadConfigFile(join(__dirname, '..', '..', 'envs', 'example.json'));
    expect(example).toMatchObject({ name: 'shop-prod', account: '123456789012', region: 'eu-west-1' });
    expect(example.legacy.database.mode).toBe('import');
  });
});

describe('the deploy-time marker of a recorded cutover', () => {
  const marker = { runId: 'users-cutover-20261126T100000', completedAt: '2026-11-26T10:00:00.123Z' };
  const problems = (mutate: (i: ReturnType<typeof demoInput>) => void) => {
    const input = demoInput();
    mutate(input);
    const result = parseConfig(input);
    return result.ok ? [] : result.problems.map((p) => `${p.path}: ${p.message}`);
  };

  it('is accepted from phase 2, as the CLI prints it', () => {
    expect(problems((i) => (i.services[0].cutoverRecorded = marker))).toEqual([]);
  });

  it('keeps the service at phase 2 or later', () => {
    expect(
      problems((i) => {
        i.services[0].cutoverRecorded = marker;
        i.services[0].phase = 1;
      }),
    ).toEqual([
      expect.stringMatching(/^services\[0\]\.phase: is 1, but the cutover of this service is recorded/),
    ]);
  });

  it('names a bad run id or time with the fix', () => {
    expect(
      problems(
        (i) => (i.services[0].cutoverRecorded = { runId: 'run.1', completedAt: '2026-02-30T10:00:00Z' }),
      ),
    ).toEqual([
      expect.stringMatching(
        /^services\[0\]\.cutoverRecorded\.runId: "run\.1" is not valid; use the run id of the cutover/,
      ),
      expect.stringMatching(
        /^services\[0\]\.cutoverRecorded\.completedAt: "2026-02-30T10:00:00Z" is not a UTC time/,
      ),
    ]);
  });
});
