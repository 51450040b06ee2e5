#!/usr/bin/env python3
"""A command researcher that proposes fixed hyperparameter changes, one per experiment, in order:
    scripted-researcher.py STATE_FILE NAME=VALUE[,NAME=VALUE...] ...
Each argument after the state file is one proposal (applied to the current best's train.swift). After the last one
it exits 1 (the loop records a researcher error and, alone, stops)."""
import json
import os
import re
import sys

PATH = "Sources/train/train.swift"


def main():
    state_path, proposals = sys.argv[1], sys.argv[2:]
    state = json.load(open(state_path)) if os.path.exists(state_path) else {"calls": 0}
    k = state["calls"]
    if k >= len(proposals):
        sys.exit("scripted-researcher: nothing left to propose")
    source = open(PATH).read()
    moves = []
    for assignment in proposals[k].split(","):
        name, value = assignment.split("=", 1)
        pattern = re.compile(r"^(let %s = )(\S+)" % name, re.M)
        match = pattern.search(source)
        if not match:
            sys.exit("scripted-researcher: %s not found in %s" % (name, PATH))
        moves.append("%s %s -> %s" % (name, match.group(2), value))
        source = pattern.sub(lambda m: m.group(1) + value, source, count=1)
    open(PATH, "w").write(source)
    state["calls"] = k + 1
    json.dump(state, open(state_path, "w"))
    print("DESCRIPTION: " + ", ".join(moves))
    print("HYPOTHESIS: a change known to help (scripted)")


if __name__ == "__main__":
    main()
