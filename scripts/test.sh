#!/usr/bin/env sh
# `npm test`: the type check and Biome side by side (both are short, and neither keeps two cores busy),
# then jest with any arguments given (`npm test -- test/flags`). Any failure fails the run.
set -u
tsc --noEmit &
typecheck=$!
biome check .
lint=$?
wait "$typecheck"
types=$?
if [ "$types" -ne 0 ] || [ "$lint" -ne 0 ]; then
  echo "npm test: $([ "$types" -ne 0 ] && echo 'tsc --noEmit failed ')$([ "$lint" -ne 0 ] && echo 'biome check . failed')" >&2
  exit 1
fi
exec jest "$@"
