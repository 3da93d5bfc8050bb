/**
 * CloudFormation's and Lambda's hard limits, checked at synth against the written templates: a config
 * that grows past one fails `cdk synth` (and `cdk deploy`) with the limit and the way out, instead of
 * failing in the middle of a deploy. A CDK validation plugin, like cdk-nag: it reads only cdk.out.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import type {
  IPolicyValidationContext,
  IPolicyValidationPlugin,
  PolicyValidationPluginReport,
  PolicyViolation,
} from 'aws-cdk-lib';

/** The limits, as AWS documents them (CloudFormation quotas; Lambda quotas). */
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
} as const;

/** What an unresolved value (an ARN or name from Ref, GetAtt, GetStackOutput) is counted as. */
const UNRESOLVED_BYTES = 128;

export interface LimitViolation {
  readonly rule: string;
  readonly message: string;
  readonly logicalId?: string;
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
  return UNRESOLVED_BYTES;
}

/** Every limit the template (its text as written) breaks, with the way out. */
export function templateLimitViolations(stack: string, text: string): LimitViolation[] {
  const template: Json = JSON.parse(text);
  const out: LimitViolation[] = [];
  const bytes = Buffer.byteLength(text);
  if (bytes > LIMITS.templateBytes)
    out.push({
      rule: 'template-size',
      message: `${stack}: the template is ${bytes} bytes; CloudFormation accepts ${LIMITS.templateBytes}. Fewer services per environment, or split the stack (docs/decisions/0007)`,
    });
  const count = (key: string) => Object.keys(template[key] ?? {}).length;
  for (const [key, limit, rule] of [
    ['Resources', LIMITS.resources, 'resources'],
    ['Outputs', LIMITS.outputs, 'outputs'],
    ['Parameters', LIMITS.parameters, 'parameters'],
    ['Mappings', LIMITS.mappings, 'mappings'],
  ] as const) {
    if (count(key) > limit)
      out.push({
        rule,
        message: `${stack}: the template has ${count(key)} ${key.toLowerCase()}; a CloudFormation stack holds ${limit}. Fewer services per environment, or split the stack (docs/decisions/0007)`,
      });
  }
  const references = (text.match(/\{\{resolve:/g) ?? []).length;
  if (references > LIMITS.dynamicReferences)
    out.push({
      rule: 'dynamic-references',
      message: `${stack}: the template has ${references} dynamic references ({{resolve:...}}); CloudFormation resolves ${LIMITS.dynamicReferences} per template. Each weighted ALB rule reads 2 live weights: group the service's routes with the same methods into fewer rules`,
    });
  for (const [logicalId, resource] of Object.entries<Json>(template.Resources ?? {})) {
    if (resource.Type !== 'AWS::Lambda::Function') continue;
    const variables: Record<string, Json> = resource.Properties?.Environment?.Variables ?? {};
    const size = Object.entries(variables).reduce(
      (n, [k, v]) => n + Buffer.byteLength(k) + estimatedLength(v),
      0,
    );
    if (size > LIMITS.lambdaEnvironmentBytes)
      out.push({
        rule: 'lambda-environment',
        logicalId,
        message: `${stack}/${logicalId}: its environment variables take about ${size} bytes; Lambda allows ${LIMITS.lambdaEnvironmentBytes} per function. Keep per-service data out of the environment (derive it, or read it from a parameter)`,
      });
  }
  return out;
}

/** The limits as a CDK validation plugin: `Validations.of(app).addPlugins(new DeployLimitsCheck())`. */
export class DeployLimitsCheck implements IPolicyValidationPlugin {
  readonly name = 'migration-deploy-limits';
  readonly version = '1.0.0';
  readonly ruleIds = [
    'template-size',
    'resources',
    'outputs',
    'parameters',
    'mappings',
    'dynamic-references',
    'lambda-environment',
  ];

  validate(context: IPolicyValidationContext): PolicyValidationPluginReport {
    const violations: PolicyViolation[] = [];
    for (const templatePath of context.templatePaths) {
      const stack = basename(templatePath).replace(/\.template\.json$/, '');
      for (const v of templateLimitViolations(stack, readFileSync(templatePath, 'utf8'))) {
        violations.push({
          ruleName: `migration-limits/${v.rule}`,
          description: v.message,
          violatingResources: [{ templatePath, resourceLogicalId: v.logicalId ?? stack, locations: [] }],
        });
      }
    }
    return { success: violations.length === 0, violations };
  }
}
