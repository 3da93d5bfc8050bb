/**
 * The README's "Try it", replayed: `npm run playground`'s program (scripts/playground/main.ts) as a
 * process with its flag guard, stand-ins and the real routing proxy (on the suite's moto, `--moto`, to
 * save a start of the emulator; the playground's own moto is the same moto_server); then the block marked
 * `<!-- checked: playground -->` in the README, line by line: each `npx migrate` through the bundled CLI
 * (what bin/migrate.cjs runs, started faster) with the environment the playground wrote, each `curl` as
 * a request to the proxy, whose line (user, route, side) must name the side the block's comment says.
 * Then Ctrl-C (SIGINT): everything stops, nothing is left listening, the environment folder is gone.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suggestedCommands } from '../../scripts/playground/playground';

const ROOT = join(__dirname, '..', '..');
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');

/** The commands of the README's playground block, with the comment (the side) of each. */
function tryItBlock(): { command: string; side?: string }[] {
  const at = README.indexOf('<!-- checked: playground -->');
  if (at < 0) throw new Error('README.md has no block marked <!-- checked: playground -->');
  const block = /```sh\n([\s\S]*?)```/.exec(README.slice(at))?.[1] ?? '';
  return block
    .trim()
    .split('\n')
    .map((line) => {
      const m = /^(.*?)\s+#\s*(.*)$/.exec(line);
      // A curl's comment is the side; the other comments only explain.
      const command = (m ? m[1] : line).trim();
      return { command, ...(m && command.startsWith('curl') ? { side: m[2].trim() } : {}) };
    });
}

function listening(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

let proc: ChildProcess | undefined;
afterAll(async () => {
  if (proc && proc.exitCode === null) {
    proc.kill('SIGINT');
    await new Promise((r) => proc?.once('exit', r));
  }
});

describe('npm run playground, as the README tries it', () => {
  it('is the block the playground suggests', () => {
    expect(tryItBlock().map((c) => c.command)).toEqual([
      'source .playground/env',
      ...suggestedCommands(8800),
    ]);
    expect(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).scripts.playground).toBe(
      'tsx scripts/playground/main.ts',
    );
  });

  it('moves user 42, then a share, then everyone, and back; stops cleanly on Ctrl-C', async () => {
    const cli = process.env.MIGRATE_CLI;
    const motoEndpoint = process.env.MOTO_ENDPOINT;
    if (!cli || !motoEndpoint)
      throw new Error('MIGRATE_CLI or MOTO_ENDPOINT is not set: run the tests through jest');
    const dir = join(mkdtempSync(join(tmpdir(), 'playground-')), '.playground');
    proc = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        join(ROOT, 'scripts', 'playground', 'main.ts'),
        '--port',
        '0',
        '--dir',
        dir,
        '--moto',
        motoEndpoint,
      ],
      {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { PATH: process.env.PATH, HOME: process.env.HOME },
      },
    );
    const lines: string[] = [];
    let stderr = '';
    proc.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    let partial = '';
    const waiters: { test: (l: string) => boolean; resolve: (l: string) => void }[] = [];
    proc.stdout?.on('data', (d: Buffer) => {
      partial += d.toString();
      const parts = partial.split('\n');
      partial = parts.pop() ?? '';
      for (const line of parts) {
        lines.push(line);
        for (const w of waiters.splice(0)) (w.test(line) ? w.resolve : () => waiters.push(w))(line);
      }
    });
    /** The next line (from `from` on) that passes `test`. */
    const nextLine = (test: (l: string) => boolean, from = lines.length): Promise<string> => {
      const found = lines.slice(from).find(test);
      if (found !== undefined) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        waiters.push({ test, resolve });
        proc?.once('exit', (code) =>
          reject(new Error(`playground exited ${code}: ${stderr}\n${lines.join('\n')}`)),
        );
      });
    };

    await nextLine((l) => l.includes('Ctrl-C stops everything'));
    const proxyUrl = /routing proxy\s+(http:\/\/127\.0\.0\.1:\d+)/.exec(lines.join('\n'))?.[1] ?? '';
    const port = new URL(proxyUrl).port;
    // The environment the README sources.
    const env: Record<string, string> = {};
    for (const m of readFileSync(join(dir, 'env'), 'utf8').matchAll(/^export (\w+)=(.*)$/gm))
      env[m[1]] = m[2];

    let mode = 'off';
    for (const { command, side } of tryItBlock()) {
      if (command.startsWith('source ')) continue;
      if (command.startsWith('npx migrate ')) {
        const args = command.slice('npx migrate '.length).split(' ');
        const from = lines.length;
        const result = spawnSync(process.execPath, [cli, ...args], {
          encoding: 'utf8',
          env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
        });
        expect({ command, code: result.status, stderr: result.stderr }).toEqual({
          command,
          code: 0,
          stderr: '',
        });
        if (args[0] === 'route') {
          expect(result.stdout).toMatch(/live: the flag guard checked version \d+ \(last-good\)/);
          // Requests follow once the proxy has read the change.
          mode = args[2];
          await nextLine((l) => l.includes(`routing proxy: users routing is "${mode}"`), from);
        } else expect(result.stdout).toMatch(/users\s+1\s+off\s+0\s+0\s+not done/);
        continue;
      }
      const curl =
        /^curl -s (?:-X (\w+) )?localhost:8800(\S+)(?: -H '([^:]+): ([^']+)')?(?: -d '([^']+)')?$/.exec(
          command,
        );
      if (!curl) throw new Error(`the README's block has a command the test cannot replay: ${command}`);
      const [, method = 'GET', path, header, value, body] = curl;
      const from = lines.length;
      const res = await fetch(`http://127.0.0.1:${port}${path}`, {
        method,
        headers: header ? { [header]: value } : {},
        body,
      });
      const answer = (await res.json()) as { servedBy: string };
      const seen = await nextLine((l) => l.startsWith('request: '), from);
      expect({ command, mode, seen, servedBy: answer.servedBy }).toEqual({
        command,
        mode,
        seen: expect.stringMatching(new RegExp(`-> ${side} \\(200\\)$`)),
        servedBy: side === 'monolith' ? 'monolith' : 'users-service',
      });
      const user = /\/api\/users\/(\d+)/.exec(path)?.[1] ?? JSON.parse(body ?? '{}').username;
      expect(seen).toMatch(
        new RegExp(`^request: user ${user}\\s+(GET /api/users/\\{id\\}|POST /api/login)\\s`),
      );
    }

    proc.kill('SIGINT');
    const code = await new Promise<number | null>((r) => proc?.once('exit', (c) => r(c)));
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(lines.slice(-1)).toEqual(['playground stopped']);
    expect(existsSync(dir)).toBe(false);
    expect(await listening(proxyUrl)).toBe(false);
    // The suite's moto is not the playground's to stop.
    expect(await listening(motoEndpoint)).toBe(true);
    // About 10 s on an idle 2-core machine (processes: the playground, its proxy, five CLI runs); more
    // when the machine is shared.
  }, 120_000);
});
