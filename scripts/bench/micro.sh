#!/usr/bin/env bash
# SharedCall and JobDeduplicator against hand-written coalescing, HybridCache, FusionCache and a raw Channel (BenchmarkDotNet + 1M-job load, ~4 min)
#
# Builds benchmarks/JobDedup.Benchmarks in Release and runs every suite with a short in-process BenchmarkDotNet job,
# then the 1M-job pipeline load with Stopwatch. The program itself writes docs/benchmarks/micro.md and micro.svg from
# what it measured, with the date, the commit and the machine, and checks every target (pass/miss). Extra arguments go
# to the program: --jobs 200000 --rounds 1 for a quicker load, --warmup 1 --iterations 5 for a shorter BenchmarkDotNet
# job (the page says so when the counts differ from the defaults).
# Full console output is kept in artifacts/bench/micro/run.log.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

project=benchmarks/JobDedup.Benchmarks/JobDedup.Benchmarks.csproj
program=benchmarks/JobDedup.Benchmarks/bin/Release/net10.0/JobDedup.Benchmarks.dll
artifacts=artifacts/bench/micro
mkdir -p "$artifacts"
started=$SECONDS

echo "== build $project (Release)"
dotnet build "$project" -c Release -nologo -clp:ErrorsOnly

echo "== run (build took $((SECONDS - started)) s)"
dotnet "$program" --report docs/benchmarks --artifacts "$artifacts" --command "scripts/bench.sh micro" "$@" 2>&1 |
  tee "$artifacts/run.log"

echo "== done in $((SECONDS - started)) s: docs/benchmarks/micro.md, docs/benchmarks/micro.svg (log: $artifacts/run.log)"
