/**
 * The flag guard of the playground, in process (the deployed one is a Lambda): the CLI invokes it
 * through a stand-in for the Lambda Invoke API (AWS_ENDPOINT_URL_LAMBDA, the SDK's own per-service
 * endpoint variable), and, since the emulator emits no "Parameter Store Change" events, a poll delivers
 * one for every flag whose version changed (a raw `aws ssm put-parameter` too), as EventBridge would.
 * The guard's code is the Lambda's (lambda/flag-guard/handler.ts).
 */

import { createServer, type Server } from 'node:http';
import type { SFNClient } from '@aws-sdk/client-sfn';
import type { SNSClient } from '@aws-sdk/client-sns';
import { GetParametersCommand, type SSMClient } from '@aws-sdk/client-ssm';
import type { EventBridgeEvent } from 'aws-lambda';
import { type GuardResult, guard, type ParameterChangeDetail } from '../../lambda/flag-guard/handler';
import { Alerts } from '../../lambda/shared/alerts';
import { jsonLogger } from '../../lambda/shared/log';
import type { HookService } from '../../lib/hooks/contract';
import { flagGuardFunctionName } from '../../lib/naming';
import { listenOnLoopback } from './listen';

export interface InProcessGuard {
  /** The Lambda endpoint the CLI invokes the guard at (AWS_ENDPOINT_URL_LAMBDA). */
  readonly lambdaUrl: string;
  stop(): Promise<void>;
}

export interface GuardOptions {
  readonly envName: string;
  readonly services: readonly HookService[];
  readonly ssm: SSMClient;
  readonly sns: SNSClient;
  readonly sfn: SFNClient;
  readonly topicArn: string;
  /** What the guard decided, one line each. */
  readonly report: (line: string) => void;
  readonly pollMs?: number;
}

const changeEvent = (name: string, operation: string) =>
  ({
    source: 'aws.ssm',
    'detail-type': 'Parameter Store Change',
    detail: { name, operation },
  }) as unknown as EventBridgeEvent<string, ParameterChangeDetail>;

function describe(name: string, result: GuardResult): string | undefined {
  switch (result.status) {
    case 'labelled':
      return `flag guard: ${name} version ${result.version} checked, labelled last-good (live)`;
    case 'restored':
      return `flag guard: ${name} refused (${result.problems.join('; ')}); the last checked value is written back`;
    case 'rejected':
      return `flag guard: ${name} version ${result.badVersion} refused (${result.problems.join('; ')})`;
    default:
      return undefined;
  }
}

export async function startGuard(options: GuardOptions): Promise<InProcessGuard> {
  const { ssm, services } = options;
  const deps = {
    services,
    ssm,
    sfn: () => Promise.resolve(options.sfn),
    alerts: new Alerts(options.topicArn, () => Promise.resolve(options.sns)),
    logger: jsonLogger('flag-guard', () => {}),
  };
  const names = services.flatMap((s) => [...Object.values(s.names), s.overrideName]);
  // One check at a time, as concurrent invocations for one flag would race.
  let queue: Promise<unknown> = Promise.resolve();
  const check = (name: string, operation: string): Promise<GuardResult> => {
    const next = queue.then(() => guard(changeEvent(name, operation), deps));
    queue = next.catch(() => {});
    return next.then((result) => {
      const line = describe(name, result);
      if (line) options.report(line);
      return result;
    });
  };

  let seen = new Map<string, number>();
  const versions = async () => {
    const now = new Map<string, number>();
    for (let i = 0; i < names.length; i += 10) {
      const out = await ssm.send(new GetParametersCommand({ Names: names.slice(i, i + 10) }));
      for (const p of out.Parameters ?? []) if (p.Name && p.Version) now.set(p.Name, p.Version);
    }
    return now;
  };
  seen = await versions();
  let polling = false;
  let stopped = false;
  const timer = setInterval(async () => {
    if (polling || stopped) return;
    polling = true;
    try {
      const now = await versions();
      const changed = names.filter((n) => now.get(n) !== seen.get(n));
      seen = now;
      for (const name of changed) await check(name, now.has(name) ? 'Update' : 'Delete');
      // What the guard itself wrote back is its own change: not checked again.
      if (changed.length > 0) seen = await versions();
    } catch (e) {
      if (!stopped) options.report(`flag guard: could not read the flags (${(e as Error).message})`);
    } finally {
      polling = false;
    }
  }, options.pollMs ?? 1000);

  const functionName = flagGuardFunctionName(options.envName);
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const invoke = /^\/2015-03-31\/functions\/([^/]+)\/invocations/.exec(req.url ?? '');
      if (!invoke || req.method !== 'POST' || decodeURIComponent(invoke[1]) !== functionName) {
        res.writeHead(404, { 'x-amzn-errortype': 'ResourceNotFoundException' });
        res.end(JSON.stringify({ Type: 'User', message: `Function not found: ${invoke?.[1] ?? req.url}` }));
        return;
      }
      try {
        const payload = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
        const result = await check(payload?.detail?.name, payload?.detail?.operation ?? 'Update');
        seen = await versions();
        res.writeHead(200, { 'content-type': 'application/json', 'x-amz-executed-version': '$LATEST' });
        res.end(JSON.stringify(result));
      } catch (e) {
        res.writeHead(200, { 'x-amz-function-error': 'Unhandled' });
        res.end(JSON.stringify({ errorMessage: String(e) }));
      }
    });
  });
  const listening = await listenOnLoopback(server);
  return {
    lambdaUrl: listening.url,
    stop: async () => {
      stopped = true;
      clearInterval(timer);
      await queue;
      await listening.close();
    },
  };
}
