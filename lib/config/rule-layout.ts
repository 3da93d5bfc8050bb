/**
 * The two numbers of the listener-rule layout (docs/decisions/0007) that the configuration's fields are
 * checked against: `alb.ruleQuota`'s default and the range of `alb.ruleBlocks`. lib/gateway/alb-rules.ts
 * lays the blocks out in priorities. A module of its own, without zod, so that the hooks that plan rules
 * (traffic-switch) do not bundle the schema.
 */

/** The default quota of rules per load balancer (adjustable: `alb.ruleQuota`). */
export const DEFAULT_RULE_QUOTA = 100;

/** Listener-rule blocks 1..RULE_BLOCKS a service may own; block 0 is never used. */
export const RULE_BLOCKS = 780;
