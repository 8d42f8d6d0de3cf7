#!/usr/bin/env bash
# RabbitMQ consumer throughput: raw RabbitMQ.Client vs the JobDedup consumer (0% and 90% duplicates) vs MassTransit (~4 min)
#   scripts/bench.sh rabbitmq [options]   writes docs/benchmarks/rabbitmq.md and rabbitmq.svg
# Starts the broker with scripts/rabbitmq.sh (and leaves it running, like the tests), builds
# benchmarks/JobDedup.RabbitMqBench in Release and runs it: each consumer in turn on a fresh queue pre-filled with the
# same messages and the same prefetch. The program writes the report from what it measured and deletes its queues.
# Extra arguments go to the program, e.g. --messages 20000 for a quick run, --rounds 3 for medians.
# Full console output is kept in artifacts/bench/rabbitmq/run.log.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

say() { printf 'bench rabbitmq: %s\n' "$*"; }

project=benchmarks/JobDedup.RabbitMqBench/JobDedup.RabbitMqBench.csproj
program=benchmarks/JobDedup.RabbitMqBench/bin/Release/net10.0/JobDedup.RabbitMqBench.dll
artifacts=artifacts/bench/rabbitmq
mkdir -p "$artifacts"
started=$SECONDS

scripts/rabbitmq.sh start

# Other builds may run on this machine at the same time and race on the shared obj/ folders; try again a few times.
say "building $project (Release)"
for attempt in 1 2 3; do
  if dotnet build "$project" -c Release -nologo -v quiet >"$artifacts/build.log" 2>&1; then
    break
  fi
  if [ "$attempt" -eq 3 ]; then
    tail -n 30 "$artifacts/build.log" >&2
    exit 1
  fi
  say "build failed (attempt $attempt); trying again (see $artifacts/build.log)"
  sleep 5
done

say "running (build took $((SECONDS - started)) s)"
# The program bounds each phase itself (--timeout, 120 s by default); `timeout` is the last resort, and SIGTERM lets the
# program delete its queues.
status=0
timeout --signal=TERM --kill-after=30 600 dotnet "$program" --report docs/benchmarks --command "scripts/bench.sh rabbitmq${*:+ $*}" "$@" 2>&1 |
  tee "$artifacts/run.log" || status=$?

say "done in $((SECONDS - started)) s: docs/benchmarks/rabbitmq.md, docs/benchmarks/rabbitmq.svg (log: $artifacts/run.log)"
exit "$status"
