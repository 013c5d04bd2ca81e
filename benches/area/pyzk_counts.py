#!/usr/bin/env python3
"""Independent read-back for the area-sync benchmark: pyzk-new 0.9.1 (pinned wheel, its own
process) counts each device's users and fingerprint templates and fails unless every device
holds exactly USERS users and TEMPLATES templates.

    python3 pyzk_counts.py USERS TEMPLATES HOST:PORT ...
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "oracles", "pull", "wheels", "pyzk_new-0.9.1-py3-none-any.whl"))
from zk import ZK  # noqa: E402


def main():
    users, templates, addrs = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3:]
    for addr in addrs:
        host, port = addr.rsplit(":", 1)
        conn = ZK(host, port=int(port), timeout=60, ommit_ping=True).connect()
        got = (len(conn.get_users()), len(conn.get_templates()))
        conn.disconnect()
        print("pyzk read-back %s: %d users, %d templates" % (addr, *got))
        if got != (users, templates):
            sys.exit("%s holds %r, expected %r" % (addr, got, (users, templates)))


if __name__ == "__main__":
    main()
