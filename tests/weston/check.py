#!/usr/bin/env python3
"""Check what uev-replay --json decoded from a ring that recorded headless
Weston with uev-weston and weston-simple-shm (see weston.sh).
usage: check.py REPLAY.JSON WESTON.LOG"""
import json
import re
import sys

events = [json.loads(line) for line in open(sys.argv[1])]
wlog = open(sys.argv[2]).read()
fails = []


def fail(msg):
    fails.append(msg)


def of(name):
    return [e for e in events if e["event"] == "weston_" + name]


TIMELINE = ["repaint_req", "repaint_enter_loop", "repaint_begin", "repaint_posted",
            "repaint_finished", "repaint_exit_loop", "commit_damage", "flush_damage",
            "gpu_begin", "gpu_end", "timeline_point"]

# One clock: the point's own CLOCK_MONOTONIC time is where the ring put it.
tl = [e for e in events if e["event"][len("weston_"):] in TIMELINE]
if len(tl) < 100:
    fail("only %d timeline events" % len(tl))
# The ring stamps an event when Weston writes it, after Weston took the
# point's time: never before it (one clock), and within 1 ms unless Weston
# was preempted in between, which a loaded machine does now and then (7 ms
# seen with both CPUs busy). So: no event before its own time, 99 % within
# 1 ms, none beyond 50 ms.
gaps = sorted(e["trace_ns"] - e["fields"]["mono_ns"] for e in tl)
if gaps and gaps[0] < -50_000:
    fail("a timeline event is in the ring %d ns before its own mono_ns: not one clock" % -gaps[0])
late = [g for g in gaps if g > 1_000_000]
if len(late) > len(gaps) // 100 or (gaps and gaps[-1] > 50_000_000):
    fail("%d of %d timeline events more than 1 ms after their own mono_ns (worst %d ns)"
         % (len(late), len(gaps), gaps[-1]))
print("mono_ns to ring: %d ns at the median, %d ns the worst, %d over 1 ms"
      % (gaps[len(gaps) // 2], gaps[-1], len(late)))

# Per output, frames in order: begin < posted < finished, nothing between.
# A repaint loop starts (enter_loop) with a finished of its own, without a
# begin: Weston's start_repaint_loop finishes a frame to learn the vblank.
NEXT = {  # state -> {point: next state}
    "idle": {"repaint_enter_loop": "loopstart"},
    "loopstart": {"repaint_finished": "between"},
    "between": {"repaint_begin": "begun", "repaint_exit_loop": "idle"},
    "begun": {"repaint_posted": "posted"},
    "posted": {"repaint_finished": "between"},
}
frames = {}
for name in ("repaint_enter_loop", "repaint_begin", "repaint_posted", "repaint_finished",
             "repaint_exit_loop"):
    for e in of(name):
        f = e["fields"]
        if not f["output_name"]:
            fail("%s of output %d without the output's name" % (name, f["output"]))
        frames.setdefault(f["output"], []).append((f["mono_ns"], name, e))
if not frames:
    fail("no repaint events")
for out, pts in frames.items():
    pts.sort(key=lambda p: p[0])
    state, complete, bad = None, 0, 0
    for t, name, e in pts:
        if state is None:         # the recording may start inside a frame
            if name == "repaint_begin":
                state = "between"
            elif name == "repaint_enter_loop":
                state = "idle"
            else:
                continue
        if name not in NEXT[state]:
            bad += 1
            print("out of order on output %d at %d: %s after state %s" % (out, t, name, state))
            state = None
            continue
        if state == "posted":
            complete += 1
            if e["fields"]["vblank_ns"] == 0:
                fail("repaint_finished without a vblank time")
        state = NEXT[state][name]
    if bad:
        fail("output %d: %d repaint points out of begin < posted < finished order" % (out, bad))
    # ~3 s of an animating client: headless repaints at its 60 Hz refresh
    if complete < 30:
        fail("output %d: only %d complete frames in ~3 s" % (out, complete))
    print("output %d (%s): %d frames" % (out, pts[0][2]["fields"]["output_name"], complete))

# The client's surface, named by its object record.
shm = [e for e in of("commit_damage") if "simple-shm" in e["fields"]["surface_desc"]]
if not shm:
    fail("no commit_damage naming simple-shm's surface; descs seen: %s" %
         sorted({e["fields"]["surface_desc"] for e in of("commit_damage")}))
else:
    print("commit_damage: %d of '%s'" % (len(shm), shm[0]["fields"]["surface_desc"]))
    # one timeline with the kernel's events: the client was started first
    execs = [e for e in events if e["event"] == "sched:sched_process_exec"
             and e["fields"].get("filename", "").endswith("/weston-simple-shm")]
    if not execs:
        fail("no sched_process_exec of weston-simple-shm")
    elif not execs[0]["trace_ns"] < min(e["trace_ns"] for e in shm):
        fail("simple-shm's first commit_damage is before its exec")

# Weston's log: live lines without Weston's timestamp, and the start-up
# lines from before the module loaded, copied from the flight recorder.
logs = of("log")
live = [e for e in logs if e["fields"]["scope"] == "log"]
back = [e for e in logs if e["fields"]["scope"] == "flight-recorder"]
stamp = re.compile(r"^\[\d\d:\d\d:\d\d\.\d\d\d\]")
for e in logs:
    if stamp.match(e["fields"]["message"]):
        fail("log message with Weston's timestamp: %r" % e["fields"]["message"])
first_log = next((l for l in wlog.splitlines() if stamp.match(l)), "")
first_msg = stamp.sub("", first_log).strip()
if not any(e["fields"]["message"].strip() == first_msg for e in back):
    fail("Weston's first log line %r is not in the backfill (%d lines)" % (first_msg, len(back)))
if not any("uev-weston.so" in e["fields"]["message"] for e in back):
    fail("the backfill lacks the module's own loading line")
if not live:
    fail("no live log events of scope 'log'")
print("log: %d backfilled, %d live" % (len(back), len(live)))

for f in fails:
    print("FAIL:", f)
sys.exit(1 if fails else 0)
