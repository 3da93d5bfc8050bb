/**
 * The routing proxy's entry point: reads and validates its configuration (ROUTING_PROXY_CONFIG, or a
 * file named by ROUTING_PROXY_CONFIG_FILE for local runs), starts the flag refresh (only when a service
 * is at phase 1 or later: at phase 0 there is no SSM client at all), listens, and drains on SIGTERM.
 */
import { readFileSync } from 'node:fs';
import { PROXY_CONFIG_VARIABLE, parseProxyConfig } from '../lib/proxy/contract';
import { flagAgeLine } from '../lib/proxy/metrics';
import { FlagRefresher, type FlagSource, flagReadDeadlineMs, NO_FLAGS } from './flags';
import type { JwtVerifier } from './jwt';
import { jsonLogger, stdoutSink } from './log';
import { RoutingProxy } from './server';

const FILE_VARIABLE = 'ROUTING_PROXY_CONFIG_FILE';

async function main(): Promise<void> {
  const sink = stdoutSink();
  const logger = jsonLogger(sink);
  const fail = (msg: string, fields: Record<string, unknown> = {}) => {
    logger.log('error', msg, fields);
    sink.flushSync();
    process.exit(1);
  };

  let text = process.env[PROXY_CONFIG_VARIABLE];
  const file = process.env[FILE_VARIABLE];
  if (text === undefined && file !== undefined) {
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      return fail(`cannot read ${FILE_VARIABLE}`, { file, error: (e as Error).message });
    }
  }
  if (text === undefined)
    return fail(`${PROXY_CONFIG_VARIABLE} is not set: the container was started without its configuration`);
  const parsed = parseProxyConfig(text);
  if (!parsed.ok) return fail('invalid configuration', { errors: parsed.errors });
  const { config } = parsed;

  let flags: FlagSource = NO_FLAGS;
  let refresher: FlagRefresher | undefined;
  if (config.services.length > 0) {
    // Loaded only when there are flags to read: at phase 0 the SDK is not even in memory (about 20 MB).
    const [{ SSMClient }, { readChecked }] = await Promise.all([
      import('@aws-sdk/client-ssm'),
      import('../lib/flags/ssm-store'),
    ]);
    // Short timeouts: a refresh runs in the background, and the next one comes soon. They are not the
    // deadline (an SDK timeout may only warn): the refresher ends every read at its own.
    const deadlineMs = flagReadDeadlineMs(config.flags.refreshMs);
    const ssm = new SSMClient({
      requestHandler: {
        connectionTimeout: Math.min(2000, deadlineMs),
        requestTimeout: Math.min(3000, deadlineMs),
      },
    });
    refresher = new FlagRefresher(
      config.services,
      (names, abortSignal) => readChecked(ssm, names, { abortSignal }),
      {
        refreshMs: config.flags.refreshMs,
        jitterPercent: config.flags.jitterPercent,
        deadlineMs,
        onAge: (service, age) => sink.line(flagAgeLine(service, age, Date.now())),
      },
      logger,
    );
    flags = refresher;
  }

  const jwksUrls = [
    ...new Set(
      config.services.flatMap((s) =>
        s.routes.flatMap((r) =>
          r.identity?.source === 'jwt' && r.identity.jwks ? [r.identity.jwks.url] : [],
        ),
      ),
    ),
  ];
  const jwt: JwtVerifier | undefined =
    jwksUrls.length > 0 ? new (await import('./jwt')).JwtVerifier() : undefined;

  const proxy = new RoutingProxy({ config, flags, sink, logger, ...(jwt ? { jwt } : {}) });
  const port = await proxy.listen(config.port);
  refresher?.start();
  void jwt?.warm(jwksUrls);
  logger.log('info', 'listening', {
    port,
    legacy: config.legacy.url,
    services: config.services.map((s) => ({ name: s.name, phase: s.phase, routes: s.routes.length })),
    passThrough: config.services.length === 0,
  });

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.log('info', 'draining', { signal, drainMs: config.timeouts.drainMs });
    refresher?.stop();
    const drained = await proxy.shutdown(config.timeouts.drainMs);
    logger.log(drained ? 'info' : 'warn', 'stopped', { drained });
    // The last lines, unless stdout is stuck: the container's stop timeout is drainSeconds + 5.
    await Promise.race([sink.flush(), new Promise((resolve) => setTimeout(resolve, 2000).unref())]);
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('uncaughtException', (e) => fail('uncaught exception', { error: e.message, stack: e.stack }));
  process.on('unhandledRejection', (e) => logger.log('error', 'unhandled rejection', { error: String(e) }));
}

main().catch((e: Error) => {
  process.stdout.write(
    `${JSON.stringify({ level: 'error', msg: 'failed to start', time: new Date().toISOString(), error: e.message })}\n`,
  );
  process.exit(1);
});
