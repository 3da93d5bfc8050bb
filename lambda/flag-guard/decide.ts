/**
 * The flag guard's decision, pure: given the newest version of a flag parameter, its last validated
 * version and the service's validated documents, label it, leave it, or restore the last good value.
 */
import {
  type FlagKind,
  INITIAL_DOCUMENTS,
  type OverrideDocument,
  parseFlag,
  serializeFlag,
} from '../../lib/flags/documents';
import { type FlagSet, violations } from '../../lib/flags/invariants';
import { LAST_GOOD_LABEL } from '../../lib/flags/parameters';
import type { FlagVersion } from '../../lib/flags/ssm-store';

export interface GuardInput {
  readonly kind: FlagKind;
  /** The newest version of the parameter, with its labels. */
  readonly latest: FlagVersion;
  /** The version labelled last-good, if any. */
  readonly lastGood?: FlagVersion;
  /** The service's validated documents (each kind's last-good). */
  readonly validated: FlagSet;
  readonly maxBytes: number;
  /** A valid, unexpired emergency override, if one exists (see docs/runbook.md). */
  readonly override?: OverrideDocument;
  readonly gatewayMode?: 'krakend' | 'alb';
}

export type GuardDecision =
  | { readonly action: 'none'; readonly reason: string }
  | { readonly action: 'label'; readonly version: number }
  | {
      readonly action: 'restore';
      readonly badVersion: number;
      readonly problems: readonly string[];
      /** The exact text to write back. */
      readonly restoreValue: string;
      /** Which version it comes from, or the deploy's initial document when none was ever validated. */
      readonly restoreFrom: number | 'initial';
    };

export function decide(input: GuardInput): GuardDecision {
  const { kind, latest, lastGood } = input;
  if (latest.labels.includes(LAST_GOOD_LABEL)) {
    return { action: 'none', reason: `version ${latest.version} is already labelled ${LAST_GOOD_LABEL}` };
  }
  const parsed = parseFlag(kind, latest.value, input.maxBytes);
  const problems = parsed.ok
    ? violations(kind, parsed.value, input.validated, {
        override: input.override,
        gatewayMode: input.gatewayMode,
      })
    : parsed.errors;
  if (problems.length === 0) return { action: 'label', version: latest.version };

  const restorable = lastGood && lastGood.version !== latest.version ? lastGood : undefined;
  return {
    action: 'restore',
    badVersion: latest.version,
    problems,
    restoreValue: restorable?.value ?? serializeFlag(kind, INITIAL_DOCUMENTS[kind]),
    restoreFrom: restorable?.version ?? 'initial',
  };
}
