#!/usr/bin/env node
/** Operator CLI: `npm run migrate -- <command>`. See `npm run migrate -- --help` and docs/runbook.md. */
import { main } from '../lib/cli/main';

main(process.argv.slice(2), {
  out: (line) => console.log(line),
  err: (line) => console.error(line),
  env: process.env,
}).then((code) => {
  process.exitCode = code;
});
