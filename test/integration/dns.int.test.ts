/**
 * `npx migrate dns` against the emulator (Route 53 and CloudFormation in moto_server): the company's
 * record of the clients' name becomes the weighted pair, steps, goes back, and becomes the original
 * record again, each in one atomic change batch; what the tool did not make is refused untouched.
 */
import { randomBytes } from 'node:crypto';
import { CloudFormationClient, CreateStackCommand } from '@aws-sdk/client-cloudformation';
import {
  ChangeResourceRecordSetsCommand,
  CreateHostedZoneCommand,
  ListResourceRecordSetsCommand,
  type ResourceRecordSet,
  Route53Client,
} from '@aws-sdk/client-route-53';
import { main } from '../../lib/cli/main';
import { APP_TARGET_OUTPUTS } from '../../lib/dns/weighted-records';
import { platformStackName } from '../../lib/naming';
import { isolatedConfig, motoClientConfig, motoClients } from '../helpers/moto';

const common = motoClientConfig();
const route53 = new Route53Client(common);
const cloudFormation = new CloudFormationClient(common);
const { ssm } = motoClients();
afterAll(() => {
  route53.destroy();
  cloudFormation.destroy();
  ssm.destroy();
});

const OLD_ALB = {
  HostedZoneId: 'Z32O12XQLNTSW2',
  DNSName: 'shop-old-1234567890.eu-west-1.elb.amazonaws.com',
};
const APP_ALB = 'demo-LoadB-abcdef123456-987654321.eu-west-1.elb.amazonaws.com';

/** A zone of its own (the emulator is shared), the company's record in it, and the app's platform stack. */
async function estate(opts: { deployed?: boolean; record?: ResourceRecordSet } = {}) {
  const tag = randomBytes(4).toString('hex');
  const zoneName = `shop${tag}.example`;
  const recordName = `www.${zoneName}`;
  const zone = await route53.send(new CreateHostedZoneCommand({ Name: zoneName, CallerReference: tag }));
  const hostedZoneId = (zone.HostedZone?.Id ?? '').replace('/hostedzone/', '');
  const record: ResourceRecordSet = opts.record ?? {
    Name: recordName,
    Type: 'A',
    AliasTarget: { ...OLD_ALB, EvaluateTargetHealth: false },
  };
  await route53.send(
    new ChangeResourceRecordSetsCommand({
      HostedZoneId: hostedZoneId,
      ChangeBatch: { Changes: [{ Action: 'CREATE', ResourceRecordSet: { ...record, Name: recordName } }] },
    }),
  );
  const env = isolatedConfig((input) => {
    input.name = `dns${tag}`;
    for (const s of input.services) s.phase = 0;
    input.dns = { hostedZoneId, zoneName, recordName };
  });
  if (opts.deployed ?? true)
    await cloudFormation.send(
      new CreateStackCommand({
        StackName: platformStackName(env.config.name),
        TemplateBody: JSON.stringify({
          Resources: { Topic: { Type: 'AWS::SNS::Topic' } },
          Outputs: {
            [APP_TARGET_OUTPUTS.dnsName]: { Value: APP_ALB },
            [APP_TARGET_OUTPUTS.hostedZoneId]: { Value: 'Z32O12XQLNTSW2' },
          },
        }),
      }),
    );
  const cli = async (...args: string[]) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await main([...args, '--config', env.path], {
      out: (l) => out.push(l),
      err: (l) => err.push(l),
      env: {},
      connect: () => ({
        ssm,
        stepFunctions: async () => {
          throw new Error('not used');
        },
        dnsClients: async () => ({ route53, cloudFormation }),
      }),
      sleep: async () => {},
    });
    return { code, stdout: out.join('\n'), stderr: err.join('\n') };
  };
  /** The name's records as Route 53 lists them: [type, set identifier, weight, target]. */
  const records = async () => {
    const out = await route53.send(new ListResourceRecordSetsCommand({ HostedZoneId: hostedZoneId }));
    return (out.ResourceRecordSets ?? [])
      .filter((r) => r.Name === `${recordName}.`)
      .map((r) => [
        r.Type,
        r.SetIdentifier ?? null,
        r.Weight ?? null,
        r.AliasTarget
          ? `alias ${r.AliasTarget.DNSName}`
          : (r.ResourceRecords ?? []).map((v) => v.Value).join(','),
      ]);
  };
  return { cli, records, recordName, hostedZoneId };
}

describe('npx migrate dns', () => {
  it('moves the name in weighted steps and back, then restores the original record', async () => {
    const { cli, records, recordName } = await estate();
    const original = await records();
    expect(original).toEqual([['A', null, null, `alias ${OLD_ALB.DNSName}`]]);

    const status = await cli('dns', 'status');
    expect(status).toMatchObject({ code: 0 });
    expect(status.stdout).toContain(`${recordName} A: simple record, alias ${OLD_ALB.DNSName}`);
    expect(status.stdout).toContain(`the app's load balancer: ${APP_ALB}`);

    // Step 0 prepares the pair and moves no client: every answer is still the company's.
    expect(await cli('dns', 'weight', '0')).toMatchObject({
      code: 0,
      stdout: expect.stringMatching(
        /the simple record becomes the weighted pair, legacy 100 \/ app 0 .*\n.*in sync/,
      ),
    });
    expect(await records()).toEqual([
      ['A', 'legacy', 100, `alias ${OLD_ALB.DNSName}`],
      ['A', 'app', 0, `alias ${APP_ALB}`],
    ]);

    for (const [percent, legacy] of [
      [10, 90],
      [50, 50],
      [100, 0],
    ]) {
      expect((await cli('dns', 'weight', String(percent))).code).toBe(0);
      expect(await records()).toEqual([
        ['A', 'legacy', legacy, `alias ${OLD_ALB.DNSName}`],
        ['A', 'app', percent, `alias ${APP_ALB}`],
      ]);
    }
    expect((await cli('dns', 'status')).stdout).toContain(
      'weighted, legacy 0 / app 100 (100 % of answers to the app)',
    );

    // The way back: first every answer to the company's load balancer, then its record alone.
    expect((await cli('dns', 'weight', '0')).code).toBe(0);
    expect((await records())[1]).toEqual(['A', 'app', 0, `alias ${APP_ALB}`]);
    expect(await cli('dns', 'restore')).toMatchObject({
      code: 0,
      stdout: expect.stringContaining("back to the company's record alone"),
    });
    expect(await records()).toEqual(original);
  });

  it("finishes at 100 with the app's load balancer alone, and refuses before", async () => {
    const { cli, records } = await estate();
    await cli('dns', 'weight', '90');
    expect(await cli('dns', 'finish')).toMatchObject({
      code: 3,
      stderr: expect.stringMatching(/step it to 100 first/),
    });
    await cli('dns', 'weight', '100');
    expect((await cli('dns', 'finish')).code).toBe(0);
    expect(await records()).toEqual([['A', null, null, `alias ${APP_ALB}`]]);
    expect((await cli('dns', 'weight', '50')).stdout).toMatch(
      /points at the app's load balancer only; nothing to step/,
    );
  });

  it('shows a dry run and changes nothing, and does nothing when the weights are already there', async () => {
    const { cli, records } = await estate();
    const before = await records();
    const dry = await cli('dns', 'weight', '25', '--dry-run');
    expect(dry).toMatchObject({ code: 0, stdout: expect.stringContaining('dry run: would submit to') });
    expect(await records()).toEqual(before);
    await cli('dns', 'weight', '25');
    expect(await cli('dns', 'weight', '25')).toMatchObject({
      code: 0,
      stdout: expect.stringMatching(/already$/),
    });
  });

  it('steps a CNAME as a weighted pair of CNAMEs with its TTL', async () => {
    const { cli, records } = await estate({
      record: { Name: '', Type: 'CNAME', TTL: 300, ResourceRecords: [{ Value: OLD_ALB.DNSName }] },
    });
    expect((await cli('dns', 'weight', '20')).code).toBe(0);
    expect(await records()).toEqual([
      ['CNAME', 'legacy', 80, OLD_ALB.DNSName],
      ['CNAME', 'app', 20, APP_ALB],
    ]);
    const restored = await cli('dns', 'restore');
    expect(restored.stderr).toBe('');
    expect(restored.code).toBe(0);
    expect(await records()).toEqual([['CNAME', null, null, OLD_ALB.DNSName]]);
  });

  it('refuses a name with AAAA records and changes nothing', async () => {
    const { cli, records, recordName, hostedZoneId } = await estate();
    await route53.send(
      new ChangeResourceRecordSetsCommand({
        HostedZoneId: hostedZoneId,
        ChangeBatch: {
          Changes: [
            {
              Action: 'CREATE',
              ResourceRecordSet: {
                Name: recordName,
                Type: 'AAAA',
                AliasTarget: { ...OLD_ALB, EvaluateTargetHealth: false },
              },
            },
          ],
        },
      }),
    );
    const before = await records();
    expect(await cli('dns', 'weight', '10')).toMatchObject({
      code: 3,
      stderr: expect.stringMatching(/^refused: .* has AAAA records: IPv6 clients would keep reaching/),
    });
    expect(await records()).toEqual(before);
  });

  it("says when the app's load balancer is not deployed, and moves nothing", async () => {
    const { cli, records } = await estate({ deployed: false });
    expect((await cli('dns', 'status')).stdout).toContain("the app's load balancer: not deployed yet");
    const before = await records();
    expect(await cli('dns', 'weight', '10')).toMatchObject({
      code: 3,
      stderr: expect.stringMatching(/deploy the platform stack dns[0-9a-f]{8}-30-platform first/),
    });
    expect(await records()).toEqual(before);
  });
});
