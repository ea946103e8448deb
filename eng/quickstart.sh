#!/usr/bin/env bash
# The quickstart in one command: a local PostgreSQL + pgvector (unless QUERYCACHE_CONNECTION is set), the migrations
# through `dotnet ef database update`, then `querycache quickstart`: sample history, backfill, lookups, stats.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
use_database
echo "database: ${QUERYCACHE_CONNECTION%%Password=*}Password=***"

# Without an embeddings endpoint the CLI runs all-MiniLM-L6-v2 in process: the schema is made for its 384 dimensions.
if [ -z "${QUERYCACHE_EMBEDDING_ENDPOINT:-}" ]; then export QUERYCACHE_DIMENSIONS=${QUERYCACHE_DIMENSIONS:-384}; fi

dotnet tool restore >/dev/null
dotnet build src/QueryCache.Cli -v quiet -nologo >/dev/null
dotnet ef database update --project src/QueryCache.Migrations --no-build >/dev/null
echo "migrations applied (dotnet ef database update)"
# The sample's domain: the guard tells products apart by the sample's contrast terms (a team sets its own).
dotnet run --no-build --project src/QueryCache.Cli -- config set --contrast-terms @samples/wealth-contrast-terms.txt >/dev/null
dotnet run --no-build --project src/QueryCache.Cli -- quickstart
