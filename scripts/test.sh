#!/usr/bin/env bash
# Runs every test of JobDedup: restores, builds, starts the local RabbitMQ broker, PostgreSQL server and Redis the
# integration tests need (scripts/rabbitmq.sh, scripts/postgres.sh, scripts/redis.sh; each installs Debian's package when missing),
# installs headless Chromium for the dashboard's browser tests (scripts/chromium.sh), runs
# each test project, and ends with one line: "tests: N passed, N failed, N skipped".
# Exit status is non-zero if anything failed, or if no test ran at all.
set -uo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
configuration="${CONFIGURATION:-Release}"
results="$root/artifacts/test-results"
rm -rf "$results"
mkdir -p "$results"

summary() {
  echo "tests: $1 passed, $2 failed, $3 skipped"
}

echo "== broker"
if ! scripts/rabbitmq.sh start; then
  echo "could not start RabbitMQ; the broker tests will fail and say how to start it" >&2
fi

echo "== database"
if ! scripts/postgres.sh start; then
  echo "could not start PostgreSQL; the database tests will fail and say how to start it" >&2
fi

echo "== cache"
if ! scripts/redis.sh start; then
  echo "could not start Redis; the Redis tests will fail and say how to start it" >&2
fi

echo "== browser"
if ! scripts/chromium.sh install; then
  echo "could not install Chromium; the dashboard's browser tests will fail and say how to install it" >&2
fi

echo "== restore and build ($configuration)"
if ! dotnet build JobDedup.sln -c "$configuration" -nologo -clp:ErrorsOnly; then
  echo "build failed"
  summary 0 1 0
  exit 1
fi

# The systematic concurrency tests run on rewritten assemblies: first the engine's copy of JobDedup.Core is pointed at
# controlled stand-ins for the BCL threading calls Coyote 1.7.11 does not know, then `coyote rewrite` (the local tool in
# .config/dotnet-tools.json; on .NET 10 it needs DOTNET_ROLL_FORWARD=Major) rewrites them for the testing engine.
echo "== coyote rewrite"
concurrency="$root/tests/JobDedup.Concurrency.Tests/bin/$configuration/net10.0"
rewrite_failed=0
if ! dotnet tool restore >/dev/null \
    || ! dotnet "$root/tests/JobDedup.Concurrency.Rewriter/bin/$configuration/net10.0/JobDedup.Concurrency.Rewriter.dll" \
      "$concurrency/JobDedup.Concurrency.Controlled.dll" "$concurrency/JobDedup.Core.dll" "$concurrency/JobDedup.RabbitMq.dll" \
    || ! DOTNET_ROLL_FORWARD=Major dotnet tool run coyote rewrite "$concurrency/rewrite.coyote.json" | tail -n 1; then
  echo "coyote rewrite failed: the concurrency tests cannot run"
  rewrite_failed=1
fi

unreported=""
passed=0
failed=0
skipped=0
status=0
if [ "$rewrite_failed" -ne 0 ]; then
  failed=1
  status=1
fi
for project in tests/*/*.Tests.csproj; do
  name="$(basename "$project" .csproj)"
  echo "== $name"
  if ! dotnet test "$project" -c "$configuration" --no-build -nologo \
      --logger "trx;LogFileName=$name.trx" --logger "console;verbosity=normal" \
      --results-directory "$results" 2>&1 | grep -vE '^\s+Passed |^$'; then
    :
  fi
  test_status=${PIPESTATUS[0]}
  trx="$results/$name.trx"
  if [ ! -f "$trx" ]; then
    echo "$name: no results were written (the test host crashed or did not start)"
    unreported="$unreported $name"
    failed=$((failed + 1))
    status=1
    continue
  fi
  counters="$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)"
  count() { echo "$counters" | grep -o " $1=\"[0-9]*\"" | grep -o '[0-9]*' || echo 0; }
  p=$(count passed); f=$(count failed); t=$(count total); e=$(count executed)
  n=$((t - e))
  passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + n))
  echo "$name: $p passed, $f failed, $n not run"
  if [ "$test_status" -ne 0 ] || [ "$f" -ne 0 ]; then
    status=1
  fi
done

# The failed tests again, each with the first lines of its message, so that the end of the output names them.
failures() {
  awk '
    function text(s) {
      gsub(/&#x[dD];/, "", s); gsub(/&lt;/, "<", s); gsub(/&gt;/, ">", s); gsub(/&quot;/, "\"", s); gsub(/&apos;/, "\047", s)
      gsub(/&amp;/, "\\&", s)
      return s
    }
    /<UnitTestResult / && /outcome="Failed"/ {
      match($0, /testName="[^"]*"/); inside = 1; lines = 0
      print "failed: " project ": " text(substr($0, RSTART + 10, RLENGTH - 11))
    }
    inside && /<Message>/ { reading = 1; sub(/.*<Message>/, "") }
    inside && reading {
      done = sub(/<\/Message>.*/, "")
      if (lines < 6 && $0 != "") { print "  " text($0); lines++ }
      if (done) { reading = 0; inside = 0 }
    }
    /<\/UnitTestResult>/ { reading = 0; inside = 0 }
  ' project="$(basename "$1" .trx)" "$1"
}
if [ "$failed" -ne 0 ]; then
  echo "== failed tests"
  [ "$rewrite_failed" -ne 0 ] && echo "failed: coyote rewrite (the concurrency tests could not run)"
  for name in $unreported; do
    echo "failed: $name: no results were written (the test host crashed or did not start)"
  done
  for trx in "$results"/*.trx; do
    [ -f "$trx" ] && failures "$trx"
  done
fi

if [ "$passed" -eq 0 ]; then
  echo "no test passed: treating the run as failed"
  status=1
fi
summary "$passed" "$failed" "$skipped"
exit "$status"
