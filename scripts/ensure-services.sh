#!/usr/bin/env bash
# Make sure the services the broker and its tests need are reachable, starting the local ones
# when they are installed but stopped. Quiet (and a no-op) when everything is already up.
#
#   scripts/ensure-services.sh [rabbitmq] [postgres]      # default: both
#
# RabbitMQ:   host/port from CME_RABBITMQ_URL      (default amqp://guest:guest@127.0.0.1:5672/)
# PostgreSQL: host/port from CME_TEST_POSTGRES_URL (default postgresql://postgres@127.0.0.1:5432/postgres)
# CME_SERVICES_TIMEOUT: seconds to wait for a service we started (default 60).
set -euo pipefail

RABBITMQ_URL="${CME_RABBITMQ_URL:-amqp://guest:guest@127.0.0.1:5672/}"
POSTGRES_URL="${CME_TEST_POSTGRES_URL:-postgresql://postgres@127.0.0.1:5432/postgres}"
TIMEOUT="${CME_SERVICES_TIMEOUT:-60}"
LOG_DIR="${TMPDIR:-/tmp}"
# Service tools live in sbin, which is not always on a non-root PATH.
PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"

say() { printf 'ensure-services: %s\n' "$*" >&2; }

# Print "HOST PORT" for a URL, using the given port when the URL has none.
host_port() {
  python3 - "$1" "$2" <<'PY'
import sys
from urllib.parse import urlsplit

try:
    parts = urlsplit(sys.argv[1])
    print(parts.hostname or "127.0.0.1", parts.port or int(sys.argv[2]))
except ValueError:
    sys.exit(1)
PY
}

tcp_open() {
  python3 - "$1" "$2" <<'PY'
import socket
import sys

try:
    socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=1).close()
except OSError:
    sys.exit(1)
PY
}

is_local() {
  case "$1" in
    localhost | 127.* | ::1 | 0.0.0.0) return 0 ;;
    *) return 1 ;;
  esac
}

# Run a command as root: directly when we are root, through non-interactive sudo otherwise.
as_root() {
  if [[ $EUID -eq 0 ]]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo -n "$@"
  else
    "$@"
  fi
}

# wait_until SECONDS CHECK...: poll CHECK every second until it succeeds or time runs out.
wait_until() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@"; do
    if ((SECONDS >= deadline)); then
      return 1
    fi
    sleep 1
  done
}

# ---------------------------------------------------------------------------------- RabbitMQ

rabbitmq_ready() { tcp_open "$RMQ_HOST" "$RMQ_PORT"; }

start_rabbitmq() {
  local log="$LOG_DIR/cme-ensure-rabbitmq.log"
  say "RabbitMQ is not reachable at $RMQ_HOST:$RMQ_PORT; starting the local rabbitmq-server (log: $log)"
  {
    # A node that is running with its application stopped (rabbitmqctl stop_app) only needs
    # start_app; a stopped node needs the server started.
    if command -v rabbitmq-diagnostics >/dev/null 2>&1 \
      && as_root rabbitmq-diagnostics -q ping >/dev/null 2>&1; then
      as_root rabbitmqctl start_app
    elif ! as_root rabbitmq-server -detached; then
      as_root service rabbitmq-server start || as_root systemctl start rabbitmq-server
    fi
  } </dev/null >>"$log" 2>&1 || true
}

ensure_rabbitmq() {
  local hp
  hp=$(host_port "$RABBITMQ_URL" 5672) || { say "CME_RABBITMQ_URL is not a valid URL."; return 2; }
  read -r RMQ_HOST RMQ_PORT <<<"$hp"
  rabbitmq_ready && return 0
  if is_local "$RMQ_HOST" && command -v rabbitmq-server >/dev/null 2>&1; then
    start_rabbitmq
    if wait_until "$TIMEOUT" rabbitmq_ready; then
      say "RabbitMQ is up at $RMQ_HOST:$RMQ_PORT"
      return 0
    fi
    say "RabbitMQ is not reachable at $RMQ_HOST:$RMQ_PORT after starting the local rabbitmq-server and waiting ${TIMEOUT} s (see $LOG_DIR/cme-ensure-rabbitmq.log): fix the local install, or run \`docker compose -f deploy/compose.dev.yml up -d\` where a Docker engine exists, or set CME_RABBITMQ_URL."
    return 1
  fi
  say "RabbitMQ is not reachable at $RMQ_HOST:$RMQ_PORT: install rabbitmq-server, or run \`docker compose -f deploy/compose.dev.yml up -d\` where a Docker engine exists, or set CME_RABBITMQ_URL."
  return 1
}

# -------------------------------------------------------------------------------- PostgreSQL

postgres_ready() {
  if command -v pg_isready >/dev/null 2>&1; then
    pg_isready -q -h "$PG_HOST" -p "$PG_PORT" -t 2
  else
    tcp_open "$PG_HOST" "$PG_PORT"
  fi
}

postgres_installed() {
  command -v pg_ctlcluster >/dev/null 2>&1 || [[ -x /etc/init.d/postgresql ]]
}

start_postgres() {
  local log="$LOG_DIR/cme-ensure-postgres.log"
  say "PostgreSQL is not ready at $PG_HOST:$PG_PORT; starting the local cluster (log: $log)"
  {
    local started=1 version cluster
    if command -v pg_ctlcluster >/dev/null 2>&1 && [[ -d /etc/postgresql ]]; then
      # Start the cluster(s) configured for the port we need (Debian: /etc/postgresql/VER/NAME).
      for conf in /etc/postgresql/*/*/postgresql.conf; do
        [[ -f $conf ]] || continue
        version=$(basename "$(dirname "$(dirname "$conf")")")
        cluster=$(basename "$(dirname "$conf")")
        if grep -Eq "^[[:space:]]*port[[:space:]]*=[[:space:]]*$PG_PORT([^0-9]|$)" "$conf"; then
          as_root pg_ctlcluster --skip-systemctl-redirect "$version" "$cluster" start && started=0
        fi
      done
    fi
    if ((started != 0)); then
      as_root service postgresql start || as_root systemctl start postgresql
    fi
  } </dev/null >>"$log" 2>&1 || true
}

ensure_postgres() {
  local hp
  hp=$(host_port "$POSTGRES_URL" 5432) || { say "CME_TEST_POSTGRES_URL is not a valid URL."; return 2; }
  read -r PG_HOST PG_PORT <<<"$hp"
  postgres_ready && return 0
  if is_local "$PG_HOST" && postgres_installed; then
    start_postgres
    if wait_until "$TIMEOUT" postgres_ready; then
      say "PostgreSQL is up at $PG_HOST:$PG_PORT"
      return 0
    fi
    say "PostgreSQL is not reachable at $PG_HOST:$PG_PORT after starting the local cluster and waiting ${TIMEOUT} s (see $LOG_DIR/cme-ensure-postgres.log): fix the local install, or run \`docker compose -f deploy/compose.dev.yml up -d\` where a Docker engine exists, or set CME_TEST_POSTGRES_URL."
    return 1
  fi
  say "PostgreSQL is not reachable at $PG_HOST:$PG_PORT: install postgresql, or run \`docker compose -f deploy/compose.dev.yml up -d\` where a Docker engine exists, or set CME_TEST_POSTGRES_URL."
  return 1
}

# -------------------------------------------------------------------------------------- main

main() {
  local services=("$@") status=0
  ((${#services[@]})) || services=(rabbitmq postgres)
  for service in "${services[@]}"; do
    case "$service" in
      rabbitmq) ensure_rabbitmq || status=1 ;;
      postgres | postgresql) ensure_postgres || status=1 ;;
      *)
        say "unknown service '$service' (usage: scripts/ensure-services.sh [rabbitmq] [postgres])"
        return 2
        ;;
    esac
  done
  return "$status"
}

main "$@"
