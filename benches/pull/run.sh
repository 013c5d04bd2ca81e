#!/usr/bin/env bash
# Pull-protocol read benchmark: `ironclock pull … dump` against pyzk-new 0.9.1, both reading
# 3,000 users + 6,000 fingerprint templates + 50,000 attendance records from the same
# `ironclock sim pull` (release build) over loopback TCP, in the same run.
#
#   benches/pull/run.sh            # RUNS=10 PORT=24370 by default
#
# Prints the hyperfine table, the speed ratio, and bytes on the wire vs payload for each client
# (counted by the simulator, which sees every byte both ways).
set -euo pipefail
cd "$(dirname "$0")/../.."

USERS=${USERS:-3000}
FINGERS=${FINGERS:-2}
RECORDS=${RECORDS:-50000}
RUNS=${RUNS:-10}
PORT=${PORT:-24370}
TEMPLATES=$((USERS * FINGERS))
OUT=${OUT:-target/bench-pull}
mkdir -p "$OUT"

cargo build --release --quiet
BIN=target/release/ironclock
SIM_ARGS=(sim pull --users "$USERS" --fingers-per-user "$FINGERS" --records "$RECORDS" --face-version 0)

wait_port() {
  for _ in $(seq 1 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "simulator did not start on port $1" >&2
  return 1
}

start_sim() { # port logfile
  "$BIN" "${SIM_ARGS[@]}" --listen "127.0.0.1:$1" 2>"$2" &
  SIM_PID=$!
  wait_port "$1"
}

stop_sim() { # prints the simulator's final stats JSON
  kill -INT "$SIM_PID" && wait "$SIM_PID" 2>/dev/null || true
  sed -n 's/^ironclock sim pull: .*stats //p' "$1"
}

IRON_CMD="$BIN pull 127.0.0.1:$PORT dump --json --tcp -q"
PYZK_CMD="python3 benches/pull/pyzk_read.py 127.0.0.1 $PORT $USERS $TEMPLATES $RECORDS"

# 1. one checked run of each client against its own fresh simulator, to count wire bytes
start_sim "$PORT" "$OUT/sim-iron.log"
$IRON_CMD --stats 2>"$OUT/iron-client-stats.txt" | python3 benches/pull/ironclock_check.py "$USERS" "$TEMPLATES" "$RECORDS"
IRON_SIM_STATS=$(stop_sim "$OUT/sim-iron.log")
start_sim "$PORT" "$OUT/sim-pyzk.log"
$PYZK_CMD
PYZK_SIM_STATS=$(stop_sim "$OUT/sim-pyzk.log")

# 2. timing: both clients against one simulator, interleaved by hyperfine, same run
start_sim "$PORT" "$OUT/sim-timing.log"
hyperfine --warmup 1 --runs "$RUNS" --export-json "$OUT/hyperfine.json" --export-markdown "$OUT/hyperfine.md" \
  -n "ironclock pull dump (Rust)" "$IRON_CMD > /dev/null" \
  -n "pyzk-new 0.9.1 (Python)" "$PYZK_CMD > /dev/null"
stop_sim "$OUT/sim-timing.log" >/dev/null

python3 - "$OUT/hyperfine.json" "$IRON_SIM_STATS" "$PYZK_SIM_STATS" "$OUT/iron-client-stats.txt" <<'PY'
import json, sys
h = json.load(open(sys.argv[1]))["results"]
iron, pyzk = h[0], h[1]
print("\nmean: ironclock %.3f s ± %.3f, pyzk %.3f s ± %.3f  =>  ironclock is %.1fx faster" % (
    iron["mean"], iron["stddev"], pyzk["mean"], pyzk["stddev"], pyzk["mean"] / iron["mean"]))
for name, raw in (("ironclock", sys.argv[2]), ("pyzk", sys.argv[3])):
    s = json.loads(raw)
    wire = s["bytes_in"] + s["bytes_out"]
    print("%-9s wire %d B (client->device %d, device->client %d, %d+%d packets), CMD_DATA payload %d B, overhead %.2f%%" % (
        name, wire, s["bytes_in"], s["bytes_out"], s["packets_in"], s["packets_out"], s["data_payload_out"],
        100.0 * (wire / s["data_payload_out"] - 1)))
print(open(sys.argv[4]).read().strip())
PY
