#!/usr/bin/env bash
# Local PostgreSQL + pgvector for development, tests and CI, without Docker.
#   eng/db.sh start   install what is missing, create the cluster, start it, print the connection string
#   eng/db.sh stop    stop the cluster (data kept)
#   eng/db.sh kill    stop it the way a crash would (immediate shutdown; for fault-injection tests)
#   eng/db.sh url     print the connection string of the running cluster
#   eng/db.sh status  exit 0 when the cluster is running
#   eng/db.sh standby start|stop   a streaming standby of the cluster (pg_basebackup -R, on loopback), started after
#                     the primary; `start` prints its connection string
# When QUERYCACHE_CONNECTION is set, `start` and `url` print it and touch nothing.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PG_MAJOR=${QUERYCACHE_PG_MAJOR:-15}
PG_BIN=/usr/lib/postgresql/$PG_MAJOR/bin
STATE=${QUERYCACHE_PG_DIR:-$ROOT/.local/pg}
DATA=$STATE/data
PASSWORD=querycache
DATABASE=querycache

log() { echo "db.sh: $*" >&2; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
# The server refuses to run as root: run it as the postgres user when we are root.
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

apt_updated=0
apt_update() { [ $apt_updated = 1 ] || { as_root apt-get update -qq >&2; apt_updated=1; }; }

install_server() {
  [ -x "$PG_BIN/postgres" ] && return
  log "installing postgresql-$PG_MAJOR"
  apt_update
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "postgresql-$PG_MAJOR" >&2
}

install_pgvector() {
  [ -f "/usr/share/postgresql/$PG_MAJOR/extension/vector.control" ] && return
  log "building pgvector from Debian's source package (bookworm has no binary package)"
  local list=/etc/apt/sources.list.d/querycache-src.sources
  if [ ! -f "$list" ]; then
    as_root tee "$list" >/dev/null <<SRC
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: sid trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
    apt_updated=0
  fi
  apt_update
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "postgresql-server-dev-$PG_MAJOR" dpkg-dev make gcc >&2
  local build version
  build=$(mktemp -d)
  # Newest first; a suite's index can name a version its pool no longer serves, so fall back.
  for version in $(apt-cache showsrc pgvector | awk '/^Version:/ {print $2}' | sort -rV); do
    if (cd "$build" && apt-get source --download-only "pgvector=$version" >/dev/null 2>&1); then
      log "pgvector $version"
      (cd "$build" && tar xf pgvector_*.orig.tar.* && cd "$(find . -maxdepth 1 -type d -name 'pgvector*' | head -n1)" \
        && make -s PG_CONFIG="$PG_BIN/pg_config" >&2 && as_root make -s install PG_CONFIG="$PG_BIN/pg_config" >&2)
      rm -rf "$build"
      return
    fi
    log "pgvector $version could not be downloaded, trying an older one"
  done
  rm -rf "$build"
  log "no pgvector source package could be downloaded"; exit 1
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Clusters started at once (the test suites start theirs in parallel) must not pick the same free port: choosing a port
# and starting the server on it is done under one machine-wide lock.
lock_ports() {
  local lock=${TMPDIR:-/tmp}/querycache-db-ports.lock
  exec 9>>"$lock"
  chmod 666 "$lock" 2>/dev/null || true
  flock 9
}
unlock_ports() { flock -u 9; exec 9>&-; }

# Starts the cluster in $1 logging to $3, on the port recorded in $2 when it is free (so connection strings stay valid
# across restarts), else on a free one, which it records.
start_cluster() {
  local data=$1 port_file=$2 log_file=$3 port
  lock_ports
  if [ -f "$port_file" ] && ! port_in_use "$(cat "$port_file")"; then port=$(cat "$port_file"); else port=$(free_port); fi
  echo "$port" | as_pg tee "$port_file" >/dev/null
  as_pg "$PG_BIN/pg_ctl" -D "$data" -l "$log_file" -o "-p $port" -w start >/dev/null
  unlock_ports
  log "started $data on 127.0.0.1:$port (log: $log_file)"
}

# A port recorded by another cluster of this checkout stays that cluster's while it is down: a test that crashes a
# server restarts it on the same port, so its clients' connection strings stay valid (a suite starting a cluster in
# parallel once took the port in between).
reserved_port() { cat "$(dirname "$STATE")"/*/port "$(dirname "$STATE")"/*/standby.port 2>/dev/null | grep -qx "$1"; }

free_port() {
  local port
  for port in $(seq 55432 55532); do
    port_in_use "$port" || reserved_port "$port" || { echo "$port"; return; }
  done
  log "no free port in 55432-55532"; exit 1
}

running() { [ -f "$STATE/port" ] && as_pg "$PG_BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; }

connection_string() { echo "Host=127.0.0.1;Port=$(cat "$1");Database=$DATABASE;Username=postgres;Password=$PASSWORD"; }
url() { connection_string "$STATE/port"; }

init_cluster() {
  [ -f "$DATA/PG_VERSION" ] && return
  log "creating cluster in $DATA"
  mkdir -p "$STATE"
  [ "$(id -u)" = 0 ] && chown postgres: "$STATE"
  if ! as_pg test -w "$STATE"; then
    log "the postgres user cannot write $STATE (a parent folder is private); set QUERYCACHE_PG_DIR to a folder it can use"; exit 1
  fi
  local pwfile="$STATE/pwfile"
  echo "$PASSWORD" | as_pg tee "$pwfile" >/dev/null
  as_pg "$PG_BIN/initdb" -D "$DATA" -U postgres --auth=scram-sha-256 --pwfile="$pwfile" -E UTF8 --locale=C.UTF-8 >/dev/null
  rm -f "$pwfile"
  as_pg tee -a "$DATA/postgresql.conf" >/dev/null <<CONF
listen_addresses = '127.0.0.1'
unix_socket_directories = ''
max_connections = 200
shared_buffers = ${QUERYCACHE_PG_SHARED_BUFFERS:-2GB}
# A backend's first touch of each 4 kB page of shared buffers is a page fault, dear in this VM (a new connection's first
# lookups at 1536 dimensions took 40-100 ms, not 4): with pages reserved (sysctl vm.nr_hugepages) the server maps them
# in 2 MB pages; without, it starts as before.
huge_pages = try
effective_cache_size = 8GB
maintenance_work_mem = 1GB
fsync = ${QUERYCACHE_PG_FSYNC:-on}
CONF
}

start() {
  if [ -n "${QUERYCACHE_CONNECTION:-}" ]; then echo "$QUERYCACHE_CONNECTION"; return; fi
  install_server
  install_pgvector
  init_cluster
  running || start_cluster "$DATA" "$STATE/port" "$STATE/server.log"
  PGPASSWORD=$PASSWORD psql -h 127.0.0.1 -p "$(cat "$STATE/port")" -U postgres -d postgres -qtAc \
    "SELECT 1 FROM pg_database WHERE datname = '$DATABASE'" | grep -q 1 \
    || PGPASSWORD=$PASSWORD psql -h 127.0.0.1 -p "$(cat "$STATE/port")" -U postgres -d postgres -qc "CREATE DATABASE $DATABASE"
  url
}

stop_cluster() { as_pg "$PG_BIN/pg_ctl" -D "$1" -m "$2" -w stop >/dev/null; }

stop() {
  ! standby_running || stop_cluster "$STANDBY" "${1:-fast}"
  ! running || stop_cluster "$DATA" "${1:-fast}"
  log "stopped"
}

STANDBY=$STATE/standby

standby_running() { [ -f "$STATE/standby.port" ] && as_pg "$PG_BIN/pg_ctl" -D "$STANDBY" status >/dev/null 2>&1; }

standby_start() {
  start >/dev/null
  if [ ! -f "$STANDBY/PG_VERSION" ]; then
    log "cloning the primary into $STANDBY (pg_basebackup -R: it follows the primary by streaming replication)"
    as_pg env PGPASSWORD=$PASSWORD "$PG_BIN/pg_basebackup" -h 127.0.0.1 -p "$(cat "$STATE/port")" -U postgres \
      -D "$STANDBY" -R -X stream -c fast >&2
  fi
  if ! standby_running; then
    # The primary may have moved to another port since the clone: follow it.
    as_pg sed -i "s/port=[0-9]*/port=$(cat "$STATE/port")/" "$STANDBY/postgresql.auto.conf"
    start_cluster "$STANDBY" "$STATE/standby.port" "$STATE/standby.log"
  fi
  connection_string "$STATE/standby.port"
}

standby_stop() { ! standby_running || stop_cluster "$STANDBY" fast; log "standby stopped"; }

case "${1:-}" in
  standby)
    case "${2:-}" in
      start) standby_start ;;
      stop) standby_stop ;;
      *) echo "usage: eng/db.sh standby start|stop" >&2; exit 2 ;;
    esac ;;
  start) start ;;
  stop) stop ;;
  kill) stop immediate ;;
  url) if [ -n "${QUERYCACHE_CONNECTION:-}" ]; then echo "$QUERYCACHE_CONNECTION"; elif running; then url; else log "not running: eng/db.sh start"; exit 1; fi ;;
  status) running ;;
  *) echo "usage: eng/db.sh start|stop|kill|url|status|standby start|stop" >&2; exit 2 ;;
esac
