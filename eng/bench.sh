#!/usr/bin/env bash
# The benchmark against QUERYCACHE_CONNECTION, else the local PostgreSQL + pgvector. Options: see bench/QueryCache.Bench.
# Results: the console, and artifacts/bench/*.json|md. `eng/bench.sh --scale-out --sizes 20000` measures scaling out
# (primary only vs primary + a local streaming standby, the in-process tier) instead; `eng/bench.sh --embedding` the
# in-process model (no database); `eng/bench.sh --prefix-recall 128 192` whether a prefix graph finds what the whole
# embedding finds, with the local model on ../shared/eval-external (no database).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
[[ " $* " == *" --embedding "* || " $* " == *" --prefix-recall "* ]] || use_database
extra=()
# --scale-out measures lookups on a streaming standby too: start one of the local server unless --standby names one.
if [[ " $* " == *" --scale-out "* && " $* " != *" --standby "* ]]; then
  extra=(--standby "$(eng/db.sh standby start)")
fi
dotnet run -c Release --project bench/QueryCache.Bench -- "$@" "${extra[@]}"
