#!/usr/bin/env python3
"""Summarises scripts/bench/subjects.sh: per subject, the baseline's seeds (val_bpb, tokens/s, steps), experiments
per hour, and the tag's baseline → best (val_bpb and the hidden test_bpb). Usage: subjects-summary.py DIR"""
import json
import sqlite3
import statistics
import sys
from datetime import datetime


def when(text):
    return datetime.fromisoformat(text.replace("Z", "").split(".")[0]) if text else None


def summary(ledger):
    rows = sqlite3.connect(ledger).execute(
        "select number, status, metric, testBPB, evidence, startedAt, finishedAt from experiments where tag = 'compare' order by number").fetchall()
    base = rows[0]
    measured = [m for m in (json.loads(base[4]) or {}).get("measurements", []) if not m.get("disturbed")]
    vals = [m["metric"] for m in measured]
    tps = [m["tokensPerSecond"] for m in measured if m.get("tokensPerSecond")]
    steps = [m["steps"] for m in measured if m.get("steps")]
    done = [r for r in rows[1:] if r[6]]
    hours = (when(done[-1][6]) - when(base[6])).total_seconds() / 3600 if done else 0
    best = min((r for r in rows if r[1] in ("baseline", "keep") and r[2] is not None), key=lambda r: r[2])
    statuses = {}
    for r in done:
        statuses[r[1]] = statuses.get(r[1], 0) + 1
    return {
        "seeds": len(vals), "val": (statistics.mean(vals), min(vals), max(vals)) if vals else None,
        "tokens_per_s": (statistics.median(tps), min(tps), max(tps)) if tps else None,
        "steps": (statistics.median(steps), min(steps), max(steps)) if steps else None,
        "experiments": len(done), "per_hour": len(done) / hours if hours else 0, "statuses": statuses,
        "baseline": (base[2], base[3]), "best": (best[2], best[3], best[0]),
    }


def main():
    d = sys.argv[1]
    print("subject\tbaseline val_bpb (mean, range over seeds)\ttokens/s (median, range)\tsteps (median)\texperiments/hour\tbaseline -> best val_bpb\tbaseline -> best test_bpb\tstatuses")
    for subject in ("swift", "pytorch"):
        s = summary("%s/%s/.autoresearch/ledger.sqlite" % (d, subject))
        v, t, st = s["val"], s["tokens_per_s"], s["steps"]
        print("%s\t%.4f (%.4f-%.4f, %d seeds)\t%.0f (%.0f-%.0f)\t%d\t%.1f (%d)\t%.4f -> %.4f (exp %d)\t%s -> %s\t%s" % (
            subject, v[0], v[1], v[2], s["seeds"], t[0], t[1], t[2], st[0], s["per_hour"], s["experiments"],
            s["baseline"][0], s["best"][0], s["best"][2],
            "%.4f" % s["baseline"][1] if s["baseline"][1] else "-", "%.4f" % s["best"][1] if s["best"][1] else "-",
            ", ".join("%s %d" % kv for kv in sorted(s["statuses"].items()))))


main()
