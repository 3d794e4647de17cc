#!/usr/bin/env python3
"""Runs a file of database checks and fails on any row one returns.

    scripts/check-invariants.py FILE CONNINFO

Each check in FILE is a line "-- invariant: <description>" and one SELECT, ending with ";" at
the end of a line, returning the rows that break it (tests/invariants.sql). CONNINFO is what
psql takes as a database: a postgresql:// URI or "host=... port=... user=... dbname=...".
Used by scripts/api-fuzz.sh after fuzzing and scripts/chaos.sh after each fault.
"""
import re
import subprocess
import sys

path, conninfo = sys.argv[1], sys.argv[2]
checks, description, lines = [], None, []
for number, line in enumerate(open(path, encoding="utf-8"), 1):
    marker = re.match(r"\s*--\s*invariant:\s*(.*\S)", line)
    if marker:
        if description is not None:
            sys.exit(f"{path}:{number}: the check '{description}' has no query ending with ';'")
        description, lines = marker.group(1), []
    elif description is not None:
        lines.append(line)
        if line.rstrip().endswith(";"):
            query = "".join(lines).strip().rstrip(";").strip()
            if not query:
                sys.exit(f"{path}:{number}: the check '{description}' has no query")
            checks.append((description, query))
            description = None
if description is not None:
    sys.exit(f"{path}: the check '{description}' has no query ending with ';'")
if not checks:
    sys.exit(f"{path}: no '-- invariant:' checks found")

def psql(sql, *options):
    return subprocess.run(
        ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", conninfo, *options, "-c", sql],
        capture_output=True, text=True)

broken = 0
for description, query in checks:
    counted = psql(f"SELECT count(*) FROM (\n{query}\n) AS violations", "-A", "-t")
    if counted.returncode != 0:
        print(f"FAILED TO RUN: {description}\n{counted.stderr.strip()}")
        broken += 1
        continue
    violations = int(counted.stdout.strip())
    if violations:
        broken += 1
        rows = psql(f"SELECT * FROM (\n{query}\n) AS violations LIMIT 10")
        print(f"BROKEN: {description}: {violations} rows, the first ones:\n{rows.stdout}{rows.stderr}")
    else:
        print(f"ok: {description}")
print(f"{len(checks)} invariants checked, {broken} broken")
sys.exit(1 if broken else 0)
