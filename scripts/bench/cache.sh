#!/usr/bin/env bash
# Cache on Redis: cold-key stampedes (1 and 4 processes), a hot key across its expiry, warm-key hits (about 2 minutes)
#   scripts/bench.sh cache     writes docs/benchmarks/cache.md and cache.svg
# Starts Redis with scripts/redis.sh (and stops it afterwards if this script started it), builds Release and runs
# benchmarks/JobDedup.CacheBench: JobDedup's SharedCache against naive cache-aside, HybridCache and FusionCache.
exec "$(dirname "${BASH_SOURCE[0]}")/../lib/bench-with-server.sh" cache redis --redis JobDedup.CacheBench "$@"
