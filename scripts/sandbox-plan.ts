/**
 * For scripts/sandbox-proof.sh: what the app plans for a config, as plain lines a shell can read.
 *
 *   tsx scripts/sandbox-plan.ts <config.json> rules      -> "<service> <mode> <priority>" per rule (pins too)
 *   tsx scripts/sandbox-plan.ts <config.json> prefix     -> the flag parameter prefix
 *   tsx scripts/sandbox-plan.ts <config.json> stacks     -> the stack names of the config, in deploy order
 *   tsx scripts/sandbox-plan.ts <config.json> composites -> "<service> <path>" per composite endpoint at
 *                                                           the gateway, placeholders filled with "1"
 */
import { loadConfigFile } from '../lib/environment/load';
import { planListenerRules } from '../lib/gateway/alb-rules';
import { activeComposites, withCompositeRoutes } from '../lib/gateway/composites';
import { GATEWAY_STACK_ORDER, SERVICE_OPERATIONS_STACK_ORDER } from '../lib/stack-shape';
import { stackId } from '../lib/stacks/migration-stack';

const [path, what] = process.argv.slice(2);
const config = loadConfigFile(path);
if (what === 'rules') {
  for (const plan of planListenerRules(
    config.services.filter((s) => s.phase === 3).map((s) => withCompositeRoutes(s, config)),
    config.alb,
  )) {
    if (plan.pinPriority !== undefined) console.log(`${plan.service} pin ${plan.pinPriority}`);
    for (const rule of plan.rules) console.log(`${plan.service} ${plan.mode} ${rule.priority}`);
  }
} else if (what === 'composites') {
  for (const { owner, composite } of activeComposites(config))
    console.log(`${owner.name} ${composite.path.replace(/\{[^}]+\}/g, '1')}`);
} else if (what === 'prefix') {
  console.log(config.flags.parameterPrefix);
} else if (what === 'stacks') {
  const migrating = config.services.filter((s) => s.phase >= 1);
  const names = [
    stackId(config, 10, 'network'),
    ...(config.legacy.database.mode === 'create' ? [stackId(config, 20, 'legacy-data')] : []),
    ...migrating.map((s) => stackId(config, 20, `${s.name}-data`)),
    stackId(config, 30, 'platform'),
    ...(config.services.some((s) => s.phase === 3 && s.gateway === 'krakend')
      ? [stackId(config, GATEWAY_STACK_ORDER, 'gateway')]
      : []),
    ...migrating.map((s) => stackId(config, 40, `${s.name}-service`)),
    ...(migrating.length > 0 ? [stackId(config, 60, 'operations')] : []),
    ...migrating.map((s) => stackId(config, SERVICE_OPERATIONS_STACK_ORDER, `${s.name}-operations`)),
  ];
  console.log(names.join('\n'));
} else {
  console.error('usage: tsx scripts/sandbox-plan.ts <config.json> rules|prefix|stacks|composites');
  process.exit(2);
}
