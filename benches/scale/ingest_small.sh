#!/usr/bin/env bash
# Ingestion of small real-time uploads with group commit (issue "Scale…", point 4): 1,000
# devices each uploading LINES (default 2) punches per request, as firmware does in real time,
# against the bare INSERT of the same rows (LINES rows per transaction) in the same cluster.
#
#   benches/scale/ingest_small.sh [SECONDS]            (default 15 s per measurement)
#
# In ONE run: (1) bare: pgbench, CLIENTS (64) connections, each transaction one INSERT of LINES
# rows with a unique key and `on conflict do nothing` (durable commits: fsync on); (2) ironclock
# on PostgreSQL, wrk with the same CLIENTS connections, `Connection: close` on every request
# (firmware's way; KEEPALIVE=1 drops the header). Prints RESULT lines and SUMMARY with the ratio.
# Needs: wrk, pgbench, PostgreSQL 15 binaries, curl.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
secs=${1:-15}
lines=${LINES:-2}
clients=${CLIENTS:-64}
port=${BENCH_PORT:-18190}
export PGTEST_DIR=${PGTEST_DIR:-/tmp/ironclock-bench-small} PGTEST_PORT=${PGTEST_PORT:-55452}
work=$(mktemp -d)
server_pid=
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
  "$repo/scripts/test-postgres.sh" stop >/dev/null 2>&1 || true
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
cat > "$work/bare.sql" <<SQL
\set d random(1, 1000000000)
insert into punches(device_id,pin,local_time,punched_at,status,verify,raw)
select :d % 1000, (1000 + g)::text, to_char(timestamp '2026-01-01' + ((:d::bigint * 100 + g) || ' seconds')::interval, 'YYYY-MM-DD HH24:MI:SS'), now(), 0, 15, 'raw line'
from generate_series(0,$((lines - 1))) g on conflict do nothing;
SQL

echo "== bare INSERT of $lines rows per transaction (pgbench, $clients clients)"
pgbench -n -f "$work/bare.sql" -c "$clients" -j 2 -T "$secs" "$base/bench_bare" > "$work/pgbench.txt" 2>&1
bare_tps=$(awk '/^tps = / {print $3; exit}' "$work/pgbench.txt")
bare_rows=$(awk -v t="$bare_tps" -v l="$lines" 'BEGIN {printf "%.0f", t * l}')
echo "RESULT bare tps=$bare_tps rows_per_s=$bare_rows"

echo "== ironclock on PostgreSQL, $lines-line uploads from 1,000 devices"
RUST_LOG=warn "$bin" serve --bind "127.0.0.1:$port" --database-url "$base/bench_ironclock" --auto-approve-devices \
  --data-key-file "$work/data.key" --log-format json > "$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
"$repo/benches/push/register.sh" "http://127.0.0.1:$port" 1000
header=(-H "Connection: close")
[ "${KEEPALIVE:-0}" = 1 ] && header=()
DEVICES=1000 LINES=$lines RUN=1 wrk -t2 -c"$clients" -d"${secs}s" --timeout 30s "${header[@]}" \
  -s "$repo/benches/push/attlog.lua" "http://127.0.0.1:$port" > "$work/wrk.txt" 2>&1
grep '^RESULT' "$work/wrk.txt"
kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=
stored=$(psql -qtAc "select count(*) from attendance_logs" "$base/bench_ironclock")
rate=$(sed -n 's/.*acked_punches_per_s=\([0-9.]*\).*/\1/p' "$work/wrk.txt")
acked=$(sed -n 's/.*acked_punches=\([0-9]*\).*/\1/p' "$work/wrk.txt")
awk -v p="$rate" -v b="$bare_rows" -v st="$stored" -v a="$acked" -v l="$lines" -v k="${KEEPALIVE:-0}" 'BEGIN {
  printf "SUMMARY lines=%d keepalive=%d ironclock=%.0f punches/s bare=%.0f rows/s ratio=%.2f stored=%d acked=%d lost=%d\n",
    l, k, p, b, p / b, st, a, (a > st ? a - st : 0) }'
