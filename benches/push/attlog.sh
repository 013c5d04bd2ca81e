#!/usr/bin/env bash
# ATTLOG ingestion benchmark (issue "Push protocol server and punch ingestion", point 10).
#
#   benches/push/attlog.sh [SECONDS]        (default 15 s per measurement)
#
# In ONE run, on this machine: (1) the bare limit: pgbench inserting the same LINES-row batches
# into the same PostgreSQL cluster (benches/push/bare-insert.sql, durable commits); (2) ironclock
# on PostgreSQL; (3) the bare SQLite limit: one writer inserting the same LINES-row batches into
# ironclock's own attendance_logs table with its settings (benches/push/bare-sqlite.py);
# (4) ironclock on SQLite. Load: wrk with attlog.lua, 1,000 registered devices,
# LINES unique punches per upload. Prints RESULT lines and a summary with the ratio.
# Env: LINES (100) punches per upload and rows per bare transaction; CLIENTS (64) wrk
# connections; BARE_CLIENTS (16) pgbench clients; CLOSE=1 sends `Connection: close` on every
# request (firmware's way); BACKENDS ("postgres sqlite") picks the halves to run. Small real-time uploads with group commit (issue "Scale…"):
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

backends=${BACKENDS:-postgres sqlite}
(cd "$repo" && cargo build --release --quiet)
bin="$repo/target/release/ironclock"
on() { case " $backends " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }
# summarise BACKEND STORED BARE_ROWS_PER_S: the backend's acked rate against its bare reference,
# and how many acknowledged punches are missing from the database.
summarise() {
  local rate acked
  rate=$(sed -n 's/.*acked_punches_per_s=\([0-9.]*\).*/\1/p' "$work/wrk-$1.txt")
  acked=$(sed -n 's/.*acked_punches=\([0-9]*\).*/\1/p' "$work/wrk-$1.txt")
  echo "RESULT $1 stored_punches=$2"
  awk -v n="$1" -v p="$rate" -v b="$3" -v st="$2" -v a="$acked" 'BEGIN {
    printf "SUMMARY %s=%.0f punches/s bare=%.0f rows/s ratio=%.2f stored=%d acked=%d lost=%d\n",
      n, p, b, p / b, st, a, (a > st ? a - st : 0) }'
}

if on postgres; then
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
fi

run_server() { # $1 = database url
  "$bin" serve --bind "127.0.0.1:$port" --database-url "$1" --auto-approve-devices \
    --data-key-file "$work/data.key" --log-format json > "$work/server.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && return 0; sleep 0.1; done
  echo "server did not start"; cat "$work/server.log"; exit 1
}
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
# CPU-seconds of this benchmark's own PostgreSQL cluster (its postmaster and children only).
pg_cpu_secs() {
  local pm; pm=$(head -n1 "$PGTEST_DIR/postmaster.pid" 2>/dev/null) || { echo 0; return; }
  local t=0 c
  for c in "$pm" $(pgrep -P "$pm"); do t=$((t + $(awk '{print $14 + $15}' "/proc/$c/stat" 2>/dev/null || echo 0))); done
  awk -v t="$t" -v hz="$(getconf CLK_TCK)" 'BEGIN {printf "%.2f", t / hz}'
}
machine_busy_ticks() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8 + $9}' /proc/stat; }
stop_server() {
  kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=
}
measure() { # $1 = label, $2 = run number
  "$here/register.sh" "http://127.0.0.1:$port" 1000 | sed "s/^/$1: /"
  DEVICES=1000 LINES=$lines RUN=$2 wrk -t2 -c"$clients" -d"${secs}s" --timeout 30s "${close[@]}" -s "$here/attlog.lua" \
    "http://127.0.0.1:$port" > "$work/wrk-$1.txt" 2>&1 &
  local wrk_pid=$! peak=0 wrk_ticks=0
  local srv0 pg0 busy0 t0 t1
  srv0=$(cpu_ticks "$server_pid"); pg0=$(pg_cpu_secs); busy0=$(machine_busy_ticks); t0=$(date +%s.%N)
  while kill -0 "$wrk_pid" 2>/dev/null; do
    rss=$(awk '/VmRSS/ {print $2}' "/proc/$server_pid/status" 2>/dev/null || echo 0)
    [ "${rss:-0}" -gt "$peak" ] && peak=$rss
    t=$(cpu_ticks "$wrk_pid"); [ "$t" -gt 0 ] && wrk_ticks=$t
    sleep 0.5
  done
  wait "$wrk_pid"
  t1=$(date +%s.%N)
  # CPU per process (100 % = one core): where the cores went during the run.
  awk -v l="$1" -v s0="$srv0" -v s1="$(cpu_ticks "$server_pid")" -v w="$wrk_ticks" -v p0="$pg0" -v p1="$(pg_cpu_secs)" \
      -v b0="$busy0" -v b1="$(machine_busy_ticks)" -v hz="$(getconf CLK_TCK)" -v t0="$t0" -v t1="$t1" 'BEGIN {
    d = t1 - t0
    printf "RESULT %s cpu_server_pct=%.0f cpu_wrk_pct=%.0f cpu_postgres_pct=%.0f cpu_machine_pct=%.0f server_cpu_secs=%.2f\n",
      l, 100 * (s1 - s0) / hz / d, 100 * w / hz / d, 100 * (p1 - p0) / d, 100 * (b1 - b0) / hz / d, (s1 - s0) / hz }'

  grep '^RESULT' "$work/wrk-$1.txt" | sed "s/^RESULT attlog/RESULT $1/"
  echo "RESULT $1 peak_rss_mb=$((peak / 1024))"
  # The group committer's own counts: transactions (one fsync each) against uploads stored.
  curl -fs "http://127.0.0.1:$port/metrics" | awk -v l="$1" -v s="$secs" '
    /^ironclock_punch_uploads_committed_total / {u = $2} /^ironclock_punch_commits_total / {c = $2}
    END {printf "RESULT %s uploads=%d commits=%d uploads_per_commit=%.1f commits_per_s=%.0f\n", l, u, c, (c ? u / c : 0), c / s}'

}

if on postgres; then
  echo "== ironclock on PostgreSQL"
  run_server "$base/bench_ironclock"
  measure postgres 1
  stop_server
  stored_pg=$(psql -qtAc "select count(*) from attendance_logs" "$base/bench_ironclock")
  summarise postgres "$stored_pg" "$bare_rows"
fi

if on sqlite; then
  echo "== bare SQLite insert (one writer, $lines rows per transaction, WAL, synchronous=FULL)"
  # A database ironclock migrated, with the same 1,000 devices, then closed: the bare writer
  # inserts into exactly the table and indexes ironclock writes.
  run_server "sqlite://$work/bare.db"
  "$here/register.sh" "http://127.0.0.1:$port" 1000 | sed "s/^/bare sqlite: /"
  stop_server
  python3 "$here/bare-sqlite.py" "$work/bare.db" "$secs" "$lines" 1000 | tee "$work/bare-sqlite.txt"
  bare_lite=$(sed -n 's/.*rows_per_s=\([0-9.]*\).*/\1/p' "$work/bare-sqlite.txt")

  echo "== ironclock on SQLite"
  run_server "sqlite://$work/bench.db"
  measure sqlite 2
  stop_server
  stored_lite=$(python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("select count(*) from attendance_logs").fetchone()[0])' "$work/bench.db")
  summarise sqlite "$stored_lite" "$bare_lite"
fi
