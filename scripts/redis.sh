#!/usr/bin/env bash
# A local Redis for JobDedup's cache and outcome-store tests and benchmarks.
#   scripts/redis.sh start              use the Redis answering on 127.0.0.1:6379, or install Debian's redis-server (as
#                                       root) and start a throwaway server bound to 127.0.0.1 only (on 6379, or on the
#                                       first free port after it when 6379 is taken by something that is not Redis)
#   scripts/redis.sh stop               stop the server this script started (by its pid file) and delete its files
#   scripts/redis.sh status             say whether a server answers and whether this script started it
#   scripts/redis.sh connection-string  print the StackExchange.Redis configuration the tests should use
# Running start twice is harmless. Set JOBDEDUP_REDIS to a StackExchange.Redis configuration string (host:port,…) to
# use another server instead; then nothing is installed or started here. JOBDEDUP_REDIS_DIR sets where the throwaway
# server keeps its pid file, log and port (default /tmp/jobdedup-redis).
set -euo pipefail

host=127.0.0.1
default_port=6379
dir="${JOBDEDUP_REDIS_DIR:-/tmp/jobdedup-redis}"
pidfile="$dir/redis.pid"
portfile="$dir/port"
marker="$dir/started-by-jobdedup"
log="$dir/server.log"

say() { printf 'redis: %s\n' "$*"; }

port_open() { (exec 3<>"/dev/tcp/$host/$1") 2>/dev/null; }

# True when a Redis answers PING on the port (a port held by something else is not a Redis).
is_redis() {
  local reply
  reply="$( (exec 3<>"/dev/tcp/$host/$1" && printf 'PING\r\n' >&3 && timeout 2 head -c 7 <&3) 2>/dev/null)" || return 1
  [[ "$reply" == "+PONG"* ]]
}

alive() { [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }

started_here() { [ -f "$marker" ] && alive; }

current_port() {
  if [ -f "$portfile" ]; then
    cat "$portfile"
  else
    echo "$default_port"
  fi
}

connection_string() {
  if [ -n "${JOBDEDUP_REDIS:-}" ]; then
    printf '%s\n' "$JOBDEDUP_REDIS"
    return
  fi
  printf '%s:%s\n' "$host" "$(current_port)"
}

install_server() {
  if command -v redis-server >/dev/null 2>&1; then
    return
  fi
  if [ "$(id -u)" -ne 0 ]; then
    say "redis-server is not installed and this script is not running as root. Install it with:"
    say "  sudo apt-get update && sudo apt-get install -y redis-server"
    say "then run: scripts/redis.sh start"
    exit 1
  fi
  say "installing Debian's redis-server (about 20 s)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq redis-server >/dev/null
  # Where the package starts a service of its own, this script still runs its own throwaway server.
}

start_server() {
  local port="$1"
  mkdir -p "$dir"
  rm -f "$pidfile"
  say "starting Redis ($(redis-server --version | awk '{print $3}' | sed 's/v=//')) on $host:$port"
  # Bound to loopback, nothing written to disk: a throwaway server for tests and benchmarks.
  redis-server --bind "$host" --port "$port" --protected-mode yes --daemonize yes \
    --pidfile "$pidfile" --logfile "$log" --dir "$dir" --save "" --appendonly no >/dev/null
  echo "$port" >"$portfile"
  touch "$marker"
  local waited
  for waited in $(seq 1 100); do
    if is_redis "$port"; then
      return
    fi
    sleep 0.1
  done
  say "no answer from $host:$port after 10 s; see $log"
  exit 1
}

start() {
  if [ -n "${JOBDEDUP_REDIS:-}" ]; then
    say "JOBDEDUP_REDIS is set; using that server"
    return
  fi
  if started_here && is_redis "$(current_port)"; then
    say "the server this script started answers at $host:$(current_port)"
    return
  fi
  if is_redis "$default_port"; then
    say "a Redis already answers at $host:$default_port; using it"
    # A port file left by an earlier throwaway server must not point the tests elsewhere.
    rm -f "$portfile" "$marker"
    return
  fi
  install_server
  local port="$default_port"
  while port_open "$port"; do
    say "port $port is taken by something that is not Redis; trying $((port + 1))"
    port=$((port + 1))
    if [ "$port" -gt $((default_port + 20)) ]; then
      say "no free port between $default_port and $port"
      exit 1
    fi
  done
  start_server "$port"
}

stop() {
  if [ -n "${JOBDEDUP_REDIS:-}" ]; then
    say "JOBDEDUP_REDIS is set; that server is not this script's to stop"
    return
  fi
  if [ ! -f "$marker" ] || [ ! -f "$pidfile" ]; then
    if is_redis "$default_port"; then
      say "the server at $host:$default_port was not started by this script; leaving it running"
    else
      say "not running"
    fi
    return
  fi
  local pid
  pid="$(cat "$pidfile")"
  if kill -0 "$pid" 2>/dev/null; then
    say "stopping the server (pid $pid)"
    kill "$pid"
    for _ in $(seq 1 100); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
      kill -9 "$pid" 2>/dev/null || true
    fi
  fi
  rm -rf "$dir"
  say "stopped; $dir removed"
}

status() {
  if [ -n "${JOBDEDUP_REDIS:-}" ]; then
    say "JOBDEDUP_REDIS is set to $JOBDEDUP_REDIS"
    return 0
  fi
  local port
  port="$(current_port)"
  if is_redis "$port"; then
    if started_here; then
      say "running at $host:$port (started by this script, pid $(cat "$pidfile"), files in $dir)"
    else
      say "a server answers at $host:$port (not started by this script)"
    fi
    return 0
  fi
  say "no server answers at $host:$port"
  return 1
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  connection-string) connection_string ;;
  *)
    echo "usage: scripts/redis.sh start|stop|status|connection-string" >&2
    exit 2
    ;;
esac
