#!/usr/bin/env bash
# Starts a throwaway PostgreSQL 15 cluster for the tests (trust auth, loopback only) and prints
# the URL to export as IRONCLOCK_TEST_POSTGRES_URL. Idempotent: an already running cluster in
# the same directory is reused.
#
#   eval "$(scripts/test-postgres.sh start)"     # exports IRONCLOCK_TEST_POSTGRES_URL
#   scripts/test-postgres.sh stop
#   scripts/test-postgres.sh clean     # drops the per-test databases (ironclock_t_*) of a running cluster
#
# Env: PGTEST_DIR (default /tmp/ironclock-pg), PGTEST_PORT (default 55432), PGTEST_FSYNC (default on;
# CI sets off: every test drops its database, each DROP DATABASE forces a checkpoint, and no test
# needs to survive an operating-system crash), PG_BIN (default
# /usr/lib/postgresql/15/bin). Needs to run as root (it switches to the postgres user) or as the
# postgres user itself.
set -euo pipefail
dir=${PGTEST_DIR:-/tmp/ironclock-pg}
port=${PGTEST_PORT:-55432}
fsync=${PGTEST_FSYNC:-on}
bin=${PG_BIN:-/usr/lib/postgresql/15/bin}
action=${1:-start}

as_pg() {
  if [ "$(id -un)" = postgres ]; then "$@"; else su postgres -s /bin/bash -c "$(printf '%q ' "$@")"; fi
}

case "$action" in
  start)
    if [ ! -x "$bin/initdb" ]; then
      echo "PostgreSQL 15 server binaries not found in $bin (apt-get install -y postgresql-15)" >&2
      exit 1
    fi
    mkdir -p "$dir"
    chown postgres:postgres "$dir" 2>/dev/null || true
    if [ ! -f "$dir/PG_VERSION" ]; then
      as_pg "$bin/initdb" -D "$dir" --auth=trust -U postgres >/dev/null
    fi
    if ! as_pg "$bin/pg_ctl" -D "$dir" status >/dev/null 2>&1; then
      # Durable defaults (fsync, synchronous_commit on) unless PGTEST_FSYNC=off; sized for many
      # concurrent test databases.
      as_pg "$bin/pg_ctl" -D "$dir" -l "$dir/server.log" -w -t 60 \
        -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=400 -c shared_buffers=256MB -c fsync=$fsync" start >/dev/null
    fi
    echo "export IRONCLOCK_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:$port/postgres"
    ;;
  stop)
    as_pg "$bin/pg_ctl" -D "$dir" -m fast -w stop >/dev/null 2>&1 || true
    ;;
  clean)
    url="postgres://postgres@127.0.0.1:$port/postgres"
    psql -qtAc "select datname from pg_database where datname like 'ironclock\_t\_%' or datname like 'ironclock\_drain\_%'" "$url" |
      while read -r db; do psql -qc "drop database if exists $db" "$url"; done
    ;;
  *)
    echo "usage: $0 start|stop|clean" >&2
    exit 2
    ;;
esac
