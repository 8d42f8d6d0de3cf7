#!/usr/bin/env bash
# Runs the fault suite alone: tests/JobDedup.Faults.Tests, real worker processes against a RabbitMQ node and a
# PostgreSQL cluster the suite starts itself (faults@localhost on 127.0.0.1:5673, PostgreSQL on 127.0.0.1:5433, files
# under JOBDEDUP_FAULTS_DIR, default /tmp/jobdedup-faults) and stops by pid at the end. The shared servers on the
# default ports are never touched. Needs rabbitmq-server and postgresql installed (scripts/rabbitmq.sh and
# scripts/postgres.sh install them as root) and, as root, runs them as the rabbitmq and postgres users.
#   scripts/faults.sh           every case once (about 5 minutes on 2 cores)
#   scripts/faults.sh --soak    every case repeated JOBDEDUP_FAULTS_ROUNDS times (default 5), stopping at the first
#                               failing round; bounded: each case is bounded in messages and time
# Ends with the figures the cases measured (takeover times, recovery times, runs per poison message).
set -uo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
configuration="${CONFIGURATION:-Release}"
project=tests/JobDedup.Faults.Tests/JobDedup.Faults.Tests.csproj
dir="${JOBDEDUP_FAULTS_DIR:-/tmp/jobdedup-faults}"
rounds=1
case "${1:-}" in
  --soak) rounds="${JOBDEDUP_FAULTS_ROUNDS:-5}" ;;
  "") ;;
  *) echo "usage: $0 [--soak]" >&2; exit 2 ;;
esac

if ! dotnet build "$project" -c "$configuration" -nologo -clp:ErrorsOnly; then
  echo "build failed"
  exit 1
fi

status=0
all="$(mktemp)"
started=$(date +%s)
for round in $(seq 1 "$rounds"); do
  echo "== fault suite, round $round of $rounds"
  round_started=$(date +%s)
  dotnet test "$project" -c "$configuration" --no-build -nologo --logger "console;verbosity=normal" 2>&1 \
    | grep -vE '^\s*$'
  result=${PIPESTATUS[0]}
  echo "round $round: $(( $(date +%s) - round_started )) s, exit code $result"
  if [ -f "$dir/measurements.txt" ]; then
    sed "s/^/round $round: /" "$dir/measurements.txt" >>"$all"
  fi
  if [ "$result" -ne 0 ]; then
    status=1
    break
  fi
done

echo "== measured (also in $dir/measurements.txt for the last round)"
cat "$all"
rm -f "$all"
echo "fault suite: $(( $(date +%s) - started )) s in all, exit code $status"
exit "$status"
