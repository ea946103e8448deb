#!/usr/bin/env bash
# `dotnet ef database update`, `update 0`, `update` against a scratch database that also holds an app's own table,
# which must come through untouched. Usage: eng/ef-smoke.sh "<server connection string>"
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
server=$1
database=querycache_ef_smoke_$$

# psql takes a URI; derive it from the Npgsql connection string.
field() { echo "$1" | tr ';' '\n' | sed -n "s/^$2=//Ip" | head -n1; }
host=$(field "$server" Host) port=$(field "$server" Port) user=$(field "$server" Username) password=$(field "$server" Password)
export PGPASSWORD=$password PGOPTIONS="-c client_min_messages=warning"
psql_db() { psql -h "$host" -p "${port:-5432}" -U "$user" -v ON_ERROR_STOP=1 -qAt -d "$1" -c "$2"; }

psql_db postgres "DROP DATABASE IF EXISTS $database WITH (FORCE)" >/dev/null
psql_db postgres "CREATE DATABASE $database" >/dev/null
trap 'psql_db postgres "DROP DATABASE IF EXISTS $database WITH (FORCE)" >/dev/null' EXIT
psql -h "$host" -p "${port:-5432}" -U "$user" -v ON_ERROR_STOP=1 -q -d "$database" -f sql/sample-app-schema.sql
psql_db "$database" "CREATE TABLE public.app_orders (id int PRIMARY KEY, note text); INSERT INTO app_orders VALUES (1, 'mine'), (2, 'also mine')" >/dev/null
before=$(psql_db "$database" "SELECT string_agg(id || note, ',' ORDER BY id) FROM app_orders")

export QUERYCACHE_CONNECTION="Host=$host;Port=${port:-5432};Database=$database;Username=$user;Password=$password"
ef() { dotnet ef "$@" --project src/QueryCache.Migrations --configuration Release --no-build >/dev/null; }
ef database update
ef database update 0
left=$(psql_db "$database" "SELECT count(*) FROM pg_class WHERE relnamespace = 'askwealth'::regnamespace AND relname LIKE 'query_cache%'")
ef database update
tables=$(psql_db "$database" "SELECT count(*) FROM pg_class WHERE relnamespace = 'askwealth'::regnamespace AND relname IN ('query_cache_config', 'query_cache_embeddings', 'v_cached_qa_pairs')")
after=$(psql_db "$database" "SELECT string_agg(id || note, ',' ORDER BY id) FROM app_orders")

if [ "$left" != 0 ] || [ "$tables" != 3 ] || [ "$before" != "$after" ]; then
  echo "ef-smoke: FAILED (objects left after update 0: $left, cache relations after update: $tables, app rows before/after: $before / $after)" >&2
  exit 1
fi
echo "ef-smoke: dotnet ef database update / update 0 / update passed; app table untouched" >&2
