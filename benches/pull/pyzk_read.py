#!/usr/bin/env python3
"""Benchmark client: pyzk-new 0.9.1 (from the pinned wheel, run as a separate process: it is
GPL-2.0 and never linked) reads users, fingerprint templates and attendance in one session,
then checks the counts so a broken read is never timed as a success.

    python3 pyzk_read.py HOST PORT USERS TEMPLATES RECORDS
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
WHEEL = os.path.join(HERE, "..", "..", "tests", "oracles", "pull", "wheels", "pyzk_new-0.9.1-py3-none-any.whl")
sys.path.insert(0, WHEEL)
from zk import ZK  # noqa: E402


def main():
    host, port, n_users, n_templates, n_records = sys.argv[1], int(sys.argv[2]), *map(int, sys.argv[3:6])
    zk = ZK(host, port=port, timeout=60, ommit_ping=True)
    conn = zk.connect()
    try:
        conn.disable_device()
        users = conn.get_users()
        templates = conn.get_templates()
        records = conn.get_attendance()
        conn.enable_device()
    finally:
        conn.disconnect()
    got = (len(users), len(templates), len(records))
    if got != (n_users, n_templates, n_records):
        sys.exit("pyzk read %r, expected %r" % (got, (n_users, n_templates, n_records)))
    print("pyzk: %d users, %d templates, %d records" % got)


if __name__ == "__main__":
    main()
