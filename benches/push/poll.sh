#!/usr/bin/env bash
# Idle command-poll benchmark (issue "Reliable command queue", point 9).
#
#   benches/push/poll.sh [SECONDS] [DEVICES]      (defaults: 15 s, 10,000 devices)
#
# In ONE run, same load generator (wrk + poll.lua, 2 threads, 64 connections): (1) ironclock
# serving idle GET /iclock/getrequest for DEVICES registered devices on PostgreSQL, (2) the bare
# actix-web handler that answers OK to everything (the physical limit). Prints RESULT lines,
# ironclock's peak RSS, and the ratio.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
secs=${1:-15}
devices=${2:-10000}
port=${BENCH_PORT:-18081}
bare_port=${BARE_PORT:-18090}
export PGTEST_DIR=${PGTEST_DIR:-/tmp/ironclock-bench-pg} PGTEST_PORT=${PGTEST_PORT:-55439}
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  "$repo/scripts/test-postgres.sh" stop
  rm -rf "$work"
}
trap cleanup EXIT

(cd "$repo" && cargo build --release --quiet)
(cd "$here/bare-actix" && cargo build --release --quiet --target-dir "$repo/target/bare-actix")
eval "$("$repo/scripts/test-postgres.sh" start)"
base=${IRONCLOCK_TEST_POSTGRES_URL%/*}
psql -q "$IRONCLOCK_TEST_POSTGRES_URL" -c "drop database if exists bench_poll" -c "create database bench_poll"

"$repo/target/release/ironclock" serve --bind "127.0.0.1:$port" --database-url "$base/bench_poll" \
  --auto-approve-devices --data-key-file "$work/data.key" --log-format json > "$work/server.log" 2>&1 &
server=$!; pids+=("$server")
for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
"$here/register.sh" "http://127.0.0.1:$port" "$devices"

run_wrk() { # $1 label, $2 url, $3 pid to watch for RSS (or 0)
  DEVICES=$devices wrk -t2 -c64 -d"${secs}s" --timeout 30s --latency -s "$here/poll.lua" "$2" > "$work/wrk-$1.txt" 2>&1 &
  local w=$! peak=0
  while kill -0 "$w" 2>/dev/null; do
    if [ "$3" != 0 ]; then
      rss=$(awk '/VmRSS/ {print $2}' "/proc/$3/status" 2>/dev/null || echo 0)
      [ "${rss:-0}" -gt "$peak" ] && peak=$rss
    fi
    sleep 0.5
  done
  wait "$w"
  grep '^RESULT' "$work/wrk-$1.txt" | sed "s/^RESULT poll/RESULT $1/"
  [ "$3" != 0 ] && echo "RESULT $1 peak_rss_mb=$((peak / 1024)) devices_known=$devices"
  return 0
}
run_wrk ironclock "http://127.0.0.1:$port" "$server"
queries=$(psql -qtAc "select sum(calls) from pg_stat_statements" "$base/bench_poll" 2>/dev/null || echo n/a)
kill "$server"; wait "$server" 2>/dev/null || true

"$repo/target/bare-actix/release/bare-actix" "127.0.0.1:$bare_port" > /dev/null 2>&1 &
pids+=("$!")
sleep 0.5
run_wrk bare "http://127.0.0.1:$bare_port" 0

ic=$(sed -n 's/.*req_per_s=\([0-9.]*\).*/\1/p' "$work/wrk-ironclock.txt")
bare=$(sed -n 's/.*req_per_s=\([0-9.]*\).*/\1/p' "$work/wrk-bare.txt")
awk -v i="$ic" -v b="$bare" 'BEGIN { printf "SUMMARY ironclock=%.0f polls/s bare=%.0f req/s ratio=%.2f\n", i, b, i / b }'
