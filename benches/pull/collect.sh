#!/usr/bin/env bash
# Pull-service benchmark (BENCHMARKS.md, "Pull devices in service"), release build, throwaway
# PostgreSQL 15 cluster (fsync on), everything over loopback:
#
# 1. Collection: `ironclock serve` collecting 50,000 attendance records from one `ironclock sim
#    pull` device into PostgreSQL (read over TCP, deduped and stored in one set-based statement:
#    POST /api/v1/devices/{id}/sync-attendance, punches (attendance_logs) deleted before each run so that every run
#    stores all 50,000), against pyzk-new 0.9.1 only *reading* the same records from the same
#    simulator, interleaved in one hyperfine run.
# 2. Scale: one instance with 200 simulated pull devices (`sim pull --count 200`, realtime
#    sessions on): server RSS once every device is held, and the duration of scheduled polling
#    cycles (the `pull_poll` rows of job_executions; cron every minute, 4 devices at a time).
#
#   benches/pull/collect.sh                 # RUNS=10 RECORDS=50000 DEVICES=200 DEVICE_RECORDS=1000
set -euo pipefail
cd "$(dirname "$0")/../.."

RECORDS=${RECORDS:-50000}
RUNS=${RUNS:-10}
DEVICES=${DEVICES:-200}
DEVICE_RECORDS=${DEVICE_RECORDS:-1000}
CYCLES=${CYCLES:-3}
SIM_PORT=${SIM_PORT:-24380}
FLEET_PORT=${FLEET_PORT:-25000}
HTTP=${HTTP:-18480}
OUT=${OUT:-target/bench-pull-collect}
mkdir -p "$OUT"

cargo build --release --quiet
BIN=$PWD/target/release/ironclock

export PGTEST_DIR=${PGTEST_DIR:-/tmp/ironclock-bench-pg} PGTEST_PORT=${PGTEST_PORT:-55490} PGTEST_FSYNC=on
mkdir -p "$PGTEST_DIR" && chown postgres:postgres "$PGTEST_DIR" 2>/dev/null || true
eval "$(scripts/test-postgres.sh start)"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill -INT "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  scripts/test-postgres.sh stop >/dev/null 2>&1 || true
}
trap cleanup EXIT
ADMIN_URL=$IRONCLOCK_TEST_POSTGRES_URL
DB=${ADMIN_URL%/*}/ironclock_bench
psql -q "$ADMIN_URL" -c 'drop database if exists ironclock_bench with (force)' -c 'create database ironclock_bench'

export IRONCLOCK_DATABASE_URL=$DB IRONCLOCK_BIND=127.0.0.1:$HTTP IRONCLOCK_JWT_SECRET=bench-secret-0123456789abcdef-0123456789
export IRONCLOCK_DATA_KEY=$(python3 -c 'import base64,os;print(base64.b64encode(os.urandom(32)).decode())')
export IRONCLOCK_LOG_FORMAT=json RUST_LOG=${RUST_LOG:-warn}
API=http://127.0.0.1:$HTTP/api/v1

wait_http() {
  for _ in $(seq 1 300); do curl -sf "http://127.0.0.1:$HTTP/healthz" >/dev/null && return 0; sleep 0.1; done
  echo "server did not start" >&2; return 1
}
wait_port() {
  for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done
  echo "nothing listens on $1" >&2; return 1
}
serve() { # cron logfile
  IRONCLOCK_PULL_POLL_CRON=$1 "$BIN" serve 2>"$2" &
  SERVER=$!; PIDS+=("$SERVER")
  wait_http
}
stop_server() { kill -TERM "$SERVER"; wait "$SERVER" 2>/dev/null || true; }
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

"$BIN" migrate >/dev/null 2>&1
"$BIN" admin create --email bench@example.org --password bench-password-123 --role super_admin >/dev/null
login() {
  curl -sf -X POST "$API/auth/login" -H 'content-type: application/json' \
    -d '{"email":"bench@example.org","password":"bench-password-123"}' | json 'd["data"]["access_token"]'
}

# ---- 1. one device, 50,000 records -------------------------------------------------------
"$BIN" sim pull --users 100 --fingers-per-user 0 --face-version 0 --records "$RECORDS" \
  --listen "127.0.0.1:$SIM_PORT" 2>"$OUT/sim.log" &
PIDS+=("$!")
wait_port "$SIM_PORT"
serve off "$OUT/serve-collect.log"
TOKEN=$(login)
AUTH="Authorization: Bearer $TOKEN"
SCHOOL=$(curl -sf -X POST "$API/schools" -H "$AUTH" -H 'content-type: application/json' \
  -d '{"name":"Bench School","timezone":"UTC"}' | json 'd["data"]["id"]')
DEVICE=$(curl -sf -X POST "$API/devices" -H "$AUTH" -H 'content-type: application/json' \
  -d "{\"school_id\":$SCHOOL,\"mode\":\"pull\",\"host\":\"127.0.0.1\",\"port\":$SIM_PORT,\"transport\":\"tcp\",\"realtime_enabled\":false}" \
  | json 'd["data"]["id"]')
curl -sf -X POST "$API/devices/$DEVICE/test-connection" -H "$AUTH" | json 'd["data"]["message"]'

collect_script() { # file expected-new-punches
  cat >"$1" <<EOF
#!/usr/bin/env bash
# One collection through the API; fails unless it stored exactly $2 new punches of $RECORDS.
set -euo pipefail
curl -sf -X POST "$API/devices/$DEVICE/sync-attendance" -H "$AUTH" | python3 -c '
import json, sys
d = json.load(sys.stdin)["data"]
sys.exit(0 if (d["logs_synced"], d["total_records"]) == ($2, $RECORDS) else "collected %r" % d)'
EOF
  chmod +x "$1"
}
collect_script "$OUT/collect-new.sh" "$RECORDS"
collect_script "$OUT/collect-again.sh" 0
# The bare reference, same run: the same rows inserted by PostgreSQL itself from a table
# (INSERT … SELECT … ON CONFLICT DO NOTHING into attendance_logs, one transaction).
"$OUT/collect-new.sh"
psql -q "$DB" -c "create table bench_source as select device_id, pin, local_time, punched_at, status, verify,
  workcode, source, clock_flag, raw from attendance_logs"
COLS="device_id, pin, local_time, punched_at, status, verify, workcode, source, clock_flag, raw"
BARE="psql -q '$DB' -c 'insert into attendance_logs ($COLS) select * from bench_source on conflict (device_id, pin, local_time) do nothing'"
CLEAR="psql -q '$DB' -c 'delete from attendance_logs'"
hyperfine --warmup 1 --runs "$RUNS" --export-json "$OUT/hyperfine.json" --export-markdown "$OUT/hyperfine.md" \
  --prepare "$CLEAR" -n "bare: PostgreSQL inserting the same $RECORDS rows from a table" "$BARE" \
  --prepare "$CLEAR" -n "ironclock: collect $RECORDS new into PostgreSQL" "$OUT/collect-new.sh" \
  --prepare "true" -n "ironclock: collect again ($RECORDS read, 0 new)" "$OUT/collect-again.sh" \
  --prepare "true" -n "pyzk-new 0.9.1: read $RECORDS" \
  "python3 benches/pull/pyzk_attendance.py 127.0.0.1 $SIM_PORT $RECORDS"
python3 - "$OUT/hyperfine.json" <<'PY'
import json, sys
bare, new, again, pyzk = json.load(open(sys.argv[1]))["results"]
print()
for name, r in (("bare insert", bare), ("ironclock new", new), ("ironclock again", again), ("pyzk read", pyzk)):
    print("%-16s %.3f s ± %.3f" % (name, r["mean"], r["stddev"]))
print("pyzk read / ironclock collect (all new)   = %.1fx" % (pyzk["mean"] / new["mean"]))
print("pyzk read / ironclock collect (none new)  = %.1fx" % (pyzk["mean"] / again["mean"]))
print("pyzk read / bare insert alone             = %.1fx  (the ceiling for 'all new' here)" % (pyzk["mean"] / bare["mean"]))
PY
stop_server

# ---- 2. 200 devices -----------------------------------------------------------------------
"$BIN" sim pull --count "$DEVICES" --users 50 --fingers-per-user 0 --face-version 0 --records "$DEVICE_RECORDS" \
  --listen "127.0.0.1:$FLEET_PORT" 2>"$OUT/fleet.log" &
PIDS+=("$!")
wait_port $((FLEET_PORT + DEVICES - 1))
serve "0 * * * * *" "$OUT/serve-fleet.log"
TOKEN=$(login)
AUTH="Authorization: Bearer $TOKEN"
for i in $(seq 0 $((DEVICES - 1))); do
  curl -sf -o /dev/null -X POST "$API/devices" -H "$AUTH" -H 'content-type: application/json' \
    -d "{\"school_id\":$SCHOOL,\"mode\":\"pull\",\"host\":\"127.0.0.1\",\"port\":$((FLEET_PORT + i)),\"transport\":\"tcp\",\"name\":\"fleet $i\"}"
done
echo "added $DEVICES devices; waiting for $CYCLES scheduled cycles that find every device held"
START=$(date -u +%Y-%m-%dT%H:%M:%SZ)
for _ in $(seq 1 $((CYCLES * 90 + 120))); do
  DONE=$(psql -qtA "$DB" -c "select count(*) from job_executions where job = 'pull_poll' and status <> 'running'
    and started_at > '$START' and (summary->>'devices')::int >= $DEVICES")
  [ "$DONE" -ge "$CYCLES" ] && break
  sleep 1
done
RSS_KB=$(awk '/VmRSS/ {print $2}' "/proc/$SERVER/status")
HWM_KB=$(awk '/VmHWM/ {print $2}' "/proc/$SERVER/status")
THREADS=$(awk '/Threads/ {print $2}' "/proc/$SERVER/status")
CONNECTED=$(psql -qtA "$DB" -c "select count(*) from devices where mode = 'pull' and realtime_state = 'connected'")
echo
echo "server with $DEVICES pull devices held ($CONNECTED realtime sessions connected): RSS $((RSS_KB / 1024)) MB (peak $((HWM_KB / 1024)) MB), $THREADS threads"
psql -qtA "$DB" -F ' | ' -c "select id, round(extract(epoch from finished_at - started_at)::numeric, 2) || ' s',
    summary->>'devices' || ' devices', summary->>'failed' || ' failed', summary->>'logs_synced' || ' new punches'
  from job_executions where job = 'pull_poll' and started_at > '$START' and status <> 'running' order by id"
stop_server
