import type { ProxyRoute } from '../../lib/proxy/contract';
import { canonicalPath, DEFAULT_PATH_VARIANTS, EXACT_PATHS } from '../../lib/proxy/paths';
import { RouteTable } from '../../lib/proxy/routes';

const route = (path: string, servicePath: string, methods: ProxyRoute['methods'] = ['GET']): ProxyRoute => ({
  path,
  methods,
  servicePath,
  anonymous: 'legacy',
});

const table = new RouteTable([
  { owner: 'users', route: route('/api/users/{id}', '/v1/users/{id}', ['GET', 'PUT']) },
  { owner: 'users', route: route('/api/users/me', '/v1/me') },
  { owner: 'users', route: route('/api/users/{id}/password', '/v1/users/{id}/password', ['PUT']) },
  { owner: 'users', route: route('/api/login', '/v1/auth/login', ['POST']) },
  { owner: 'orders', route: route('/api/users/{uid}/orders/{oid}', '/orders/{oid}/of/{uid}') },
]);

describe('the route matcher', () => {
  it('matches a placeholder route with its raw and decoded values and the query', () => {
    const m = table.match('GET', '/api/users/42?expand=roles');
    expect(m).toMatchObject({
      owner: 'users',
      raw: { id: '42' },
      params: { id: '42' },
      query: '?expand=roles',
    });
    expect(m?.route.path).toBe('/api/users/{id}');
  });

  it('matches only the configured methods', () => {
    expect(table.match('PUT', '/api/users/42')?.route.path).toBe('/api/users/{id}');
    expect(table.match('DELETE', '/api/users/42')).toBeUndefined();
    expect(table.match('GET', '/api/login')).toBeUndefined();
    expect(table.match('POST', '/api/login')?.route.path).toBe('/api/login');
  });

  it('prefers a literal segment over a placeholder', () => {
    expect(table.match('GET', '/api/users/me')?.route.path).toBe('/api/users/me');
  });

  it('matches whole segments only: no prefix, no trailing slash, no empty segment', () => {
    for (const url of [
      '/api/users',
      '/api/users/',
      '/api/users/42/',
      '//api/users/42',
      '/api/users//',
      '/API/users/42',
    ])
      expect(table.match('GET', url)).toBeUndefined();
  });

  it('without equivalences, matches a literal only as spelled (see other spellings below)', () => {
    expect(table.match('GET', '/api/%75sers/42')).toBeUndefined();
  });

  it('decodes placeholders, and refuses values that are not one plain segment', () => {
    expect(table.match('GET', '/api/users/a%40b.c')?.params).toEqual({ id: 'a@b.c' });
    for (const id of ['%zz', '%E0%A4%A', '..', '.', '%2e%2e', '%2F', 'a%2Fb', '%5C'])
      expect(table.match('GET', `/api/users/${id}`)).toBeUndefined();
  });

  it('refuses a request target that is not a path', () => {
    expect(table.match('GET', 'http://evil/api/users/42')).toBeUndefined();
    expect(table.match('GET', '*')).toBeUndefined();
  });

  it('rewrites to the service path with the values as sent and keeps the query', () => {
    const m = table.match('GET', '/api/users/a%40b/orders/7?x=1&y=%20');
    expect(m?.owner).toBe('orders');
    if (!m) throw new Error('no match');
    expect(table.rewrite(m)).toBe('/orders/7/of/a%40b?x=1&y=%20');
    const me = table.match('GET', '/api/users/me');
    if (!me) throw new Error('no match');
    expect(table.rewrite(me)).toBe('/v1/me');
  });
});

describe('other spellings of a route (lib/proxy/paths.ts)', () => {
  const routes = [
    { owner: 'users', route: route('/api/users/{id}', '/v1/users/{id}', ['GET', 'PUT']) },
    { owner: 'users', route: route('/api/users/me', '/v1/me') },
  ];
  const variants = new RouteTable(routes, DEFAULT_PATH_VARIANTS);

  it.each([
    ['trailingSlash', '/api/users/42/', '/api/users/42'],
    ['repeatedSlashes', '/api//users///42', '/api/users/42'],
    ['dotSegments', '/api/x/../users/./42', '/api/users/42'],
    ['dotSegments', '/api/users/42/.', '/api/users/42/'],
    ['dotSegments', '/../api/users/42', '/api/users/42'],
    ['percentEncoding', '/api/%75sers/%34%32', '/api/users/42'],
    ['backslashes', '/api\\users\\42', '/api/users/42'],
    ['encodedSlashes', '/api%2Fusers%2f42', '/api/users/42'],
  ] as const)('%s alone: %s is %s', (key, path, canonical) => {
    expect(canonicalPath(path, { ...EXACT_PATHS, [key]: true })).toBe(canonical);
    expect(canonicalPath(path, EXACT_PATHS)).toBe(path);
  });

  it('keeps reserved characters encoded and a path that is not absolute as it is', () => {
    expect(canonicalPath('/api/users/a%40b%3Fc', DEFAULT_PATH_VARIANTS)).toBe('/api/users/a%40b%3Fc');
    expect(canonicalPath('/api/users/a%5Cb', { ...DEFAULT_PATH_VARIANTS, backslashes: false })).toBe(
      '/api/users/a%5Cb',
    );
    expect(canonicalPath('*', DEFAULT_PATH_VARIANTS)).toBe('*');
  });

  it('matches a variant as the route, marked as a variant, with the canonical placeholder values', () => {
    const m = variants.match('PUT', '/API/Users/%41b/?x=1');
    expect(m).toMatchObject({ variant: true, raw: { id: 'Ab' }, params: { id: 'Ab' }, query: '?x=1' });
    if (!m) throw new Error('no match');
    expect(variants.rewrite(m)).toBe('/v1/users/Ab?x=1');
    expect(variants.match('GET', '/api/users/me/')?.route.path).toBe('/api/users/me');
    expect(variants.match('GET', '/api/users/42')).toMatchObject({ variant: false });
  });

  it('finds no route for a spelling of something else, and none without equivalences', () => {
    for (const url of [
      '/api/users/42/..',
      '/api/users/a%2Fb',
      '/api/users/%2e%2e',
      '/api/users//',
      '/api/users',
    ])
      expect(variants.match('GET', url)).toBeUndefined();
    expect(table.match('GET', '/api/users/42/')).toBeUndefined();
    expect(variants.match('DELETE', '/api/users/42/')).toBeUndefined();
  });
});
