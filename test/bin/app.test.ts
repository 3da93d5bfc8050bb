import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { demoInput } from '../helpers/test-app';
import { COMPANY_VPC, vpcLookupContext } from '../helpers/vpc-lookup';

const ROOT = join(__dirname, '..', '..');

/** Runs bin/app.ts as the CDK CLI does, with a config file and an output directory. */
function runApp(
  configPath: string,
  outdir = join(mkdtempSync(join(tmpdir(), 'app-')), 'cdk.out'),
  context: Record<string, unknown> = {},
) {
  const result = spawnSync(join(ROOT, 'node_modules', '.bin', 'tsx'), ['bin/app.ts'], {
    cwd: ROOT,
    encoding: 'utf8',
    env: {
      ...process.env,
      CDK_OUTDIR: outdir,
      CDK_CONTEXT_JSON: JSON.stringify({ ...context, config: configPath }),
    },
  });
  return { ...result, outdir };
}

describe('bin/app.ts with an invalid config file', () => {
  it('prints every problem with its path and fix, exits non-zero and synthesizes nothing', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'cfg-')), 'bad.json');
    const input = demoInput();
    input.legacy.cpu = 300;
    input.services[0].phase = 7;
    writeFileSync(path, JSON.stringify(input));

    const { status, stderr, outdir } = runApp(path);

    expect(status).toBe(1);
    expect(stderr).toContain(`Invalid configuration ${path} (2 problems):`);
    expect(stderr).toContain('legacy.cpu: 300 is not allowed; use 256, 512, 1024, 2048, 4096, 8192 or 16384');
    expect(stderr).toContain('services[0].phase: 7 is not allowed; use 0, 1, 2 or 3');
    // The CDK CLI creates the output directory; the app must not write anything into it.
    expect(existsSync(outdir) ? readdirSync(outdir) : []).toEqual([]);
  });

  it('removes the templates of an earlier synthesis, so that none looks current', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'cfg-')), 'bad.json');
    const input = demoInput();
    input.name = 'Bad Name';
    writeFileSync(path, JSON.stringify(input));
    const outdir = mkdtempSync(join(tmpdir(), 'old-out-'));
    for (const file of [
      'manifest.json',
      'demo-10-network.template.json',
      'demo-10-network.assets.json',
      'notes.txt',
    ])
      writeFileSync(join(outdir, file), '{}');
    const { status } = runApp(path, outdir);
    expect(status).toBe(1);
    expect(readdirSync(outdir)).toEqual(['notes.txt']);
  });
});

describe('bin/app.ts with a VPC whose layout the config does not fit', () => {
  it('prints the problem with its key and fix instead of a stack trace, and synthesizes nothing', () => {
    // The company's VPC has public and private subnets, no isolated ones (issue 27).
    const path = join(mkdtempSync(join(tmpdir(), 'cfg-')), 'company.json');
    const input = demoInput();
    Object.assign(input, { account: COMPANY_VPC.account, region: COMPANY_VPC.region });
    input.vpc = { mode: 'import', vpcId: COMPANY_VPC.vpcId };
    writeFileSync(path, JSON.stringify(input));

    const { status, stderr, outdir } = runApp(path, undefined, vpcLookupContext(COMPANY_VPC));

    expect(status).toBe(1);
    expect(stderr).toContain(
      `Invalid configuration for ${COMPANY_VPC.vpcId} as looked up (cdk.context.json) (1 problem):\n  - vpc.subnets.databases: ${COMPANY_VPC.vpcId} has no isolated subnets`,
    );
    expect(stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(outdir) ? readdirSync(outdir) : []).toEqual([]);
  });
});
