import { METRIC_NAMESPACE } from '../../lib/hooks/contract';
import { accessLogLine, isServerError, PROXY_DIMENSIONS, PROXY_METRICS } from '../../lib/proxy/metrics';

describe('the access log line', () => {
  it('is one JSON object in embedded metric format with the documented names and dimension set', () => {
    const line = accessLogLine(
      {
        service: 'users',
        side: 'service',
        method: 'GET',
        route: '/api/users/{id}',
        status: 200,
        latencyMs: 1.234,
        identified: true,
      },
      1796121003947,
    );
    expect(JSON.parse(line)).toEqual({
      _aws: {
        Timestamp: 1796121003947,
        CloudWatchMetrics: [
          {
            Namespace: METRIC_NAMESPACE,
            Dimensions: [['Service', 'Side']],
            Metrics: [
              { Name: 'ProxyRequests', Unit: 'Count' },
              { Name: 'Proxy5xx', Unit: 'Count' },
              { Name: 'ProxyLatency', Unit: 'Milliseconds' },
            ],
          },
        ],
      },
      level: 'info',
      msg: 'request',
      Service: 'users',
      Side: 'service',
      method: 'GET',
      route: '/api/users/{id}',
      status: 200,
      latencyMs: 1.23,
      identified: true,
      ProxyRequests: 1,
      Proxy5xx: 0,
      ProxyLatency: 1.23,
    });
    expect(PROXY_DIMENSIONS).toEqual(['Service', 'Side']);
    expect(Object.values(PROXY_METRICS)).toEqual(['ProxyRequests', 'Proxy5xx', 'ProxyLatency']);
  });

  it('escapes a raw path and counts 5xx and cut-off responses as errors', () => {
    const line = accessLogLine(
      {
        service: 'none',
        side: 'legacy',
        method: 'GET',
        route: '/a"b\\c\u0001ü',
        status: 200,
        latencyMs: 0,
        truncated: true,
      },
      0,
    );
    expect(JSON.parse(line)).toMatchObject({ route: '/a"b\\c\u0001ü', truncated: true, Proxy5xx: 1 });
    expect(isServerError({ status: 503 })).toBe(true);
    expect(isServerError({ status: 404 })).toBe(false);
  });
});
