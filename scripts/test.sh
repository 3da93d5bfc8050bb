#!/usr/bin/env sh
# `npm test`: jest with any arguments given (`npm test -- test/flags`), with the type check and Biome
# running beside it; their output follows jest's. Any failure fails the run.
# Side by side because the suite is CPU-bound on 2 cores but not all the time: tsc and Biome fill the
# gaps (measured, alternating runs: 0.1-2.3 s sooner than running them first). tsc on one thread: beside
# jest its wall time does not matter, and it spends 4.7 s of CPU where its threads spend 6.5 s.
set -u
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
(tsc --noEmit --singleThreaded >"$out/tsc" 2>&1; echo $? >"$out/tsc.rc") &
(biome check . >"$out/biome" 2>&1; echo $? >"$out/biome.rc") &
jest "$@"
tests=$?
wait
failed=''
if [ "$(cat "$out/tsc.rc")" -ne 0 ]; then
  cat "$out/tsc" >&2
  failed="$failed tsc --noEmit"
fi
if [ "$(cat "$out/biome.rc")" -ne 0 ]; then
  cat "$out/biome" >&2
  failed="$failed biome check ."
fi
[ "$tests" -ne 0 ] && failed="$failed jest"
if [ -n "$failed" ]; then
  echo "npm test failed:$failed" >&2
  exit 1
fi
