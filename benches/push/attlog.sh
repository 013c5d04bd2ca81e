#!/usr/bin/env bash
# ATTLOG ingestion benchmark (issue "Push protocol server and punch ingestion", point 10).
#
#   benches/push/attlog.sh [SECONDS]        (default 15 s per measurement)
#
# In ONE run, on this machine: (1) the bare limit: pgbench inserting the same LINES-row batches
# into the same PostgreSQL cluster (benches/push/bare-insert.sql, durable commits); (2) ironclock
# on PostgreSQL; (3) ironclock on SQLite. Load: wrk with attlog.lua, 1,000 registered devices,
# LINES unique punches per upload. Prints RESULT lines and a summary with the ratio.
# Env: LINES (100) punches per upload and rows per bare transaction; CLIENTS (64) wrk
# connections; BARE_CLIENTS (16) pgbench clients; CLOSE=1 sends `Connection: close` on every
# request (firmware's way). Small real-time uploads with group commit (issue "Scale…"):
#   LINES=2 CLOSE=1 BARE_CLIENTS=64 benches/push/attlog.sh
# Needs: wrk, pgbench, PostgreSQL 15 binaries, curl (apt-get install -y wrk postgresql-15 curl).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
secs=${1:-15}
lines=${LINES:-100}
clients=${CLIENTS:-64}
bare_clients=${BARE_CLIENTS:-16}
close=()
[ "${CLOSE:-0}" = 1 ] && close=(-H "Connection: close")
port=${BENCH_PORT:-18080}
export PGTEST_DIR=${PGTEST_DIR:-/tmp/ironclock-bench-pg} PGTEST_PORT=${PGTEST_PORT:-55439}
work=$(mktemp -d)
server_pid=
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
  "$repo/scripts/test-postgres.sh" stop
  rm -rf "$work"
}
trap cleanup EXIT

(cd "$repo" && cargo build --release --quiet)
bin="$repo/target/release/ironclock"
eval "$("$repo/scripts/test-postgres.sh" start)"
admin=$IRONCLOCK_TEST_POSTGRES_URL
base=${admin%/*}
psql -q "$admin" -c "drop database if exists bench_bare" -c "drop database if exists bench_ironclock" \
  -c "create database bench_bare" -c "create database bench_ironclock"
psql -q "$base/bench_bare" -c "create table punches(id bigserial primary key, device_id int not null, pin text not null,
  local_time text not null, punched_at timestamptz not null, status int, verify int, raw text,
  unique(device_id, pin, local_time))"
psql -qtAc "show fsync" -c "show synchronous_commit" "$admin" | tr '\n' ' ' | sed 's/^/postgres fsync, synchronous_commit: /'; echo

echo "== bare multi-row INSERT (pgbench, $bare_clients clients, $lines rows per transaction)"
sed "s/generate_series(0,99)/generate_series(0,$((lines - 1)))/" "$here/bare-insert.sql" > "$work/bare.sql"
pgbench -n -f "$work/bare.sql" -c "$bare_clients" -j 2 -T "$secs" "$base/bench_bare" > "$work/pgbench.txt" 2>&1
bare_tps=$(awk '/^tps = / {print $3; exit}' "$work/pgbench.txt")
bare_rows=$(awk -v t="$bare_tps" -v l="$lines" 'BEGIN {printf "%.0f", t * l}')
echo "RESULT bare tps=$bare_tps rows_per_s=$bare_rows"

run_server() { # $1 = database url
  "$bin" serve --bind "127.0.0.1:$port" --database-url "$1" --auto-approve-devices \
    --data-key-file "$work/data.key" --log-format json > "$work/server.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && return 0; sleep 0.1; done
  echo "server did not start"; cat "$work/server.log"; exit 1
}
measure() { # $1 = label, $2 = run number
  "$here/register.sh" "http://127.0.0.1:$port" 1000 | sed "s/^/$1: /"
  DEVICES=1000 LINES=$lines RUN=$2 wrk -t2 -c"$clients" -d"${secs}s" --timeout 30s "${close[@]}" -s "$here/attlog.lua" \
    "http://127.0.0.1:$port" > "$work/wrk-$1.txt" 2>&1 &
  local wrk_pid=$! peak=0
  while kill -0 "$wrk_pid" 2>/dev/null; do
    rss=$(awk '/VmRSS/ {print $2}' "/proc/$server_pid/status" 2>/dev/null || echo 0)
    [ "${rss:-0}" -gt "$peak" ] && peak=$rss
    sleep 0.5
  done
  wait "$wrk_pid"
  grep '^RESULT' "$work/wrk-$1.txt" | sed "s/^RESULT attlog/RESULT $1/"
  echo "RESULT $1 peak_rss_mb=$((peak / 1024))"
}

echo "== ironclock on PostgreSQL"
run_server "$base/bench_ironclock"
measure postgres 1
kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=
stored_pg=$(psql -qtAc "select count(*) from attendance_logs" "$base/bench_ironclock")
echo "RESULT postgres stored_punches=$stored_pg"

echo "== ironclock on SQLite"
run_server "sqlite://$work/bench.db"
measure sqlite 2
kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=

pg_rate=$(sed -n 's/.*acked_punches_per_s=\([0-9.]*\).*/\1/p' "$work/wrk-postgres.txt")
lite_rate=$(sed -n 's/.*acked_punches_per_s=\([0-9.]*\).*/\1/p' "$work/wrk-sqlite.txt")
pg_acked=$(sed -n 's/.*acked_punches=\([0-9]*\).*/\1/p' "$work/wrk-postgres.txt")
awk -v p="$pg_rate" -v b="$bare_rows" -v s="$lite_rate" -v st="$stored_pg" -v a="$pg_acked" 'BEGIN {
  printf "SUMMARY postgres=%.0f punches/s bare=%.0f rows/s ratio=%.2f sqlite=%.0f punches/s stored_pg=%d acked_pg=%d lost=%d\n",
    p, b, p / b, s, st, a, (a > st ? a - st : 0) }'
