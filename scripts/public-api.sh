#!/usr/bin/env bash
# Regenerates PublicAPI.Unshipped.txt of every project under src/ from the code: each file is emptied, then the
# public API analyzer's own fix (RS0016, "add to the public API") writes back every public symbol not already in
# PublicAPI.Shipped.txt. Symbols that are gone disappear with the emptying, so RS0017 is settled too. Shipped files
# are never touched: moving lines from Unshipped to Shipped is part of a release (see CONTRIBUTING.md).
# Works offline once the packages are restored. Usage: scripts/public-api.sh [project.csproj ...]
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

if [ "$#" -gt 0 ]; then
  projects=("$@")
else
  mapfile -t projects < <(ls src/*/*.csproj)
fi

for project in "${projects[@]}"; do
  dir="$(dirname "$project")"
  [ -f "$dir/PublicAPI.Shipped.txt" ] || printf '#nullable enable\n' > "$dir/PublicAPI.Shipped.txt"
  printf '#nullable enable\n' > "$dir/PublicAPI.Unshipped.txt"
done

for project in "${projects[@]}"; do
  dir="$(dirname "$project")"
  echo "== $project"
  dotnet restore "$project" -nologo -v quiet >/dev/null
  # --severity info: the fix runs whatever severity .editorconfig gives the rule.
  dotnet format analyzers "$project" --no-restore --diagnostics RS0016 --severity info >/dev/null
  echo "   $(($(grep -cv '^#' "$dir/PublicAPI.Unshipped.txt" || true))) unshipped symbols"
done

echo "== check"
status=0
for project in "${projects[@]}"; do
  if dotnet build "$project" -c Release -nologo -clp:ErrorsOnly -v quiet 2>&1 | grep -E 'RS001[67]' | sort -u; then
    status=1
  fi
done
if [ "$status" -ne 0 ]; then
  echo "the API files still disagree with the code (above)" >&2
  exit 1
fi
echo "done: review 'git diff -- src/*/PublicAPI.*.txt' and commit it"
