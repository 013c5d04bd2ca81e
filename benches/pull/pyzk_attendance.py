#!/usr/bin/env python3
"""Benchmark client: pyzk-new 0.9.1 (from the pinned wheel, run as a separate process: it is
GPL-2.0 and never linked) reads only the attendance records of a device, then checks the count
so that a broken read is never timed as a success.

    python3 pyzk_attendance.py HOST PORT RECORDS
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
WHEEL = os.path.join(HERE, "..", "..", "tests", "oracles", "pull", "wheels", "pyzk_new-0.9.1-py3-none-any.whl")
sys.path.insert(0, WHEEL)
from zk import ZK  # noqa: E402


def main():
    host, port, expected = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    conn = ZK(host, port=port, timeout=60, ommit_ping=True).connect()
    try:
        records = conn.get_attendance()
    finally:
        conn.disconnect()
    if len(records) != expected:
        sys.exit("pyzk read %d records, expected %d" % (len(records), expected))


if __name__ == "__main__":
    main()
