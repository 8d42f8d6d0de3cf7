#!/usr/bin/env bash
# Packs every JobDedup package (each project under src/: JobDedup.Core, .RabbitMq, .PostgreSql, .Redis, the
# JobDedup.Worker tool, ...) with its .snupkg symbols into a folder feed, artifacts/packages by default. The version comes from the nearest git tag vX.Y.Z
# (MinVer); with no tag it is 0.1.0-alpha.0.N. Set CI=true for a deterministic, SourceLinked CI build.
# Usage: scripts/pack.sh [output-folder] [extra dotnet pack arguments, e.g. --no-build or -p:MinVerVersionOverride=1.2.3]
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
output="${1:-$root/artifacts/packages}"
shift || true
configuration="${CONFIGURATION:-Release}"
mkdir -p "$output"
output="$(cd "$output" && pwd)"

# Every project under src/ is a package (each needs its own README.md beside its .csproj).
for project in src/*/*.csproj; do
  echo "== $(basename "$project" .csproj)"
  dotnet pack "$project" -c "$configuration" -o "$output" -nologo -clp:ErrorsOnly "$@"
done

echo "packages in $output:"
ls -1 "$output" | grep -E '\.s?nupkg$'
