#!/usr/bin/env bash
# The test command: provisions PostgreSQL + pgvector (eng/db.sh) unless QUERYCACHE_TEST_CONNECTION is set, checks the
# `dotnet ef` round trip, runs every test, and ends with `tests: N passed, N failed[, N skipped]`.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

if [ -z "${QUERYCACHE_TEST_CONNECTION:-}" ]; then
  # Under CI, stop a server this run started; on a workstation leave it running for the next run.
  if [ -n "${CI:-}" ] && ! eng/db.sh status; then trap 'eng/db.sh stop >/dev/null 2>&1' EXIT; fi
  QUERYCACHE_TEST_CONNECTION=$(eng/db.sh start)
fi
export QUERYCACHE_TEST_CONNECTION

# The evaluation report is checked in a real headless browser (Debian's Chromium).
if ! command -v chromium >/dev/null; then
  echo "installing chromium for the report test" >&2
  as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
  as_root apt-get update -qq >&2 && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >&2
fi

dotnet tool restore >/dev/null
dotnet build QueryCache.sln -c Release -warnaserror -v quiet -nologo

eng/ef-smoke.sh "$QUERYCACHE_TEST_CONNECTION"

results=$ROOT/artifacts/test-results
rm -rf "$results"
status=0
# One project after the other: each writes its own TRX file, and they do not compete for the 2 cores.
for project in tests/*/*.csproj; do
  name=$(basename "$project" .csproj)
  dotnet test "$project" -c Release --no-build --logger "trx;LogFileName=$name.trx" --results-directory "$results" || status=$?
done

passed=0 failed=0 skipped=0 found=0
for trx in "$results"/*.trx; do
  [ -f "$trx" ] || continue
  found=1
  counters=$(grep -o '<Counters [^>]*>' "$trx")
  attr() { echo "$counters" | sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p"; }
  passed=$((passed + $(attr passed)))
  failed=$((failed + $(attr failed) + $(attr error) + $(attr timeout) + $(attr aborted)))
  skipped=$((skipped + $(attr notExecuted)))
done
if [ "$found" = 0 ]; then echo "no test results were written" >&2; exit 1; fi
if [ "$skipped" -gt 0 ]; then
  echo "tests: $passed passed, $failed failed, $skipped skipped"
else
  echo "tests: $passed passed, $failed failed"
fi
[ "$failed" = 0 ] && [ "$status" = 0 ]
