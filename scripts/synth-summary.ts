/**
 * Prints what `cdk synth` wrote: every stack in deploy order with the phase it starts at, whether it is stateful,
 * its resource count, and the warnings the app raised. Reads only cdk.out, so it describes exactly the
 * templates that would be deployed.
 *
 * Usage: tsx scripts/synth-summary.ts [cdk.out]
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type AbsentStack, parseAbsentStackNotice } from '../lib/stack-shape';
import { table } from '../lib/text/table';

interface Artifact {
  readonly type: string;
  readonly dependencies?: string[];
  readonly properties?: { templateFile?: string; terminationProtection?: boolean };
  readonly additionalMetadataFile?: string;
  readonly metadata?: Record<string, { type: string; data: unknown }[]>;
}

export interface StackSummary {
  readonly name: string;
  /** The phase from which the stack exists (its description's "phase n"). */
  readonly fromPhase: string;
  readonly stateful: boolean;
  readonly resources: number;
  readonly warnings: string[];
  /** Stacks of the app this configuration does not have (the app's info annotations). */
  readonly absent?: AbsentStack[];
}

function readJson<T>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}

/** Stacks of a cloud assembly in dependency (deploy) order. */
export function summarize(outdir: string): StackSummary[] {
  const manifest = readJson<{ artifacts: Record<string, Artifact> }>(join(outdir, 'manifest.json'));
  const stacks = Object.entries(manifest.artifacts).filter(([, a]) => a.type === 'aws:cloudformation:stack');
  const names = new Set(stacks.map(([n]) => n));
  const ordered: string[] = [];
  const visit = (name: string, seen: Set<string>) => {
    if (ordered.includes(name) || seen.has(name)) return;
    seen.add(name);
    for (const dep of manifest.artifacts[name].dependencies ?? []) if (names.has(dep)) visit(dep, seen);
    ordered.push(name);
  };
  for (const [name] of stacks.sort(([a], [b]) => a.localeCompare(b))) visit(name, new Set());

  return ordered.map((name) => {
    const artifact = manifest.artifacts[name];
    const template = readJson<{ Description?: string; Resources?: object }>(
      join(outdir, artifact.properties?.templateFile ?? `${name}.template.json`),
    );
    const metadata = artifact.additionalMetadataFile
      ? readJson<Record<string, { type: string; data: unknown }[]>>(
          join(outdir, artifact.additionalMetadataFile),
        )
      : (artifact.metadata ?? {});
    const warnings = Object.entries(metadata).flatMap(([path, entries]) =>
      entries.filter((e) => e.type === 'aws:cdk:warning').map((e) => `${path}: ${String(e.data)}`),
    );
    const absent = Object.values(metadata).flatMap((entries) =>
      entries.flatMap((e) =>
        e.type === 'aws:cdk:info' ? (parseAbsentStackNotice(String(e.data)) ?? []) : [],
      ),
    );
    return {
      name,
      fromPhase: /phase (\d)/.exec(template.Description ?? '')?.[1] ?? '?',
      stateful: artifact.properties?.terminationProtection === true,
      resources: Object.keys(template.Resources ?? {}).length,
      warnings,
      ...(absent.length > 0 ? { absent } : {}),
    };
  });
}

export function formatSummary(summaries: StackSummary[]): string {
  const rows = summaries.map((s, i) => [
    String(i + 1),
    s.name,
    s.fromPhase,
    s.stateful ? 'stateful (termination protection)' : 'stateless',
    String(s.resources),
  ]);
  const header = ['#', 'stack', 'from phase', 'kind', 'resources'];
  const out = ['Stacks in deploy order:', table(header, rows)];
  const warnings = summaries.flatMap((s) => s.warnings);
  if (warnings.length > 0) out.push('', 'Warnings:', ...warnings.map((w) => `  - ${w}`));
  const absent = summaries.flatMap((s) => s.absent ?? []);
  if (absent.length > 0) out.push('', ...formatAbsent(absent));
  return out.join('\n');
}

/**
 * What to do about the stacks that left the app: `cdk deploy --all` never deletes them, so a deployed
 * one keeps running (and, for a stateful one, keeps its data on purpose). docs/runbook.md has the why.
 */
export function formatAbsent(absent: readonly AbsentStack[]): string[] {
  const out = [
    'Stacks that leave the app (cdk deploy --all does not delete them; if one is deployed, after the deploy):',
  ];
  for (const a of absent) {
    out.push(`  - ${a.stackName}: ${a.reason}`);
    if (a.stateful)
      out.push(
        '      keep it (stateful); see docs/runbook.md "Changing the shape: stacks that leave the app"',
      );
    else out.push(...a.commands.map((c) => `      ${c}`));
  }
  return out;
}

if (require.main === module) {
  const outdir = process.argv[2] ?? 'cdk.out';
  if (!existsSync(join(outdir, 'manifest.json'))) {
    console.error(`${outdir}/manifest.json not found: run cdk synth first`);
    process.exit(1);
  }
  console.log(formatSummary(summarize(outdir)));
}
