#!/usr/bin/env bash
# The benchmark against QUERYCACHE_CONNECTION, else the local PostgreSQL + pgvector. Options: see bench/QueryCache.Bench.
# Results: the console, and artifacts/bench/*.json|md.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
use_database
dotnet run -c Release --project bench/QueryCache.Bench -- "$@"
