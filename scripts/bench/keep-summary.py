#!/usr/bin/env python3
"""Summarises a tag of a ledger for the noise benchmarks: each experiment's decision, runs, threshold and disturbed
runs, then the totals (keeps, thresholds faced, runs per experiment, disturbed runs, experiments per hour).
Usage: keep-summary.py LEDGER.sqlite TAG [FIRST_NUMBER [LAST_NUMBER]]"""
import json
import sqlite3
import statistics
import sys
from datetime import datetime


def when(text):
    return datetime.fromisoformat(text.replace("Z", "").split(".")[0]) if text else None


def main():
    ledger, tag = sys.argv[1], sys.argv[2]
    first = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    last = int(sys.argv[4]) if len(sys.argv) > 4 else 10**9
    db = sqlite3.connect(ledger)
    rows = db.execute("select number, status, description, evidence, startedAt, finishedAt, testBPB from experiments "
                      "where tag = ? order by number", (tag,)).fetchall()
    thresholds, runs, disturbed, keeps, decided = [], [], 0, [], 0
    flagged_experiments = []
    start = end = None
    for number, status, description, evidence, started, finished, test in rows:
        e = json.loads(evidence) if evidence else {}
        measured = e.get("measurements") or []
        d = [m for m in measured if m.get("disturbed")]
        if number == 0 or first <= number <= last:
            loads = ", ".join("%.2f cores/%.2f ms" % (m.get("foreignLoad") or 0, m.get("probeMilliseconds") or 0)
                              for m in measured if m.get("disturbed"))
            print("%3d %-8s %-62s runs %s threshold %s%s%s" % (
                number, status, description[:62], ",".join("%.4f" % r for r in e.get("runs", [])),
                "%.4f" % e["threshold"] if "threshold" in e else "-",
                " best %.4f" % e["best"] if e.get("best") is not None else "",
                "  DISTURBED %d (load/probe %s)" % (len(d), loads) if d else ""))
        if number == 0 or not (first <= number <= last):
            continue
        start = start or when(started)
        end = when(finished) or end
        disturbed += len(d)
        if d:
            flagged_experiments.append(number)
        if status in ("keep", "discard"):
            decided += 1
            thresholds.append(e.get("threshold", float("nan")))
            runs.append(len(measured) or len(e.get("runs", [])))
        if status == "keep":
            keeps.append((number, description, e.get("runs"), test))
    print()
    print("decided: %d, keeps: %d" % (decided, len(keeps)))
    for k in keeps:
        print("  keep %d: %s runs %s test %s" % k)
    if thresholds:
        print("threshold faced: median %.4f, range %.4f-%.4f" % (statistics.median(thresholds), min(thresholds), max(thresholds)))
        print("training runs per decided experiment: mean %.2f (max %d)" % (statistics.mean(runs), max(runs)))
    print("disturbed runs: %d, in experiments %s" % (disturbed, flagged_experiments))
    if start and end and end > start:
        hours = (end - start).total_seconds() / 3600
        print("experiments per hour: %.1f (%d in %.2f h)" % (decided / hours, decided, hours))


if __name__ == "__main__":
    main()
