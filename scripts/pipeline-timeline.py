"""Reads a worker's debug log (JSON lines) and prints where one batch's time went: for each stage,
when its first job started and its last ended, the time during which at least one of its jobs
ran, and the sum of its jobs' times; then, between the first registry `COPY` and the last, how
long no `COPY` was running, which is time PostgreSQL's chain of inserts waited on Esteira.

    ESTEIRA_LOG_LEVEL=debug BENCH_KEEP_LOG=/tmp/esteira.log scripts/bench-ingest --postgres
    python3 scripts/pipeline-timeline.py /tmp/esteira.log

A job's start is its "job done" line's moment less its `ms`. A register's `COPY` is placed from
its "register timings" line: its transaction starts `txn_ms` before that line, and the insert is
taken as the transaction's first `insert_ms` (the two one-row lookups that come before it in the
transaction, about a millisecond, are not told apart).
"""
import json
import sys
from datetime import datetime


def moment(event):
    return datetime.fromisoformat(event["ts"].replace("Z", "+00:00")).timestamp()


def covered(spans):
    """Seconds during which at least one of the spans runs."""
    total, current = 0.0, None
    for start, end in sorted(spans):
        if current is None or start > current[1]:
            if current:
                total += current[1] - current[0]
            current = [start, end]
        else:
            current[1] = max(current[1], end)
    if current:
        total += current[1] - current[0]
    return total


events = [json.loads(line) for line in open(sys.argv[1]) if line.startswith("{")]
jobs = [e for e in events if e.get("msg") == "job done"]
timings = {e["sub_batch"]: e for e in events if e.get("msg") == "register timings"}
if not jobs:
    sys.exit("no 'job done' lines: was the log written with ESTEIRA_LOG_LEVEL=debug?")
origin = min(moment(e) - int(e["ms"]) / 1000 for e in jobs)
spans = {}
for e in jobs:
    end = moment(e) - origin
    spans.setdefault(e["stage"], []).append((end - int(e["ms"]) / 1000, end))
    if e["stage"] == "register" and e.get("sub_batch") in timings:
        t = timings[e["sub_batch"]]
        start = moment(t) - origin - int(t["txn_ms"]) / 1000
        spans.setdefault("COPY", []).append((start, start + int(t["insert_ms"]) / 1000))

print(f"first job start to last job end: {max(b for v in spans.values() for _, b in v):.2f} s")
for stage, v in spans.items():
    print(f"{stage:<10} {len(v):3} jobs, from {max(0.0, min(a for a, _ in v)):6.2f} to {max(b for _, b in v):6.2f} s,"
          f" running {covered(v):5.2f} s, sum {sum(b - a for a, b in v):5.2f} s")
copies = spans.get("COPY", [])
if copies:
    between = max(b for _, b in copies) - min(a for a, _ in copies)
    print(f"no COPY running between the first and the last: {between - covered(copies):.2f} s of {between:.2f} s")
