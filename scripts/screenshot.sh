#!/usr/bin/env bash
# Takes the dashboard screenshot in docs/images/dashboard.png: starts the broker if needed, installs headless
# Chromium if needed, and runs the dashboard's browser test with a longer burst (JOBDEDUP_DASHBOARD_BURST_SECONDS,
# 40 by default) against a worker hosted by the test, then saves what Chromium shows.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
scripts/rabbitmq.sh start
scripts/chromium.sh install
mkdir -p docs/images
dotnet build tests/JobDedup.Worker.Tests/JobDedup.Worker.Tests.csproj -c Release -nologo -clp:ErrorsOnly
JOBDEDUP_DASHBOARD_SCREENSHOT="$root/docs/images/dashboard.png" \
JOBDEDUP_DASHBOARD_BURST_SECONDS="${JOBDEDUP_DASHBOARD_BURST_SECONDS:-40}" \
  dotnet test tests/JobDedup.Worker.Tests/JobDedup.Worker.Tests.csproj -c Release --no-build -nologo \
    --filter "FullyQualifiedName~DashboardBrowserTests"
echo "screenshot: docs/images/dashboard.png"
