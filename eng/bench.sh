#!/usr/bin/env bash
# The benchmark: starts the local PostgreSQL + pgvector unless QUERYCACHE_CONNECTION is set, then measures
# (default sizes 10k and 100k entries x 1536 dimensions). Results: the console, and artifacts/bench/*.json|md.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
# db.sh start prints QUERYCACHE_CONNECTION as it is when it is set, and otherwise starts the local server.
QUERYCACHE_CONNECTION=$(eng/db.sh start)
export QUERYCACHE_CONNECTION
dotnet run -c Release --project bench/QueryCache.Bench -- "$@"
