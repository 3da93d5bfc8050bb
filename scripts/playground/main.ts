/**
 * `npm run playground [-- --port <n>]`: the migration playground on loopback (playground.ts), until
 * Ctrl-C. See the README, "Try it".
 */
import { parseArgs } from 'node:util';
import { DEFAULT_PORT, startPlayground } from './playground';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: {
      port: { type: 'string' },
      dir: { type: 'string' },
      moto: { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) {
    console.log(
      [
        'Usage: npm run playground [-- --port <n>] [--dir <folder>] [--moto <url>]',
        `  --port  the routing proxy's port on 127.0.0.1 (${DEFAULT_PORT}; 0: any free one)`,
        '  --dir   where the environment file for the CLI is written (.playground)',
        '  --moto  a moto_server already running (its flags are kept), instead of starting one',
      ].join('\n'),
    );
    return;
  }
  const port = values.port === undefined ? DEFAULT_PORT : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`--port ${values.port} is not a port number (0 to 65535)`);
  const playground = await startPlayground({
    port,
    dir: values.dir,
    motoUrl: values.moto,
    out: (line) => console.log(line),
  });
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping the routing proxy, the stand-ins, the flag guard and moto...`);
    await playground.stop();
    console.log('playground stopped');
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((e: Error) => {
  console.error(`playground: ${e.message}`);
  process.exit(1);
});
