#!/usr/bin/env bash
# Refreshes the committed snapshots of the integ tests (test/integ/integ.*.ts), offline, without deploying:
#
#   scripts/integ-snapshots.sh [test/integ/integ.phase1.ts ...]   (default: every integ test)
#
# integ-runner writes a snapshot only after a successful deploy (--update-on-failed), and the release
# pinned here cannot read this aws-cdk-lib's cloud assembly at all (README, "Tests"). This synthesizes
# each test the way integ-runner does (path metadata, asset metadata and version reporting off; the CDK
# CLI of this repository) into <test>.snapshot/ and keeps what a snapshot needs: the templates, the asset
# manifests, manifest.json and integ.json. Stack traces (absolute paths), the construct tree and the
# bundled assets are left out. `npm test` compares the templates (test/integ/snapshots.cases.ts).
set -euo pipefail
cd "$(dirname "$0")/.."

tests=("$@")
[ ${#tests[@]} -gt 0 ] || mapfile -t tests < <(ls test/integ/integ.*.ts)
for test in "${tests[@]}"; do
  out="$test.snapshot"
  echo "synthesizing $test into $out"
  rm -rf "$out"
  npx cdk synth --quiet --app "npx tsx $test" --output "$out" \
    --no-path-metadata --no-asset-metadata --no-version-reporting >/dev/null
  rm -rf "$out"/asset.* "$out"/tree.json "$out"/*.metadata.json "$out"/validation-report.json "$out"/.cache
  node -e '
    const fs = require("fs");
    const file = process.argv[1];
    const m = JSON.parse(fs.readFileSync(file, "utf8"));
    for (const a of Object.values(m.artifacts ?? {})) delete a.additionalMetadataFile;
    fs.writeFileSync(file, `${JSON.stringify(m, null, 2)}\n`);
  ' "$out/manifest.json"
done
