#!/usr/bin/env python3
"""Checks the JSON of `ironclock pull ADDR dump --json` on stdin against the expected counts.

    ironclock pull ADDR dump --json | python3 ironclock_check.py USERS TEMPLATES RECORDS
"""
import json
import sys

want = tuple(map(int, sys.argv[1:4]))
d = json.load(sys.stdin)
got = (len(d["users"]), len(d["templates"]), len(d["attendance"]))
if got != want:
    sys.exit("ironclock read %r, expected %r" % (got, want))
print("ironclock: %d users, %d templates, %d records" % got)
