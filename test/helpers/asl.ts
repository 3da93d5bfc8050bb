/**
 * Runs a synthesized Step Functions definition (Amazon States Language) in the test, state by state, as
 * Step Functions would: moto runs no state machine, so the order of the steps is read from the definition
 * itself, never restated in a test. It covers what the app's state machines use: Task (each task handed to
 * the test's `runTask`), Pass, Choice, Succeed, Fail; InputPath-free states with Parameters, ResultSelector,
 * ResultPath and Catch; JSONPath (`$.a.b`, `$.a[0].b`, the context object `$$.Execution.*` and
 * `$$.State.EnteredTime`) and the intrinsic functions States.Format and States.JsonToString. Retry is not
 * simulated: the tasks the tests hand it fail or succeed for good.
 */

// biome-ignore lint/suspicious/noExplicitAny: state data is arbitrary JSON
type Json = any;

export interface AslState {
  readonly Type: 'Task' | 'Pass' | 'Choice' | 'Succeed' | 'Fail' | string;
  readonly Next?: string;
  readonly End?: boolean;
  readonly Resource?: string;
  readonly Parameters?: Json;
  readonly ResultSelector?: Json;
  readonly ResultPath?: string | null;
  readonly Catch?: readonly { ErrorEquals: string[]; ResultPath?: string | null; Next: string }[];
  readonly Choices?: readonly Json[];
  readonly Default?: string;
  readonly ErrorPath?: string;
  readonly CausePath?: string;
  readonly Error?: string;
  readonly Cause?: string;
}

export interface AslMachine {
  readonly StartAt: string;
  readonly States: Readonly<Record<string, AslState>>;
}

/**
 * The definition of a synthesized `DefinitionString` (a string, or an `Fn::Join` of strings and
 * CloudFormation references): each reference becomes the text `token(reference)` returns.
 */
export function definitionOf(definitionString: unknown, token: (reference: Json) => string): AslMachine {
  if (typeof definitionString === 'string') return JSON.parse(definitionString);
  const join = (definitionString as { 'Fn::Join': [string, unknown[]] })['Fn::Join'];
  return JSON.parse(join[1].map((p) => (typeof p === 'string' ? p : token(p))).join(join[0]));
}

/** A task that failed: Step Functions' error name and cause. */
export class TaskFailure extends Error {
  constructor(
    readonly error: string,
    override readonly cause: string,
  ) {
    super(`${error}: ${cause}`);
  }
}

/** One event of the execution's history, as GetExecutionHistory gives it (the states that exited). */
export interface HistoryEvent {
  readonly type: 'TaskStateExited' | 'PassStateExited' | 'ChoiceStateExited';
  readonly stateExitedEventDetails: { readonly name: string; readonly output: string };
}

export interface Execution {
  readonly name: string;
  readonly arn: string;
  readonly startTime: string;
}

export interface RunResult {
  readonly status: 'SUCCEEDED' | 'FAILED';
  readonly output?: Json;
  readonly error?: string;
  readonly cause?: string;
  /** The states in the order they ran. */
  readonly path: readonly string[];
  readonly history: readonly HistoryEvent[];
}

/** Reads `$...` (state data) or `$$...` (context) paths. */
function read(path: string, data: Json, context: Json): Json {
  const [root, rest] = path.startsWith('$$') ? [context, path.slice(2)] : [data, path.slice(1)];
  let v = root;
  for (const part of rest.match(/\.[^.[\]]+|\[\d+\]/g) ?? []) {
    if (v === undefined || v === null) return undefined;
    v = part.startsWith('[') ? v[Number(part.slice(1, -1))] : v[part.slice(1)];
  }
  return v;
}

/** `States.Format('...{}...', $.a)`, `States.JsonToString($.a)`, or a path. */
function evaluate(expression: string, data: Json, context: Json): Json {
  const intrinsic = /^States\.(\w+)\((.*)\)$/s.exec(expression);
  if (!intrinsic) return read(expression, data, context);
  const args: Json[] = [];
  const text = intrinsic[2];
  for (let i = 0; i < text.length; ) {
    if (text[i] === ' ' || text[i] === ',') {
      i++;
      continue;
    }
    if (text[i] === "'") {
      let s = '';
      for (i++; i < text.length && text[i] !== "'"; i++) s += text[i] === '\\' ? text[++i] : text[i];
      args.push(s);
      i++;
      continue;
    }
    const end = text.indexOf(',', i);
    const path = (end < 0 ? text.slice(i) : text.slice(i, end)).trim();
    args.push(read(path, data, context));
    i = end < 0 ? text.length : end;
  }
  switch (intrinsic[1]) {
    case 'Format': {
      let n = 1;
      return String(args[0]).replace(/\{\}/g, () => {
        const v = args[n++];
        return typeof v === 'string' ? v : JSON.stringify(v);
      });
    }
    case 'JsonToString':
      return JSON.stringify(args[0]);
    default:
      throw new Error(`intrinsic States.${intrinsic[1]} is not simulated`);
  }
}

/** A Parameters (or ResultSelector) template, its `.$` keys evaluated. */
function fill(template: Json, data: Json, context: Json): Json {
  if (Array.isArray(template)) return template.map((t) => fill(t, data, context));
  if (template === null || typeof template !== 'object') return template;
  const out: Json = {};
  for (const [key, value] of Object.entries(template)) {
    if (key.endsWith('.$')) out[key.slice(0, -2)] = evaluate(value as string, data, context);
    else out[key] = fill(value, data, context);
  }
  return out;
}

/** The state data with `result` placed at `resultPath` (`null`: discarded; absent: replaces it). */
function place(data: Json, resultPath: string | null | undefined, result: Json): Json {
  if (resultPath === null) return data;
  if (resultPath === undefined || resultPath === '$') return result;
  const parts = resultPath.slice(2).split('.');
  const copy = structuredClone(data ?? {});
  let at = copy;
  for (const p of parts.slice(0, -1)) {
    at[p] = at[p] && typeof at[p] === 'object' ? at[p] : {};
    at = at[p];
  }
  at[parts[parts.length - 1]] = result;
  return copy;
}

function matches(rule: Json, data: Json, context: Json): boolean {
  if (rule.And) return rule.And.every((r: Json) => matches(r, data, context));
  if (rule.Or) return rule.Or.some((r: Json) => matches(r, data, context));
  if (rule.Not) return !matches(rule.Not, data, context);
  const v = read(rule.Variable, data, context);
  if ('IsPresent' in rule) return (v !== undefined) === rule.IsPresent;
  if ('NumericEquals' in rule) return typeof v === 'number' && v === rule.NumericEquals;
  if ('NumericEqualsPath' in rule)
    return typeof v === 'number' && v === read(rule.NumericEqualsPath, data, context);
  if ('BooleanEquals' in rule) return v === rule.BooleanEquals;
  if ('StringEquals' in rule) return v === rule.StringEquals;
  throw new Error(`choice rule not simulated: ${JSON.stringify(rule)}`);
}

/**
 * Runs `machine` from its start with `input`. `runTask` performs each Task state (its state name,
 * Resource and filled Parameters) and returns its result, or throws a TaskFailure (or any error:
 * States.TaskFailed), which the state's Catch handles as Step Functions does.
 */
export async function runMachine(
  machine: AslMachine,
  input: Json,
  execution: Execution,
  runTask: (task: {
    state: string;
    resource: string;
    parameters: Json;
    history: readonly HistoryEvent[];
  }) => Promise<Json>,
): Promise<RunResult> {
  const path: string[] = [];
  const history: HistoryEvent[] = [];
  let data = input;
  let at: string | undefined = machine.StartAt;
  for (let steps = 0; at !== undefined; steps++) {
    if (steps > 200) throw new Error('more than 200 states: a loop?');
    const name: string = at;
    const state: AslState | undefined = machine.States[name];
    if (!state) throw new Error(`no state ${name}`);
    path.push(name);
    const context = {
      Execution: { Name: execution.name, Id: execution.arn, StartTime: execution.startTime },
      State: { Name: name, EnteredTime: new Date().toISOString() },
    };
    const exited = (type: HistoryEvent['type']) =>
      history.push({ type, stateExitedEventDetails: { name, output: JSON.stringify(data) } });
    switch (state.Type) {
      case 'Pass':
        data = place(data, state.ResultPath, state.Parameters ? fill(state.Parameters, data, context) : data);
        exited('PassStateExited');
        break;
      case 'Choice': {
        const rule: Json = (state.Choices ?? []).find((c) => matches(c, data, context));
        exited('ChoiceStateExited');
        at = rule ? rule.Next : state.Default;
        if (at === undefined) throw new Error(`Choice ${name}: no rule matched and no Default`);
        continue;
      }
      case 'Task': {
        try {
          let result = await runTask({
            state: name,
            resource: state.Resource ?? '',
            parameters: fill(state.Parameters ?? data, data, context),
            history,
          });
          if (state.ResultSelector) result = fill(state.ResultSelector, result, context);
          data = place(data, state.ResultPath, result);
          exited('TaskStateExited');
        } catch (e) {
          const failure =
            e instanceof TaskFailure ? e : new TaskFailure('States.TaskFailed', (e as Error).message);
          const catcher: { ResultPath?: string | null; Next: string } | undefined = state.Catch?.find(
            (c) => c.ErrorEquals.includes('States.ALL') || c.ErrorEquals.includes(failure.error),
          );
          if (!catcher)
            return { status: 'FAILED', error: failure.error, cause: failure.cause, path, history };
          data = place(data, catcher.ResultPath, { Error: failure.error, Cause: failure.cause });
          at = catcher.Next;
          continue;
        }
        break;
      }
      case 'Succeed':
        return { status: 'SUCCEEDED', output: data, path, history };
      case 'Fail':
        return {
          status: 'FAILED',
          error: state.ErrorPath ? read(state.ErrorPath, data, context) : state.Error,
          cause: state.CausePath ? read(state.CausePath, data, context) : state.Cause,
          path,
          history,
        };
      default:
        throw new Error(`state type ${state.Type} is not simulated`);
    }
    if (state.End) return { status: 'SUCCEEDED', output: data, path, history };
    at = state.Next;
  }
  throw new Error('the definition ran off its end');
}
