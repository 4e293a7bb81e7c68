#!/usr/bin/env python3
"""window.py RING.json BUNDLE.json FROM TO [--overwritten]: the bundle's
events (uev-replay --json) must be exactly the ring's events whose trace_ns
lies in [FROM, TO], line for line. With --overwritten the bundle may lack
the window's oldest events (the ring overwrote them before the copy): its
events must then be the ring's tail of the window, starting with its first."""
import json
import sys


def load(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


ring, bundle = load(sys.argv[1]), load(sys.argv[2])
lo, hi = int(sys.argv[3]), int(sys.argv[4])
want = [e for e in ring if lo <= e["trace_ns"] <= hi]
if "--overwritten" in sys.argv[5:] and bundle and want and bundle != want:
    # the bundle was cut from the ring at a moment it held less
    first = bundle[0]
    want = [e for e in want if e["trace_ns"] >= first["trace_ns"]]
if bundle != want:
    print(f"FAIL: window [{lo}, {hi}]: bundle has {len(bundle)} events, the ring {len(want)} there")
    for i, (a, b) in enumerate(zip(bundle, want)):
        if a != b:
            print(f"  first difference at {i}:\n  bundle {a}\n  ring   {b}")
            break
    sys.exit(1)
print(f"ok: window [{lo}, {hi}]: {len(want)} events")
