/**
 * Mistakes a new user makes in an environment file that were not caught, or caught with the wrong
 * words (issue 26): each is one problem, naming the field and the fix.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RegionInfo } from 'aws-cdk-lib/region-info';
import { KNOWN_REGIONS, REGION } from '../../lib/config/schema/regions';
import { parseConfig } from '../../lib/environment/parse';

/** envs/example.json (account 123456789012, eu-west-1, an imported legacy database), changed by `mutate`. */
// biome-ignore lint/suspicious/noExplicitAny: a raw JSON document, validated by parseConfig
function example(mutate: (input: any) => void) {
  const input = JSON.parse(readFileSync(join(__dirname, '..', '..', 'envs', 'example.json'), 'utf8'));
  mutate(input);
  const result = parseConfig(input);
  return result.ok ? [] : result.problems.map((p) => `${p.path}: ${p.message}`);
}

describe('first mistakes in an environment file', () => {
  it.each([
    [
      'an ACM certificate of another region than the load balancer',
      // biome-ignore lint/suspicious/noExplicitAny: raw input
      (c: any) => {
        c.alb.certificateArn = c.alb.certificateArn.replace('eu-west-1', 'us-east-1');
      },
      'alb.certificateArn: is in us-east-1, but the environment is in eu-west-1 (region); a load balancer takes only a certificate of its own region: request or import the certificate in ACM in eu-west-1 and use its ARN',
    ],
    [
      'a read-only secret of another region',
      // biome-ignore lint/suspicious/noExplicitAny: raw input
      (c: any) => {
        c.services[0].legacyReadSecretArn = c.services[0].legacyReadSecretArn.replace(
          'eu-west-1',
          'eu-central-1',
        );
      },
      "services[0].legacyReadSecretArn: is in eu-central-1, but the environment is in eu-west-1 (region); the legacy database is in eu-west-1: use the ARN of its read-only user's secret in eu-west-1 (a replica has its own ARN there)",
    ],
    [
      "the imported legacy database's secret of another region",
      // biome-ignore lint/suspicious/noExplicitAny: raw input
      (c: any) => {
        c.legacy.database.secretArn = c.legacy.database.secretArn.replace('eu-west-1', 'eu-west-2');
      },
      'legacy.database.secretArn: is in eu-west-2, but the environment is in eu-west-1 (region); use the ARN of the secret in eu-west-1 (a replica has its own ARN there)',
    ],
    [
      'a mistyped region (one line, not one per ARN that now differs)',
      // biome-ignore lint/suspicious/noExplicitAny: raw input
      (c: any) => {
        c.region = 'eu-wset-1';
      },
      'region: "eu-wset-1" is not an AWS region this app knows (did you mean "eu-west-1"?); fix the spelling, or, for a region AWS opened after this release, set "newRegion": true',
    ],
    [
      'a region number that does not exist',
      // biome-ignore lint/suspicious/noExplicitAny: raw input
      (c: any) => {
        c.region = 'eu-west-9';
      },
      'region: "eu-west-9" is not an AWS region this app knows (did you mean "eu-west-1", "eu-west-2" or "eu-west-3"?); fix the spelling, or, for a region AWS opened after this release, set "newRegion": true',
    ],
    [
      'newRegion for a known region',
      // biome-ignore lint/suspicious/noExplicitAny: raw input
      (c: any) => {
        c.newRegion = true;
      },
      'newRegion: eu-west-1 is a region this app knows; remove newRegion',
    ],
    [
      'legacy.database without mode',
      // biome-ignore lint/suspicious/noExplicitAny: raw input
      (c: any) => {
        delete c.legacy.database.mode;
      },
      'legacy.database.mode: missing, and endpoint, port, securityGroupId and secretArn are keys of an existing database: set "mode": "import" (or remove them for a database the app creates, "mode": "create")',
    ],
    [
      'a lower-case method',
      // biome-ignore lint/suspicious/noExplicitAny: raw input
      (c: any) => {
        c.services[0].routes[0].methods = ['post'];
      },
      'services[0].routes[0].methods[0]: "post" is not allowed: methods are written in capitals; use "POST"',
    ],
    [
      'an unknown method (only the methods a route can take are offered)',
      // biome-ignore lint/suspicious/noExplicitAny: raw input
      (c: any) => {
        c.services[0].routes[0].methods = ['FETCH'];
      },
      'services[0].routes[0].methods[0]: "FETCH" is not allowed; use "GET", "POST", "PUT", "PATCH" or "DELETE"',
    ],
  ])('%s', (_name, mutate, problem) => {
    expect(example(mutate)).toEqual([problem]);
  });

  it('lets a region AWS opened after this release through with newRegion', () => {
    const problems = example((c) => {
      c.region = 'eu-west-4';
      c.newRegion = true;
      c.alb.certificateArn = c.alb.certificateArn.replace('eu-west-1', 'eu-west-4');
      c.legacy.database.secretArn = c.legacy.database.secretArn.replace('eu-west-1', 'eu-west-4');
      c.services[0].legacyReadSecretArn = c.services[0].legacyReadSecretArn.replace('eu-west-1', 'eu-west-4');
    });
    expect(problems).toEqual([]);
  });

  it('creates the legacy database when mode is missing and no key of an imported one is given', () => {
    const problems = example((c) => {
      c.legacy.database = { engine: 'postgres', engineVersion: '17.9' };
    });
    expect(problems).toEqual([]);
  });

  it("know the regions of the CDK's own region table (update KNOWN_REGIONS with aws-cdk-lib)", () => {
    const cdk = RegionInfo.regions.map((r) => r.name).filter((name) => REGION.test(name));
    expect([...KNOWN_REGIONS].sort()).toEqual(cdk.sort());
  });
});
