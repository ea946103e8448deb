#!/usr/bin/env bash
# Records every public symbol the analyzer reports as undeclared (RS0016) in its project's PublicAPI.Unshipped.txt.
# Run it after adding public API on purpose; review the diff. On release, move Unshipped lines into Shipped.
set -euo pipefail
cd "$(dirname "$0")/.."
for _ in 1 2 3 4 5 6; do
  found=$(dotnet build QueryCache.sln -c Release --no-incremental 2>&1 | grep -oE "^/[^(]+\([0-9,]+\): error RS0016: Symbol '.*' is not part" | sort -u || true)
  [ -z "$found" ] && { echo "public API files are current"; exit 0; }
  while IFS= read -r line; do
    file=${line%%(*}
    symbol=$(echo "$line" | sed -E "s/.*error RS0016: Symbol '(.*)' is not part/\1/")
    project=$(dirname "$file"); while [ ! -f "$project/PublicAPI.Unshipped.txt" ]; do project=$(dirname "$project"); done
    grep -qxF "$symbol" "$project/PublicAPI.Unshipped.txt" || echo "$symbol" >> "$project/PublicAPI.Unshipped.txt"
  done <<< "$found"
done
echo "public API files still incomplete after 6 passes" >&2; exit 1
