#!/usr/bin/env bash
# Cache on Redis: cold-key stampedes (1 and 4 processes), a hot key across its expiry, warm-key hits (about 2 minutes)
#   scripts/bench.sh cache     writes docs/benchmarks/cache.md and cache.svg
# Starts Redis with scripts/redis.sh (and stops it afterwards if this script started it), builds Release and runs
# benchmarks/JobDedup.CacheBench: JobDedup's SharedCache against naive cache-aside, HybridCache and FusionCache.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"

say() { printf 'bench cache: %s\n' "$*"; }

started=$SECONDS
work="$root/artifacts/bench-cache"
mkdir -p "$work"
stop_redis=0
bench_pid=""

cleanup() {
  local status=$?
  if [ -n "$bench_pid" ] && kill -0 "$bench_pid" 2>/dev/null; then
    kill "$bench_pid" 2>/dev/null || true
    wait "$bench_pid" 2>/dev/null || true
  fi
  if [ "$stop_redis" -eq 1 ]; then
    scripts/redis.sh stop || true
  fi
  say "took $((SECONDS - started)) s in all"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Redis: leave a server that was already running as it is; stop the one started here.
if [ -z "${JOBDEDUP_REDIS:-}" ] && ! scripts/redis.sh status >/dev/null 2>&1; then
  stop_redis=1
fi
scripts/redis.sh start
redis="$(scripts/redis.sh connection-string)"

say "building Release"
if ! dotnet build benchmarks/JobDedup.CacheBench/JobDedup.CacheBench.csproj -c Release -nologo -v quiet >"$work/build.log" 2>&1; then
  tail -n 30 "$work/build.log" >&2
  exit 1
fi

# In the background and waited for, so that a signal to this script runs the cleanup at once.
dotnet benchmarks/JobDedup.CacheBench/bin/Release/net10.0/JobDedup.CacheBench.dll \
  --redis "$redis" --output docs/benchmarks --command "scripts/bench.sh cache" &
bench_pid=$!
wait "$bench_pid"
