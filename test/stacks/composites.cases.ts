/**
 * Composite endpoints in the synthesized app (decision 0014): the demo's old profile document, from the
 * users service and from the monolith through the routing proxy, field by field in the generated KrakenD
 * configuration; the legacy task's front door published through Service Connect; the gateway's rule to
 * it and its tasks started after the endpoint exists; nothing of it before phase 3.
 */
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AfterEndpoints } from '../../lib/constructs/after-endpoints';
import { COMPOSITE_BASE_HEADERS } from '../../lib/gateway/composites';
import { startupProblems } from '../../lib/gateway/krakend';
import { allAtPhase, demoInput, demoStacks, sharedStacks } from '../helpers/test-app';

const stacks = demoStacks();
const platform = Template.fromStack(stacks.platform);
const gateway = Template.fromStack(stacks.gateway as never);

// biome-ignore lint/suspicious/noExplicitAny: CloudFormation templates and KrakenD documents are untyped JSON
type Json = Record<string, any>;

const endpoints = () => {
  if (!stacks.gateway) throw new Error('the demo has a gateway at phase 3');
  return (stacks.gateway.krakendConfig as { endpoints: Json[] }).endpoints;
};
const profile = () => endpoints().find((e) => e.endpoint === '/api/users/{id}/profile');

/** The legacy ECS service's Service Connect configuration. */
function legacyServiceConnect(template: Template): Json {
  const services = Object.values(template.findResources('AWS::ECS::Service'));
  expect(services).toHaveLength(1);
  return services[0].Properties.ServiceConnectConfiguration;
}

describe('a composite endpoint in the generated KrakenD configuration', () => {
  it('merges its parts as JSON, GET only, with its own timeout, headers and query strings', () => {
    const { backend, ...endpoint } = profile() as Json;
    expect(endpoint).toEqual({
      endpoint: '/api/users/{id}/profile',
      method: 'GET',
      // Not the root's no-op: KrakenD refuses to start a no-op endpoint with two backends.
      output_encoding: 'json',
      timeout: '3000ms',
      input_headers: [...COMPOSITE_BASE_HEADERS],
      input_query_strings: ['*'],
    });
    expect(backend).toHaveLength(2);
  });

  it('calls the users service directly, keeping three fields and renaming one', () => {
    expect(profile()?.backend[0]).toEqual({
      host: ['http://users:80'],
      url_pattern: '/v1/users/{id}',
      method: 'GET',
      encoding: 'json',
      allow: ['id', 'displayName', 'email'],
      mapping: { displayName: 'name' },
    });
  });

  it('fetches the orders from the monolith through the routing proxy, an array placed under "orders"', () => {
    expect(profile()?.backend[1]).toEqual({
      // The legacy task's front door (the routing proxy's port), never the monolith's container.
      host: ['http://legacy:8800'],
      url_pattern: '/api/users/{id}/orders',
      method: 'GET',
      encoding: 'json',
      is_collection: true,
      mapping: { collection: 'orders' },
    });
  });

  it("passes KrakenD CE's start-up checks, and the routes stay transparent (no-op, one backend)", () => {
    const config = stacks.gateway?.krakendConfig as Json;
    expect(startupProblems(config)).toEqual([]);
    expect(config.output_encoding).toBe('no-op');
    for (const e of endpoints().filter((x) => x !== profile())) {
      expect(e.output_encoding).toBe('no-op');
      expect(e.backend).toHaveLength(1);
    }
  });
});

describe('the monolith part: the legacy task publishes its front door', () => {
  it('publishes the routing proxy as legacy through Service Connect, on an ingress port of its own', () => {
    expect(legacyServiceConnect(platform)).toMatchObject({
      Enabled: true,
      Services: [
        {
          PortName: 'proxy',
          DiscoveryName: 'legacy',
          ClientAliases: [{ DnsName: 'legacy', Port: 8800 }],
          // The load balancer's traffic to the proxy's port (8800) keeps bypassing the Service Connect proxy.
          IngressPortOverride: 8899,
          Timeout: { PerRequestTimeoutSeconds: 60 },
        },
      ],
    });
  });

  it('admits the gateway on that ingress port, from the gateway stack', () => {
    gateway.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      IpProtocol: 'tcp',
      FromPort: 8899,
      ToPort: 8899,
      GroupId: { 'Fn::GetStackOutput': Match.objectLike({ StackName: 'demo-30-platform' }) },
      SourceSecurityGroupId: {
        'Fn::GetAtt': [Match.stringLikeRegexp('GatewayServiceSecurityGroup'), 'GroupId'],
      },
    });
  });

  it("starts the gateway's tasks after the endpoint exists: its task definition carries the endpoint and its publisher", () => {
    const [task] = Object.values(gateway.findResources('AWS::ECS::TaskDefinition'));
    const [container] = task.Properties.ContainerDefinitions;
    const variable = (container.Environment as Json[]).find((e) => e.Name === AfterEndpoints.VARIABLE);
    expect(variable?.Value).toEqual({
      'Fn::Join': [
        '',
        [
          'legacy:8800@',
          {
            'Fn::GetStackOutput': expect.objectContaining({
              StackName: 'demo-30-platform',
              OutputName: expect.stringMatching(/^PublishOutputRefLegacyService/),
            }),
          },
        ],
      ],
    });
    // The platform stack (the publisher) deploys before the gateway stack.
    expect(stacks.gateway?.dependencies).toContain(stacks.platform);
  });
});

describe('before phase 3, or with routing in the monolith', () => {
  it('publishes nothing and routes nothing while users is at phase 1', () => {
    const input = demoInput();
    for (const s of input.services) s.phase = 1;
    const atPhase1 = sharedStacks(input);
    expect(atPhase1.gateway).toBeUndefined();
    expect(legacyServiceConnect(Template.fromStack(atPhase1.platform)).Services).toBeUndefined();
  });

  it('publishes the monolith itself (in-app routing: it routes itself) when the task has no proxy', () => {
    const input = demoInput();
    allAtPhase(3, 'in-app')(input);
    const inApp = sharedStacks(input);
    expect(legacyServiceConnect(Template.fromStack(inApp.platform)).Services).toEqual([
      expect.objectContaining({
        PortName: 'http',
        ClientAliases: [{ DnsName: 'legacy', Port: 80 }],
        IngressPortOverride: 8899,
      }),
    ]);
    const config = inApp.gateway?.krakendConfig as { endpoints: Json[] };
    const composite = config.endpoints.find((e) => e.endpoint === '/api/users/{id}/profile');
    expect(composite?.backend[1].host).toEqual(['http://legacy:80']);
  });
});
