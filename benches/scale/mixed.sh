#!/usr/bin/env bash
# Mixed load at scale (issue "Scale: tens of thousands of devices on one box", point 4).
#
#   benches/scale/mixed.sh [DEVICES...]            (default: 5000 20000 50000)
#
# For each device count, in ONE run on this machine: a fresh PostgreSQL database (own cluster,
# fsync on), the release server(s), and `ironclock sim push` as separate processes behaving like
# firmware (Connection: close, polls every POLL_MS with jitter, real-time uploads of 1-3 lines).
# Samples every server's RSS and CPU, the simulators' CPU and the whole machine's each second.
# Prints one `RESULT {json}` line per count and appends it to benchmarks/scale-results.jsonl (plot: benches/scale/plot.py).
#
# Env: SECS (90) generation time; PPM (1) punches per device per minute; POLL_MS (5000);
#      CONNECTION (close | keep-alive); INSTANCES (1; 2 = two servers on one database, devices
#      split between them); LABEL (free text stored with the result); KEEP_LOGS (a directory:
#      the server and simulator logs of each count are copied there); SERVER (ironclock | bare:
#      benches/push/bare-actix's `bare-push`, which answers a device's requests without storing
#      anything: the ceiling HTTP alone allows on this box, same simulators, same cores);
#      TRACE (a directory: each second, what PostgreSQL's sessions are doing (state, wait event,
#      statement) and the server's request counters are appended to TRACE/<devices>.txt);
#      SERVER_ARGS (extra `ironclock serve` flags, e.g. `--access-log all` with SERVER_LOG=warn,ironclock::access=info and KEEP_LOGS to see
#      each request's time inside the server); SIM_ARGS (extra `ironclock sim push` flags, e.g.
#      `--boot-spread-ms 0`: every device boots at the same instant).
# The fd limit here is 20,000 per process and cannot be raised: the simulator runs as one
# process per 15,000 devices; a server with more open connections than that refuses them.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
secs=${SECS:-90}
ppm=${PPM:-1}
poll_ms=${POLL_MS:-5000}
connection=${CONNECTION:-close}
instances=${INSTANCES:-1}
label=${LABEL:-}
server_kind=${SERVER:-ironclock}
port=${BENCH_PORT:-18180}
export PGTEST_DIR=${PGTEST_DIR:-/tmp/ironclock-bench-scale} PGTEST_PORT=${PGTEST_PORT:-55451}
results="$repo/benchmarks/scale-results.jsonl"
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  "$repo/scripts/test-postgres.sh" stop >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
counts=("$@")
[ ${#counts[@]} -eq 0 ] && counts=(5000 20000 50000)

(cd "$repo" && cargo build --release --quiet)
bin="$repo/target/release/ironclock"
if [ "$server_kind" = bare ]; then
  (cd "$repo/benches/push/bare-actix" && cargo build --release --quiet --bin bare-push --target-dir "$repo/target/bare-actix")
fi
eval "$("$repo/scripts/test-postgres.sh" start)"
admin=$IRONCLOCK_TEST_POSTGRES_URL
base=${admin%/*}
cores=$(nproc)
hz=$(getconf CLK_TCK)

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
# CPU-seconds of this benchmark's own PostgreSQL cluster (its postmaster and children only).
pg_cpu_secs() {
  local pm; pm=$(head -n1 "$PGTEST_DIR/postmaster.pid" 2>/dev/null) || { echo 0; return; }
  local t=0 c
  for c in "$pm" $(pgrep -P "$pm"); do t=$((t + $(awk '{print $14 + $15}' "/proc/$c/stat" 2>/dev/null || echo 0))); done
  awk -v t="$t" -v hz="$(getconf CLK_TCK)" 'BEGIN {printf "%.2f", t / hz}'
}
# Busy ticks of the whole machine (all cores, everything but idle and iowait) from /proc/stat.
machine_busy_ticks() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8 + $9}' /proc/stat; }

for devices in "${counts[@]}"; do
  psql -q "$admin" -c "drop database if exists bench_scale" -c "create database bench_scale"
  db="$base/bench_scale"
  servers=()
  for i in $(seq 0 $((instances - 1))); do
    p=$((port + i))
    if [ "$server_kind" = bare ]; then
      "$repo/target/bare-actix/release/bare-push" "127.0.0.1:$p" > "$work/server-$i.log" 2>&1 &
    else
      RUST_LOG=${SERVER_LOG:-warn} "$bin" serve --bind "127.0.0.1:$p" --database-url "$db" --auto-approve-devices \
        --data-key-file "$work/data.key" --log-format json ${SERVER_ARGS:-} > "$work/server-$i.log" 2>&1 &
    fi
    servers+=($!); pids+=($!)
    for _ in $(seq 1 200); do curl -fs "http://127.0.0.1:$p/healthz" >/dev/null && break; sleep 0.1; done
    [ "$server_kind" = bare ] && sleep 0.5 # answers OK to anything; healthz proves it listens
  done
  # One simulator process per 15,000 devices, each pointed at one instance in turn.
  per_sim=15000
  sims=$(( (devices + per_sim - 1) / per_sim ))
  sim_pids=()
  for s in $(seq 0 $((sims - 1))); do
    first=$((s * per_sim)); n=$(( devices - first < per_sim ? devices - first : per_sim ))
    p=$((port + s % instances))
    "$bin" sim push --server "http://127.0.0.1:$p" --devices "$n" --first-device "$first" \
      --punches-per-minute "$ppm" --duration-secs "$secs" --poll-interval-ms "$poll_ms" \
      --connection "$connection" --drain-timeout-secs 120 --serial-prefix SCALE ${SIM_ARGS:-} \
      > "$work/sim-$s.json" 2> "$work/sim-$s.err" &
    sim_pids+=($!); pids+=($!)
  done
  start_ticks=0; for sp in "${servers[@]}"; do start_ticks=$((start_ticks + $(cpu_ticks "$sp"))); done
  pg_start=$(pg_cpu_secs); t0=$(date +%s.%N); peak=0; busy0=$(machine_busy_ticks)
  # The simulators' CPU, sampled while they run (a finished process's ticks are gone).
  declare -A sim_ticks=()
  while :; do
    alive=0; for sp in "${sim_pids[@]}"; do kill -0 "$sp" 2>/dev/null && alive=1; done
    [ $alive -eq 0 ] && break
    rss=0; for sp in "${servers[@]}"; do r=$(awk '/VmRSS/ {print $2}' "/proc/$sp/status" 2>/dev/null || echo 0); rss=$((rss + ${r:-0})); done
    [ "$rss" -gt "$peak" ] && peak=$rss
    for sp in "${sim_pids[@]}"; do t=$(cpu_ticks "$sp"); [ "$t" -gt 0 ] && sim_ticks[$sp]=$t; done
    if [ -n "${TRACE:-}" ]; then
      mkdir -p "$TRACE"
      { echo "== t=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN {printf "%.0f", b - a}')s rss=${rss}kB"
        psql -qtAF' | ' "$db" -c "select state, coalesce(wait_event, '-'), left(regexp_replace(query, '\s+', ' ', 'g'), 70), count(*)
          from pg_stat_activity where datname = 'bench_scale' and pid <> pg_backend_pid() group by 1, 2, 3 order by 4 desc" 2>/dev/null
        psql -qtAc "select 'xact_commit=' || xact_commit from pg_stat_database where datname = 'bench_scale'" "$db" 2>/dev/null
        [ "$server_kind" = bare ] || curl -fs "http://127.0.0.1:$port/metrics" 2>/dev/null \
          | grep -E '^ironclock_(http_requests_total|punch_commits_total|db_pool_connections)' | awk '{a[$1]+=$NF} END {for (k in a) print k, a[k]}' | sort
      } >> "$TRACE/$devices.txt"
    fi
    sleep 1
  done
  t1=$(date +%s.%N); busy1=$(machine_busy_ticks)
  sim_total=0; for t in "${sim_ticks[@]}"; do sim_total=$((sim_total + t)); done
  end_ticks=0; for sp in "${servers[@]}"; do end_ticks=$((end_ticks + $(cpu_ticks "$sp"))); done
  pg_end=$(pg_cpu_secs)
  for sp in "${sim_pids[@]}"; do wait "$sp" || true; done
  stored=0 # the bare server stores nothing
  [ "$server_kind" = bare ] || stored=$(psql -qtAc "select count(*) from attendance_logs" "$db")
  log_lines=$(cat "$work"/server-*.log | wc -l)
  if [ -n "${KEEP_LOGS:-}" ]; then
    mkdir -p "$KEEP_LOGS/$devices"; cp "$work"/server-*.log "$work"/sim-* "$KEEP_LOGS/$devices/"
  fi
  for sp in "${servers[@]}"; do kill "$sp" 2>/dev/null || true; wait "$sp" 2>/dev/null || true; done
  python3 - "$work" "$devices" "$secs" "$poll_ms" "$ppm" "$connection" "$instances" "$stored" "$peak" \
      "$start_ticks" "$end_ticks" "$hz" "$t0" "$t1" "$pg_start" "$pg_end" "$cores" "$log_lines" "$label" "$results" \
      "$sim_total" "$busy0" "$busy1" "$server_kind" <<'PY'
import glob, json, sys
(work, devices, secs, poll_ms, ppm, connection, instances, stored, peak_kb, t_start, t_end, hz, t0, t1,
 pg0, pg1, cores, log_lines, label, results, sim_ticks, busy0, busy1, server_kind) = sys.argv[1:]
sims = []
for f in sorted(glob.glob(f"{work}/sim-*.json")):
    text = open(f).read().strip()
    if text:
        sims.append(json.loads(text.splitlines()[-1]))
    else:
        print(f"simulator {f} printed nothing:", open(f.replace('.json', '.err')).read()[-2000:], file=sys.stderr)
add = lambda k: sum(s.get(k, 0) for s in sims)
wall = float(t1) - float(t0)
row = {
    "label": label, "server": server_kind, "devices": int(devices), "instances": int(instances), "connection": connection,
    "secs": int(secs), "poll_ms": int(poll_ms), "punches_per_minute": float(ppm),
    "polls_offered": int(int(devices) * int(secs) * 1000 / int(poll_ms)),
    "polls_answered": add("polls"), "poll_errors": add("poll_errors"),
    "generated": add("generated"), "acknowledged": add("acknowledged"), "stored": int(stored),
    "still_buffered": add("still_buffered"), "failed_uploads": add("failed_uploads"), "uploads": add("uploads"),
    # Percentiles of several simulator processes cannot be merged: the worst one is reported.
    "poll_p50_ms": max((s["poll_p50_ms"] for s in sims), default=0),
    "poll_p99_ms": max((s["poll_p99_ms"] for s in sims), default=0),
    "upload_p50_ms": max((s["upload_p50_ms"] for s in sims), default=0),
    "upload_p99_ms": max((s["upload_p99_ms"] for s in sims), default=0),
    "server_rss_peak_mb": round(int(peak_kb) / 1024, 1),
    "server_cpu_pct": round(100 * (int(t_end) - int(t_start)) / int(hz) / wall, 1),
    "postgres_cpu_pct": round(100 * (float(pg1) - float(pg0)) / wall, 1),
    # The load generator's share: on this box it runs on the same cores as the server.
    "sim_cpu_pct": round(100 * int(sim_ticks) / int(hz) / wall, 1),
    # Everything busy on the machine (100 % per core): near cores*100 means the box, not one
    # process, is the limit.
    "machine_cpu_pct": round(100 * (int(busy1) - int(busy0)) / int(hz) / wall, 1),
    "cores": int(cores), "wall_secs": round(wall, 1), "server_log_lines": int(log_lines),
}
row["polls_answered_pct"] = round(100 * row["polls_answered"] / max(row["polls_offered"], 1), 1)
print("RESULT " + json.dumps(row))
with open(results, "a") as out:
    out.write(json.dumps(row) + "\n")
PY
done
