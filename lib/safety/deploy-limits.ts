/**
 * CloudFormation's, IAM's, EventBridge's, Lambda's and the VPC's limits, checked at synth against the written
 * templates: a config that grows past one fails `cdk synth` (and `cdk deploy`) with the limit, the measured
 * size and the way out, instead of failing in the middle of a deploy. A CDK validation plugin, like
 * cdk-nag: it reads only cdk.out. `measureTemplates` is the same measurement as numbers (the 25-service
 * test and the bench report the margins).
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import type {
  IPolicyValidationContext,
  IPolicyValidationPlugin,
  PolicyValidationPluginReport,
  PolicyViolation,
} from 'aws-cdk-lib';

/** The limits, as AWS documents them (CloudFormation, IAM, EventBridge and Lambda quotas). */
export const LIMITS = {
  /** Template body from S3, as CDK uploads it (CDK counts 1,000,000 bytes). */
  templateBytes: 1_000_000,
  resources: 500,
  outputs: 200,
  parameters: 200,
  mappings: 200,
  dynamicReferences: 60,
  /** Lambda: all environment variables of a function together. */
  lambdaEnvironmentBytes: 4096,
  /** IAM: one customer managed policy, whitespace excluded. */
  managedPolicyChars: 6144,
  /** IAM: all inline policies of one role together, whitespace excluded. */
  roleInlinePolicyChars: 10_240,
  /** IAM: managed policies attached to one role (the default quota, adjustable to 20). */
  managedPoliciesPerRole: 10,
  /** EventBridge: one rule's event pattern (the default quota). */
  eventPatternChars: 2048,
  /** VPC: inbound, and separately outbound, rules of one security group (the default quota, adjustable). */
  securityGroupRules: 60,
} as const;

/** What an unresolved value (an ARN or name from Ref, GetAtt, GetStackOutput) is counted as. */
const UNRESOLVED_BYTES = 128;

/**
 * The longest value of each pseudo parameter (partition `aws-iso-b`/`aws-us-gov`, a region such as
 * `ap-southeast-2`, a 12-digit account, `amazonaws.com.cn`), so that an estimate holds in every region.
 */
const PSEUDO_PARAMETER_BYTES: Record<string, number> = {
  'AWS::Partition': 10,
  'AWS::Region': 14,
  'AWS::AccountId': 12,
  'AWS::URLSuffix': 16,
};

export interface LimitViolation {
  readonly rule: string;
  readonly message: string;
  readonly logicalId?: string;
  /** The template the violation is in (when measured over several). */
  readonly stack?: string;
}

// biome-ignore lint/suspicious/noExplicitAny: CloudFormation templates are untyped JSON
type Json = any;

/** An upper estimate of the resolved length of a template value. */
export function estimatedLength(value: Json): number {
  if (typeof value === 'string') return Buffer.byteLength(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value).length;
  if (value && typeof value === 'object' && Array.isArray(value['Fn::Join'])) {
    const [separator, parts] = value['Fn::Join'] as [string, Json[]];
    return Array.isArray(parts)
      ? parts.reduce((n: number, p: Json) => n + estimatedLength(p), 0) +
          separator.length * Math.max(parts.length - 1, 0)
      : UNRESOLVED_BYTES;
  }
  if (value && typeof value === 'object' && typeof value.Ref === 'string')
    return PSEUDO_PARAMETER_BYTES[value.Ref] ?? UNRESOLVED_BYTES;
  return UNRESOLVED_BYTES;
}

const INTRINSIC = /^(Ref|Fn::[A-Za-z]+)$/;

/**
 * The JSON text of a policy document or event pattern once resolved, without whitespace (as IAM and
 * EventBridge count it), with every intrinsic replaced by a string of its estimated length.
 */
export function estimatedJsonLength(value: Json): number {
  const resolve = (v: Json): Json => {
    if (Array.isArray(v)) return v.map(resolve);
    if (v && typeof v === 'object') {
      const keys = Object.keys(v);
      if (keys.length === 1 && INTRINSIC.test(keys[0])) return 'x'.repeat(estimatedLength(v));
      return Object.fromEntries(keys.map((k) => [k, resolve(v[k])]));
    }
    return v;
  };
  return JSON.stringify(resolve(value)).replace(/\s/g, '').length;
}

/** One measured thing of a template: its logical id (or key) and its size. */
export interface Measured {
  readonly stack: string;
  readonly id: string;
  readonly size: number;
}

/** Every measure of a set of templates that a limit applies to. */
export interface TemplateMeasures {
  readonly templates: readonly {
    readonly stack: string;
    readonly bytes: number;
    readonly resources: number;
    readonly outputs: number;
    readonly parameters: number;
    readonly mappings: number;
    readonly dynamicReferences: number;
  }[];
  readonly lambdaEnvironments: readonly Measured[];
  readonly managedPolicies: readonly Measured[];
  /** Per role (`<stack>/<logical id>`, or the reference text of a role of another stack): its inline policies together. */
  readonly roleInlinePolicies: readonly Measured[];
  /** Per role: how many managed policies are attached to it. */
  readonly roleManagedPolicies: readonly Measured[];
  readonly eventPatterns: readonly Measured[];
  /**
   * Per security group and direction (`<group> ingress|egress`): its rules, inline and separate, added up
   * across templates (a group of another stack is keyed by the reference to it).
   */
  readonly securityGroupRules: readonly Measured[];
}

/** The key of a role that a policy names in `Roles`: a role of the same template by its logical id. */
function roleKey(stack: string, reference: Json): string {
  return reference && typeof reference === 'object' && typeof reference.Ref === 'string'
    ? `${stack}/${reference.Ref}`
    : JSON.stringify(reference);
}

/**
 * The key of a security group that a rule names in `GroupId`: a group of the same template by its logical
 * id, one of another stack by the output it is read from (every consumer names it the same way).
 */
function groupKey(stack: string, reference: Json): string {
  const getAtt = reference?.['Fn::GetAtt'];
  if (Array.isArray(getAtt)) return `${stack}/${getAtt[0]}`;
  if (typeof reference?.Ref === 'string') return `${stack}/${reference.Ref}`;
  const output = reference?.['Fn::GetStackOutput'];
  if (output) return `${output.StackName}:${output.OutputName}`;
  return JSON.stringify(reference);
}

/** Measures every template (by stack name, their text as written); a role's policies add up across them. */
export function measureTemplates(texts: Readonly<Record<string, string>>): TemplateMeasures {
  const templates: TemplateMeasures['templates'][number][] = [];
  const lambdaEnvironments: Measured[] = [];
  const managedPolicies: Measured[] = [];
  const eventPatterns: Measured[] = [];
  const inline = new Map<string, number>();
  const attached = new Map<string, number>();
  const groupRules = new Map<string, number>();
  const add = (map: Map<string, number>, key: string, n: number) => map.set(key, (map.get(key) ?? 0) + n);
  for (const [stack, text] of Object.entries(texts)) {
    const template: Json = JSON.parse(text);
    const count = (key: string) => Object.keys(template[key] ?? {}).length;
    templates.push({
      stack,
      bytes: Buffer.byteLength(text),
      resources: count('Resources'),
      outputs: count('Outputs'),
      parameters: count('Parameters'),
      mappings: count('Mappings'),
      dynamicReferences: (text.match(/\{\{resolve:/g) ?? []).length,
    });
    for (const [id, resource] of Object.entries<Json>(template.Resources ?? {})) {
      const props = resource.Properties ?? {};
      switch (resource.Type) {
        case 'AWS::Lambda::Function': {
          const variables: Record<string, Json> = props.Environment?.Variables ?? {};
          const size = Object.entries(variables).reduce(
            (n, [k, v]) => n + Buffer.byteLength(k) + estimatedLength(v),
            0,
          );
          lambdaEnvironments.push({ stack, id, size });
          break;
        }
        case 'AWS::IAM::ManagedPolicy':
          managedPolicies.push({ stack, id, size: estimatedJsonLength(props.PolicyDocument) });
          for (const role of props.Roles ?? []) add(attached, roleKey(stack, role), 1);
          break;
        case 'AWS::IAM::Policy':
          for (const role of props.Roles ?? [])
            add(inline, roleKey(stack, role), estimatedJsonLength(props.PolicyDocument));
          break;
        case 'AWS::IAM::Role':
          add(
            inline,
            `${stack}/${id}`,
            (props.Policies ?? []).reduce(
              (n: number, p: Json) => n + estimatedJsonLength(p.PolicyDocument),
              0,
            ),
          );
          add(attached, `${stack}/${id}`, (props.ManagedPolicyArns ?? []).length);
          break;
        case 'AWS::EC2::SecurityGroup':
          add(groupRules, `${stack}/${id} ingress`, (props.SecurityGroupIngress ?? []).length);
          add(groupRules, `${stack}/${id} egress`, (props.SecurityGroupEgress ?? []).length);
          break;
        case 'AWS::EC2::SecurityGroupIngress':
          add(groupRules, `${groupKey(stack, props.GroupId)} ingress`, 1);
          break;
        case 'AWS::EC2::SecurityGroupEgress':
          add(groupRules, `${groupKey(stack, props.GroupId)} egress`, 1);
          break;
        case 'AWS::Events::Rule':
          if (props.EventPattern)
            eventPatterns.push({ stack, id, size: estimatedJsonLength(props.EventPattern) });
          break;
      }
    }
  }
  const perRole = (map: Map<string, number>): Measured[] =>
    [...map].map(([key, size]) => {
      const slash = key.indexOf('/');
      return key.startsWith('{') || slash < 0
        ? { stack: '', id: key, size }
        : { stack: key.slice(0, slash), id: key.slice(slash + 1), size };
    });
  return {
    templates,
    lambdaEnvironments,
    managedPolicies,
    roleInlinePolicies: perRole(inline),
    roleManagedPolicies: perRole(attached),
    eventPatterns,
    securityGroupRules: [...groupRules].map(([id, size]) => ({ stack: '', id, size })),
  };
}

/** The largest of some measures (undefined when there are none). */
export function largest(measures: readonly Measured[]): Measured | undefined {
  return measures.reduce<Measured | undefined>((a, m) => (a && a.size >= m.size ? a : m), undefined);
}

const SPLIT = 'Split the stack, or fewer services per environment (docs/decisions/0007, 0017)';

/** Every limit the templates (their text as written, by stack name) break, with the measure and the way out. */
export function limitViolations(texts: Readonly<Record<string, string>>): LimitViolation[] {
  const m = measureTemplates(texts);
  const out: LimitViolation[] = [];
  for (const t of m.templates) {
    const { stack } = t;
    if (t.bytes > LIMITS.templateBytes)
      out.push({
        stack,
        rule: 'template-size',
        message: `${stack}: the template is ${t.bytes} bytes; CloudFormation accepts ${LIMITS.templateBytes}. ${SPLIT}`,
      });
    for (const [n, key, limit, rule] of [
      [t.resources, 'resources', LIMITS.resources, 'resources'],
      [t.outputs, 'outputs', LIMITS.outputs, 'outputs'],
      [t.parameters, 'parameters', LIMITS.parameters, 'parameters'],
      [t.mappings, 'mappings', LIMITS.mappings, 'mappings'],
    ] as const) {
      if (n > limit)
        out.push({
          stack,
          rule,
          message: `${stack}: the template has ${n} ${key}; a CloudFormation stack holds ${limit}. ${SPLIT}`,
        });
    }
    if (t.dynamicReferences > LIMITS.dynamicReferences)
      out.push({
        stack,
        rule: 'dynamic-references',
        message: `${stack}: the template has ${t.dynamicReferences} dynamic references ({{resolve:...}}); CloudFormation resolves ${LIMITS.dynamicReferences} per template. Each weighted ALB rule reads 2 live weights: group the service's routes with the same methods into fewer rules`,
      });
  }
  for (const e of m.lambdaEnvironments.filter((x) => x.size > LIMITS.lambdaEnvironmentBytes))
    out.push({
      stack: e.stack,
      rule: 'lambda-environment',
      logicalId: e.id,
      message: `${e.stack}/${e.id}: its environment variables take about ${e.size} bytes; Lambda allows ${LIMITS.lambdaEnvironmentBytes} per function. Keep per-service data out of the environment (derive it, or read it from a parameter)`,
    });
  for (const p of m.managedPolicies.filter((x) => x.size > LIMITS.managedPolicyChars))
    out.push({
      stack: p.stack,
      rule: 'managed-policy-size',
      logicalId: p.id,
      message: `${p.stack}/${p.id}: the managed policy takes about ${p.size} characters (whitespace excluded, ARNs resolved); IAM accepts ${LIMITS.managedPolicyChars}. Grant on a name pattern (lib/patterns.ts) instead of one ARN per service, or split the statements over several policies`,
    });
  for (const r of m.roleInlinePolicies.filter((x) => x.size > LIMITS.roleInlinePolicyChars))
    out.push({
      stack: r.stack,
      rule: 'role-inline-policies',
      logicalId: r.id,
      message: `${r.stack ? `${r.stack}/` : ''}${r.id}: the role's inline policies take about ${r.size} characters together (whitespace excluded, ARNs resolved); IAM accepts ${LIMITS.roleInlinePolicyChars} per role. Grant on a name pattern (lib/patterns.ts) instead of one ARN per service`,
    });
  for (const r of m.roleManagedPolicies.filter((x) => x.size > LIMITS.managedPoliciesPerRole))
    out.push({
      stack: r.stack,
      rule: 'role-managed-policies',
      logicalId: r.id,
      message: `${r.stack ? `${r.stack}/` : ''}${r.id}: ${r.size} managed policies are attached to the role (CDK adds an OverflowPolicy for every 6 KB of grants past the inline limit); IAM attaches ${LIMITS.managedPoliciesPerRole} by default. Grant on a name pattern (lib/patterns.ts) instead of one ARN per service`,
    });
  for (const e of m.eventPatterns.filter((x) => x.size > LIMITS.eventPatternChars))
    out.push({
      stack: e.stack,
      rule: 'event-pattern-size',
      logicalId: e.id,
      message: `${e.stack}/${e.id}: the event pattern takes about ${e.size} characters; EventBridge accepts ${LIMITS.eventPatternChars} by default. Match a name prefix and filter in the target instead of listing every service's names`,
    });
  for (const g of m.securityGroupRules.filter((x) => x.size > LIMITS.securityGroupRules))
    out.push({
      rule: 'security-group-rules',
      logicalId: g.id.split(' ')[0],
      message: `${g.id}: the security group has ${g.size} ${g.id.endsWith('egress') ? 'outbound' : 'inbound'} rules; a VPC allows ${LIMITS.securityGroupRules} per direction by default. Raise the quota "Inbound or outbound rules per security group" (Service Quotas, VPC) before the deploy, or fewer services per environment`,
    });
  return out;
}

/** Every limit one template breaks (`limitViolations` of that template alone). */
export function templateLimitViolations(stack: string, text: string): LimitViolation[] {
  return limitViolations({ [stack]: text });
}

/** The limits as a CDK validation plugin: `Validations.of(app).addPlugins(new DeployLimitsCheck())`. */
export class DeployLimitsCheck implements IPolicyValidationPlugin {
  readonly name = 'migration-deploy-limits';
  readonly version = '1.1.0';
  readonly ruleIds = [
    'template-size',
    'resources',
    'outputs',
    'parameters',
    'mappings',
    'dynamic-references',
    'lambda-environment',
    'managed-policy-size',
    'role-inline-policies',
    'role-managed-policies',
    'event-pattern-size',
    'security-group-rules',
  ];

  validate(context: IPolicyValidationContext): PolicyValidationPluginReport {
    const paths = new Map(
      context.templatePaths.map((p) => [basename(p).replace(/\.template\.json$/, ''), p] as const),
    );
    const texts = Object.fromEntries([...paths].map(([stack, p]) => [stack, readFileSync(p, 'utf8')]));
    const violations: PolicyViolation[] = limitViolations(texts).map((v) => {
      const templatePath = (v.stack && paths.get(v.stack)) || context.templatePaths[0];
      return {
        ruleName: `migration-limits/${v.rule}`,
        description: v.message,
        violatingResources: [
          { templatePath, resourceLogicalId: v.logicalId ?? v.stack ?? '', locations: [] },
        ],
      };
    });
    return { success: violations.length === 0, violations };
  }
}
