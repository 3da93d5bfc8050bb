import type { ProxyRoute } from '../../lib/proxy/contract';
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

  it('does not match a literal written with percent-escapes (clients spell routes literally)', () => {
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
