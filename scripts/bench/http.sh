#!/usr/bin/env bash
# Idempotent HTTP endpoints on Kestrel: the filter's cost, replays, 100 concurrent same-key POSTs (about 2 minutes)
#   scripts/bench.sh http [tool options]     writes docs/benchmarks/http.md
# Starts PostgreSQL with scripts/postgres.sh (and stops it afterwards if this script started it) for the hand-written
# database guard, builds Release and runs benchmarks/JobDedup.HttpBench. Extra arguments go to the tool (for example
# --rounds 5 --seconds 5).
exec "$(dirname "${BASH_SOURCE[0]}")/../lib/bench-with-server.sh" http postgres --postgres JobDedup.HttpBench "$@"
