/**
 * The network and the load balancer: the VPC (created, or an existing one looked up) and the ALB's
 * certificate, access logs and listener-rule layout.
 */
import { z } from 'zod';
import { SERVICE_NAME } from '../../naming';
import { DEFAULT_RULE_QUOTA, RULE_BLOCKS } from '../rule-layout';
import { retention } from './common';
import { array, bool, int, intact, keyName, problem, record, refused, str, strict, union } from './kit';

const VPC_ID = /^vpc-[0-9a-f]{8,17}$/;
const SUBNET_ID = /^subnet-[0-9a-f]{8,17}$/;
/** A subnet group name: the value of a tag (EC2 tag values, without the empty one). */
const GROUP_NAME = /^[A-Za-z0-9 _.:/=+@-]{1,255}$/;
const TAG_KEY = /^[A-Za-z0-9 _.:/=+@-]{1,128}$/;
const CIDR = /^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\/\d{1,2}$/;
const CERT_ARN = /^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[0-9a-f-]{36}$/;
const WEB_ACL_ARN =
  /^arn:aws[a-z-]*:wafv2:[a-z0-9-]+:\d{12}:regional\/webacl\/[A-Za-z0-9_-]{1,128}\/[0-9a-f-]{36}$/;

/** Addresses each AZ's subnets take (public /24, private /22, isolated /24); see NetworkStack. */
const ADDRESSES_PER_AZ = 256 + 1024 + 256;

function isPrivateCidr(cidr: string): boolean {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr);
  if (!m) return false;
  const [a, b, c, d, prefix] = m.slice(1).map(Number);
  if ([a, b, c, d].some((o) => o > 255) || prefix < 16 || prefix > 22) return false;
  return a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168);
}

const createdVpc = strict({
  mode: z.literal('create').default('create'),
  cidr: str({
    pattern: CIDR,
    fix: 'use a private IPv4 CIDR with a /16 to /22 prefix, e.g. "10.0.0.0/16"',
  })
    .refine(isPrivateCidr, {
      error: (iss) =>
        `${JSON.stringify(iss.input)} is not valid; use a private IPv4 CIDR with a /16 to /22 prefix, e.g. "10.0.0.0/16"`,
      when: (p) => typeof p.value === 'string' && CIDR.test(p.value),
    })
    .default('10.0.0.0/16')
    .meta({ description: 'IPv4 CIDR of the VPC, e.g. "10.0.0.0/16".' }),
  maxAzs: int({ min: 2, max: 6, fix: 'an ALB needs at least 2 availability zones; use 2 or 3' })
    .default(2)
    .meta({ description: 'Number of availability zones (2 or 3 for production).' }),
  natGateways: int({
    min: 1,
    max: 6,
    fix: 'the private subnets need a NAT gateway to pull images; use 1 (cheap) up to maxAzs (resilient)',
  })
    .default(1)
    .meta({ description: 'NAT gateways: 1 saves money, one per AZ survives an AZ outage.' }),
  flowLogRetentionDays: retention(90).meta({ description: 'Retention of the VPC flow logs in days.' }),
  vpcId: refused('only applies when vpc.mode is "import"; remove it or set mode'),
  subnets: refused(
    'only applies when vpc.mode is "import" (a created VPC has the subnet groups public, private and isolated); remove it',
  ),
  subnetGroupNameTag: refused('only applies when vpc.mode is "import"; remove it'),
})
  .superRefine(
    (v, ctx) => {
      if (v.natGateways > v.maxAzs)
        problem(
          ctx,
          ['natGateways'],
          `${v.natGateways} is more than maxAzs (${v.maxAzs}); use at most ${v.maxAzs}`,
        );
    },
    intact('natGateways', 'maxAzs'),
  )
  .superRefine(
    (v, ctx) => {
      const prefix = Number(v.cidr.split('/')[1]);
      const needed = v.maxAzs * ADDRESSES_PER_AZ;
      if (needed > 2 ** (32 - prefix))
        problem(
          ctx,
          ['cidr'],
          `a /${prefix} holds ${2 ** (32 - prefix)} addresses but ${v.maxAzs} AZs need ${needed} (a /24 public, /22 private and /24 isolated subnet each); use a larger block such as /${32 - Math.ceil(Math.log2(needed))} or fewer AZs`,
        );
    },
    intact('cidr', 'maxAzs'),
  )
  .meta({ description: 'A VPC created by the network stack.' });

const onlyWhenCreated = () => refused('only applies when vpc.mode is "create"; remove it');

/** Where one kind of resource goes in an imported VPC: a subnet group, or a list of subnets. */
const subnetChoice = (what: string, fallback: string) =>
  strict({
    groupName: str({
      pattern: GROUP_NAME,
      fix: 'use the name of a subnet group of the VPC (docs/existing-estate.md says how groups are named)',
    })
      .optional()
      .meta({ description: 'A subnet group of the VPC, by name.' }),
    ids: array(str({ pattern: SUBNET_ID, fix: 'use a subnet id like "subnet-0123456789abcdef0"' }))
      .min(1, { error: 'list at least one subnet id, or use groupName' })
      .optional()
      .meta({ description: 'Subnets of the VPC, by id.', uniqueItems: true }),
  })
    .superRefine((v, ctx) => {
      if ((v.groupName === undefined) === (v.ids === undefined))
        problem(ctx, [], 'set exactly one of groupName or ids');
    })
    .superRefine((v, ctx) => {
      if (v.ids !== undefined && new Set(v.ids).size !== v.ids.length)
        problem(ctx, ['ids'], 'lists a subnet twice; list each once');
    }, intact('ids'))
    .optional()
    .meta({ description: `Where ${what} go. Default: ${fallback}.` });

const subnets = strict({
  loadBalancer: subnetChoice(
    "the internet-facing load balancer's nodes",
    'the public subnets (one group, in at least two availability zones)',
  ),
  tasks: subnetChoice(
    'the Fargate tasks (the monolith, the services, the gateway, the bulk migration)',
    'the private subnets with egress (a route to a NAT or transit gateway)',
  ),
  databases: subnetChoice(
    'the databases the app creates',
    'the isolated subnets (no route out), in at least two availability zones',
  ),
})
  .prefault({})
  .meta({
    description:
      'Which subnets of the imported VPC each kind of resource uses; checked against the VPC when the app synthesizes.',
  });

const importedVpc = strict({
  mode: z.literal('import'),
  vpcId: str({ pattern: VPC_ID, fix: 'use an id like "vpc-0123456789abcdef0"' }).meta({
    description: 'The id of the VPC, e.g. "vpc-0123456789abcdef0".',
  }),
  subnetGroupNameTag: str({
    pattern: TAG_KEY,
    fix: 'use a tag key that every subnet of the VPC has, e.g. "Tier"',
  })
    .optional()
    .meta({
      description:
        'The subnet tag whose value names a subnet\'s group (every subnet of the VPC must have it). Default: the tag "aws-cdk:subnet-name", else the group of its type: "Public", "Private" or "Isolated".',
    }),
  subnets,
  cidr: onlyWhenCreated(),
  maxAzs: onlyWhenCreated(),
  natGateways: onlyWhenCreated(),
  flowLogRetentionDays: onlyWhenCreated(),
}).meta({
  description:
    'An existing VPC, looked up by id (the result is cached in cdk.context.json). Needs account and region.',
});

export const vpc = union('mode', [createdVpc, importedVpc]).prefault({});

export const alb = strict({
  certificateArn: str({
    pattern: CERT_ARN,
    fix: 'use an ACM certificate ARN like "arn:aws:acm:eu-west-1:123456789012:certificate/<uuid>", or remove it for HTTP only',
  })
    .optional()
    .meta({
      description:
        'ACM certificate ARN. Present: HTTPS on 443 plus an HTTP-to-HTTPS redirect on 80. Absent: plain HTTP on 80 (a demo only).',
    }),
  accessLogRetentionDays: int({ min: 1, max: 3650 })
    .default(90)
    .meta({ description: 'Days the ALB access logs are kept in their bucket.' }),
  deletionProtection: bool().default(true).meta({
    description:
      'Deletion protection on the load balancer: a stack delete or a mistaken replacement cannot remove the entry point of production. Turn it off only in an environment you destroy (sandbox, integ tests).',
  }),
  webAclArn: str({
    pattern: WEB_ACL_ARN,
    fix: 'use the ARN of a regional AWS WAF web ACL, like "arn:aws:wafv2:eu-west-1:123456789012:regional/webacl/<name>/<id>" (a load balancer takes no global, CloudFront-scope ACL)',
  })
    .optional()
    .meta({
      description: 'An AWS WAF web ACL (regional scope, same region) associated with the load balancer.',
    }),
  ruleQuota: int({
    min: 1,
    max: 10000,
    fix: 'use the "Rules per Application Load Balancer" quota of the account and region (100 unless AWS raised it)',
  })
    .default(DEFAULT_RULE_QUOTA)
    .meta({
      description:
        "The account's quota of listener rules per load balancer (100 by default; AWS raises it on request). The app refuses a config whose phase-3 routes need more rules than this.",
    }),
  ruleBlocks: record(
    keyName(SERVICE_NAME, 'use the name of a service in services[]'),
    int({ min: 1, max: RULE_BLOCKS, fix: `use a block from 1 to ${RULE_BLOCKS} that no other service has` }),
  )
    .default({})
    .meta({
      description:
        'Explicit listener-rule blocks by service name (docs/decisions/0007); a service without an entry gets the block derived from its name. Set one only to resolve a collision reported by the config check, for the service that is new.',
    }),
}).prefault({});
