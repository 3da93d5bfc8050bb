/**
 * How clients find the app's load balancer: its DNS name and hosted zone as outputs of the platform
 * stack (which `npx migrate dns` reads), the optional alias record in the company's zone, and the DNS
 * operator policy that may change the clients' name and nothing else.
 */
import { Match, Template } from 'aws-cdk-lib/assertions';
import { APP_TARGET_OUTPUTS } from '../../lib/dns/weighted-records';
import { dnsOperatorPolicyName, platformStackName } from '../../lib/naming';
import { demoInput, sharedStacks } from '../helpers/test-app';

// biome-ignore lint/suspicious/noExplicitAny: CloudFormation templates are untyped JSON
type Json = any;

function phase0(mutate: (input: Json) => void = () => {}) {
  const input = demoInput();
  for (const s of input.services) s.phase = 0;
  mutate(input);
  return sharedStacks(input);
}

const DOMAIN = {
  hostedZoneId: 'Z0123456789ABCDEFGHIJ',
  zoneName: 'example.com',
  recordName: 'www.example.com',
  aliasName: 'app.example.com',
};

describe("the app's load balancer in DNS", () => {
  it('names the platform stack as the CLI finds it', () => {
    expect(phase0().platform.stackName).toBe(platformStackName('demo'));
  });

  it('outputs its DNS name and hosted zone, always, under the keys the CLI reads', () => {
    const t = Template.fromStack(phase0().platform);
    const [lb] = Object.keys(t.findResources('AWS::ElasticLoadBalancingV2::LoadBalancer'));
    expect(t.toJSON().Outputs).toMatchObject({
      [APP_TARGET_OUTPUTS.dnsName]: { Value: { 'Fn::GetAtt': [lb, 'DNSName'] } },
      [APP_TARGET_OUTPUTS.hostedZoneId]: { Value: { 'Fn::GetAtt': [lb, 'CanonicalHostedZoneID'] } },
    });
    // Without dns: no record, no policy.
    t.resourceCountIs('AWS::Route53::RecordSet', 0);
    t.resourceCountIs('AWS::IAM::ManagedPolicy', 0);
  });

  const withDomain = () => Template.fromStack(phase0((i) => (i.dns = DOMAIN)).platform);

  it('creates the alias record of dns.aliasName, and no record of dns.recordName (the CLI owns it)', () => {
    const t = withDomain();
    const [lb] = Object.keys(t.findResources('AWS::ElasticLoadBalancingV2::LoadBalancer'));
    expect(Object.values(t.findResources('AWS::Route53::RecordSet')).map((r) => r.Properties)).toEqual([
      expect.objectContaining({
        Name: 'app.example.com.',
        Type: 'A',
        HostedZoneId: DOMAIN.hostedZoneId,
        AliasTarget: expect.objectContaining({
          DNSName: { 'Fn::Join': ['', ['dualstack.', { 'Fn::GetAtt': [lb, 'DNSName'] }]] },
          HostedZoneId: { 'Fn::GetAtt': [lb, 'CanonicalHostedZoneID'] },
        }),
      }),
    ]);
  });

  it('lets the DNS operator change the A and CNAME records of dns.recordName only, and read the outputs', () => {
    withDomain().hasResourceProperties('AWS::IAM::ManagedPolicy', {
      ManagedPolicyName: dnsOperatorPolicyName('demo'),
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: 'route53:ChangeResourceRecordSets',
            Resource: {
              'Fn::Join': [
                '',
                ['arn:', { Ref: 'AWS::Partition' }, ':route53:::hostedzone/Z0123456789ABCDEFGHIJ'],
              ],
            },
            Condition: {
              'ForAllValues:StringEquals': {
                'route53:ChangeResourceRecordSetsNormalizedRecordNames': ['www.example.com'],
                'route53:ChangeResourceRecordSetsRecordTypes': ['A', 'CNAME'],
              },
            },
          }),
          Match.objectLike({ Action: 'cloudformation:DescribeStacks', Resource: { Ref: 'AWS::StackId' } }),
        ]),
      },
    });
  });
});
