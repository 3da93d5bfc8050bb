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
  const raw = (...list: string[]) => list.map((v) => Buffer.from(v, 'latin1'));

  it('drops hop-by-hop headers (and those Connection lists), keeps the rest as sent and repeated ones', () => {
    expect(
      responseHeaders(
        raw(
          'Content-Type',
          'text/plain',
          'Set-Cookie',
          'a=1',
          'Connection',
          'keep-alive, X-Hop',
          'x-hop',
          '1',
          'Keep-Alive',
          'timeout=5',
          'set-cookie',
          'b=2',
          'Transfer-Encoding',
          'chunked',
          'X-Latin1',
          'caf\u00e9',
        ),
        false,
      ),
    ).toEqual([
      'Content-Type',
      'text/plain',
      'Set-Cookie',
      'a=1',
      'set-cookie',
      'b=2',
      'X-Latin1',
      'caf\u00e9',
    ]);
  });

  it('takes the names listed by repeated Connection headers too', () => {
    expect(
      responseHeaders(
        raw('connection', 'x-a', 'X-A', '1', 'Connection', 'close, x-b', 'x-b', '2', 'ok', '3'),
        false,
      ),
    ).toEqual(['ok', '3']);
  });

  it('closes the connection while the proxy drains', () => {
    expect(responseHeaders(raw('content-length', '0'), true)).toEqual([
      'content-length',
      '0',
      'connection',
      'close',
    ]);
  });
});
