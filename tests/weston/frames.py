#!/usr/bin/env python3
"""Check uev-replay --perfetto of weston-frames-emit's script (frames-emit.c)
against the times uev-replay --json gives its points: exactly the expected
slices and instants on each output's track, nothing else there.
usage: frames.py REPLAY.JSON PERFETTO.JSON"""
import json
import sys

events = [json.loads(line) for line in open(sys.argv[1])]
trace = json.load(open(sys.argv[2]))["traceEvents"]
fails = []
base = events[0]["trace_ns"]
w = [e for e in events if e["event"].startswith("weston_")]
SCRIPT = ["repaint_enter_loop", "repaint_finished", "commit_damage", "repaint_begin",
          "repaint_begin", "flush_damage", "repaint_posted", "repaint_finished",
          "commit_damage", "repaint_posted", "repaint_finished", "repaint_begin",
          "repaint_begin", "flush_damage", "repaint_posted", "repaint_finished",
          "commit_damage", "repaint_begin", "repaint_exit_loop", "repaint_begin"]
if [e["event"][len("weston_"):] for e in w] != SCRIPT:
    print("FAIL: the recording is not the script:", [e["event"] for e in w])
    sys.exit(1)


def us(i, shift=0):
    return round((w[i]["trace_ns"] - base) / 1000.0 + shift, 3)


W7, W9 = "top-level window 'w7'", "top-level window 'w9'"
# (track, ph, name, ts, end or None, args that must be there)
want = [
    ("A", "i", "vblank", us(1, -1000), None, {"loop_start": 1}),
    ("A", "X", "A frame 1", us(3), us(7), {"frame": 1, "output_name": "A"}),
    ("A", "i", "flush_damage", us(5), None, {"frame": 1, "surface": 7, "surface_desc": W7}),
    ("A", "i", "vblank", us(7, -1000), None, {"frame": 1}),
    ("A", "i", "commit_damage", us(8), None, {"surface": 7, "surface_desc": W7}),
    ("A", "i", "A frame 2 unfinished", us(11), None,
     {"frame": 2, "why": "the next frame began first"}),
    ("A", "X", "A frame 3", us(12), us(15), {"frame": 3}),
    ("A", "i", "flush_damage", us(13), None, {"frame": 3, "surface": 9, "surface_desc": W9}),
    ("A", "i", "vblank", us(15, -1000), None, {"frame": 3}),
    ("A", "i", "commit_damage", us(16), None, {"surface": 9, "surface_desc": W9}),
    ("A", "i", "A frame 4 unfinished", us(17), None,
     {"frame": 4, "why": "the repaint loop stopped first"}),
    ("B", "X", "B frame 1", us(4), us(10), {"frame": 1, "output_name": "B"}),
    ("B", "i", "vblank", us(10, -1000), None, {"frame": 1}),
    ("B", "i", "B frame 2 unfinished", us(19), None,
     {"frame": 2, "why": "the recording ended first"}),
]

pid = w[0]["pid"]
tracks = {}
for e in trace:
    if e.get("ph") == "M" and e["name"] == "thread_name" and e["args"]["name"].startswith("output "):
        if e["pid"] != pid:
            fails.append("track %s is not in the compositor's process" % e["args"]["name"])
        tracks[e["tid"]] = e["args"]["name"][len("output "):]
if sorted(tracks.values()) != ["A", "B"] or len(tracks) != 2:
    fails.append("output tracks %s, want A and B" % sorted(tracks.values()))
if set(tracks) & {e["pid"] for e in events}:
    fails.append("an output track has a real thread's id")

got = sorted(((tracks[e["tid"]], e["ph"], e["name"], round(e["ts"], 3),
               round(e["ts"] + e["dur"], 3) if e["ph"] == "X" else None, e["args"])
              for e in trace if e.get("ph") != "M" and e.get("tid") in tracks and e.get("pid") == pid),
             key=lambda g: (g[0], g[3], g[2]))
want.sort(key=lambda g: (g[0], g[3], g[2]))
for g, x in zip(got, want):
    if g[:5] != x[:5] or any(g[5].get(k) != v for k, v in x[5].items()):
        fails.append("got %s, want %s" % (g, x))
if len(got) != len(want):
    fails.append("%d events on the output tracks, want %d: %s" %
                 (len(got), len(want), [g[:4] for g in got]))
if any(g[2] == "commit_damage" and "frame" in g[5] for g in got):
    fails.append("a commit_damage names a frame")

for f in fails:
    print("FAIL:", f)
print("frames: %d events on %d output tracks" % (len(got), len(tracks)))
sys.exit(1 if fails else 0)
