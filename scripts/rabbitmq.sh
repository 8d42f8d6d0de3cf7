#!/usr/bin/env bash
# A local RabbitMQ for development, tests and the demo.
#   scripts/rabbitmq.sh start    use the broker answering on 127.0.0.1:5672, or install Debian's rabbitmq-server
#                                (as root) and start it bound to 127.0.0.1; enables the plugins JobDedup uses
#   scripts/rabbitmq.sh stop     stop the broker this script started
#   scripts/rabbitmq.sh status   say whether a broker answers
# Running start twice is harmless. Set JOBDEDUP_RABBITMQ_URI to use another broker instead; then nothing is
# installed or started here.
set -euo pipefail

node="${RABBITMQ_NODENAME:-rabbit@localhost}"
host=127.0.0.1
port=5672
plugins=(rabbitmq_consistent_hash_exchange)

say() { printf 'rabbitmq: %s\n' "$*"; }

answers() { (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null; }

ctl() { rabbitmqctl -n "$node" "$@"; }

enable_plugins() {
  # Offline enabling writes the plugin list; on a running node it also starts them.
  if command -v rabbitmq-plugins >/dev/null 2>&1; then
    rabbitmq-plugins -n "$node" enable "${plugins[@]}" >/dev/null 2>&1 \
      || rabbitmq-plugins --offline -n "$node" enable "${plugins[@]}" >/dev/null 2>&1 \
      || say "could not enable ${plugins[*]} (only the partitioned topology needs it)"
  fi
}

install_broker() {
  if command -v rabbitmq-server >/dev/null 2>&1; then
    return
  fi
  if [ "$(id -u)" -ne 0 ]; then
    say "RabbitMQ is not installed and this script is not running as root. Install it with:"
    say "  sudo apt-get update && sudo apt-get install -y rabbitmq-server"
    say "then run: scripts/rabbitmq.sh start"
    exit 1
  fi
  say "installing Debian's rabbitmq-server (about 20 s)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq rabbitmq-server >/dev/null
  # Debian starts the service only where policy allows; this script starts its own node below.
}

start() {
  if [ -n "${JOBDEDUP_RABBITMQ_URI:-}" ]; then
    say "JOBDEDUP_RABBITMQ_URI is set; using that broker"
    return
  fi
  if answers; then
    say "a broker already answers at $host:$port"
    enable_plugins
    return
  fi
  install_broker
  if [ "$(id -u)" -ne 0 ] && [ ! -w /var/lib/rabbitmq ]; then
    say "starting the broker needs root (or write access to /var/lib/rabbitmq). Run: sudo scripts/rabbitmq.sh start"
    exit 1
  fi
  rabbitmq-plugins --offline -n "$node" enable "${plugins[@]}" >/dev/null 2>&1 || true
  say "starting $node on $host:$port"
  # Everything it opens listens on loopback only: AMQP, Erlang distribution and the port mapper (epmd).
  ERL_EPMD_ADDRESS="$host" RABBITMQ_NODENAME="$node" RABBITMQ_NODE_IP_ADDRESS="$host" RABBITMQ_NODE_PORT="$port" \
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}" \
    rabbitmq-server -detached >/dev/null 2>&1 || true
  # await_startup fails at once while the node is not registered yet, so ask again until it answers.
  for _ in $(seq 1 90); do
    if ctl await_startup --timeout 60 >/dev/null 2>&1; then
      break
    fi
    sleep 1
  done
  if ! answers; then
    say "the broker did not start; see /var/log/rabbitmq/ and run: rabbitmqctl -n $node status"
    exit 1
  fi
  enable_plugins
  say "ready at amqp://guest:guest@$host:$port/"
}

stop() {
  if ctl stop >/dev/null 2>&1; then
    say "stopped $node"
  else
    say "no broker named $node is running here"
  fi
  epmd -kill >/dev/null 2>&1 || true
}

status() {
  if [ -n "${JOBDEDUP_RABBITMQ_URI:-}" ]; then
    say "JOBDEDUP_RABBITMQ_URI is set; not checking the local broker"
  elif answers; then
    say "a broker answers at $host:$port"
  else
    say "no broker answers at $host:$port; start one with: scripts/rabbitmq.sh start"
    exit 1
  fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
