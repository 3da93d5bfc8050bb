/** Readers of synthesized templates that several case files use. */
import type { Template } from 'aws-cdk-lib/assertions';
import { type ProxyRuntimeConfig, parseProxyConfig } from '../../lib/proxy/contract';

// biome-ignore lint/suspicious/noExplicitAny: CloudFormation templates are untyped JSON
type Json = any;

/**
 * Where each resource of a template stands relative to one of them: `before` are the resources it
 * depends on (DependsOn, Ref, Fn::GetAtt, transitively), `after` those that depend on it, `unordered`
 * the rest (CloudFormation may create them in any order, even after it).
 */
export function orderAround(t: Template, id: string) {
  const resources: Record<string, Json> = t.toJSON().Resources;
  const direct = (r: Json): string[] => {
    const out = new Set<string>(r.DependsOn ?? []);
    const walk = (v: Json): void => {
      if (Array.isArray(v)) for (const x of v) walk(x);
      else if (v && typeof v === 'object') {
        if (typeof v.Ref === 'string' && v.Ref in resources) out.add(v.Ref);
        if (Array.isArray(v['Fn::GetAtt'])) out.add(v['Fn::GetAtt'][0]);
        for (const x of Object.values(v)) walk(x);
      }
    };
    walk(r.Properties);
    return [...out];
  };
  const closure = (from: string): Set<string> => {
    const seen = new Set<string>();
    const visit = (x: string): void => {
      for (const d of direct(resources[x]))
        if (!seen.has(d)) {
          seen.add(d);
          visit(d);
        }
    };
    visit(from);
    return seen;
  };
  const before = closure(id);
  const others = Object.keys(resources).filter((x) => x !== id && !before.has(x));
  const after = others.filter((x) => closure(x).has(id));
  return { before: [...before], after, unordered: others.filter((x) => !after.includes(x)) };
}

/** The legacy service's task definition (the only one in the platform stack). */
export function legacyTask(t: Template): Json {
  const [task] = Object.values(t.findResources('AWS::ECS::TaskDefinition'));
  return task.Properties;
}

export function legacyContainer(t: Template, name: string): Json {
  return legacyTask(t).ContainerDefinitions.find((c: Json) => c.Name === name);
}

export function envOf(container: Json): Record<string, Json> {
  return Object.fromEntries((container.Environment ?? []).map((e: Json) => [e.Name, e.Value]));
}

/** The routing proxy's runtime document, read as the proxy reads it (validated). */
export function proxyConfigOf(t: Template): ProxyRuntimeConfig {
  const parsed = parseProxyConfig(envOf(legacyContainer(t, 'Proxy')).ROUTING_PROXY_CONFIG);
  if (!parsed.ok) throw new Error(parsed.errors.join('\n'));
  return parsed.config;
}

/** Every IAM statement of the template that names an SSM action. */
export function ssmStatements(t: Template): Json[] {
  return Object.values(t.findResources('AWS::IAM::Policy'))
    .flatMap((p) => p.Properties.PolicyDocument.Statement)
    .filter((s) => JSON.stringify(s.Action).includes('ssm:'));
}
