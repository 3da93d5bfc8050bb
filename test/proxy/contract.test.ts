import {
  parseProxyConfig,
  proxyConfigText,
  proxyReadableParameters,
  proxyRuntimeConfig,
} from '../../lib/proxy/contract';
import { DEFAULT_PATH_VARIANTS } from '../../lib/proxy/paths';
import { allAtPhase, config, demoInput } from '../helpers/config-input';

function demoAt(phase: number, mutate: (input: ReturnType<typeof demoInput>) => void = () => {}) {
  const input = demoInput();
  allAtPhase(phase)(input);
  mutate(input);
  const cfg = config(input);
  if (cfg.routing.mode !== 'proxy') throw new Error('demo is in proxy mode');
  return proxyRuntimeConfig(cfg, cfg.routing.proxy, cfg.services);
}

describe('the proxy runtime configuration', () => {
  it('lists no service at phase 0 (pure pass-through) and reads no parameter', () => {
    const runtime = demoAt(0);
    expect(runtime.services).toEqual([]);
    expect(proxyReadableParameters(runtime)).toEqual([]);
    expect(runtime.legacy).toEqual({ url: 'http://127.0.0.1:80', healthCheckPath: '/' });
  });

  it('describes each service at phase 1 or later with its routes, flag names and defaults', () => {
    const runtime = demoAt(1, (i) => {
      i.services[0].routes[3].identity = { source: 'path', name: 'id' };
    });
    expect(runtime).toMatchObject({
      version: 1,
      port: 8800,
      flags: { refreshMs: 15000, jitterPercent: 20 },
      timeouts: { connectMs: 3000, headersMs: 60000, idleMs: 60000, drainMs: 25000 },
      limits: { maxHeaderBytes: 65536, maxBodyBytes: 104857600 },
    });
    expect(runtime.services[0]).toMatchObject({
      name: 'users',
      phase: 1,
      cutoverRecorded: false,
      url: 'http://users:80',
      parameters: {
        routing: '/demo/migration/users/routing',
        cutover: '/demo/migration/users/cutover',
        override: '/demo/migration/users/override',
      },
    });
    expect(runtime.services[0].routes[3]).toEqual({
      path: '/api/users/{id}',
      methods: ['GET', 'PUT', 'DELETE'],
      servicePath: '/v1/users/{id}',
      identity: { source: 'path', name: 'id' },
      anonymous: 'legacy',
    });
    expect(proxyReadableParameters(runtime)).toEqual([
      '/demo/migration/users/routing',
      '/demo/migration/users/cutover',
      '/demo/migration/users/override',
    ]);
  });

  it('round-trips through the validator the proxy runs at start', () => {
    const runtime = demoAt(3, (i) => {
      i.services[0].routes[0].identity = { source: 'body', field: 'username' };
      i.services[0].routes[3].identity = {
        source: 'jwt',
        claim: 'sub',
        jwksUrl: 'https://login.example.com/jwks.json',
        issuer: 'https://login.example.com/',
      };
    });
    expect(parseProxyConfig(JSON.stringify(runtime))).toEqual({ ok: true, config: runtime });
  });

  it('refuses a document it cannot run, naming each problem', () => {
    const runtime = JSON.parse(JSON.stringify(demoAt(1)));
    runtime.version = 2;
    runtime.services[0].url = 'users';
    runtime.services[0].routes[0].servicePath = '/v1/{nope}';
    runtime.services[0].routes[1].identity = { source: 'magic' };
    runtime.extra = true;
    const result = parseProxyConfig(JSON.stringify(runtime));
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors).toEqual(
      expect.arrayContaining([
        'extra: unknown key; expected one of version, port, legacy, flags, timeouts, limits, paths, services',
        expect.stringMatching(/^version: 2 is not 1/),
        expect.stringMatching(/^services\[0\]\.url: "users" is not valid/),
        'services[0].routes[0].servicePath: {nope} is not a placeholder of /api/login',
        expect.stringMatching(/^services\[0\]\.routes\[1\]\.identity\.source: "magic" is not allowed/),
      ]),
    );
    expect(parseProxyConfig('{').ok).toBe(false);
  });

  it('reads the path variants, absent as the default, which the CDK app leaves out of the document', () => {
    const runtime = demoAt(1);
    expect(runtime.paths).toEqual(DEFAULT_PATH_VARIANTS);
    const text = proxyConfigText(runtime);
    expect(JSON.parse(text)).not.toHaveProperty('paths');
    expect(parseProxyConfig(text)).toEqual({ ok: true, config: runtime });
    const refusing = demoAt(1, (i) => {
      i.routing = { proxy: { pathVariants: { handling: 'refuse', letterCase: false } } };
    });
    expect(refusing.paths).toEqual({ ...DEFAULT_PATH_VARIANTS, handling: 'refuse', letterCase: false });
    expect(JSON.parse(proxyConfigText(refusing)).paths).toEqual(refusing.paths);
    expect(parseProxyConfig(JSON.stringify({ ...runtime, paths: { handling: 'refuse' } }))).toMatchObject({
      ok: true,
      config: { paths: { ...DEFAULT_PATH_VARIANTS, handling: 'refuse' } },
    });
    const bad = parseProxyConfig(JSON.stringify({ ...runtime, paths: { handling: 'strip', case: true } }));
    expect(bad).toMatchObject({
      ok: false,
      errors: expect.arrayContaining([
        expect.stringMatching(/^paths\.case: unknown key/),
        expect.stringMatching(/^paths\.handling: "strip" is not allowed; use "route" or "refuse"/),
      ]),
    });
  });
});
