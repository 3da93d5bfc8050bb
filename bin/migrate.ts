#!/usr/bin/env node
/** Operator CLI: `npx migrate <command>` (or `npm run migrate -- <command>`). See `--help` and docs/runbook.md. */
import { main } from '../lib/cli/main';

// The SDK warns on Node 20 that its releases from 2027 need Node 22. The versions locked here run on
// Node 20; upgrading is the maintainers' job (README, "Supported Node.js versions"), not the operator's.
// The SDK's own switch; an operator who wants the warning sets it to anything else.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

main(process.argv.slice(2), {
  out: (line) => console.log(line),
  err: (line) => console.error(line),
  env: process.env,
}).then((code) => {
  process.exitCode = code;
});
