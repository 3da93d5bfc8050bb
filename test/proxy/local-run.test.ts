/**
 * docs/routing-proxy.md, "Running it locally against two stand-ins", replayed: the stand-in command as
 * the section writes it, its flag documents, its runtime document and its requests with the answers its
 * comments promise, on free ports and under a flag prefix of its own (the emulator and the machine are
 * shared), with the bundled proxy. A change to the config contract, the stand-in or the routing that the
 * section does not follow fails here, not in a newcomer's terminal.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { parseProxyConfig } from '../../lib/proxy/contract';
import {
  closedPort,
  eventually,
  isolatedPrefix,
  motoSsm,
  type ProxyProcess,
  putFlag,
  startProxy,
} from './harness';

const doc = readFileSync(join(__dirname, '..', '..', 'docs', 'routing-proxy.md'), 'utf8');
const start = doc.indexOf('## Running it locally against two stand-ins');
const section = doc.slice(start, doc.indexOf('\n## ', start + 1));
const blocks = [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) =>
  m[1].replace(/^ {3}/gm, '').replace(/\\\n\s*/g, ''),
);

/** Every `curl -s localhost:9000<path>   # <answer>` of a block, in order. */
function requests(block: string): { path: string; answer: unknown }[] {
  return [...block.matchAll(/curl -s localhost:9000(\S+)\s+# (\{.*\})/g)].map((m) => ({
    path: m[1],
    answer: JSON.parse(m[2]),
  }));
}

/** The JSON value of each `put-parameter --name <name> ... --value '<json>'` of a block. */
function puts(block: string): { name: string; value: unknown }[] {
  return [...block.matchAll(/put-parameter --name (\S+)[^\n]*?--value '([^']+)'/g)].map((m) => ({
    name: m[1],
    value: JSON.parse(m[2]),
  }));
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

const children: ChildProcess[] = [];
let proxy: ProxyProcess | undefined;

afterAll(async () => {
  for (const c of children) c.kill('SIGTERM');
  await proxy?.stop('SIGKILL');
});

describe('docs/routing-proxy.md, running it locally', () => {
  it('has the six steps: stand-ins, flags, the runtime document and the proxy, requests, a flip', () => {
    expect(start).toBeGreaterThan(-1);
    expect(blocks).toHaveLength(5);
    expect(section).toContain('kill $(jobs -p)');
    // Started as node's own child: `kill $(jobs -p)` then reaches the proxy itself (npx would not pass it on).
    expect(blocks[2]).toMatch(
      /\nROUTING_PROXY_CONFIG_FILE=\/tmp\/proxy-local\.json node --import tsx proxy\/main\.ts &\n/,
    );
  });

  it('works as written: each request gets the answer its comment promises', async () => {
    // 1. The stand-ins, with the command of the section.
    const standIn = /node -e "([^"]+)" \$\{side%%:\*\} \$\{side##\*:\}/.exec(blocks[0]);
    expect(standIn).not.toBeNull();
    const ports = { legacy: await closedPort(), users: await closedPort() };
    for (const [name, port] of Object.entries(ports)) {
      const child = spawn(process.execPath, ['-e', standIn?.[1] ?? '', name, String(port)], {
        stdio: 'ignore',
      });
      children.push(child);
    }
    await eventually(async () => (await listening(ports.legacy)) && (await listening(ports.users)));

    // 2. The flags, under a prefix of this test's own.
    const ssm = motoSsm();
    const prefix = isolatedPrefix();
    const named = (name: string) => name.replace('/local/migration', prefix);
    for (const { name, value } of puts(blocks[1])) await putFlag(ssm, named(name), value);

    // 3. The runtime document, on the stand-ins' ports.
    const heredoc = /cat > \/tmp\/proxy-local\.json <<'EOF'\n([\s\S]*?)\nEOF/.exec(blocks[2]);
    expect(heredoc).not.toBeNull();
    const text = (heredoc?.[1] ?? '')
      .replace('"port": 9000', '"port": 0')
      .replace('http://127.0.0.1:9001', `http://127.0.0.1:${ports.legacy}`)
      .replace('http://127.0.0.1:9002', `http://127.0.0.1:${ports.users}`)
      .replaceAll('/local/migration', prefix);
    const parsed = parseProxyConfig(text);
    if (!parsed.ok) throw new Error(`the section's runtime document is invalid: ${parsed.errors.join('; ')}`);
    proxy = await startProxy(parsed.config);
    const p = proxy;
    expect(p.lines.find((l) => l.msg === 'listening')).toBeDefined();
    await eventually(async () => p.lines.some((l) => l.msg === 'flags' && l.mode === 'users'));

    // 4. The requests.
    const ask = async (path: string) => (await fetch(`${p.url}${path}`)).json();
    const first = requests(blocks[3]);
    expect(first.length).toBeGreaterThanOrEqual(3);
    for (const { path, answer } of first) expect(await ask(path)).toEqual(answer);

    // 5. The flip, seen within the refresh time.
    for (const { name, value } of puts(blocks[4])) await putFlag(ssm, named(name), value);
    const after = requests(blocks[4]);
    expect(after).toHaveLength(1);
    await eventually(async () => p.lines.some((l) => l.msg === 'flags' && l.mode === 'all'), 6000);
    for (const { path, answer } of after) expect(await ask(path)).toEqual(answer);

    // 6. Stopped, it drains and says so.
    expect(await p.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    expect(p.lines.find((l) => l.msg === 'stopped')).toMatchObject({ drained: true });
  });
});
