import { Aws, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { FactName } from 'aws-cdk-lib/region-info';
import { Construct } from 'constructs';
import type { AlbConfig } from '../config/types';

export interface PublicLoadBalancerProps {
  readonly vpc: ec2.IVpc;
  readonly config: AlbConfig;
  /** Where requests go when no listener rule matches: the monolith. */
  readonly defaultTargetGroup: elbv2.IApplicationTargetGroup;
}

/**
 * The internet-facing ALB the clients call. With a certificate: HTTPS on 443 (TLS 1.2+) and a permanent
 * redirect on 80. Without: plain HTTP on 80, acknowledged for demo environments. Access logs go to an
 * encrypted, private bucket with a lifecycle expiry.
 */
export class PublicLoadBalancer extends Construct {
  readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  /** The listener that serves the application (HTTPS with a certificate, else HTTP). */
  readonly listener: elbv2.ApplicationListener;
  readonly accessLogs: s3.Bucket;
  readonly securityGroup: ec2.SecurityGroup;

  constructor(scope: Construct, id: string, props: PublicLoadBalancerProps) {
    super(scope, id);
    const { config } = props;

    this.accessLogs = new s3.Bucket(this, 'AccessLogs', {
      // ALB log delivery supports SSE-S3 only, not SSE-KMS.
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      versioned: false,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [{ expiration: Duration.days(config.accessLogRetentionDays) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(this.accessLogs).acknowledge({
      id: 'AwsSolutions-S1',
      reason: 'This bucket holds the ALB access logs; logging access to a log bucket would recurse.',
    });

    const securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: 'Public ALB: HTTP(S) from the internet, egress only to its targets',
      allowAllOutbound: false,
    });
    this.securityGroup = securityGroup;

    this.loadBalancer = new elbv2.ApplicationLoadBalancer(this, 'Resource', {
      vpc: props.vpc,
      internetFacing: true,
      vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC },
      securityGroup,
      dropInvalidHeaderFields: true,
      http2Enabled: true,
      idleTimeout: Duration.seconds(60),
    });
    this.enableAccessLogs('alb');

    if (config.certificateArn) {
      this.listener = this.loadBalancer.addListener('Https', {
        port: 443,
        protocol: elbv2.ApplicationProtocol.HTTPS,
        certificates: [acm.Certificate.fromCertificateArn(this, 'Certificate', config.certificateArn)],
        sslPolicy: elbv2.SslPolicy.RECOMMENDED_TLS,
        defaultTargetGroups: [props.defaultTargetGroup],
        open: true,
      });
      this.loadBalancer.addRedirect({ sourcePort: 80, targetPort: 443 });
      Validations.of(securityGroup).acknowledge({
        id: 'AwsSolutions-EC23',
        reason:
          'A public web entry point: 443 (and 80, which only redirects to 443) must be open to every client.',
      });
    } else {
      this.listener = this.loadBalancer.addListener('Http', {
        port: 80,
        protocol: elbv2.ApplicationProtocol.HTTP,
        defaultTargetGroups: [props.defaultTargetGroup],
        open: true,
      });
      Validations.of(securityGroup).acknowledge({
        id: 'AwsSolutions-EC23',
        reason: 'A public web entry point: port 80 must be open to every client.',
      });
    }
  }

  /**
   * ALB access logging that also works in an environment-agnostic stack (the built-in `logAccessLogs`
   * needs a concrete region). Regions older than August 2022 deliver as a regional ELB account (looked
   * up in a region map at deploy time); newer ones as the log delivery service principal.
   */
  private enableAccessLogs(prefix: string): void {
    const stack = Stack.of(this);
    const objects = this.accessLogs.arnForObjects(`${prefix}/AWSLogs/${Aws.ACCOUNT_ID}/*`);
    const elbAccount = stack.regionalFact(FactName.ELBV2_ACCOUNT, Aws.ACCOUNT_ID);
    this.accessLogs.addToResourcePolicy(
      new iam.PolicyStatement({
        actions: ['s3:PutObject'],
        resources: [objects],
        principals: [
          new iam.ArnPrincipal(`arn:${Aws.PARTITION}:iam::${elbAccount}:root`),
          new iam.ServicePrincipal('logdelivery.elasticloadbalancing.amazonaws.com'),
        ],
      }),
    );
    this.loadBalancer.setAttribute('access_logs.s3.enabled', 'true');
    this.loadBalancer.setAttribute('access_logs.s3.bucket', this.accessLogs.bucketName);
    this.loadBalancer.setAttribute('access_logs.s3.prefix', prefix);
    // ELB checks that it can write when the attribute is set: the policy must exist first.
    const policy = this.accessLogs.policy;
    if (policy) this.loadBalancer.node.addDependency(policy);
  }
}

/**
 * Lets the public ALB (whose security group allows no egress by default) reach a target on its port:
 * ingress on the target's group and egress on the ALB's, both created in `scope` (the group of the ALB
 * is imported by id, so no object crosses a stack boundary).
 */
export function allowLoadBalancerTo(
  scope: Construct,
  egressId: string,
  props: {
    loadBalancerSecurityGroupId: string;
    target: ec2.ISecurityGroup;
    port: number;
    description: string;
  },
): void {
  const albGroup = ec2.SecurityGroup.fromSecurityGroupId(
    scope,
    'LoadBalancerSecurityGroup',
    props.loadBalancerSecurityGroupId,
  );
  props.target.addIngressRule(albGroup, ec2.Port.tcp(props.port), props.description);
  new ec2.CfnSecurityGroupEgress(scope, egressId, {
    groupId: props.loadBalancerSecurityGroupId,
    ipProtocol: 'tcp',
    fromPort: props.port,
    toPort: props.port,
    destinationSecurityGroupId: props.target.securityGroupId,
    description: props.description,
  });
}
