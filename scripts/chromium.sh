#!/usr/bin/env bash
# Headless Chromium for the dashboard's browser tests: Debian's chromium and chromium-driver.
#   scripts/chromium.sh install   install both when either is missing (as root; apt-get)
#   scripts/chromium.sh status    say whether both are there
# The tests drive /usr/bin/chromium through /usr/bin/chromedriver; nothing is downloaded by the tests themselves.
set -euo pipefail

say() { printf 'chromium: %s\n' "$*"; }

present() { [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; }

case "${1:-status}" in
  install)
    if present; then
      exit 0
    fi
    if [ "$(id -u)" -ne 0 ]; then
      say "chromium or chromedriver is missing and this script is not running as root. Install them with:"
      say "  sudo apt-get update && sudo apt-get install -y chromium chromium-driver"
      exit 1
    fi
    say "installing Debian's chromium and chromium-driver (about a minute)"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
    present
    ;;
  status)
    if present; then say "installed: $(/usr/bin/chromium --version 2>/dev/null)"; else say "missing"; exit 1; fi
    ;;
  *)
    echo "usage: $0 install|status" >&2
    exit 2
    ;;
esac
