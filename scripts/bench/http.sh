#!/usr/bin/env bash
# Idempotent HTTP endpoints on Kestrel: the filter's cost, replays, 100 concurrent same-key POSTs (about 1 minute)
#   scripts/bench.sh http [tool options]     writes docs/benchmarks/http.md
# Starts PostgreSQL with scripts/postgres.sh (and stops it afterwards if this script started it) for the hand-written
# database guard, builds Release and runs benchmarks/JobDedup.HttpBench. Extra arguments go to the tool (for example
# --rounds 5 --seconds 5).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"

say() { printf 'bench http: %s\n' "$*"; }

started=$SECONDS
work="$root/artifacts/bench-http"
mkdir -p "$work"
stop_db=0
bench_pid=""

cleanup() {
  local status=$?
  if [ -n "$bench_pid" ] && kill -0 "$bench_pid" 2>/dev/null; then
    kill "$bench_pid" 2>/dev/null || true
    wait "$bench_pid" 2>/dev/null || true
  fi
  if [ "$stop_db" -eq 1 ]; then
    scripts/postgres.sh stop || true
  fi
  say "took $((SECONDS - started)) s in all"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# PostgreSQL: leave a server that was already running as it is; stop the one started here.
if [ -z "${JOBDEDUP_POSTGRES:-}" ] && ! scripts/postgres.sh status >/dev/null 2>&1; then
  stop_db=1
fi
scripts/postgres.sh start
connection="$(scripts/postgres.sh connection-string)"

say "building Release"
if ! dotnet build benchmarks/JobDedup.HttpBench/JobDedup.HttpBench.csproj -c Release -nologo -v quiet >"$work/build.log" 2>&1; then
  tail -n 30 "$work/build.log" >&2
  exit 1
fi

# In the background and waited for, so that a signal to this script runs the cleanup at once.
dotnet benchmarks/JobDedup.HttpBench/bin/Release/net10.0/JobDedup.HttpBench.dll \
  --postgres "$connection" --output docs/benchmarks --command "scripts/bench.sh http${*:+ $*}" "$@" &
bench_pid=$!
wait "$bench_pid"
