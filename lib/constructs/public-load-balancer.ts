import { Aws, CfnCondition, Duration, Fn, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { FactName, RegionInfo } from 'aws-cdk-lib/region-info';
import { Construct } from 'constructs';
import type { AlbConfig } from '../config/types';
import { HTTP_REDIRECT_RULE_PRIORITY } from '../gateway/alb-rules';
import { ALB_IDLE_TIMEOUT_SECONDS } from '../timeouts';

export interface PublicLoadBalancerProps {
  readonly vpc: ec2.IVpc;
  /**
   * The subnets of the load balancer's nodes (public ones).
   * @default - the public subnets
   */
  readonly vpcSubnets?: ec2.SubnetSelection;
  readonly config: AlbConfig;
  /** Where requests go when no listener rule matches: the monolith. */
  readonly defaultTargetGroup: elbv2.IApplicationTargetGroup;
}

/** The egress rule CDK uses to close a security group: it matches no traffic (ICMP type 252, code 86). */
export const NO_TRAFFIC_EGRESS = {
  cidrIp: '255.255.255.255/32',
  description: 'Disallow all traffic',
  ipProtocol: 'icmp',
  fromPort: 252,
  toPort: 86,
} as const;

/**
 * The port-80 answer to a method that is not redirected (with a certificate): 403, as a server that
 * requires TLS answers (a 4xx: the client must not retry it as it is), naming the fix.
 */
export const USE_HTTPS = {
  statusCode: 403,
  body: 'This endpoint requires HTTPS: send the request to https:// (only GET and HEAD are redirected, since a redirect may turn another method into a GET and drop its body).',
} as const;

/** The service principal that delivers ALB access logs in the regions that have no ELB account. */
export const LOG_DELIVERY_PRINCIPAL = 'logdelivery.elasticloadbalancing.amazonaws.com';

/**
 * The internet-facing ALB the clients call. With a certificate: HTTPS on 443 (TLS 1.2+) and a permanent
 * redirect on 80 for GET and HEAD (a 403 naming HTTPS for other methods). Without: plain HTTP on 80,
 * acknowledged for demo environments. Access logs go to an encrypted, private bucket with a lifecycle
 * expiry. Deletion protection is on unless the config turns it
 * off; an AWS WAF web ACL is associated when the config names one.
 *
 * The port-80 listener has the construct id `Http` in both cases, so that adding a certificate to a
 * running environment turns the same listener into the redirect (an update) instead of creating a second
 * port-80 listener next to the old one (DuplicateListener). The rules go with `listener`, whose ids do
 * not name it (docs/decisions/0007).
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
    // The egress rules to the targets are separate resources (in the stacks of the targets). A group
    // created without inline egress keeps EC2's default allow-all egress; an inline rule that matches
    // nothing replaces it, so the separate rules are the only egress.
    (securityGroup.node.defaultChild as ec2.CfnSecurityGroup).addPropertyOverride('SecurityGroupEgress', [
      {
        CidrIp: NO_TRAFFIC_EGRESS.cidrIp,
        Description: NO_TRAFFIC_EGRESS.description,
        IpProtocol: NO_TRAFFIC_EGRESS.ipProtocol,
        FromPort: NO_TRAFFIC_EGRESS.fromPort,
        ToPort: NO_TRAFFIC_EGRESS.toPort,
      },
    ]);
    this.securityGroup = securityGroup;

    this.loadBalancer = new elbv2.ApplicationLoadBalancer(this, 'Resource', {
      vpc: props.vpc,
      internetFacing: true,
      vpcSubnets: props.vpcSubnets ?? { subnetType: ec2.SubnetType.PUBLIC },
      securityGroup,
      dropInvalidHeaderFields: true,
      http2Enabled: true,
      idleTimeout: Duration.seconds(ALB_IDLE_TIMEOUT_SECONDS),
      // Written as "true" or "false", never left out: removing the attribute would not turn it off.
      deletionProtection: config.deletionProtection,
    });
    this.enableAccessLogs('alb');
    if (config.webAclArn) {
      new wafv2.CfnWebACLAssociation(this, 'WebAcl', {
        resourceArn: this.loadBalancer.loadBalancerArn,
        webAclArn: config.webAclArn,
      });
    }

    if (config.certificateArn) {
      this.listener = this.loadBalancer.addListener('Https', {
        port: 443,
        protocol: elbv2.ApplicationProtocol.HTTPS,
        certificates: [acm.Certificate.fromCertificateArn(this, 'Certificate', config.certificateArn)],
        sslPolicy: elbv2.SslPolicy.RECOMMENDED_TLS,
        defaultTargetGroups: [props.defaultTargetGroup],
        open: true,
      });
      // The same construct id as the HTTP-only listener: the same resource, now redirecting. Only GET
      // and HEAD: a 301 or 302 (the only redirects an ALB makes) may turn a POST into a GET, which would
      // reach the app without its body. Every other method is told to use HTTPS.
      const http = this.loadBalancer.addListener('Http', {
        port: 80,
        protocol: elbv2.ApplicationProtocol.HTTP,
        defaultAction: elbv2.ListenerAction.fixedResponse(USE_HTTPS.statusCode, {
          contentType: 'text/plain',
          messageBody: USE_HTTPS.body,
        }),
        open: true,
      });
      http.addAction('RedirectReads', {
        priority: HTTP_REDIRECT_RULE_PRIORITY,
        conditions: [elbv2.ListenerCondition.httpRequestMethods(['GET', 'HEAD'])],
        action: elbv2.ListenerAction.redirect({ protocol: 'HTTPS', port: '443', permanent: true }),
      });
      Validations.of(securityGroup).acknowledge({
        id: 'AwsSolutions-EC23',
        reason:
          'A public web entry point: 443 (and 80, which only redirects to 443 or answers use HTTPS) must be open to every client.',
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
   * ALB access logging that works in every region, also in an environment-agnostic stack (the built-in
   * `logAccessLogs` needs a concrete region). Regions older than August 2022 deliver as a regional ELB
   * account; newer ones as the log delivery service principal, which is always granted. The ELB account
   * is chosen by literal per-region conditions, not a region map: `Fn::FindInMap` fails the deploy in a
   * region the map does not list.
   */
  private enableAccessLogs(prefix: string): void {
    const objects = this.accessLogs.arnForObjects(`${prefix}/AWSLogs/${Aws.ACCOUNT_ID}/*`);
    this.accessLogs.addToResourcePolicy(
      new iam.PolicyStatement({
        actions: ['s3:PutObject'],
        resources: [objects],
        principals: [...this.elbAccountPrincipals(), new iam.ServicePrincipal(LOG_DELIVERY_PRINCIPAL)],
      }),
    );
    this.loadBalancer.setAttribute('access_logs.s3.enabled', 'true');
    this.loadBalancer.setAttribute('access_logs.s3.bucket', this.accessLogs.bucketName);
    this.loadBalancer.setAttribute('access_logs.s3.prefix', prefix);
    // ELB checks that it can write when the attribute is set: the policy must exist first.
    const policy = this.accessLogs.policy;
    if (policy) this.loadBalancer.node.addDependency(policy);
  }

  /**
   * The regional ELB account as a principal: a literal for a known region (none for a region without
   * one). In an environment-agnostic stack, a flat list with one `Fn::If` per region that has an ELB
   * account (`AWS::NoValue` elsewhere, which removes the element), headed by this account's own root so
   * that the list is never empty (it grants nothing IAM does not already decide). A flat list, not a
   * nested chain: aws-cdk-lib's template checks visit nested intrinsics exponentially.
   */
  private elbAccountPrincipals(): iam.IPrincipal[] {
    const region = Stack.of(this).region;
    const root = (account: string) => `arn:${Aws.PARTITION}:iam::${account}:root`;
    if (!Token.isUnresolved(region)) {
      const account = RegionInfo.get(region).elbv2Account;
      return account ? [new iam.ArnPrincipal(root(account))] : [];
    }
    const accounts = Object.entries(RegionInfo.regionMap(FactName.ELBV2_ACCOUNT)).sort(([a], [b]) =>
      a.localeCompare(b),
    );
    // The finding is about the whole template (no resource), so it is acknowledged on the stack.
    Validations.of(Stack.of(this)).acknowledge({
      id: 'CloudFormation-Validate::W9052',
      reason:
        "The access-log bucket policy names the ELB account of each of ~30 regions behind its own condition (an agnostic stack cannot look its region up); the validator's condition budget runs out on them. cfn-lint checks the whole template in CI.",
    });
    return [
      new iam.ArnPrincipal(root(Aws.ACCOUNT_ID)),
      ...accounts.map(([r, account]) => {
        const condition = new CfnCondition(
          this,
          `ElbAccountRegion${r.replace(/(^|-)([a-z0-9])/g, (_m, _d, c: string) => c.toUpperCase())}`,
          { expression: Fn.conditionEquals(Aws.REGION, r) },
        );
        return new iam.ArnPrincipal(
          Token.asString(Fn.conditionIf(condition.logicalId, root(account), Aws.NO_VALUE)),
        );
      }),
    ];
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
