/**
 * cutover-steps: the steps of a cutover state machine that need more than one AWS call.
 * - `acquire`: the service's cutover lock (a conditional DynamoDB write): at most one run at a time;
 *   a lock whose execution no longer runs (stopped by hand) is taken over;
 * - `precheck`: routing "all", no cutover recorded, no alarm in ALARM (flags read at `:last-good`);
 * - `postcheck`: after the bulk migration, the same, and no alarm went to ALARM since the run started;
 * - `release`: the lock, on every way out of the run.
 * Checks return `{ok, error, cause}` for the state machine to branch on; thin: decisions in decide.ts.
 */
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SFNClient } from '@aws-sdk/client-sfn';
import { SSMClient } from '@aws-sdk/client-ssm';
import { FlagStore } from '../../lib/flags/ssm-store';
import {
  type CutoverStepEvent,
  type HookService,
  hookServices,
  LOCK_TABLE_VARIABLE,
  readHookEnvironment,
} from '../../lib/hooks/contract';
import { type Lazy, lazy } from '../shared/lazy';
import { jsonLogger, type Logger } from '../shared/log';
import { type LockState, lockDecision, postconditions, preconditions, type StepOutcome } from './decide';

export type StepEvent = CutoverStepEvent;

export interface StepDependencies {
  readonly services: readonly HookService[];
  readonly lockTable: string;
  /** Made at start: the flag store's code holds SSM's anyway. The others are made by the steps that use them. */
  readonly ssm: SSMClient;
  /** The lock: acquire and release. */
  readonly dynamodb: Lazy<DynamoDBClient>;
  /** The alarms: precheck and postcheck. */
  readonly cloudwatch: Lazy<CloudWatchClient>;
  /** Only when the lock is held: its holder's execution. */
  readonly sfn: Lazy<SFNClient>;
  readonly logger: Logger;
}

export async function runStep(event: StepEvent, deps: StepDependencies): Promise<StepOutcome> {
  const service = deps.services.find((s) => s.service === event?.service);
  if (!service) throw new Error(`cutover step for an unknown service: ${JSON.stringify(event?.service)}`);
  const outcome = await STEPS[event.step](service, event, deps);
  deps.logger.log(outcome.ok ? 'info' : 'warn', `cutover ${event.step}`, {
    service: service.service,
    execution: event.execution,
    ...outcome,
  });
  return outcome;
}

type Step = (service: HookService, event: StepEvent, deps: StepDependencies) => Promise<StepOutcome>;

const STEPS: { readonly [K in StepEvent['step']]: Step } = {
  acquire: async (service, event, deps) => {
    const [{ ConditionalCheckFailedException, GetItemCommand, PutItemCommand }, dynamodb] = await Promise.all(
      [import('./aws-dynamodb'), deps.dynamodb()],
    );
    const key = { service: { S: service.service } };
    const put = (condition: string, values: Record<string, { S: string }>) =>
      dynamodb.send(
        new PutItemCommand({
          TableName: deps.lockTable,
          Item: { ...key, holder: { S: event.execution }, since: { S: event.startedAt } },
          ConditionExpression: condition,
          ExpressionAttributeValues: values,
        }),
      );
    try {
      await put('attribute_not_exists(service) OR holder = :me', { ':me': { S: event.execution } });
      return { ok: true };
    } catch (e) {
      if (!(e instanceof ConditionalCheckFailedException)) throw e;
    }
    const item = await dynamodb.send(
      new GetItemCommand({ TableName: deps.lockTable, Key: key, ConsistentRead: true }),
    );
    const holder = item.Item?.holder?.S;
    const lock: LockState = holder
      ? { held: true, holder, holderStatus: await executionStatus(deps.sfn, holder) }
      : { held: false };
    const decision = lockDecision(service.service, event.execution, lock);
    if (!decision.take) return decision.outcome;
    try {
      // Compare-and-set: only if the stale holder is still the holder.
      await put(
        decision.from ? 'holder = :stale' : 'attribute_not_exists(service)',
        decision.from ? { ':stale': { S: decision.from } } : {},
      );
      return { ok: true };
    } catch (e) {
      if (!(e instanceof ConditionalCheckFailedException)) throw e;
      return {
        ok: false,
        error: 'CutoverAlreadyRunning',
        cause: `Another cutover of ${service.service} took the lock at the same moment; at most one runs at a time. Follow it with npm run migrate -- status ${service.service}.`,
      };
    }
  },
  release: async (service, event, deps) => {
    const [{ ConditionalCheckFailedException, DeleteItemCommand }, dynamodb] = await Promise.all([
      import('./aws-dynamodb'),
      deps.dynamodb(),
    ]);
    try {
      await dynamodb.send(
        new DeleteItemCommand({
          TableName: deps.lockTable,
          Key: { service: { S: service.service } },
          ConditionExpression: 'holder = :me',
          ExpressionAttributeValues: { ':me': { S: event.execution } },
        }),
      );
    } catch (e) {
      if (!(e instanceof ConditionalCheckFailedException)) throw e;
    }
    return { ok: true };
  },
  precheck: async (service, _event, deps) =>
    preconditions({
      service: service.service,
      flags: (await storeOf(service, deps).checkedSet()).flags,
      inAlarm: await alarmsInAlarm(service, deps),
    }),
  postcheck: async (service, event, deps) =>
    postconditions({
      service: service.service,
      flags: (await storeOf(service, deps).checkedSet()).flags,
      inAlarm: await alarmsInAlarm(service, deps),
      alarmedSinceStart: await alarmedSince(service, new Date(event.startedAt), deps),
    }),
};

function storeOf(service: HookService, deps: StepDependencies): FlagStore {
  return new FlagStore(service.names, deps.ssm, {
    tier: service.tier,
    overrideName: service.overrideName,
    cutoverRecorded: service.cutoverRecorded,
  });
}

async function executionStatus(sfn: Lazy<SFNClient>, executionArn: string): Promise<string | undefined> {
  const [{ DescribeExecutionCommand }, client] = await Promise.all([import('../shared/aws-sfn'), sfn()]);
  try {
    return (await client.send(new DescribeExecutionCommand({ executionArn }))).status;
  } catch (e) {
    if ((e as Error).name === 'ExecutionDoesNotExist') return undefined;
    throw e;
  }
}

async function alarmsInAlarm(service: HookService, deps: StepDependencies): Promise<string[]> {
  const [{ DescribeAlarmsCommand }, cloudwatch] = await Promise.all([
    import('./aws-cloudwatch'),
    deps.cloudwatch(),
  ]);
  const out = await cloudwatch.send(
    new DescribeAlarmsCommand({ AlarmNames: [...service.alarmNames], StateValue: 'ALARM' }),
  );
  return [...(out.MetricAlarms ?? []), ...(out.CompositeAlarms ?? [])].flatMap((a) =>
    a.AlarmName ? [a.AlarmName] : [],
  );
}

/** The service's alarms whose history has a transition to ALARM since `start`. */
async function alarmedSince(service: HookService, start: Date, deps: StepDependencies): Promise<string[]> {
  const [{ DescribeAlarmHistoryCommand }, cloudwatch] = await Promise.all([
    import('./aws-cloudwatch'),
    deps.cloudwatch(),
  ]);
  const alarmed: string[] = [];
  for (const alarmName of service.alarmNames) {
    let nextToken: string | undefined;
    do {
      const page = await cloudwatch.send(
        new DescribeAlarmHistoryCommand({
          AlarmName: alarmName,
          HistoryItemType: 'StateUpdate',
          StartDate: start,
          EndDate: new Date(),
          MaxRecords: 100,
          NextToken: nextToken,
        }),
      );
      const hit = (page.AlarmHistoryItems ?? []).some((item) => {
        try {
          return (
            (JSON.parse(item.HistoryData ?? '{}') as { newState?: { stateValue?: string } }).newState
              ?.stateValue === 'ALARM'
          );
        } catch {
          return /to ALARM/.test(item.HistorySummary ?? '');
        }
      });
      if (hit) {
        alarmed.push(alarmName);
        break;
      }
      nextToken = page.NextToken;
    } while (nextToken);
  }
  return alarmed;
}

let dependencies: StepDependencies | undefined;

export async function handler(event: StepEvent): Promise<StepOutcome> {
  dependencies ??= (() => {
    const lockTable = process.env[LOCK_TABLE_VARIABLE];
    if (!lockTable)
      throw new Error(
        `${LOCK_TABLE_VARIABLE} is not set: the function was deployed without its configuration`,
      );
    return {
      services: hookServices(readHookEnvironment()),
      lockTable,
      ssm: new SSMClient({}),
      dynamodb: lazy(async () => new (await import('./aws-dynamodb')).DynamoDBClient({})),
      cloudwatch: lazy(async () => new (await import('./aws-cloudwatch')).CloudWatchClient({})),
      sfn: lazy(async () => new (await import('../shared/aws-sfn')).SFNClient({})),
      logger: jsonLogger('cutover-steps'),
    };
  })();
  return runStep(event, dependencies);
}
