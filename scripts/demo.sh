#!/usr/bin/env bash
# The main JobDedup demo: starts a local RabbitMQ if none runs (installing Debian's package when needed), builds the
# worker, and sends a burst of 1,000 duplicate payment webhooks over 10 event ids through it, with deduplication on
# and then off, printing what reached the payment service side by side. Cleans up its queues and processes.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

start=$(date +%s)
echo "== broker"
scripts/rabbitmq.sh start

echo "== build (Release)"
mkdir -p artifacts
for project in src/JobDedup.Worker/JobDedup.Worker.csproj samples/JobDedup.WorkerDemo/JobDedup.WorkerDemo.csproj; do
  name="$(basename "$project" .csproj)"
  step=$(date +%s)
  echo "building $name (the first build restores packages and takes a minute or two; full log: artifacts/demo-build-$name.log)"
  # One line per project as it is built; the whole output goes to the log.
  set +e
  dotnet build "$project" -c Release -nologo -v:minimal 2>&1 | tee "artifacts/demo-build-$name.log" \
    | grep --line-buffered -E '^ *[^ ]+ -> ' | sed -u -E 's/^ *([^ ]+) -> .*/  built \1/'
  build_status=${PIPESTATUS[0]}
  set -e
  if [ "$build_status" -ne 0 ]; then
    cat "artifacts/demo-build-$name.log"
    echo "build failed: $project"
    exit 1
  fi
  echo "  $name ready in $(( $(date +%s) - step )) s"
done
built=$(date +%s)

echo "== demo"
status=0
dotnet samples/JobDedup.WorkerDemo/bin/Release/net10.0/JobDedup.WorkerDemo.dll \
  --worker src/JobDedup.Worker/bin/Release/net10.0/JobDedup.Worker.dll "$@" || status=$?
end=$(date +%s)
echo
echo "demo: $((end - built)) s (build $((built - start)) s)"
exit $status
