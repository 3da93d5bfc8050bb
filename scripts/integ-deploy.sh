#!/usr/bin/env bash
# Deploys one integ test (test/integ/integ.*.ts) on a sandbox account, reads its assertion results and
# destroys it: what `integ-runner` does, with this repository's CDK CLI (integ-runner's release cannot
# read this aws-cdk-lib's cloud assembly yet; README, "Tests").
#
#   AWS_PROFILE=sandbox AWS_REGION=eu-west-1 scripts/integ-deploy.sh test/integ/integ.phase1.ts [--keep]
#
# Needs what scripts/sandbox-proof.sh needs (credentials for a sandbox account, never production; the CDK
# bootstrap; Docker for the container images), and the demo's names free in that account and region.
# Exits 1 when an assertion fails (each prints its message). Flag parameters, retained log groups, the
# access-log bucket and the databases' final snapshots stay behind: docs/runbook.md, "Integ tests".
set -euo pipefail
cd "$(dirname "$0")/.."

TEST=${1:?usage: scripts/integ-deploy.sh test/integ/integ.<name>.ts [--keep]}
KEEP=${2:-}
OUT=$(mktemp -d)
APP="npx tsx $TEST"
aws sts get-caller-identity --query Account --output text >/dev/null || { echo "no AWS credentials" >&2; exit 1; }

destroy() { [ "$KEEP" = --keep ] || npx cdk destroy --all --force --app "$APP" --output "$OUT/cdk.out"; }
trap destroy EXIT

npx cdk deploy --all --require-approval never --app "$APP" --output "$OUT/cdk.out" \
  --outputs-file "$OUT/outputs.json"
# integ-tests report each assertion as a stack output AssertionResults...: {"status":"success"} or a failure.
node -e '
  const outputs = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  let failed = 0, checked = 0;
  for (const [stack, values] of Object.entries(outputs))
    for (const [key, value] of Object.entries(values)) {
      if (!key.startsWith("AssertionResults")) continue;
      checked++;
      const result = JSON.parse(value);
      console.log(`${result.status === "success" ? "ok  " : "FAIL"} ${stack} ${key}${result.message ? `\n${result.message}` : ""}`);
      if (result.status !== "success") failed++;
    }
  if (checked === 0) { console.error("no assertion results in the outputs"); process.exit(1); }
  process.exit(failed ? 1 : 0);
' "$OUT/outputs.json"
