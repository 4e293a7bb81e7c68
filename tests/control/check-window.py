#!/usr/bin/env python3
"""check-window.py RING.json BUNDLE.json TRIGGER-TEXT BEFORE_S AFTER_S TAG:
the bundle (uev-replay --json of it) holds exactly the ring's events whose
trace time is within [T - BEFORE_S, T + AFTER_S], T the trace time of the
ring's printk:console event whose msg contains TRIGGER-TEXT; compared by
(trace_ns, cpu, event, pid, fields). The window must hold TAG lines on both
sides of T (so it is not trivially empty)."""
import json
import sys


def load(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def key(e):
    return (e["trace_ns"], e["cpu"], e["event"], e.get("pid"), json.dumps(e.get("fields"), sort_keys=True))


def main():
    ring, bundle = load(sys.argv[1]), load(sys.argv[2])
    text, before, after, tag = sys.argv[3], float(sys.argv[4]), float(sys.argv[5]), sys.argv[6]
    fire = [e for e in ring if e["event"] == "printk:console" and text in e["fields"].get("msg", "")]
    if not fire:
        print("FAIL: the trigger line is not in the ring file")
        return 1
    t = fire[0]["trace_ns"]
    lo, hi = t - int(before * 1e9), t + int(after * 1e9)
    run = fire[0]["run"]
    want = sorted(key(e) for e in ring if e["run"] == run and lo <= e["trace_ns"] <= hi)
    got = sorted(key(e) for e in bundle)
    if want != got:
        missing = [k for k in want if k not in set(got)]
        extra = [k for k in got if k not in set(want)]
        print("FAIL: bundle differs from the window of the ring: %d events wanted, %d in the bundle, "
              "%d missing (first %s), %d extra (first %s)" % (len(want), len(got), len(missing),
                                                          missing[:1], len(extra), extra[:1]))
        return 1
    tagged = [e for e in bundle if e["event"] == "printk:console" and tag in e["fields"].get("msg", "")]
    early = [e for e in tagged if e["trace_ns"] < t]
    late = [e for e in tagged if e["trace_ns"] > t]
    if len(early) < 10 or len(late) < 5:
        print("FAIL: the window holds %d tagged lines before the trigger and %d after" % (len(early), len(late)))
        return 1
    print("window ok: %d events, %d tagged before and %d after the trigger" % (len(got), len(early), len(late)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
