#!/usr/bin/env bash
# A local PostgreSQL for JobDedup's web sample and its load test.
#   scripts/postgres.sh start              use the server answering on 127.0.0.1:5432, or install Debian's postgresql
#                                          (as root) and start a throwaway cluster bound to 127.0.0.1; then create the
#                                          database jobdedup with a seeded products table
#   scripts/postgres.sh stop               stop the cluster this script started and delete its files
#   scripts/postgres.sh status             say whether a server answers and whether this script started it
#   scripts/postgres.sh connection-string  print the connection string the web sample should use
# Running start twice is harmless. Set JOBDEDUP_POSTGRES to an Npgsql connection string (Host=…;Username=…;…) to use
# another server instead; then nothing is installed or started here, only the products table is seeded.
# JOBDEDUP_PG_DIR sets where the throwaway cluster lives (default /tmp/jobdedup-pg).
set -euo pipefail

host=127.0.0.1
port=5432
database=jobdedup
rows=1000
dir="${JOBDEDUP_PG_DIR:-/tmp/jobdedup-pg}"
data="$dir/data"
log="$dir/server.log"

say() { printf 'postgres: %s\n' "$*"; }

answers() { (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null; }

# The server binaries are not on PATH on Debian; pick the newest installed version.
bindir() {
  local found
  found="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
  if [ -z "$found" ]; then
    return 1
  fi
  printf '%s\n' "$found"
}

started_here() { [ -f "$data/postmaster.pid" ] && [ -f "$dir/started-by-jobdedup" ]; }

as_postgres() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

# Turns an Npgsql connection string (Key=Value;…) into libpq keywords for psql.
libpq_from_npgsql() {
  local part key value out=""
  local IFS=';'
  for part in $1; do
    [ -n "$part" ] || continue
    key="$(printf '%s' "${part%%=*}" | tr '[:upper:]' '[:lower:]' | tr -d ' ')"
    value="${part#*=}"
    case "$key" in
      host | server) out+=" host='$value'" ;;
      port) out+=" port='$value'" ;;
      username | userid | user | uid) out+=" user='$value'" ;;
      password | pwd) out+=" password='$value'" ;;
      database | db) out+=" dbname='$value'" ;;
      sslmode) out+=" sslmode='$(printf '%s' "$value" | tr '[:upper:]' '[:lower:]')'" ;;
    esac
  done
  printf '%s\n' "${out# }"
}

connection_string() {
  if [ -n "${JOBDEDUP_POSTGRES:-}" ]; then
    printf '%s\n' "$JOBDEDUP_POSTGRES"
    return
  fi
  local user="${PGUSER:-postgres}"
  local value="Host=$host;Port=$port;Username=$user;Database=$database"
  if [ -n "${PGPASSWORD:-}" ]; then
    value+=";Password=$PGPASSWORD"
  fi
  printf '%s\n' "$value"
}

# psql against the server this script uses; the first argument is the database.
run_psql() {
  local db="$1"
  shift
  if [ -n "${JOBDEDUP_POSTGRES:-}" ]; then
    psql "$(libpq_from_npgsql "$JOBDEDUP_POSTGRES")" -v ON_ERROR_STOP=1 -qAt "$@"
  else
    psql "host=$host port=$port user=${PGUSER:-postgres} dbname=$db" -v ON_ERROR_STOP=1 -qAt "$@"
  fi
}

install_server() {
  if bindir >/dev/null && [ -x "$(bindir)/initdb" ] && command -v psql >/dev/null 2>&1; then
    return
  fi
  if [ "$(id -u)" -ne 0 ]; then
    say "PostgreSQL is not installed and this script is not running as root. Install it with:"
    say "  sudo apt-get update && sudo apt-get install -y postgresql"
    say "then run: scripts/postgres.sh start"
    exit 1
  fi
  say "installing Debian's postgresql (about 30 s)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq postgresql >/dev/null
  # Debian may start its own main cluster on 5432; this script wants its own throwaway one, so stop it.
  if command -v pg_lsclusters >/dev/null 2>&1; then
    pg_lsclusters -h 2>/dev/null | while read -r version name _; do
      pg_ctlcluster "$version" "$name" stop >/dev/null 2>&1 || true
    done
  fi
}

clear_stale_lock() {
  local pid
  [ -f "$1" ] || return 0
  pid="$(head -n 1 "$1")"
  if [ ! -r "/proc/$pid/stat" ] || [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" = Z ]; then
    rm -f "$1"
  fi
}

start_cluster() {
  local bin
  bin="$(bindir)"
  # Only called when nothing answers: lock files left by a server that died (or is a zombie) would block the start.
  clear_stale_lock "$data/postmaster.pid"
  clear_stale_lock "$dir/.s.PGSQL.$port.lock"
  if [ ! -f "$data/PG_VERSION" ]; then
    say "creating a throwaway cluster in $data"
    rm -rf "$dir"
    mkdir -p "$dir"
    chown postgres:postgres "$dir" 2>/dev/null || true
    chmod 700 "$dir"
    # Trust only on loopback: the cluster listens on 127.0.0.1 alone and is deleted on stop.
    as_postgres "$bin/initdb" -D "$data" -U postgres --auth-local=trust --auth-host=trust -E UTF8 --no-instructions \
      >"$dir/initdb.log" 2>&1 || {
      say "initdb failed; see $dir/initdb.log"
      exit 1
    }
    {
      echo "listen_addresses = '$host'"
      echo "port = $port"
      echo "unix_socket_directories = '$dir'"
      echo "max_connections = 100"
      echo "fsync = off"
      echo "synchronous_commit = off"
    } >>"$data/postgresql.conf"
    touch "$dir/started-by-jobdedup"
  fi
  say "starting PostgreSQL ($("$bin/postgres" --version | awk '{print $3}')) on $host:$port"
  as_postgres "$bin/pg_ctl" -D "$data" -l "$log" -w -t 60 start >/dev/null || {
    say "the server did not start; see $log"
    exit 1
  }
}

wait_ready() {
  local waited
  for waited in $(seq 1 60); do
    if pg_isready -q -h "$host" -p "$port"; then
      return
    fi
    sleep 1
  done
  say "no answer from $host:$port after ${waited} s"
  exit 1
}

seed() {
  if [ -z "${JOBDEDUP_POSTGRES:-}" ]; then
    if [ "$(run_psql postgres -c "SELECT 1 FROM pg_database WHERE datname = '$database'")" != "1" ]; then
      run_psql postgres -c "CREATE DATABASE $database"
    fi
  fi
  run_psql "$database" <<SQL
SET client_min_messages = warning;
CREATE TABLE IF NOT EXISTS products (
    id    integer PRIMARY KEY,
    name  text NOT NULL,
    price numeric(10, 2) NOT NULL
);
INSERT INTO products (id, name, price)
SELECT i, 'Product ' || i, round((5 + (i * 37) % 995)::numeric + (i % 100) / 100.0, 2)
FROM generate_series(1, $rows) AS i
ON CONFLICT (id) DO NOTHING;
SQL
  say "database ready: $(run_psql "$database" -c 'SELECT count(*) FROM products') rows in products"
}

start() {
  if [ -n "${JOBDEDUP_POSTGRES:-}" ]; then
    say "JOBDEDUP_POSTGRES is set; using that server"
    seed
    return
  fi
  if answers; then
    if started_here; then
      say "the cluster this script started answers at $host:$port"
    else
      say "a server already answers at $host:$port; using it"
    fi
    wait_ready
    seed
    return
  fi
  install_server
  if [ "$(id -u)" -ne 0 ] && [ "$(id -un)" != postgres ]; then
    say "starting the cluster needs root (initdb runs as the postgres user). Run: sudo scripts/postgres.sh start"
    exit 1
  fi
  start_cluster
  wait_ready
  seed
}

stop() {
  if [ -n "${JOBDEDUP_POSTGRES:-}" ]; then
    say "JOBDEDUP_POSTGRES is set; that server is not this script's to stop"
    return
  fi
  if [ ! -f "$dir/started-by-jobdedup" ]; then
    if answers; then
      say "the server at $host:$port was not started by this script; leaving it running"
    else
      say "not running"
    fi
    return
  fi
  local bin
  bin="$(bindir)"
  if [ -f "$data/postmaster.pid" ]; then
    say "stopping the cluster in $data"
    as_postgres "$bin/pg_ctl" -D "$data" -m fast -w -t 60 stop >/dev/null || true
  fi
  rm -rf "$dir"
  say "stopped; $dir removed"
}

status() {
  if [ -n "${JOBDEDUP_POSTGRES:-}" ]; then
    if run_psql "$database" -c 'SELECT 1' >/dev/null 2>&1; then
      say "the server named by JOBDEDUP_POSTGRES answers"
      return 0
    fi
    say "the server named by JOBDEDUP_POSTGRES does not answer"
    return 1
  fi
  if answers; then
    if started_here; then
      say "running at $host:$port (started by this script, files in $dir)"
    else
      say "a server answers at $host:$port (not started by this script)"
    fi
    return 0
  fi
  say "no server answers at $host:$port"
  return 1
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  connection-string) connection_string ;;
  *)
    echo "usage: scripts/postgres.sh start|stop|status|connection-string" >&2
    exit 2
    ;;
esac
