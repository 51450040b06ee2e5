#!/usr/bin/env python3
"""A command researcher for the false-keep benchmark: every proposal changes nothing that matters.

Each call moves one floating-point hyperparameter of the GPT subject's train.swift by a relative 1e-4 (the
k-th call: parameter k mod 7, factor 1 + 1e-4 * (k div 7 + 1), so no two proposals give the same file), or
MUON_LEARNING_RATE, which the code path does not use while OPTIMIZER is adamw. A keep of any of them is a false keep.

Usage (from the workspace): autoresearch run --researcher command \
    --agent-command "python3 scripts/bench/noop-researcher.py STATE_FILE"
"""
import json
import os
import re
import sys

PARAMETERS = ["LEARNING_RATE", "WARMUP_RATIO", "WARMDOWN_RATIO", "ADAM_BETA2", "GRAD_CLIP", "INIT_STD", "MUON_LEARNING_RATE"]
PATH = "Sources/train/train.swift"


def main():
    state_path = sys.argv[1]
    state = {"calls": 0}
    if os.path.exists(state_path):
        with open(state_path) as f:
            state = json.load(f)
    k = state["calls"]
    name = PARAMETERS[k % len(PARAMETERS)]
    factor = 1 + 1e-4 * (k // len(PARAMETERS) + 1)
    with open(PATH) as f:
        source = f.read()
    pattern = re.compile(r"^(let %s = )([0-9.eE+-]+)" % name, re.M)
    match = pattern.search(source)
    if not match:
        sys.exit("noop-researcher: %s not found in %s" % (name, PATH))
    old = float(match.group(2))
    new = old * factor
    source = pattern.sub(lambda m: m.group(1) + repr(new), source, count=1)
    with open(PATH, "w") as f:
        f.write(source)
    state["calls"] = k + 1
    with open(state_path, "w") as f:
        json.dump(state, f)
    unused = " (unused: OPTIMIZER is adamw)" if name == "MUON_LEARNING_RATE" else ""
    print("DESCRIPTION: %s %s -> %s (x%.4f, a no-op)%s" % (name, old, repr(new), factor, unused))
    print("HYPOTHESIS: changes nothing that matters; a keep would be a false keep")


if __name__ == "__main__":
    main()
