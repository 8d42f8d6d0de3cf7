#!/usr/bin/env bash
# Runs one benchmark tool beside a local server, for scripts/bench/*.sh (not called directly):
#   scripts/lib/bench-with-server.sh NAME SERVER OPTION PROJECT [tool arguments]
# NAME names the run (log prefix, artifacts/bench-NAME); SERVER is postgres or redis: scripts/SERVER.sh starts it
# (and stops it afterwards if this run started it; a server already running, or one given by JOBDEDUP_POSTGRES /
# JOBDEDUP_REDIS, is left as it is); OPTION is the tool's option that takes the server's connection string; PROJECT
# is the benchmark under benchmarks/. The tool writes docs/benchmarks and is told the command that reproduces it.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"

name="$1" server="$2" option="$3" project="$4"
shift 4
say() { printf 'bench %s: %s\n' "$name" "$*"; }

started=$SECONDS
work="$root/artifacts/bench-$name"
mkdir -p "$work"
stop_server=0
bench_pid=""

cleanup() {
  local status=$?
  if [ -n "$bench_pid" ] && kill -0 "$bench_pid" 2>/dev/null; then
    kill "$bench_pid" 2>/dev/null || true
    wait "$bench_pid" 2>/dev/null || true
  fi
  if [ "$stop_server" -eq 1 ]; then
    "scripts/$server.sh" stop || true
  fi
  say "took $((SECONDS - started)) s in all"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

given="JOBDEDUP_${server^^}"
if [ -z "${!given:-}" ] && ! "scripts/$server.sh" status >/dev/null 2>&1; then
  stop_server=1
fi
"scripts/$server.sh" start
connection="$("scripts/$server.sh" connection-string)"

say "building Release"
if ! dotnet build "benchmarks/$project/$project.csproj" -c Release -nologo -v quiet >"$work/build.log" 2>&1; then
  tail -n 30 "$work/build.log" >&2
  exit 1
fi

# In the background and waited for, so that a signal to this script runs the cleanup at once.
dotnet "benchmarks/$project/bin/Release/net10.0/$project.dll" \
  "$option" "$connection" --output docs/benchmarks --command "scripts/bench.sh $name${*:+ $*}" "$@" &
bench_pid=$!
wait "$bench_pid"
