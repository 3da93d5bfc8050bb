/**
 * The network and the load balancer: the VPC (created, or an existing one looked up) and the ALB's
 * certificate, access logs and listener-rule layout.
 */
import { z } from 'zod';
import { SERVICE_NAME } from '../../naming';
import { DEFAULT_RULE_QUOTA, RULE_BLOCKS } from '../rule-layout';
import { retention } from './common';
import { int, intact, keyName, problem, record, refused, str, strict, union } from './kit';

const VPC_ID = /^vpc-[0-9a-f]{8,17}$/;
const CIDR = /^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\/\d{1,2}$/;
const CERT_ARN = /^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[0-9a-f-]{36}$/;

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

const importedVpc = strict({
  mode: z.literal('import'),
  vpcId: str({ pattern: VPC_ID, fix: 'use an id like "vpc-0123456789abcdef0"' }).meta({
    description: 'The id of the VPC, e.g. "vpc-0123456789abcdef0".',
  }),
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
