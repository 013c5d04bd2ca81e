#!/usr/bin/env python3
"""Bare SQLite reference for benches/push/attlog.sh: one writer inserting LINES-row batches of
unique punches into ironclock's own `attendance_logs` table, one transaction (one fsync) per
batch, with the settings ironclock uses (WAL, synchronous=FULL, foreign keys on).

    bare-sqlite.py DB SECONDS LINES DEVICES

DB must be a database ironclock has migrated and in which devices 1..DEVICES exist (attlog.sh
registers them first, then copies the file). Prints `RESULT bare_sqlite commits_per_s=… rows_per_s=…`.
Python's own cost per row is a few microseconds: the figure is bounded by SQLite and the fsync,
which is what the ratio is meant to compare against.
"""
import datetime
import sqlite3
import sys
import time

db, secs, lines, devices = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
conn = sqlite3.connect(db, isolation_level=None)
conn.execute("pragma journal_mode=wal")
conn.execute("pragma synchronous=full")
conn.execute("pragma foreign_keys=on")
ids = [r[0] for r in conn.execute("select id from devices order by id limit ?", (devices,))]
if not ids:
    sys.exit("bare-sqlite.py: no devices in " + db)
t0 = datetime.datetime(2026, 1, 1)
sql = """insert into attendance_logs (device_id, pin, local_time, punched_at, status, verify, source, raw,
                                      received_at)
         values (?, ?, ?, ?, 0, 1, 'attlog', ?, ?) on conflict (device_id, pin, local_time) do nothing"""
# Everything but the hour is computed once, so the loop costs SQLite's work, not Python's.
step = 3600 // lines
suffixes = [f"{i * step // 60:02d}:{i * step % 60:02d}" for i in range(lines)]
pins = [str(90000 + i) for i in range(lines)]
batches = rows = 0
start = time.monotonic()
while time.monotonic() - start < secs:
    device = ids[batches % len(ids)]
    hour = (t0 + datetime.timedelta(hours=batches)).strftime("%Y-%m-%d %H:")
    now = datetime.datetime.now(datetime.timezone.utc).isoformat()
    batch = [(device, pin, hour + suffix, hour + suffix + "+00:00", pin + "\t" + hour + suffix + "\t0\t1\t0\t0\t0", now)
             for pin, suffix in zip(pins, suffixes)]
    conn.execute("begin")
    conn.executemany(sql, batch)
    conn.execute("commit")
    batches += 1
    rows += lines
elapsed = time.monotonic() - start
print(f"RESULT bare_sqlite commits_per_s={batches / elapsed:.0f} rows_per_s={rows / elapsed:.0f}")
