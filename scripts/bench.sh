#!/usr/bin/env bash
# Runs one of JobDedup's benchmarks and writes its results under docs/benchmarks/.
#   scripts/bench.sh            list what can run
#   scripts/bench.sh NAME       run one (each takes under 5 minutes on 2 cores)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

list() {
  echo "usage: scripts/bench.sh NAME"
  echo
  echo "benchmarks:"
  for script in scripts/bench/*.sh; do
    [ -e "$script" ] || continue
    name="$(basename "$script" .sh)"
    # The second line of each script says what it measures.
    printf '  %-10s %s\n' "$name" "$(sed -n '2s/^# *//p' "$script")"
  done
}

if [ $# -eq 0 ]; then
  list
  exit 0
fi

script="scripts/bench/$1.sh"
if [ ! -f "$script" ]; then
  echo "no benchmark named '$1'" >&2
  list >&2
  exit 2
fi
shift
exec bash "$script" "$@"
