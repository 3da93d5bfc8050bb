/**
 * The playground: the migration of the demo's `users` service at phase 1, on loopback, with nothing
 * deployed. moto (the emulator) holds the flag parameters as a deploy creates them; the flag guard runs
 * in process (guard.ts); a stand-in monolith and users service (stand-ins.ts) sit behind the real
 * routing proxy (the bundle the image ships); the operator CLI works against all of it with the
 * environment the playground writes. Every request through the proxy is printed as one line: user,
 * route, side (requests.ts). `npm run playground` (main.ts) starts it and stops it on Ctrl-C.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { SFNClient } from '@aws-sdk/client-sfn';
import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { LabelParameterVersionCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { cachedBuild } from '../../lib/bundling/cached-build';
import { DEMO_CONFIG_INPUT } from '../../lib/config/demo';
import type { MigrationConfig } from '../../lib/config/types';
import { parseConfigOrThrow } from '../../lib/environment/parse';
import { INITIAL_DOCUMENTS, serializeFlag } from '../../lib/flags/documents';
import { flagParameterNames, LAST_GOOD_LABEL } from '../../lib/flags/parameters';
import { hookServices } from '../../lib/hooks/contract';
import { proxyBuildOptions } from '../../lib/proxy/bundle';
import { type ProxyRuntimeConfig, proxyRuntimeConfig } from '../../lib/proxy/contract';
import { startGuard } from './guard';
import { killOnExit, startMoto, stopProcess } from './moto';
import { formatLine, RequestReader, tap } from './requests';
import { inMemoryStandIns, type UpstreamFactories } from './stand-ins';

const ROOT = join(__dirname, '..', '..');
const REGION = 'eu-west-1';
const CREDENTIALS = { accessKeyId: 'playground', secretAccessKey: 'playground' };
/** The routing proxy's port when none is asked for (the README's commands use it). */
export const DEFAULT_PORT = 8800;

export interface PlaygroundOptions {
  /** Where the routing proxy listens on 127.0.0.1; 0 for any free port. @default 8800 */
  readonly port?: number;
  /** Where the environment file and the CLI's config are written. @default .playground */
  readonly dir?: string;
  /** The flag parameters' prefix. @default /playground/migration */
  readonly parameterPrefix?: string;
  /** An emulator already running (tests); by default the playground starts and stops its own. */
  readonly motoUrl?: string;
  /** The monolith and the users service. @default the in-memory stand-ins */
  readonly upstreams?: UpstreamFactories;
  /** Where every line goes (the banner, the requests, the flag guard's and the proxy's news). */
  readonly out: (line: string) => void;
}

export interface Playground {
  /** The routing proxy: what clients call. */
  readonly url: string;
  /** The environment file to source in another terminal, and its variables. */
  readonly envFile: string;
  readonly env: Readonly<Record<string, string>>;
  readonly config: MigrationConfig;
  stop(): Promise<void>;
}

/**
 * The demo with `users` at phase 1 (the pilot), named `playground`, flags read every few seconds. Its
 * in-memory stand-ins keep no database, so it runs without the demo's write-back (docs/data-contract.md):
 * a route back says that writes made on the service are not written back.
 */
export function playgroundConfig(parameterPrefix: string): MigrationConfig {
  const input = JSON.parse(JSON.stringify(DEMO_CONFIG_INPUT));
  input.name = 'playground';
  input.flags = { parameterPrefix, cacheTtlSeconds: 5 };
  for (const s of input.services) {
    s.phase = 1;
    delete s.writeBack;
  }
  return parseConfigOrThrow(input, '(playground)');
}

/** The commands the banner suggests, in order (test/playground replays them). */
export function suggestedCommands(port: number): string[] {
  const at = `localhost:${port}`;
  return [
    'npx migrate status',
    `curl -s ${at}/api/users/42`,
    'npx migrate route users users 42',
    `curl -s ${at}/api/users/42`,
    `curl -s ${at}/api/users/7`,
    `curl -s -X POST ${at}/api/login -H 'content-type: application/json' -d '{"username":"42"}'`,
    'npx migrate route users percent 10',
    'npx migrate route users all',
    `curl -s ${at}/api/users/7`,
    'npx migrate route users off',
    `curl -s ${at}/api/users/42`,
  ];
}

export async function startPlayground(options: PlaygroundOptions): Promise<Playground> {
  const cleanups: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) {
      try {
        await cleanup();
      } catch {
        // stop the rest anyway
      }
    }
  };
  try {
    return await start(options, cleanups, stop);
  } catch (e) {
    await stop();
    throw e;
  }
}

async function start(
  options: PlaygroundOptions,
  cleanups: (() => Promise<void>)[],
  stop: () => Promise<void>,
): Promise<Playground> {
  const { out } = options;
  const dir = resolve(options.dir ?? '.playground');
  const config = playgroundConfig(options.parameterPrefix ?? '/playground/migration');
  const [users] = config.services;

  const moto = options.motoUrl ? { url: options.motoUrl, stop: async () => {} } : await startMoto();
  cleanups.push(() => moto.stop());
  const common = { region: REGION, endpoint: moto.url, credentials: CREDENTIALS, maxAttempts: 1 };
  const ssm = new SSMClient(common);
  const sns = new SNSClient(common);
  const sfn = new SFNClient(common);
  cleanups.push(async () => {
    ssm.destroy();
    sns.destroy();
    sfn.destroy();
  });

  // The flag parameters as the data stack's first deploy creates them, labelled for the readers.
  const names = flagParameterNames(config.flags.parameterPrefix, users.name);
  for (const kind of ['routing', 'cutover', 'gateway'] as const) {
    try {
      const put = await ssm.send(
        new PutParameterCommand({
          Name: names[kind],
          Value: serializeFlag(kind, INITIAL_DOCUMENTS[kind]),
          Type: 'String',
          Overwrite: false,
        }),
      );
      await ssm.send(
        new LabelParameterVersionCommand({
          Name: names[kind],
          ParameterVersion: put.Version,
          Labels: [LAST_GOOD_LABEL],
        }),
      );
    } catch (e) {
      // Left by an earlier playground on the same emulator: kept as it is, like a later deploy does.
      if ((e as Error).name !== 'ParameterAlreadyExists') throw e;
    }
  }
  const topic = await sns.send(new CreateTopicCommand({ Name: `${config.name}-alerts` }));

  const guard = await startGuard({
    envName: config.name,
    services: hookServices({
      envName: config.name,
      parameterPrefix: config.flags.parameterPrefix,
      tier: config.flags.tier,
      alertTopicArn: topic.TopicArn ?? '',
      statesArnPrefix: `arn:aws:states:${REGION}:123456789012:`,
      services: [{ name: users.name, phase: users.phase, gateway: users.gateway }],
    }),
    ssm,
    sns,
    sfn,
    topicArn: topic.TopicArn ?? '',
    report: out,
  });
  cleanups.push(() => guard.stop());

  // The two upstreams, each behind a tap that prints the requests the proxy sent it.
  const base = proxyRuntimeConfig(config, { ...proxyDefaults(config), port: options.port ?? DEFAULT_PORT }, [
    users,
  ]);
  const routes = base.services[0].routes;
  const upstreams = options.upstreams ?? inMemoryStandIns();
  const monolith = await upstreams.monolith();
  cleanups.push(() => monolith.close());
  const service = await upstreams.users();
  cleanups.push(() => service.close());
  const report = (line: Parameters<typeof formatLine>[0]) => out(`request: ${formatLine(line)}`);
  const monolithTap = await tap(monolith.url, new RequestReader('monolith', routes), report);
  cleanups.push(() => monolithTap.close());
  const serviceTap = await tap(service.url, new RequestReader('users service', routes), report);
  cleanups.push(() => serviceTap.close());

  const runtime: ProxyRuntimeConfig = {
    ...base,
    legacy: { ...base.legacy, url: monolithTap.url },
    // Flags read twice a second here, on the emulator (the config's TTL is what the CLI promises).
    flags: { ...base.flags, refreshMs: 500 },
    timeouts: { ...base.timeouts, drainMs: 1000 },
    services: base.services.map((s) => ({ ...s, url: serviceTap.url })),
  };
  const proxy = await startProxy(runtime, moto.url, dir, out);
  cleanups.push(() => stopProcess(proxy.proc));

  // The CLI's environment: the playground's config, the emulator, the guard's Lambda endpoint.
  mkdirSync(dir, { recursive: true });
  const configPath = join(dir, 'playground.json');
  writeFileSync(configPath, `${JSON.stringify(playgroundInput(config), null, 2)}\n`);
  const env = {
    MIGRATE_CONFIG: configPath,
    AWS_ENDPOINT_URL: moto.url,
    AWS_ENDPOINT_URL_LAMBDA: guard.lambdaUrl,
    AWS_REGION: REGION,
    // The AWS CLI (v1) reads only this one.
    AWS_DEFAULT_REGION: REGION,
    AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
  };
  const envFile = join(dir, 'env');
  writeFileSync(
    envFile,
    [
      '# The playground (npm run playground): source this file in another terminal, then run npx migrate.',
      'unset AWS_PROFILE AWS_DEFAULT_PROFILE AWS_SESSION_TOKEN',
      ...Object.entries(env).map(([k, v]) => `export ${k}=${v}`),
      '',
    ].join('\n'),
  );
  cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));

  const shown = relative(process.cwd(), envFile);
  const url = `http://127.0.0.1:${proxy.port}`;
  for (const line of [
    '',
    'The migration playground (the demo, users at phase 1), on loopback:',
    `  routing proxy          ${url}   <- send requests here`,
    `  monolith stand-in      ${monolith.url}`,
    `  users service stand-in ${service.url}`,
    `  moto (SSM flags)       ${moto.url}`,
    `  flag guard (in process, as the Lambda) ${guard.lambdaUrl}`,
    '',
    'In another terminal, in this folder, try:',
    `  source ${shown.startsWith('..') ? envFile : shown}`,
    ...suggestedCommands(proxy.port).map((c) => `  ${c}`),
    '',
    'One line per request below (user, route, side). Ctrl-C stops everything.',
    '',
  ])
    out(line);
  return { url, envFile, env, config, stop };
}

/** The routing proxy's limits as the config's defaults give them. */
function proxyDefaults(config: MigrationConfig) {
  if (config.routing.mode !== 'proxy') throw new Error('the playground needs routing.mode "proxy"');
  return config.routing.proxy;
}

/** The playground's environment file as the CLI reads it (the demo's input, users at phase 1). */
function playgroundInput(config: MigrationConfig) {
  const input = JSON.parse(JSON.stringify(DEMO_CONFIG_INPUT));
  input.name = config.name;
  input.flags = {
    parameterPrefix: config.flags.parameterPrefix,
    cacheTtlSeconds: config.flags.cacheTtlSeconds,
  };
  for (const s of input.services) {
    s.phase = 1;
    delete s.writeBack;
  }
  return input;
}

/** The routing proxy as its image runs it: the bundle, built once per source change. */
async function startProxy(
  runtime: ProxyRuntimeConfig,
  motoUrl: string,
  dir: string,
  out: (line: string) => void,
): Promise<{ proc: ChildProcess; port: number }> {
  const bundleDir = join(dir, 'proxy');
  mkdirSync(bundleDir, { recursive: true });
  const outfile = join(bundleDir, 'routing-proxy.cjs');
  cachedBuild('playground-routing-proxy', proxyBuildOptions(outfile), bundleDir);
  const proc = spawn(process.execPath, [outfile], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group: Ctrl-C reaches the playground, which stops it in order.
    detached: true,
    env: {
      PATH: process.env.PATH,
      ROUTING_PROXY_CONFIG: JSON.stringify(runtime),
      AWS_ENDPOINT_URL: motoUrl,
      AWS_REGION: REGION,
      AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
      AWS_MAX_ATTEMPTS: '1',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
  });
  killOnExit(proc);
  let stderr = '';
  proc.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-2000);
  });
  let buffer = '';
  let listening: (port: number) => void = () => {};
  let flagsLoaded: () => void = () => {};
  const port = new Promise<number>((resolve) => {
    listening = resolve;
  });
  const loaded = new Promise<void>((resolve) => {
    flagsLoaded = resolve;
  });
  proc.stdout?.on('data', (d: Buffer) => {
    buffer += d.toString('utf8');
    for (let nl = buffer.indexOf('\n'); nl !== -1; nl = buffer.indexOf('\n')) {
      const text = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      let line: Record<string, unknown>;
      try {
        line = JSON.parse(text);
      } catch {
        continue;
      }
      if (line.msg === 'listening') listening(line.port as number);
      else if (line.msg === 'flags') {
        flagsLoaded();
        out(
          `routing proxy: ${line.service} routing is ${JSON.stringify(line.mode)} (as the flag guard checked it)`,
        );
      } else if (line.level === 'warn' || line.level === 'error')
        out(`routing proxy: ${line.level} ${line.msg} ${JSON.stringify(line.error ?? line.errors ?? '')}`);
    }
  });
  const exited = new Promise<never>((_, reject) =>
    proc.once('exit', (code) =>
      reject(
        new Error(
          `the routing proxy exited with ${code} before it listened${/EADDRINUSE/.test(buffer + stderr) ? ` (port ${runtime.port} is in use: npm run playground -- --port <another>)` : ''}: ${(buffer + stderr).trim().slice(-500)}`,
        ),
      ),
    ),
  );
  try {
    const listeningOn = await Promise.race([port, exited]);
    // Before its first read of the flags, the proxy sends everyone to the monolith: wait for it.
    await Promise.race([loaded, exited]);
    exited.catch(() => {});
    return { proc, port: listeningOn };
  } catch (e) {
    await stopProcess(proc);
    throw e;
  }
}
