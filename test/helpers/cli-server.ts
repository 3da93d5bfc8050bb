/**
 * The operator CLI for tests that run many `migrate` commands from a shell (the runbook's): one Node
 * process that has loaded the CLI runs each command with the caller's arguments, environment and
 * working directory, and answers with its output and exit code. A command then costs its own work, not
 * a start of Node and a load of the CLI and the SDK (about 0.2 s of CPU each).
 *
 *     node cli-server.cjs <socket path>                        # bundled by the test; prints "ready",
 *                                                              # exits when its standard input closes
 *     python -I -S cli-client.py <socket path> <migrate args...>
 *
 * It runs `main` as bin/migrate.ts does, one command at a time (each sees only its caller's environment).
 */
import { createServer, type Socket } from 'node:net';
import { main } from '../../lib/cli/main';

interface Request {
  readonly argv: string[];
  readonly env: Record<string, string>;
  readonly cwd: string;
}

interface Answer {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

async function run(request: Request): Promise<Answer> {
  const saved = { ...process.env };
  const cwd = process.cwd();
  const replaceEnv = (env: Record<string, string | undefined>) => {
    for (const key of Object.keys(process.env)) delete process.env[key];
    Object.assign(process.env, env);
  };
  replaceEnv(request.env);
  // As bin/migrate.ts does.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const stdout: string[] = [];
  const stderr: string[] = [];
  try {
    process.chdir(request.cwd);
    const code = await main(request.argv, {
      // console.log and console.error, as bin/migrate.ts writes them: each line ends with a newline.
      out: (line) => stdout.push(`${line}\n`),
      err: (line) => stderr.push(`${line}\n`),
      env: process.env,
    });
    return { code, stdout: stdout.join(''), stderr: stderr.join('') };
  } catch (e) {
    return { code: 70, stdout: stdout.join(''), stderr: `${stderr.join('')}cli-server: ${String(e)}\n` };
  } finally {
    process.chdir(cwd);
    replaceEnv(saved);
  }
}

/** One command at a time: each replaces the process's environment while it runs. */
let queue: Promise<unknown> = Promise.resolve();

function serve(socket: Socket): void {
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  socket.on('end', () => {
    const request = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Request;
    const answer = queue.then(() => run(request));
    queue = answer.catch(() => {});
    answer.then((a) => socket.end(JSON.stringify(a)));
  });
}

const [socketPath] = process.argv.slice(2);
if (!socketPath) throw new Error('usage: node cli-server.cjs <socket path>');
// Half-open: the client ends its side after the request and reads the answer.
createServer({ allowHalfOpen: true }, serve).listen(socketPath, () => process.stdout.write('ready\n'));
// The server ends with its parent: its standard input is a pipe from the test, closed when that exits.
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
