import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatSummary, summarize } from '../../scripts/synth-summary';

/** A small cloud assembly: a stateless stack that depends on a stateful one, listed in the other order. */
function assembly(): string {
  const dir = mkdtempSync(join(tmpdir(), 'summary-'));
  const stack = (name: string, description: string, deps: string[], stateful: boolean) => {
    writeFileSync(
      join(dir, `${name}.template.json`),
      JSON.stringify({ Description: description, Resources: { A: {}, B: {} } }),
    );
    writeFileSync(
      join(dir, `${name}.metadata.json`),
      JSON.stringify(
        stateful ? {} : { [`/${name}`]: [{ type: 'aws:cdk:warning', data: 'reads with the master secret' }] },
      ),
    );
    return {
      type: 'aws:cloudformation:stack',
      dependencies: deps,
      properties: { templateFile: `${name}.template.json`, terminationProtection: stateful },
      additionalMetadataFile: `${name}.metadata.json`,
    };
  };
  writeFileSync(
    join(dir, 'manifest.json'),
    JSON.stringify({
      artifacts: {
        'demo-a-service': stack(
          'demo-a-service',
          'demo migration, phase 1: users service',
          ['demo-z-data'],
          false,
        ),
        'demo-z-data': stack('demo-z-data', 'demo migration, phase 1, stateful: users database', [], true),
        Tree: { type: 'cdk:tree' },
      },
    }),
  );
  return dir;
}

describe('the synth summary', () => {
  it('lists the stacks in deploy order with the phase each starts at, kind, resources and warnings', () => {
    expect(formatSummary(summarize(assembly()))).toBe(
      [
        'Stacks in deploy order:',
        '#  stack           from phase  kind                               resources',
        '1  demo-z-data     1           stateful (termination protection)  2',
        '2  demo-a-service  1           stateless                          2',
        '',
        'Warnings:',
        '  - /demo-a-service: reads with the master secret',
      ].join('\n'),
    );
  });
});
