#!/usr/bin/env python3
"""Reads a pull device's users and fingerprint templates with pyzk-new (the pinned wheel), as an
independent client, and prints them as JSON: {"users": [{"user_id", "name", "card", "uid"}],
"templates": [{"user_id", "fid", "size", "valid"}]}. Used by ironclock's tests to check what the server
really wrote. pyzk is GPL-2.0: it runs here, in its own process; none of its code is in the project.

usage: read_back.py HOST PORT [--udp] [--commkey N] [--templates]
"""
import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "wheels", "pyzk_new-0.9.1-py3-none-any.whl"))
from zk import ZK  # noqa: E402


def main():
    p = argparse.ArgumentParser()
    p.add_argument("host")
    p.add_argument("port", type=int)
    p.add_argument("--udp", action="store_true")
    p.add_argument("--commkey", type=int, default=0)
    p.add_argument("--templates", action="store_true")
    a = p.parse_args()
    conn = ZK(a.host, port=a.port, timeout=10, password=a.commkey, force_udp=a.udp, ommit_ping=True).connect()
    try:
        users = conn.get_users()
        uids = {u.uid: u.user_id for u in users}
        out = {
            "users": [{"user_id": u.user_id, "name": u.name, "card": u.card, "uid": u.uid} for u in users],
            "templates": [],
        }
        if a.templates:
            out["templates"] = [
                {"user_id": uids.get(t.uid, ""), "fid": t.fid, "size": t.size, "valid": t.valid}
                for t in conn.get_templates()
            ]
        print(json.dumps(out))
    finally:
        conn.disconnect()


if __name__ == "__main__":
    main()
