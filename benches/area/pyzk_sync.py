#!/usr/bin/env python3
"""The area sync as the school did it before ironclock: pyzk-new 0.9.1 (the pinned wheel, run as
its own process: GPL-2.0, never linked) reads every device's users and fingerprint templates,
takes the union by user id, and writes to each device the users it lacks with their templates,
one `save_user_template` per user (user record + templates in one buffered write, pyzk's fastest
per-user path). pyzk has no face or photo API, so this moves users and fingerprints only.

Prints one JSON line: {"seconds", "users_written", "templates_written"}; then checks that every
device holds the union, so a broken run is never timed as a success.

    python3 pyzk_sync.py HOST:PORT HOST:PORT ...
"""
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
WHEEL = os.path.join(HERE, "..", "..", "tests", "oracles", "pull", "wheels", "pyzk_new-0.9.1-py3-none-any.whl")
sys.path.insert(0, WHEEL)
from zk import ZK  # noqa: E402
from zk.finger import Finger  # noqa: E402
from zk.user import User  # noqa: E402


def connect(addr):
    host, port = addr.rsplit(":", 1)
    return ZK(host, port=int(port), timeout=60, ommit_ping=True).connect()


def read(conn):
    users = conn.get_users()
    templates = conn.get_templates()
    by_uid = {}
    for t in templates:
        by_uid.setdefault(t.uid, []).append(t)
    return {u.user_id: (u, by_uid.get(u.uid, [])) for u in users}


def main():
    addrs = sys.argv[1:]
    started = time.monotonic()
    conns = [connect(a) for a in addrs]
    held = []
    for conn in conns:
        conn.disable_device()
        held.append(read(conn))
    union = {}
    for device in held:
        for pin, entry in device.items():
            union.setdefault(pin, entry)
    users_written = templates_written = 0
    for conn, device in zip(conns, held):
        next_uid = max((u.uid for u, _ in device.values()), default=0) + 1
        for pin, (user, fingers) in union.items():
            if pin in device:
                continue
            mine = User(next_uid, user.name, user.privilege, user.password, user.group_id, user.user_id, user.card)
            copies = [Finger(next_uid, f.fid, f.valid, f.template) for f in fingers]
            conn.save_user_template(mine, copies)
            next_uid += 1
            users_written += 1
            templates_written += len(copies)
    for conn in conns:
        conn.enable_device()
        conn.disconnect()
    seconds = time.monotonic() - started
    for addr in addrs:
        conn = connect(addr)
        got = read(conn)
        conn.disconnect()
        if set(got) != set(union) or sum(len(f) for _, f in got.values()) != sum(len(f) for _, f in union.values()):
            sys.exit("pyzk sync left %s with %d users, union is %d" % (addr, len(got), len(union)))
    print(json.dumps({"seconds": round(seconds, 3), "users_written": users_written, "templates_written": templates_written}))


if __name__ == "__main__":
    main()
