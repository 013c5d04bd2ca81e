#!/usr/bin/env bash
# Area-sync benchmark (issue 14 point 7): three `ironclock sim pull` devices (release build) over
# loopback, 3,000 users × (2 fingerprints + 1 face of 15 ZKFace-7 records + 1 photo):
#   A holds users 1-3000, B holds 1-1500, C is empty (a new gate).
# 1. `ironclock pull sync A B C` cold: wall time, peak RSS, what it wrote; every device is then
#    read back with pyzk (independent client) and must hold 3,000 users and 6,000 templates;
# 2. the same command again: must write nothing (and should take under 2 s);
# 3. the same work done the way the school did it: pyzk has no face or photo API, so the
#    comparison runs on fresh devices holding users and fingerprints only (no faces, no
#    photos): `ironclock pull sync` cold against benches/area/pyzk_sync.py (pyzk reads every
#    device, writes each missing user with its templates), both read back with pyzk.
#
#   benches/area/run.sh          # USERS=3000 PORT=25370 REPEAT=3 by default
set -euo pipefail
cd "$(dirname "$0")/../.."

USERS=${USERS:-3000}
HALF=$((USERS / 2))
PORT=${PORT:-25370}
OUT=${OUT:-target/bench-area}
mkdir -p "$OUT"
cargo build --release --quiet
BIN=target/release/ironclock
PIDS=()
trap 'kill "${PIDS[@]}" 2>/dev/null || true' EXIT

wait_port() {
  for _ in $(seq 1 200); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "simulator did not start on port $1" >&2
  return 1
}

start_sims() { # first port [media flags]
  kill "${PIDS[@]}" 2>/dev/null || true
  wait "${PIDS[@]}" 2>/dev/null || true
  PIDS=()
  local p=$1 n=0 media=("${@:2}")
  for users in "1-$USERS" "1-$HALF" 0; do
    n=$((n + 1))
    "$BIN" sim pull --listen "127.0.0.1:$((p + n - 1))" --users "$users" --fingers-per-user 2 \
      "${media[@]}" --records 0 --serial "AREA-BENCH-$n" 2>"$OUT/sim-$n.log" &
    PIDS+=($!)
    wait_port $((p + n - 1))
  done
  ADDRS=("127.0.0.1:$p" "127.0.0.1:$((p + 1))" "127.0.0.1:$((p + 2))")
}

sync_run() { # label
  /usr/bin/time -f '%e %M' -o "$OUT/$1.time" "$BIN" pull sync --json --quiet "${ADDRS[@]}" >"$OUT/$1.json"
  read -r secs rss <"$OUT/$1.time"
  python3 - "$OUT/$1.json" "$1" "$secs" "$rss" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
label, secs, rss = sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
keys = ("success", "synced_devices", "total_users_synced", "total_templates_synced", "face_templates_synced", "photos_synced")
print(f"{label}: {secs:.2f} s wall, peak RSS {rss / 1024:.1f} MiB, " + ", ".join(f"{k}={r.get(k)}" for k in keys)
      + f", skipped={len(r.get('skipped', []))}, errors={len(r.get('errors', []))}")
if not r.get("success") or r.get("errors"):
    sys.exit(f"{label}: sync failed: {r.get('error')} {r.get('errors')}")
PY
}

start_sims "$PORT" --faces --photos
sync_run cold
python3 benches/area/pyzk_counts.py "$USERS" $((USERS * 2)) "${ADDRS[@]}"
sync_run second
python3 - "$OUT/second.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
wrote = sum(r.get(k, 0) for k in ("total_users_synced", "total_templates_synced", "face_templates_synced", "photos_synced"))
if wrote:
    sys.exit(f"second run wrote {wrote} items; it must write nothing")
PY

# The comparison, REPEAT times each on fresh devices (medians compared: one run of either moves
# by 10-20 % with what else the 2 cores do).
REPEAT=${REPEAT:-3}
for r in $(seq 1 "$REPEAT"); do
  start_sims $((PORT + 10))
  sync_run "plain-$r"
  python3 benches/area/pyzk_counts.py "$USERS" $((USERS * 2)) "${ADDRS[@]}"
  start_sims $((PORT + 20))
  /usr/bin/time -f '%e %M' -o "$OUT/pyzk-$r.time" python3 benches/area/pyzk_sync.py "${ADDRS[@]}" >"$OUT/pyzk-$r.json"
  read -r psecs prss <"$OUT/pyzk-$r.time"
  echo "pyzk-$r: $(cat "$OUT/pyzk-$r.json"), process wall ${psecs} s (with its own read-back), peak RSS $((prss / 1024)) MiB"
done
python3 - "$OUT" "$REPEAT" <<'PY'
import json, statistics, sys
out, n = sys.argv[1], int(sys.argv[2])
ic = [float(open(f"{out}/plain-{r}.time").read().split()[0]) for r in range(1, n + 1)]
py = [json.load(open(f"{out}/pyzk-{r}.json"))["seconds"] for r in range(1, n + 1)]
i, p = statistics.median(ic), statistics.median(py)
print(f"users + fingerprints, median of {n}: ironclock {i:.2f} s (whole process; runs {ic}) vs pyzk {p:.2f} s "
      f"(its sync alone; runs {py}): {p / i:.1f}x faster")
PY
