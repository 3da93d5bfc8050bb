/**
 * docs/runbook.md, run as written against the emulator. Every block or table of the runbook preceded by
 * `<!-- checked: runbook.int <scenario> -->` is extracted (a fenced sh block as it stands; in a table or
 * a paragraph, every inline command: `npm run migrate ...`, `npx migrate ...`, `aws ...`) and run with
 * bash, one bash process per scenario, after the runbook's own setup blocks (the `setup` scenario).
 *
 * What the test supplies, and only that:
 * - the AWS side: moto_server for SSM (AWS_ENDPOINT_URL), and a profile `migration-operator` with dummy
 *   keys in a scratch AWS config, so that the runbook's `export AWS_PROFILE=...` works as written; the
 *   region comes from the runbook's own `AWS_REGION` and `$R`;
 * - the environment file: envs/example.json at the scenario's phase (the runbook's `envs/prod.json` is
 *   the operator's copy of it), named by MIGRATE_CONFIG after the setup blocks;
 * - the flag guard, in process, where AWS runs the Lambda: a stand-in for the Lambda Invoke API
 *   (AWS_ENDPOINT_URL_LAMBDA, the SDK's own per-service endpoint variable) answers the CLI's synchronous
 *   check, and after each step the test delivers the "Parameter Store Change" events the emulator does
 *   not emit (every flag whose version changed), as EventBridge would;
 * - what a deploy and the cutover state machine do: the flag parameters of a data stack, and the cutover
 *   document accepted by the guard (the state machine itself is not run here; see the runbook's
 *   "Checked:" lines for how it is checked).
 * For speed (the runbook has about 35 commands), only the first `npm run migrate -- <args>` and the first
 * `aws` of the run start as written; the others run the same programs started once: the CLI's `main`
 * (what bin/migrate.ts runs) in one Node process (test/helpers/cli-server.ts), and the AWS CLI forked
 * from one process that has imported it (test/helpers/aws-cli-server.py). Each takes the command's
 * arguments, environment and working directory, and gives back its output and exit code. A start of
 * npm + tsx costs about a second, one of the bundled CLI 0.25 s, one of the AWS CLI 0.5 s of CPU.
 *
 * The runbook's "Checked:" lines name the tests of the steps that cannot run here; the last test checks
 * that each named test exists.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudFormationClient, CreateStackCommand } from '@aws-sdk/client-cloudformation';
import {
  ChangeResourceRecordSetsCommand,
  CreateHostedZoneCommand,
  ListResourceRecordSetsCommand,
  Route53Client,
} from '@aws-sdk/client-route-53';
import {
  DeleteParametersCommand,
  GetParametersByPathCommand,
  GetParametersCommand,
  PutParameterCommand,
} from '@aws-sdk/client-ssm';
import type { EventBridgeEvent } from 'aws-lambda';
import { type GuardDependencies, guard, type ParameterChangeDetail } from '../../lambda/flag-guard/handler';
import { Alerts } from '../../lambda/shared/alerts';
import { jsonLogger } from '../../lambda/shared/log';
import type { MigrationConfig } from '../../lib/config/types';
import { selectConfig } from '../../lib/environment/load';
import { flagParameterNames, overrideParameterName } from '../../lib/flags/parameters';
import { hookServices } from '../../lib/hooks/contract';
import { flagGuardFunctionName, writeBackFunctionName } from '../../lib/naming';
import { capabilitiesOf } from '../../lib/phases';
import { writeBackChannel } from '../../lib/write-back/invoke';
import { ready, verifiedRun } from '../helpers/hooks';
import {
  createTopic,
  deployFlags,
  motoClientConfig,
  motoClients,
  motoEndpoint,
  REGION,
} from '../helpers/moto';
import { type DatabasePair, freshDatabases, sql } from '../helpers/postgres';
import { scriptInterpreter } from '../helpers/python';
import { invokeLocal, type LocalWriteBack, localWriteBack } from '../helpers/write-back';
import { hashOf, seedLegacy } from '../standins/monolith';
import { createServiceSchema, startUsersService, type UsersService } from '../standins/users-service';

const ROOT = join(__dirname, '..', '..');
const RUNBOOK = join(ROOT, 'docs', 'runbook.md');
const MARKER = /^<!-- checked: runbook\.int ([a-z0-9-]+) -->$/;
/** The inline commands of a table or paragraph: what an operator would paste into a shell. */
const INLINE_COMMAND = /^(npm run migrate|npx migrate|aws) /;

interface RunbookStep {
  readonly scenario: string;
  /** 1-based line of the runbook where the step is written. */
  readonly line: number;
  readonly command: string;
}

/** The marked steps of the runbook, in document order. */
function runbookSteps(markdown: string): RunbookStep[] {
  const lines = markdown.split('\n');
  const steps: RunbookStep[] = [];
  for (let i = 0; i < lines.length; i++) {
    const marker = MARKER.exec(lines[i].trim());
    if (!marker) continue;
    const scenario = marker[1];
    let j = i + 1;
    while (j < lines.length && lines[j].trim() === '') j++;
    const fence = /^(\s*)```sh\s*$/.exec(lines[j] ?? '');
    if (fence) {
      const body: string[] = [];
      for (j++; j < lines.length && !/^\s*```\s*$/.test(lines[j]); j++)
        body.push(lines[j].slice(fence[1].length));
      steps.push({ scenario, line: i + 3, command: body.join('\n') });
      continue;
    }
    // A table, a paragraph or a list item: up to the next blank line or list item.
    const item = /^\s*([-*]|\d+\.)\s/;
    for (
      let first = j;
      j < lines.length && lines[j].trim() !== '' && (j === first || !item.test(lines[j]));
      j++
    ) {
      for (const span of lines[j].matchAll(/`([^`]+)`/g)) {
        if (INLINE_COMMAND.test(span[1])) steps.push({ scenario, line: j + 1, command: span[1] });
      }
    }
  }
  return steps;
}

/** The configuration of a scenario: envs/example.json at its phase. */
function environmentFile(dir: string, mutate: (input: ExampleInput) => void): string {
  const input = JSON.parse(readFileSync(join(ROOT, 'envs', 'example.json'), 'utf8')) as ExampleInput;
  mutate(input);
  const path = join(dir, `env-${Math.random().toString(36).slice(2, 8)}.json`);
  writeFileSync(path, JSON.stringify(input, null, 2));
  return path;
}

type ExampleInput = {
  services: Array<Record<string, unknown> & { name: string; phase: number }>;
  flags: { parameterPrefix: string };
};

const { ssm, sns, sfn } = motoClients();
const work = mkdtempSync(join(tmpdir(), 'runbook-'));
let server: Server;
let hook = '';
let guardDeps: GuardDependencies;
let config: MigrationConfig;
let configPath = '';
/** The data side: the databases, the users service, the write-back function's handler. */
let dbs: DatabasePair;
let usersService: UsersService;
let writeBack: LocalWriteBack;
/** What users do after a step of the running scenario, by the step's index (see runScenario). */
let afterStep: Record<number, () => Promise<void>> = {};
/** Guard runs one at a time, as concurrent Lambda invocations of one flag would race otherwise. */
let queue: Promise<unknown> = Promise.resolve();
const serial = <T>(fn: () => Promise<T>): Promise<T> => {
  const next = queue.then(fn, fn);
  queue = next.catch(() => {});
  return next;
};
const event = (name: string, operation: string) =>
  ({
    source: 'aws.ssm',
    'detail-type': 'Parameter Store Change',
    detail: { name, operation },
  }) as unknown as EventBridgeEvent<string, ParameterChangeDetail>;

/** Every flag and override of the migrating services. */
function watchedNames(): string[] {
  const prefix = config.flags.parameterPrefix;
  return config.services
    .filter((s) => capabilitiesOf(s).migrating)
    .flatMap((s) => [
      ...Object.values(flagParameterNames(prefix, s.name)),
      overrideParameterName(prefix, s.name),
    ]);
}

async function versionsNow(): Promise<Map<string, number>> {
  const names = watchedNames();
  const versions = new Map<string, number>();
  for (let i = 0; i < names.length; i += 10) {
    const out = await ssm.send(new GetParametersCommand({ Names: names.slice(i, i + 10) }));
    for (const p of out.Parameters ?? []) if (p.Name && p.Version) versions.set(p.Name, p.Version);
  }
  return versions;
}

let seen = new Map<string, number>();
/** The change events of every write since the last delivery, to the guard, until nothing changes. */
async function deliverChangeEvents(): Promise<void> {
  for (let round = 0; round < 5; round++) {
    const now = await versionsNow();
    const changed = watchedNames().filter((n) => now.get(n) !== seen.get(n));
    seen = now;
    if (changed.length === 0) return;
    for (const name of changed)
      await serial(() => guard(event(name, now.has(name) ? 'Update' : 'Delete'), guardDeps));
  }
}

interface ParameterState {
  readonly version?: number;
  readonly value?: string;
  /** The version labelled last-good, which readers read. */
  readonly checkedVersion?: number;
  readonly checked?: string;
}
type Snapshot = Record<string, ParameterState>;

async function snapshot(): Promise<Snapshot> {
  const names = watchedNames();
  const out: Record<string, ParameterState> = {};
  for (const name of names) out[name] = {};
  for (let i = 0; i < names.length; i += 5) {
    const batch = names.slice(i, i + 5);
    const [latest, checked] = await Promise.all([
      ssm.send(new GetParametersCommand({ Names: batch })),
      ssm.send(new GetParametersCommand({ Names: batch.map((n) => `${n}:last-good`) })),
    ]);
    for (const p of latest.Parameters ?? [])
      out[p.Name as string] = { ...out[p.Name as string], version: p.Version, value: p.Value };
    for (const p of checked.Parameters ?? []) {
      const name = (p.Name as string).replace(/:last-good$/, '');
      out[name] = { ...out[name], checkedVersion: p.Version, checked: p.Value };
    }
  }
  return out;
}

/** The example environment with its `users` service at a phase. */
const usersAt = (phase: number) => (input: ExampleInput) => {
  input.services[0].phase = phase;
};

/** Sets the environment file of the next scenario and tells the guard, as a deploy would. */
async function deployPhase(mutate: (input: ExampleInput) => void) {
  configPath = environmentFile(work, mutate);
  config = selectConfig(configPath);
  const migrating = config.services.filter((s) => capabilitiesOf(s).migrating);
  guardDeps = {
    services: hookServices({
      envName: config.name,
      parameterPrefix: config.flags.parameterPrefix,
      tier: config.flags.tier,
      alertTopicArn: topic,
      statesArnPrefix: `arn:aws:states:${REGION}:${config.account}:`,
      services: migrating.map((s) => ({
        name: s.name,
        phase: s.phase,
        gateway: s.gateway,
        ...(s.cutoverRecorded ? { cutoverRecorded: s.cutoverRecorded } : {}),
        ...(s.writeBack ? { writeBack: true } : {}),
      })),
    }),
    ssm,
    sfn: ready(sfn),
    alerts: new Alerts(topic, ready(sns)),
    logger: jsonLogger('flag-guard', () => {}),
    // The guard reaches the write-back function as on AWS: by name, through the Lambda Invoke API.
    writeBack: writeBackChannel(async (name, payload) => {
      const res = await fetch(`${hook}/2015-03-31/functions/${encodeURIComponent(name)}/invocations`, {
        method: 'POST',
        body: payload,
      });
      const fnError = res.headers.get('x-amz-function-error');
      return { payload: await res.text(), ...(fnError ? { functionError: fnError } : {}) };
    }),
  };
  // A data stack creates the flags of a service the first time it migrates; later deploys keep them.
  for (const s of migrating) {
    const names = flagParameterNames(config.flags.parameterPrefix, s.name);
    const exists = (await ssm.send(new GetParametersCommand({ Names: [names.routing] }))).Parameters?.length;
    if (!exists) await deployFlags(ssm, config, s.name);
  }
  await deliverChangeEvents();
}

/** The Lambda Invoke API for the flag guard (what the CLI calls), and the test's step hook for bash. */
function startStandIn(): Promise<void> {
  const steps = new Map<number, Snapshot>();
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      try {
        const invoke = /^\/2015-03-31\/functions\/([^/]+)\/invocations/.exec(req.url ?? '');
        if (invoke && req.method === 'POST') {
          const name = decodeURIComponent(invoke[1]);
          if (name === writeBackFunctionName(config.name, 'users')) {
            const payload = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
            try {
              const answer = await invokeLocal(writeBack)(payload);
              res.writeHead(200, { 'content-type': 'application/json', 'x-amz-executed-version': '$LATEST' });
              res.end(JSON.stringify(answer));
            } catch (e) {
              res.writeHead(200, { 'content-type': 'application/json', 'x-amz-function-error': 'Unhandled' });
              res.end(JSON.stringify({ errorMessage: (e as Error).message, errorType: (e as Error).name }));
            }
            return;
          }
          if (name !== flagGuardFunctionName(config.name)) {
            res.writeHead(404, { 'x-amzn-errortype': 'ResourceNotFoundException' });
            res.end(JSON.stringify({ Type: 'User', message: `Function not found: ${name}` }));
            return;
          }
          const payload = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
          const verdict = await serial(() => guard(payload, guardDeps));
          res.writeHead(200, { 'content-type': 'application/json', 'x-amz-executed-version': '$LATEST' });
          res.end(JSON.stringify(verdict));
          return;
        }
        const step = /^\/step\/([a-z0-9-]+)$/.exec(req.url ?? '');
        if (step) {
          await deliverChangeEvents();
          if (/^\d+$/.test(step[1])) {
            await afterStep[Number(step[1])]?.();
            steps.set(Number(step[1]), await snapshot());
          }
          res.end('ok');
          return;
        }
        res.writeHead(404);
        res.end();
      } catch (e) {
        res.writeHead(500, { 'x-amzn-errortype': 'ServiceException' });
        res.end(JSON.stringify({ message: String(e) }));
      }
    });
  });
  snapshots = steps;
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      hook = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      resolve();
    }),
  );
}
let snapshots = new Map<number, Snapshot>();

interface StepResult {
  readonly step: RunbookStep;
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** The flags after the step, once the guard had the step's change events. */
  readonly after: Snapshot;
}

let realNpmLeft = 1;
let realAwsLeft = 1;

/**
 * The AWS CLI, started once: test/helpers/aws-cli-server.py runs each `aws` command of the scripts in a
 * fork of one process that imported the CLI (each start of `aws` costs about 0.5 s of CPU). It needs the
 * interpreter of the installed `aws` script; without one (a binary CLI v2), the scripts run `aws` itself.
 */
let awsServer: ChildProcess | undefined;
const awsSocket = join(work, 'aws.sock');
let awsPython: string | undefined;

/** The operator CLI, loaded once (test/helpers/cli-server.ts); its client runs with the AWS CLI's Python. */
let cliServer: ChildProcess | undefined;
const cliSocket = join(work, 'cli.sock');
const cliPython = () => awsPython ?? 'python3';

/** Starts a server that prints a line when it accepts commands and exits when its standard input closes. */
async function startServer(command: string, args: string[]): Promise<ChildProcess> {
  const proc = spawn(command, args, { stdio: ['pipe', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    proc.once('error', reject);
    proc.once('exit', (code) => reject(new Error(`${args[0]} exited with ${code}`)));
    proc.stdout?.once('data', () => resolve());
  });
  return proc;
}

async function startAwsServer(): Promise<void> {
  awsPython = scriptInterpreter('aws');
  if (!awsPython) return;
  awsServer = await startServer(awsPython, [join(ROOT, 'test', 'helpers', 'aws-cli-server.py'), awsSocket]);
}

async function startCliServer(): Promise<void> {
  const bundle = process.env.MIGRATE_CLI_SERVER;
  if (!bundle) throw new Error('MIGRATE_CLI_SERVER is not set: run the tests through jest');
  cliServer = await startServer(process.execPath, [bundle, cliSocket]);
}

/** Runs the setup blocks and a scenario's steps in one bash process. */
async function runScenario(scenario: string): Promise<StepResult[]> {
  const all = runbookSteps(readFileSync(RUNBOOK, 'utf8'));
  const setup = all.filter((s) => s.scenario === 'setup');
  const steps = all.filter((s) => s.scenario === scenario);
  if (steps.length === 0) throw new Error(`docs/runbook.md has no steps marked for scenario ${scenario}`);
  const out = join(work, scenario);
  mkdirSync(out, { recursive: true });
  snapshots.clear();
  const block = (i: number | string, s: RunbookStep) =>
    [
      `# docs/runbook.md line ${s.line}`,
      '{',
      s.command,
      `} > "${out}/${i}.out" 2> "${out}/${i}.err" < /dev/null; echo $? > "${out}/${i}.rc"`,
      `curl -fsS -o /dev/null "$RUNBOOK_HOOK/step/${i}" || echo "step hook ${i} failed" >&2`,
    ].join('\n');
  const script = [
    'set -u',
    `cd "${ROOT}"`,
    // npm run migrate -- <args>: the first through npm itself, then the same CLI, loaded once.
    `RUNBOOK_REAL_NPM=${realNpmLeft}`,
    'npm() {',
    '  if [ $# -ge 3 ] && [ "$1" = run ] && [ "$2" = migrate ] && [ "$3" = -- ] && [ "$RUNBOOK_REAL_NPM" = 0 ]; then',
    '    shift 3; "$RUNBOOK_CLI_PYTHON" -I -S "$RUNBOOK_CLI_CLIENT" "$RUNBOOK_CLI_SOCKET" "$@"',
    '  else RUNBOOK_REAL_NPM=0; command npm "$@"; fi',
    '}',
    // aws: the first one itself, then the same CLI in a fork of one process that has imported it.
    `RUNBOOK_REAL_AWS=${awsPython ? realAwsLeft : 1}`,
    'aws() {',
    '  if [ "$RUNBOOK_REAL_AWS" = 0 ]; then',
    '    "$RUNBOOK_AWS_PYTHON" -I -S "$RUNBOOK_AWS_SERVER" --run "$RUNBOOK_AWS_SOCKET" "$@"',
    '  else [ -z "$RUNBOOK_AWS_PYTHON" ] || RUNBOOK_REAL_AWS=0; command aws "$@"; fi',
    '}',
    ...setup.map((s, i) => block(`setup-${i}`, s)),
    "# the test: the environment file of this scenario, in place of the operator's envs/prod.json",
    'export MIGRATE_CONFIG="$RUNBOOK_CONFIG"',
    ...steps.map((s, i) => block(i, s)),
  ].join('\n');
  realNpmLeft = 0;
  if (steps.some((s) => /(^|\n)\s*aws /.test(s.command))) realAwsLeft = 0;
  writeFileSync(join(out, 'script.sh'), script);
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    LANG: 'C.UTF-8',
    AWS_ENDPOINT_URL: motoEndpoint(),
    AWS_ENDPOINT_URL_LAMBDA: hook,
    AWS_CONFIG_FILE: join(work, 'aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(work, 'aws-credentials'),
    AWS_MAX_ATTEMPTS: '1',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    RUNBOOK_CLI_PYTHON: cliPython(),
    RUNBOOK_CLI_CLIENT: join(ROOT, 'test', 'helpers', 'cli-client.py'),
    RUNBOOK_CLI_SOCKET: cliSocket,
    RUNBOOK_HOOK: hook,
    RUNBOOK_CONFIG: configPath,
    RUNBOOK_AWS_PYTHON: awsPython ?? '',
    RUNBOOK_AWS_SERVER: join(ROOT, 'test', 'helpers', 'aws-cli-server.py'),
    RUNBOOK_AWS_SOCKET: awsSocket,
  };
  const stderr = await new Promise<string>((resolve, reject) => {
    const child = spawn('bash', [join(out, 'script.sh')], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let text = '';
    child.stderr.on('data', (c: Buffer) => {
      text += c.toString();
    });
    child.on('error', reject);
    child.on('close', () => resolve(text));
  });
  afterStep = {};
  if (stderr.trim()) throw new Error(`the ${scenario} script wrote to stderr:\n${stderr}`);
  const setupFailed = setup.some((_s, i) => readFileSync(join(out, `setup-${i}.rc`), 'utf8').trim() !== '0');
  if (setupFailed) throw new Error(`a setup block of docs/runbook.md failed; see the .err files in ${out}`);
  return steps.map((step, i) => ({
    step,
    code: Number(readFileSync(join(out, `${i}.rc`), 'utf8')),
    stdout: readFileSync(join(out, `${i}.out`), 'utf8'),
    stderr: readFileSync(join(out, `${i}.err`), 'utf8'),
    after: snapshots.get(i) ?? {},
  }));
}

/** What a step must do: its command (so that the runbook and the test move together) and its effect. */
interface Expectation {
  readonly run: string | RegExp;
  readonly code?: number;
  readonly stdout?: RegExp;
  readonly stderr?: RegExp;
  /** The checked (live) document of a flag after the step, which is then also the latest version. */
  readonly live?: Record<string, unknown>;
  /** Which flag `live` is about. @default routing of users */
  readonly flag?: string;
  readonly check?: (r: StepResult) => void;
}

const P = '/shop-prod/migration/users';
const matches = (command: string, run: string | RegExp) =>
  typeof run === 'string' ? command === run : run.test(command);

function expectSteps(results: StepResult[], expected: Expectation[]): void {
  expect(results.map((r) => `line ${r.step.line}: ${r.step.command}`)).toHaveLength(expected.length);
  results.forEach((r, i) => {
    const e = expected[i];
    const where = `docs/runbook.md line ${r.step.line}: ${r.step.command}`;
    if (!matches(r.step.command, e.run))
      throw new Error(`${where}\ndoes not match the test's step ${i} (${String(e.run)}): update the test`);
    const got = { where, code: r.code, stdout: r.stdout, stderr: r.stderr };
    expect(got).toMatchObject({ where, code: e.code ?? 0 });
    if (e.code === undefined || e.code === 0)
      expect({ where, stderr: r.stderr }).toEqual({ where, stderr: '' });
    if (e.stdout)
      expect({ where, stdout: r.stdout }).toEqual({ where, stdout: expect.stringMatching(e.stdout) });
    if (e.stderr)
      expect({ where, stderr: r.stderr }).toEqual({ where, stderr: expect.stringMatching(e.stderr) });
    if (e.live) {
      const state = r.after[e.flag ?? `${P}/routing`];
      expect({
        where,
        checked: JSON.parse(state.checked ?? 'null'),
        unchecked: state.version !== state.checkedVersion,
      }).toEqual({
        where,
        checked: e.live,
        unchecked: false,
      });
    }
    e.check?.(r);
  });
}

/** The CLI's answer to a write that the guard checked at once (the stand-in Lambda). */
const LIVE =
  /wrote \/shop-prod\/migration\/users\/(routing|gateway) version \d+: .*\nlive: the flag guard checked version \d+ \(last-good\); readers use it within 15 s/;

/** A scenario is one bash process of 5 to 13 commands, each 0.1-1 s (the first `npm run migrate` starts npm and tsx). */
const SCENARIO_TIMEOUT_MS = 120_000;

/** The alert topic the guard publishes to, created in beforeAll. */
let topic = '';
beforeAll(async () => {
  writeFileSync(join(work, 'aws-config'), '[profile migration-operator]\noutput = json\n');
  writeFileSync(
    join(work, 'aws-credentials'),
    '[migration-operator]\naws_access_key_id = testing\naws_secret_access_key = testing\n',
  );
  // The emulator lives for the whole jest run; no other test uses this environment's prefix.
  const names: string[] = [];
  let NextToken: string | undefined;
  do {
    const page = await ssm.send(
      new GetParametersByPathCommand({ Path: '/shop-prod', Recursive: true, NextToken }),
    );
    names.push(...(page.Parameters ?? []).map((p) => p.Name as string));
    NextToken = page.NextToken;
  } while (NextToken);
  for (let i = 0; i < names.length; i += 10)
    await ssm.send(new DeleteParametersCommand({ Names: names.slice(i, i + 10) }));
  topic = await createTopic(sns);
  // The monolith's users and the service's database (the contract's tables), the service itself, and its
  // write-back function's handler on both.
  dbs = await freshDatabases();
  await seedLegacy(dbs.legacy, [
    { id: '42', email: 'pilot@example.com', password: 'old-42' },
    { id: '1001', email: 'second@example.com', password: 'old-1001' },
  ]);
  await createServiceSchema(dbs.service);
  usersService = await startUsersService({ serviceUrl: dbs.service, legacyUrl: dbs.legacy });
  const example = selectConfig(join(ROOT, 'envs', 'example.json'));
  writeBack = localWriteBack(dbs, { tables: example.services[0].writeBack?.tables ?? {} });
  await Promise.all([startStandIn(), startAwsServer(), startCliServer()]);
});
afterAll(async () => {
  const stopped = [awsServer, cliServer].map((proc) => {
    const exited = proc && proc.exitCode === null && new Promise((r) => proc.once('exit', r));
    proc?.stdin?.end();
    return exited;
  });
  server.closeAllConnections();
  await Promise.all([new Promise((r) => server.close(r)), ...stopped]);
  await usersService?.close();
  await dbs?.drop();
  ssm.destroy();
  sns.destroy();
  sfn.destroy();
});

describe('docs/runbook.md against the emulator', () => {
  it('has setup blocks that name the example environment, its region and the operator profile', () => {
    const setup = runbookSteps(readFileSync(RUNBOOK, 'utf8')).filter((s) => s.scenario === 'setup');
    const text = setup.map((s) => s.command).join('\n');
    const example = JSON.parse(readFileSync(join(ROOT, 'envs', 'example.json'), 'utf8'));
    expect(text).toContain('export MIGRATE_CONFIG=envs/prod.json');
    expect(text).toContain(`export AWS_REGION=${example.region}`);
    expect(text).toContain('export AWS_PROFILE=migration-operator');
    expect(text).toContain(`P=${example.flags.parameterPrefix}/users`);
    expect(text).toContain(`R="--region ${example.region}"`);
  });

  it(
    'phase 1: chosen users, a sticky share, more, and the rollbacks',
    async () => {
      await deployPhase(usersAt(1));
      // While routed to the service (after step 2, "chosen users"), user 42 changes their password there.
      afterStep = {
        2: async () => {
          const res = await fetch(`${usersService.url}/v1/users/42/password`, {
            method: 'PUT',
            body: JSON.stringify({ password: 'new-42' }),
          });
          expect(res.status).toBe(200);
        },
      };
      const users = { mode: 'users', users: ['42', '1001'], percent: 0 };
      const percent = (n: number) => ({ mode: 'percent', users: ['42', '1001'], percent: n });
      const off = { mode: 'off', users: ['42', '1001'], percent: 50 };
      const raw = (doc: Record<string, unknown>) => ({
        run: `aws ssm put-parameter $R --overwrite --name $P/routing --type String --value '${JSON.stringify(doc)}'`,
        stdout: /"Version": \d+/,
        live: doc,
      });
      expectSteps(await runScenario('phase-1'), [
        {
          run: 'npm run migrate -- status',
          // The first command of the run goes through npm itself.
          stdout: /> tsx bin\/migrate.ts status\n[\s\S]*users\s+1\s+off\s+0\s+0\s+not done\s+0\s+v1/,
        },
        {
          run: 'npm run migrate -- history users',
          stdout: /^\/shop-prod\/migration\/users\/routing\nversion\s+written at/,
        },
        { run: 'npm run migrate -- route users users 42 1001', stdout: LIVE, live: users },
        raw(users),
        { run: 'npm run migrate -- route users percent 10', stdout: LIVE, live: percent(10) },
        raw(percent(10)),
        { run: 'npm run migrate -- route users percent 50', stdout: LIVE, live: percent(50) },
        raw(percent(50)),
        {
          run: 'npm run migrate -- route users off',
          // Who leaves, whose writes are not yet in the legacy database, written back first: as the runbook shows.
          stdout:
            /^leaving users for the monolith: 2 listed users \(42, 1001\) and every user in sticky buckets 0-49 \(50 % of users\)\n1 of them has writes not yet in the legacy database \(1 row, oldest \d+ s old\): \S+\nwriting them back \(at most 60 s\)\.\.\.\nwritten back: every leaving user's writes are in the legacy database; going ahead\nwrote /,
          live: off,
        },
        raw(off),
        {
          run: 'npm run migrate -- rollback users',
          stdout:
            /rolling \/shop-prod\/migration\/users\/routing back from version 9 to the content of version 7\n/,
          live: percent(50),
        },
        {
          run: /^aws ssm get-parameter-history \$R --name \$P\/routing --query/,
          // Every version with its label: the earlier values are there to pick from.
          check: (r) => {
            const rows = r.stdout.trim().split('\n');
            expect(rows).toHaveLength(10);
            expect(rows[9]).toBe(`10\tlast-good\t${JSON.stringify(percent(50))}`);
            expect(rows[8]).toBe(`9\tNone\t${JSON.stringify(off)}`);
          },
        },
      ]);
      // The monolith has user 42's new password: `route users off` wrote it back before routing them away.
      const [row] = await sql(dbs.legacy, "SELECT password_hash FROM users WHERE id = '42'");
      expect(row.password_hash).toBe(hashOf('new-42'));
    },
    SCENARIO_TIMEOUT_MS,
  );

  it(
    'phase 2: everyone to the new service',
    async () => {
      await deployPhase(usersAt(2));
      const all = { mode: 'all', users: ['42', '1001'], percent: 50 };
      expectSteps(await runScenario('phase-2'), [
        { run: 'npm run migrate -- route users all', stdout: LIVE, live: all },
        {
          run: `aws ssm put-parameter $R --overwrite --name $P/routing --type String --value '${JSON.stringify(all)}'`,
          live: all,
        },
      ]);
    },
    SCENARIO_TIMEOUT_MS,
  );

  it(
    'after the cutover: the CLI refuses to route back; the emergency override with both keys, and its end',
    async () => {
      // What the cutover state machine does at its end (not run here): it writes the cutover document and
      // has the guard accept it, which verifies the run is a running execution whose migration exited 0.
      const runId = 'users-cutover-20261201T101500';
      const completedAt = new Date().toISOString();
      await ssm.send(
        new PutParameterCommand({
          Name: `${P}/cutover`,
          Value: JSON.stringify({ completed: true, completedAt, runId }),
          Type: 'String',
          Overwrite: true,
        }),
      );
      const runningMigration = verifiedRun();
      await expect(
        guard(event(`${P}/cutover`, 'Update'), { ...guardDeps, sfn: runningMigration }),
      ).resolves.toMatchObject({ status: 'labelled' });
      // Step 3: the marker in the environment file, deployed.
      await deployPhase((input) => {
        input.services[0].phase = 2;
        input.services[0].cutoverRecorded = { runId, completedAt };
      });

      const expiresAt = expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      const all = { mode: 'all', users: ['42', '1001'], percent: 50 };
      const unchanged = (r: StepResult) =>
        expect(r.after[`${P}/routing`].version).toBe(r.after[`${P}/routing`].checkedVersion);
      expectSteps(await runScenario('override'), [
        {
          run: 'npm run migrate -- route users off',
          code: 3,
          stderr: /routing must stay "all"/,
          live: all,
          check: unchanged,
        },
        {
          run: 'npm run migrate -- rollback users',
          code: 3,
          stderr: /routing stays "all", and a rollback of routing is refused/,
          live: all,
        },
        {
          run: /^aws ssm put-parameter \$R --name \$P\/override /,
          flag: `${P}/override`,
          live: { acceptDataLoss: true, reason: 'users DB corrupted, INC-4711', expiresAt },
          check: (r) => {
            const doc = JSON.parse(r.after[`${P}/override`].checked ?? '{}');
            const hours = (Date.parse(doc.expiresAt) - Date.now()) / 3600_000;
            expect(hours).toBeGreaterThan(3.9);
            expect(hours).toBeLessThanOrEqual(4);
          },
        },
        {
          run: 'npm run migrate -- route users off --accept-data-loss "INC-4711, approved by the CTO" --reason INC-4711',
          stdout:
            /EMERGENCY OVERRIDE \(users DB corrupted, INC-4711, until .*\): INC-4711, approved by the CTO\n/,
          live: {
            mode: 'off',
            users: ['42', '1001'],
            percent: 50,
            reason: 'INC-4711',
            override: { expiresAt, acceptDataLoss: 'INC-4711, approved by the CTO' },
          },
        },
        {
          run: 'aws ssm delete-parameter $R --name $P/override',
          check: (r) => expect(r.after[`${P}/override`]).toEqual({}),
        },
        { run: 'npm run migrate -- route users all', stdout: LIVE, live: all },
      ]);
    },
    SCENARIO_TIMEOUT_MS,
  );

  it(
    'phase 3: the gateway weight, its rollbacks, and a service in alb mode',
    async () => {
      await deployPhase((input) => {
        const users = input.services[0];
        users.phase = 3;
        const orders = JSON.parse(JSON.stringify(users));
        delete orders.cutoverRecorded;
        input.services.push({
          ...orders,
          name: 'orders',
          gateway: 'alb',
          composites: [],
          routes: [{ path: '/api/orders/{id}', methods: ['GET'], servicePath: '/v1/orders/{id}' }],
        });
      });
      const weight = (n: number) => ({
        run: `npm run migrate -- gateway users ${n}`,
        stdout: LIVE,
        flag: `${P}/gateway`,
        live: { weight: n },
      });
      const raw = (n: number) => ({
        run: `aws ssm put-parameter $R --overwrite --name $P/gateway --type String --value '{"weight":${n}}'`,
        flag: `${P}/gateway`,
        live: { weight: n },
      });
      const orders = (n: number) => ({
        run: `npm run migrate -- gateway orders ${n}`,
        stdout: new RegExp(
          `wrote /shop-prod/migration/orders/gateway version \\d+: \\{"weight":${n}\\}\\nlive: `,
        ),
        flag: '/shop-prod/migration/orders/gateway',
        live: { weight: n },
      });
      // Its users and percent are what the earlier scenarios left (none when this one runs alone).
      const usersAll = expect.objectContaining({ mode: 'all' });
      const ordersRouting = '/shop-prod/migration/orders/routing';
      expectSteps(await runScenario('phase-3'), [
        // Everyone on the service before the weight moves (users: already, since its cutover).
        { run: 'npm run migrate -- route users all', stdout: LIVE, live: usersAll },
        weight(10),
        raw(10),
        weight(100),
        raw(100),
        {
          run: 'npm run migrate -- status',
          stdout:
            /users\s+3\s+all\s+50\s+2\s+completed \S+ \(users-cutover-20261201T101500\)\s+100\s[\s\S]*\nusers at the ALB: /,
        },
        weight(0),
        raw(0),
        {
          run: 'npm run migrate -- rollback users --flag gateway',
          stdout: /back from version \d+ to the content of version \d+/,
          flag: `${P}/gateway`,
          live: { weight: 100 },
        },
        {
          run: /^aws ssm get-parameter-history \$R --name \$P\/gateway --query/,
          check: (r) =>
            expect(r.stdout.trim().split('\n').slice(-2)).toEqual([
              expect.stringMatching(/^\d+\tNone\t\{"weight":0\}$/),
              expect.stringMatching(/^\d+\tlast-good\t\{"weight":100\}$/),
            ]),
        },
        {
          run: 'npm run migrate -- route orders all',
          stdout: /wrote \/shop-prod\/migration\/orders\/routing version \d+: .*"mode":"all".*\nlive: /,
          flag: ordersRouting,
          live: { mode: 'all', users: [], percent: 0 },
        },
        orders(100),
        {
          run: 'npm run migrate -- route orders off',
          code: 3,
          stderr:
            /routing narrows only once the gateway weight is 0[\s\S]*npm run migrate -- gateway orders 0 first/,
          flag: ordersRouting,
          live: { mode: 'all', users: [], percent: 0 },
        },
        orders(0),
        {
          run: 'npm run migrate -- gateway orders 50',
          code: 3,
          stderr: /all or nothing|0 or 100/,
          flag: '/shop-prod/migration/orders/gateway',
          live: { weight: 0 },
        },
      ]);
    },
    SCENARIO_TIMEOUT_MS,
  );
});

describe("docs/runbook.md's DNS move against the emulator", () => {
  const route53 = new Route53Client(motoClientConfig());
  const cloudFormation = new CloudFormationClient(motoClientConfig());
  afterAll(() => {
    route53.destroy();
    cloudFormation.destroy();
  });
  const APP_ALB = 'shop-prod-LoadB-1a2b3c4d5e6f-1234567890.eu-west-1.elb.amazonaws.com';
  const OLD_ALB = 'shop-legacy-9876543210.eu-west-1.elb.amazonaws.com';

  it(
    "phase 0: the clients' DNS name onto the app in steps, and back",
    async () => {
      // What exists before the runbook's first step: the company's zone and record, and the platform
      // stack deployed (its outputs name the app's load balancer).
      const zone = await route53.send(
        new CreateHostedZoneCommand({ Name: 'example.com', CallerReference: `runbook-${Date.now()}` }),
      );
      const hostedZoneId = (zone.HostedZone?.Id ?? '').replace('/hostedzone/', '');
      const company = {
        Name: 'www.example.com',
        Type: 'A' as const,
        AliasTarget: { HostedZoneId: 'Z32O12XQLNTSW2', DNSName: OLD_ALB, EvaluateTargetHealth: false },
      };
      await route53.send(
        new ChangeResourceRecordSetsCommand({
          HostedZoneId: hostedZoneId,
          ChangeBatch: { Changes: [{ Action: 'CREATE', ResourceRecordSet: company }] },
        }),
      );
      await cloudFormation.send(
        new CreateStackCommand({
          StackName: 'shop-prod-30-platform',
          TemplateBody: JSON.stringify({
            Resources: { Topic: { Type: 'AWS::SNS::Topic' } },
            Outputs: {
              LoadBalancerDnsName: { Value: APP_ALB },
              LoadBalancerCanonicalHostedZoneId: { Value: 'Z32O12XQLNTSW2' },
            },
          }),
        }),
      );
      const records = async () =>
        (
          await route53.send(new ListResourceRecordSetsCommand({ HostedZoneId: hostedZoneId }))
        ).ResourceRecordSets?.filter((r) => r.Name === 'www.example.com.').map((r) => [
          r.SetIdentifier ?? null,
          r.Weight ?? null,
          r.AliasTarget?.DNSName,
        ]);
      const original = await records();
      await deployPhase((input) => {
        usersAt(0)(input);
        (input as ExampleInput & { dns: unknown }).dns = {
          hostedZoneId,
          zoneName: 'example.com',
          recordName: 'www.example.com',
        };
      });
      const step = (percent: number, from: string) => ({
        run: `npm run migrate -- dns weight ${percent}`,
        stdout: new RegExp(
          `www\\.example\\.com: ${from}legacy ${100 - percent} / app ${percent} \\(${percent} % of answers to the app\\)\\nin sync: change `,
        ),
      });
      expectSteps(await runScenario('dns'), [
        {
          run: 'npm run migrate -- dns status',
          stdout: new RegExp(
            `www\\.example\\.com A: simple record, alias ${OLD_ALB.replace(/\./g, '\\.')}\\nthe app's load balancer: ${APP_ALB.replace(/\./g, '\\.')}`,
          ),
        },
        {
          run: /^aws cloudformation describe-stacks \$R --stack-name shop-prod-30-platform /,
          stdout: new RegExp(`^${APP_ALB.replace(/\./g, '\\.')}\\n$`),
        },
        step(0, 'the simple record becomes the weighted pair, '),
        step(1, 'legacy 100 / app 0 \\(0 % of answers to the app\\) -> '),
        step(10, 'legacy 99 / app 1 \\(1 % of answers to the app\\) -> '),
        step(50, 'legacy 90 / app 10 \\(10 % of answers to the app\\) -> '),
        step(100, 'legacy 50 / app 50 \\(50 % of answers to the app\\) -> '),
        step(0, 'legacy 0 / app 100 \\(100 % of answers to the app\\) -> '),
        { run: 'npm run migrate -- dns restore', stdout: /back to the company's record alone/ },
      ]);
      expect(await records()).toEqual(original);
    },
    SCENARIO_TIMEOUT_MS,
  );
});

describe('the runbook says how each step it does not run was checked', () => {
  /** Each "Checked:" paragraph: the test files it names, each with the test names that follow it. */
  function references(markdown: string): { file: string; title: string }[] {
    const refs: { file: string; title: string }[] = [];
    for (const paragraph of markdown.split(/\n\s*\n/)) {
      if (!/^\s*Checked:/.test(paragraph)) continue;
      const parts = paragraph.split(/`(test\/[^`]+\.ts)`/);
      for (let i = 1; i < parts.length; i += 2) {
        const titles = [...parts[i + 1].matchAll(/"([^"]+)"/g)].map((m) => m[1]);
        if (titles.length === 0) throw new Error(`a Checked: line names ${parts[i]} but no test in it`);
        for (const title of titles) refs.push({ file: parts[i], title: title.replace(/\s*\n\s*/g, ' ') });
      }
    }
    return refs;
  }

  it('names tests that exist', () => {
    const refs = references(readFileSync(RUNBOOK, 'utf8'));
    expect(refs.length).toBeGreaterThan(50);
    const missing = refs.filter(({ file, title }) => {
      const path = join(ROOT, file);
      return !existsSync(path) || !readFileSync(path, 'utf8').includes(title);
    });
    expect(missing).toEqual([]);
  });
});
