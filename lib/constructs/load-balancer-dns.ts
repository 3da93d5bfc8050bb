import { Aws, CfnOutput, Stack, Validations } from 'aws-cdk-lib';
import type * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as targets from 'aws-cdk-lib/aws-route53-targets';
import { Construct } from 'constructs';
import type { DnsConfig } from '../config/types';
import { APP_TARGET_OUTPUTS } from '../dns/weighted-records';
import { dnsOperatorPolicyName } from '../naming';
import { wildcardResourceFinding } from './nag';

export interface LoadBalancerDnsProps {
  readonly loadBalancer: elbv2.IApplicationLoadBalancer;
  /** The company's domain, when the config has one. */
  readonly dns?: DnsConfig;
  /** The environment's name: the DNS operator policy is `<name>-migration-dns-operator`. */
  readonly envName: string;
}

/**
 * How clients find the app's load balancer: its DNS name and hosted zone as stack outputs (always; the
 * operator CLI's `dns` command reads them), an alias record in the company's zone (`dns.aliasName`), and
 * the IAM managed policy that lets a person step `dns.recordName` with the CLI (nothing else of the zone).
 * The weighted records of `dns.recordName` are not here: a template would reset their weights on the
 * next deploy (decision 0002); the CLI owns them.
 */
export class LoadBalancerDns extends Construct {
  /** The alias record of `dns.aliasName`. */
  readonly alias?: route53.ARecord;
  /** `<name>-migration-dns-operator`, when `dns.recordName` is set. */
  readonly operatorPolicy?: iam.ManagedPolicy;

  constructor(scope: Construct, id: string, props: LoadBalancerDnsProps) {
    super(scope, id);
    const { loadBalancer, dns } = props;
    const output = (key: string, value: string, description: string) =>
      new CfnOutput(this, key, { value, description }).overrideLogicalId(key);
    output(
      APP_TARGET_OUTPUTS.dnsName,
      loadBalancer.loadBalancerDnsName,
      "The app's load balancer: the DNS name to test it with, and the target `npx migrate dns` moves clients to",
    );
    output(
      APP_TARGET_OUTPUTS.hostedZoneId,
      loadBalancer.loadBalancerCanonicalHostedZoneId,
      "The hosted zone of the load balancer's DNS name (the alias target's)",
    );
    if (!dns) return;

    const zone = route53.HostedZone.fromHostedZoneAttributes(this, 'Zone', {
      hostedZoneId: dns.hostedZoneId,
      zoneName: dns.zoneName,
    });
    if (dns.aliasName) {
      this.alias = new route53.ARecord(this, 'Alias', {
        zone,
        recordName: `${dns.aliasName}.`,
        target: route53.RecordTarget.fromAlias(new targets.LoadBalancerTarget(loadBalancer)),
        comment: "The app's load balancer (dns.aliasName)",
      });
      output(APP_TARGET_OUTPUTS.aliasName, dns.aliasName, "The alias record of the app's load balancer");
    }
    if (dns.recordName) this.operatorPolicy = this.dnsOperatorPolicy(props.envName, dns, dns.recordName);
  }

  /** What `npx migrate dns` needs: read the zone, change the one name's A or CNAME records, follow a change. */
  private dnsOperatorPolicy(envName: string, dns: DnsConfig, recordName: string): iam.ManagedPolicy {
    const changes = `arn:${Aws.PARTITION}:route53:::change/*`;
    const policy = new iam.ManagedPolicy(this, 'OperatorPolicy', {
      managedPolicyName: dnsOperatorPolicyName(envName),
      description: `Step ${recordName} between the company's load balancer and the app's (npx migrate dns)`,
      statements: [
        new iam.PolicyStatement({
          sid: 'ReadTheZone',
          actions: ['route53:ListResourceRecordSets'],
          resources: [`arn:${Aws.PARTITION}:route53:::hostedzone/${dns.hostedZoneId}`],
        }),
        new iam.PolicyStatement({
          sid: 'ChangeTheNameOnly',
          actions: ['route53:ChangeResourceRecordSets'],
          resources: [`arn:${Aws.PARTITION}:route53:::hostedzone/${dns.hostedZoneId}`],
          conditions: {
            'ForAllValues:StringEquals': {
              'route53:ChangeResourceRecordSetsNormalizedRecordNames': [recordName],
              'route53:ChangeResourceRecordSetsRecordTypes': ['A', 'CNAME'],
            },
          },
        }),
        new iam.PolicyStatement({
          sid: 'FollowTheChange',
          actions: ['route53:GetChange'],
          resources: [changes],
        }),
        new iam.PolicyStatement({
          sid: 'FindTheLoadBalancer',
          actions: ['cloudformation:DescribeStacks'],
          resources: [Stack.of(this).stackId],
        }),
      ],
    });
    Validations.of(policy).acknowledge({
      id: wildcardResourceFinding(this, changes),
      reason:
        'A Route 53 change id is known only once the change is submitted; GetChange reads its status only.',
    });
    return policy;
  }
}
