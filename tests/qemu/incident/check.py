#!/usr/bin/env python3
"""check.py RING0.json WARN.json WARN.stats RING1.json EREP.json EREP.stats CONSOLE:
what tests/qemu/incident/run.sh checks beyond check-window.py, on
uev-replay --json of the guest's two ring files and their bundles (WARN:
seat0's, triggered by the WARNING line; EREP: seat1's, triggered by
error_report:error_report_end), the bundles' --stats --json and the
console log.

- each ring holds the WARN once: its first line naming lkdtm, then
  error_report_end of detector "warning" on the same CPU after it, at
  about the same trace times in both seats; every numbered message the guest logged
  as written, once, in order;
- each bundle's incident trigger_ns is its trigger event's trace time;
- the WARN bundle holds every kernel line of the report, from the WARNING
  line to the end marker (a call trace naming lkdtm among them), and the
  error_report_end;
- the EREP bundle equals seat1's events within [E - 1 s, E + 1 s] (E its
  trigger's trace time), with numbered messages on both sides.
"""
import importlib.util
import json
import os
import re
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
spec = importlib.util.spec_from_file_location(
    "check_window", os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "control", "check-window.py"))
cw = importlib.util.module_from_spec(spec)
spec.loader.exec_module(cw)

fails = []
# A WARN's first line: 6.12 "WARNING: CPU: 0 PID: 1 at FILE:LINE FUNC",
# 7.3 "WARNING: FILE:LINE at FUNC, CPU#0: COMM/PID" (kernel/panic.c __warn()).
WARN_FIRST = re.compile(r"WARNING: (CPU: \d+ PID: \d+ at |.* at .*, CPU#\d+: )")


def check(ok, what):
    if not ok:
        fails.append(what)
    return ok


def msg(e):
    return e["fields"].get("msg", "") if e["event"] == "printk:console" else ""


def numbered(evs):
    return [int(m.group(1)) for m in (re.search(r"uevwarn n=(\d+)", msg(e)) for e in evs) if m]


ring0, warn, ring1, erep = cw.load(sys.argv[1]), cw.load(sys.argv[2]), cw.load(sys.argv[4]), cw.load(sys.argv[5])
wstats, estats = json.load(open(sys.argv[3]))["incident"], json.load(open(sys.argv[6]))["incident"]
console = open(sys.argv[7], errors="replace").read().splitlines()


def the_warn(seat, ring):
    """The indexes of @ring's WARNING line and error_report_end, each once."""
    firsts = [i for i, e in enumerate(ring) if WARN_FIRST.match(msg(e))]
    ereps = [i for i, e in enumerate(ring) if e["event"] == "error_report:error_report_end"]
    if not (check(len(firsts) == 1, "%s holds %d WARNING lines, want 1" % (seat, len(firsts))) and
            check(len(ereps) == 1, "%s holds %d error_report_end events, want 1" % (seat, len(ereps)))):
        for f in fails:
            print("FAIL: " + f)
        sys.exit(1)
    w, x = ring[firsts[0]], ring[ereps[0]]
    check("lkdtm" in msg(w), "%s: the WARNING line does not name lkdtm: %s" % (seat, msg(w)))
    check(str(x["fields"].get("error_detector")) in ("2", "warning"),
          "%s: error_report_end's detector is %s, want warning (2)" % (seat, x["fields"].get("error_detector")))
    check(x["cpu"] == w["cpu"] and x["trace_ns"] > w["trace_ns"] and x["run"] == w["run"],
          "%s: error_report_end (cpu %s, %s ns) does not follow the WARNING line (cpu %s, %s ns)"
          % (seat, x["cpu"], x["trace_ns"], w["cpu"], w["trace_ns"]))
    return firsts[0], ereps[0]


wi, xi = the_warn("seat0", ring0)
w, x = ring0[wi], ring0[xi]
w1, x1 = (ring1[i] for i in the_warn("seat1", ring1))
print("WARN: %s" % msg(w).strip())
print("error_report_end: %s" % json.dumps(x["fields"], sort_keys=True))
# One tracepoint call writes into each seat's buffer in turn, each reading
# the clock: the same event, within microseconds (50 ms allows for TCG).
skew = max(abs(w1["trace_ns"] - w["trace_ns"]), abs(x1["trace_ns"] - x["trace_ns"]))
check(skew < 50000000, "the two seats saw the WARN at other times: seat0 %s, %s; seat1 %s, %s"
      % (w["trace_ns"], x["trace_ns"], w1["trace_ns"], x1["trace_ns"]))
print("both seats recorded the WARN (trace times %d ns apart at most)" % skew)
check(wstats["trigger_ns"] == w["trace_ns"],
      "seat0's bundle says trigger_ns %s, the WARNING line is at %s" % (wstats["trigger_ns"], w["trace_ns"]))
check(estats["trigger_ns"] == x1["trace_ns"],
      "seat1's bundle says trigger_ns %s, error_report_end is at %s" % (estats["trigger_ns"], x1["trace_ns"]))

# The report: the kernel lines of the WARN's CPU from its first line to the
# end marker (other CPUs' lines may interleave in the ring; they are not
# the report).
report = []
for e in ring0[wi:]:
    if e["cpu"] == w["cpu"] and e["event"] == "printk:console":
        report.append(e)
        if "---[ end trace" in msg(e):
            break
text = [msg(e) for e in report]
check(any("---[ end trace" in t for t in text), "the WARN's end marker is not in the ring")
check(any(t.startswith("Call Trace:") for t in text), "no 'Call Trace:' line in the WARN's report")
check(any("lkdtm_WARNING" in t for t in text[1:]), "no line of the report names lkdtm_WARNING (RIP or trace)")
frames = [t for t in text if re.match(r"^ (\? )?[a-z_][a-z0-9_.]*\+0x[0-9a-f]+/0x[0-9a-f]+", t)]
check(len(frames) >= 3, "%d call trace frames in the report, want 3 or more" % len(frames))
inwarn = {cw.key(e) for e in warn}
missing = [e for e in report + [x] if cw.key(e) not in inwarn]
check(not missing, "%d of the WARN's %d report lines and error_report_end not in its bundle, first: %s"
      % (len(missing), len(report) + 1, missing[:1]))
print("report: %d kernel lines (%d frames) from the WARNING line to the end marker, all in the bundle"
      % (len(report), len(frames)))

# The error_report_end bundle's window.
lo, hi = x1["trace_ns"] - 1000000000, x1["trace_ns"] + 1000000000
want = sorted(cw.key(e) for e in ring1 if e["run"] == x1["run"] and lo <= e["trace_ns"] <= hi)
got = sorted(cw.key(e) for e in erep)
same = check(want == got, "seat1's bundle has %d events, its ring's window %d (%d missing, %d extra)"
             % (len(got), len(want), len(set(want) - set(got)), len(set(got) - set(want))))
tagged = [e for e in erep if "uevwarn n=" in msg(e)]
early = sum(e["trace_ns"] < x1["trace_ns"] for e in tagged)
late = sum(e["trace_ns"] > x1["trace_ns"] for e in tagged)
if check(early >= 10 and late >= 5, "the error_report_end bundle holds %d numbered lines before and %d after"
         % (early, late)) and same:
    print("error_report_end window ok: %d events, %d numbered before and %d after" % (len(got), early, late))

# Numbered messages: what the guest wrote, in the ring once each, in order;
# in each bundle a run without a gap.
logged = [int(m.group(1)) for m in (re.match(r"UEVQ-KMSG (\d+)$", line) for line in console) if m]
check(logged == list(range(1, 71)), "the guest logged %d numbered messages, want 1..70" % len(logged))
for seat, ring in (("seat0", ring0), ("seat1", ring1)):
    check(numbered(ring) == logged, "%s's numbered messages are not the %d logged, once each, in order"
          % (seat, len(logged)))
for name, b in (("WARN", warn), ("error_report_end", erep)):
    n = numbered(b)
    check(n and n == list(range(n[0], n[-1] + 1)), "the %s bundle's numbered messages have a gap: %s" % (name, n))
    print("%s bundle: numbered messages %s..%s" % (name, n[0] if n else "-", n[-1] if n else "-"))
for f in fails:
    print("FAIL: " + f)
sys.exit(1 if fails else 0)
