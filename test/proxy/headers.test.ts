import { forwardHeaders, responseHeaders } from '../../lib/proxy/headers';

const pairs = (flat: string[]) => {
  const out: [string, string][] = [];
  for (let i = 0; i < flat.length; i += 2) out.push([flat[i], flat[i + 1]]);
  return out;
};

describe('forwarded request headers', () => {
  const raw = [
    'Host',
    'shop.example.com',
    'Connection',
    'keep-alive, X-Secret-Hop',
    'X-Secret-Hop',
    'drop me',
    'Keep-Alive',
    'timeout=5',
    'Transfer-Encoding',
    'chunked',
    'TE',
    'trailers',
    'Upgrade',
    'h2c',
    'Expect',
    '100-continue',
    'Proxy-Authorization',
    'Basic abc',
    'X-Forwarded-For',
    '203.0.113.7',
    'X-Forwarded-Proto',
    'https',
    'Cookie',
    'a=1',
    'Cookie',
    'b=2',
    'Authorization',
    'Bearer t',
  ];

  it('drops hop-by-hop headers (and those Connection lists), keeps the rest as sent, appends the peer', () => {
    expect(pairs(forwardHeaders(raw, { peer: '10.0.1.5' }))).toEqual([
      ['Host', 'shop.example.com'],
      ['X-Forwarded-Proto', 'https'],
      ['Cookie', 'a=1'],
      ['Cookie', 'b=2'],
      ['Authorization', 'Bearer t'],
      ['x-forwarded-for', '203.0.113.7, 10.0.1.5'],
      ['x-forwarded-host', 'shop.example.com'],
    ]);
  });

  it('addresses a service by its own authority and keeps the client host in X-Forwarded-Host', () => {
    const out = pairs(forwardHeaders(['Host', 'shop.example.com'], { peer: '10.0.1.5', host: 'users:80' }));
    expect(out).toEqual([
      ['x-forwarded-for', '10.0.1.5'],
      ['x-forwarded-proto', 'http'],
      ['x-forwarded-host', 'shop.example.com'],
      ['host', 'users:80'],
    ]);
  });

  it('keeps Connection and Upgrade for an upgrade handshake', () => {
    const out = pairs(
      forwardHeaders(['Host', 'h', 'Connection', 'Upgrade', 'Upgrade', 'websocket'], {
        peer: '1.1.1.1',
        upgrade: true,
      }),
    );
    expect(out.slice(0, 3)).toEqual([
      ['Host', 'h'],
      ['Connection', 'Upgrade'],
      ['Upgrade', 'websocket'],
    ]);
  });

  it('joins repeated X-Forwarded-For headers in order', () => {
    const out = forwardHeaders(['X-Forwarded-For', 'a', 'x-forwarded-for', 'b'], { peer: 'c' });
    expect(out.slice(0, 2)).toEqual(['x-forwarded-for', 'a, b, c']);
  });
});

describe('response headers', () => {
  it('drops hop-by-hop headers and keeps repeated ones', () => {
    expect(
      responseHeaders(
        {
          'content-type': 'text/plain',
          'set-cookie': ['a=1', 'b=2'],
          connection: 'keep-alive, x-hop',
          'x-hop': '1',
          'keep-alive': 'timeout=5',
          'transfer-encoding': 'chunked',
        },
        false,
      ),
    ).toEqual({ 'content-type': 'text/plain', 'set-cookie': ['a=1', 'b=2'] });
  });

  it('closes the connection while the proxy drains', () => {
    expect(responseHeaders({ 'content-length': '0' }, true)).toEqual({
      'content-length': '0',
      connection: 'close',
    });
  });
});
