#!/usr/bin/env bash
# Web API on PostgreSQL: 1,000 requests for one product, with and without SharedCall (about 2 minutes)
#   scripts/bench.sh web [load generator options]   writes docs/benchmarks/web.md and web-latency.svg
# Starts PostgreSQL with scripts/postgres.sh (and stops it afterwards if this script started it), builds Release,
# starts samples/JobDedup.WebApi on a free port of 127.0.0.1, runs benchmarks/JobDedup.LoadTest against it, and
# always stops the API. Extra arguments go to the load generator (for example --shapes original).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"

say() { printf 'bench web: %s\n' "$*"; }

started=$SECONDS
work="$root/artifacts/bench-web"
mkdir -p "$work"
api_pid=""
load_pid=""
stop_db=0

cleanup() {
  local status=$?
  if [ -n "$load_pid" ] && kill -0 "$load_pid" 2>/dev/null; then
    kill "$load_pid" 2>/dev/null || true
    wait "$load_pid" 2>/dev/null || true
  fi
  if [ -n "$api_pid" ] && kill -0 "$api_pid" 2>/dev/null; then
    say "stopping the web API (pid $api_pid)"
    kill "$api_pid" 2>/dev/null || true
    for _ in $(seq 1 50); do
      kill -0 "$api_pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -9 "$api_pid" 2>/dev/null || true
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

# Other builds may run on this machine at the same time and race on src/JobDedup.Core/obj; try again a few times.
build() {
  local project="$1" attempt
  for attempt in 1 2 3; do
    if dotnet build "$project" -c Release -nologo -v quiet >"$work/build.log" 2>&1; then
      return
    fi
    say "building $project failed (attempt $attempt); see $work/build.log"
    sleep 5
  done
  tail -n 30 "$work/build.log" >&2
  exit 1
}
say "building Release"
build samples/JobDedup.WebApi/JobDedup.WebApi.csproj
build benchmarks/JobDedup.LoadTest/JobDedup.LoadTest.csproj

# Kestrel picks a free port itself (port 0) and logs the address it bound.
api_dir="$root/samples/JobDedup.WebApi/bin/Release/net10.0"
log="$work/webapi.log"
JOBDEDUP_POSTGRES="$connection" ASPNETCORE_ENVIRONMENT=Production \
  dotnet "$api_dir/JobDedup.WebApi.dll" --urls "http://127.0.0.1:0" --contentRoot "$api_dir" >"$log" 2>&1 &
api_pid=$!

url=""
for _ in $(seq 1 300); do
  if ! kill -0 "$api_pid" 2>/dev/null; then
    say "the web API exited; its log:"
    cat "$log" >&2
    exit 1
  fi
  url="$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$log" | head -n 1 || true)"
  if [ -n "$url" ] && curl -fsS -m 5 "$url/health" >/dev/null 2>&1; then
    break
  fi
  url=""
  sleep 0.2
done
if [ -z "$url" ]; then
  say "the web API did not answer within 60 s; its log:"
  cat "$log" >&2
  exit 1
fi
say "web API answers at $url"

# In the background and waited for, so that a signal to this script runs the cleanup at once.
dotnet benchmarks/JobDedup.LoadTest/bin/Release/net10.0/JobDedup.LoadTest.dll \
  --url "$url" --output docs/benchmarks --command "scripts/bench.sh web${*:+ $*}" "$@" &
load_pid=$!
wait "$load_pid"
