#!/usr/bin/env python3
"""Check the structure of uev-replay --perfetto for a ring that recorded
headless Weston (see weston.sh) against uev-replay --json of the same ring:
one track per output, named; every frame (a repaint_begin whose next repaint
point on its output is a repaint_finished) a slice from begin to finished,
none overlapping another on its track; vblank and flush_damage instants on
the output's track inside their frame's slice; damage instants naming the
surface.
usage: check_perfetto.py REPLAY.JSON PERFETTO.JSON"""
import json
import sys

events = [json.loads(line) for line in open(sys.argv[1])]
trace = json.load(open(sys.argv[2]))["traceEvents"]
fails = []


def fail(msg):
    fails.append(msg)


# Perfetto times are microseconds (3 decimals) since the first event.
base = events[0]["trace_ns"]


def us(ns):
    return (ns - base) / 1000.0


TOL = 0.0015  # rounding to the ns in the export

# The frames the JSON timeline holds, per output: (begin, finished) trace_ns,
# and the numbers (the n-th begin is frame n) of those that never finished.
want = {}      # output -> [(frame, begin, finished)]
lost = {}      # output -> {frame}
names = {}
begun = {}     # output -> begins so far
open_begin = {}
for e in events:
    ev = e["event"]
    if ev not in ("weston_repaint_begin", "weston_repaint_finished", "weston_repaint_exit_loop"):
        continue
    out = e["fields"]["output"]
    names[out] = e["fields"]["output_name"]
    lost.setdefault(out, set())
    if ev == "weston_repaint_begin":
        if out in open_begin:
            lost[out].add(open_begin[out][0])
        begun[out] = begun.get(out, 0) + 1
        open_begin[out] = (begun[out], e["trace_ns"])
    elif out in open_begin:
        n, b = open_begin.pop(out)
        if ev == "weston_repaint_finished":
            want.setdefault(out, []).append((n, b, e["trace_ns"]))
        else:
            lost[out].add(n)
for out, (n, b) in open_begin.items():
    lost[out].add(n)
if not want:
    fail("the JSON timeline has no complete frame")

# Tracks: thread_name metadata names each output's track.
tracks = {}  # (pid, tid) -> output name
for e in trace:
    if e.get("ph") == "M" and e["name"] == "thread_name" and e["args"]["name"].startswith("output "):
        tracks[(e["pid"], e["tid"])] = e["args"]["name"][len("output "):]
for out, name in names.items():
    if name not in tracks.values():
        fail("no track named 'output %s' (tracks: %s)" % (name, sorted(tracks.values())))

on = {}  # output name -> events on its track
for e in trace:
    k = (e.get("pid"), e.get("tid"))
    if k in tracks and e.get("ph") != "M":
        on.setdefault(tracks[k], []).append(e)

for out, frames in sorted(want.items()):
    name = names[out]
    evs = on.get(name, [])
    slices = sorted((e for e in evs if e["ph"] == "X"), key=lambda e: e["ts"])
    # Only whole slices: begin/end pairs would have to balance, none are written.
    be = [e for e in evs if e["ph"] in ("B", "E")]
    if be:
        fail("output %s: %d begin/end events; slices must be complete" % (name, len(be)))
    for a, b in zip(slices, slices[1:]):
        if a["ts"] + a["dur"] > b["ts"] + TOL:
            fail("output %s: slice %s (%.3f + %.3f) overlaps %s (%.3f)" %
                 (name, a["name"], a["ts"], a["dur"], b["name"], b["ts"]))
            break
    # Every frame of the timeline is a slice, at its begin, as long as it took.
    got = [(round(s["ts"], 3), round(s["ts"] + s["dur"], 3)) for s in slices]
    exp = [(round(us(b), 3), round(us(f), 3)) for n, b, f in frames]
    if len(got) != len(exp):
        fail("output %s: %d frame slices, the timeline has %d frames" % (name, len(got), len(exp)))
    bad = [(g, x) for g, x in zip(got, exp)
           if abs(g[0] - x[0]) > TOL or abs(g[1] - x[1]) > TOL]
    if bad:
        fail("output %s: %d slices not from begin to finished, first %s want %s" %
             (name, len(bad), bad[0][0], bad[0][1]))
    byframe = {}
    for s in slices:
        a = s["args"]
        byframe[a["frame"]] = s
        if s["name"] != "%s frame %d" % (name, a["frame"]) or a["output_name"] != name:
            fail("slice %r does not name output %s and its frame" % (s["name"], name))
    seqs = [s["args"]["frame"] for s in slices]
    if seqs != [n for n, b, f in frames]:
        fail("output %s: frame numbers %s..., the timeline's %s..." %
             (name, seqs[:10], [n for n, b, f in frames][:10]))
    unfinished = {e["args"]["frame"] for e in evs if e["name"].endswith(" unfinished")}
    if unfinished != lost[out]:
        fail("output %s: unfinished frames %s, the timeline's %s" %
             (name, sorted(unfinished), sorted(lost[out])))

    # Instants that belong to a frame are inside its slice.
    def inside(kind, e):
        f = e["args"].get("frame")
        if f is None:
            return
        s = byframe.get(f)
        if s is None:
            if f not in unfinished:
                fail("output %s: %s for frame %d, which is neither a slice nor unfinished" %
                     (name, kind, f))
        elif not s["ts"] - TOL <= e["ts"] <= s["ts"] + s["dur"] + TOL:
            fail("output %s: %s at %.3f outside frame %d [%.3f, %.3f]" %
                 (name, kind, e["ts"], f, s["ts"], s["ts"] + s["dur"]))

    vbl = [e for e in evs if e["name"] == "vblank"]
    for e in vbl:
        inside("vblank", e)
    in_frame = [e for e in vbl if "frame" in e["args"]]
    if len(in_frame) != len(slices):
        fail("output %s: %d vblanks of frames, %d frames" % (name, len(in_frame), len(slices)))
    flush = [e for e in evs if e["name"] == "flush_damage"]
    for e in flush:
        inside("flush_damage", e)
    commit = [e for e in evs if e["name"] == "commit_damage"]
    if not flush or not commit:
        fail("output %s: %d flush_damage, %d commit_damage instants" % (name, len(flush), len(commit)))
    if any("surface_desc" not in e["args"] for e in flush + commit):
        fail("output %s: a damage instant without surface_desc" % name)
    for kind, es in (("flush_damage", flush), ("commit_damage", commit)):
        if not any("'simple-shm'" in e["args"]["surface_desc"] for e in es):
            fail("output %s: no %s naming simple-shm's surface" % (name, kind))
    print("perfetto: output %s: %d frame slices, %d vblanks, %d flushes, %d commits, %d unfinished" %
          (name, len(slices), len(vbl), len(flush), len(commit), len(unfinished)))

for f in fails:
    print("FAIL:", f)
sys.exit(1 if fails else 0)
