# Sourced by the eng scripts: work from the repository root with a quiet .NET CLI.
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

# Exports QUERYCACHE_CONNECTION: as it is when set, else the local server's (started, and installed, by db.sh when needed).
use_database() {
  QUERYCACHE_CONNECTION=$(eng/db.sh start)
  export QUERYCACHE_CONNECTION
}
