#!/usr/bin/env python3
"""The host's half of the qemu KMS test: what the guest's ring says.

usage: check.py HOST.JSON PIDS REFUSED.TXT

HOST.JSON is `uev-replay --json` of the guest's ring (already compared with
the guest's own), PIDS the guest's "frames PID" / "refused PID" lines,
REFUSED.TXT `uev-replay --pid REFUSED-PID` of the ring.

Frames (Weston's "frames" run): for every frame from weston_repaint_begin to
weston_repaint_finished of Weston's task, in the merged timeline:

  repaint_begin < the kernel's "checking" line (drm_atomic_check_only) of
  Weston's task < its "committing" line < the shim's kms_atomic_commit of
  that call (real commit, result 0; emitted when the call returned) <
  the shim's kms_flip_done (the flip event as Weston read it) <
  repaint_finished; and the kernel's drm_vblank_event_delivered after the
  "committing" line and before kms_flip_done. Every TEST_ONLY kms_atomic_commit
  comes after a "checking" line of Weston's task since the previous commit.
Many frames, all of them in order; the first (a modeset) and an unfinished
last one are not counted.

Refused (the "refused" run): a kms_atomic_commit of Weston's task with
result -22 / errno 22, and within 5 ms before it, in the same task and after
its previous KMS call, the kernel's message saying why ("invalid mode");
`uev-replay --pid` of that task shows both and nothing of another task.

Also prints the guest's boot-to-first-frame time: the trace time (seat clock
mono, so seconds since the guest kernel started) of the first successful
real commit after the client's first surface commit.
"""
import json
import re
import sys

MIN_FRAMES = 30


def fail(msg):
    print("check.py: FAIL: " + msg)
    return 1


def load(path):
    return [json.loads(line) for line in open(path)]


def msg(e):
    return e["fields"].get("msg", "") if e["event"] == "printk:console" else ""


def classify(e, wpid):
    """A short kind for the events the frame check looks at, or None."""
    ev, f = e["event"], e["fields"]
    if ev == "drm:drm_vblank_event_delivered":
        return "vblank"
    if e["pid"] != wpid:
        return None
    if ev == "weston_repaint_begin":
        return "begin"
    if ev == "weston_repaint_finished":
        return "finished"
    if ev == "kms_atomic_commit":
        return "test" if f["test_only"] else "commit"
    if ev == "kms_flip_done":
        return "flip"
    m = msg(e)
    if "[drm:drm_atomic_check_only] checking" in m:
        return "checking"
    if "[drm:drm_atomic_nonblocking_commit] committing" in m or "[drm:drm_atomic_commit] committing" in m:
        return "committing"
    return None


def frame_problem(fr):
    """None when one frame's events are in causal order, else why not."""
    kinds = [k for k, _ in fr]
    commits = [i for i, (k, e) in enumerate(fr) if k == "commit"]
    if len(commits) != 1:
        return "%d real commits" % len(commits)
    c = commits[0]
    e = fr[c][1]["fields"]
    if e["result"] != 0 or e["errno"] != 0:
        return "commit failed: result %d errno %d" % (e["result"], e["errno"])
    committing = [i for i in range(c) if kinds[i] == "committing"]
    if not committing:
        return "no kernel 'committing' line of Weston's task before the commit returned"
    k = committing[-1]
    if not any(kinds[i] == "checking" for i in range(1, k)):
        return "no kernel 'checking' line before 'committing'"
    flips = [i for i in range(c + 1, len(fr)) if kinds[i] == "flip"]
    if len(flips) != 1:
        return "%d kms_flip_done after the commit" % len(flips)
    vbl = [i for i in range(k + 1, flips[0]) if kinds[i] == "vblank"]
    if not vbl:
        return "no drm_vblank_event_delivered between 'committing' and kms_flip_done"
    last = 0
    for i, kind in enumerate(kinds):
        if kind == "test" and not any(kinds[j] == "checking" for j in range(last, i)):
            return "a TEST_ONLY commit without a kernel 'checking' line before it"
        if kind in ("test", "commit"):
            last = i
    return None


def check_frames(events, wpid):
    frames, cur = [], None
    for e in events:
        k = classify(e, wpid)
        if k is None:
            continue
        if k == "begin":
            cur = [(k, e)]
        elif cur is not None:
            cur.append((k, e))
            if k == "finished":
                frames.append(cur)
                cur = None
    if len(frames) < 2:
        return fail("Weston's frames run has %d complete frames" % len(frames))
    checked = frames[1:]  # the first is the modeset
    bad = [(i, p) for i, p in ((i, frame_problem(fr)) for i, fr in enumerate(checked)) if p]
    if bad:
        for i, p in bad[:5]:
            print("check.py: frame %d: %s: %s" % (i + 1, p, " ".join(k for k, _ in checked[i])))
        return fail("%d of %d frames out of causal order" % (len(bad), len(checked)))
    if len(checked) < MIN_FRAMES:
        return fail("only %d frames (want at least %d)" % (len(checked), MIN_FRAMES))
    n_test = sum(1 for fr in checked for k, _ in fr if k == "test")
    n_lines = sum(1 for fr in checked for k, _ in fr if k in ("checking", "committing"))
    print("check.py: PASS frames: %d frames of Weston (pid %d) in causal order: repaint_begin < kernel check "
          "< kernel commit < kms_atomic_commit returned < kms_flip_done < repaint_finished, and kernel commit "
          "< drm_vblank_event_delivered < kms_flip_done (%d TEST_ONLY checks, %d kernel check/commit lines)"
          % (len(checked), wpid, n_test, n_lines))
    return 0


def check_refused(events, rpid, text_path):
    kms = [e for e in events if e["pid"] == rpid and e["event"] == "kms_atomic_commit"]
    failed = [e for e in kms if e["fields"]["result"] == -22 and e["fields"]["errno"] == 22]
    if not failed:
        return fail("no kms_atomic_commit with result -22, errno 22 from Weston (pid %d); its commits: %s"
                    % (rpid, [(e["fields"]["result"], e["fields"]["errno"]) for e in kms]))
    c = failed[0]
    t = c["trace_ns"]
    prev = max([e["trace_ns"] for e in kms if e["trace_ns"] < t] or [0])
    why = [e for e in events
           if e["pid"] == rpid and e["event"] == "printk:console" and "invalid mode" in msg(e)
           and prev < e["trace_ns"] <= t and t - e["trace_ns"] <= 5_000_000]
    if not why:
        return fail("no kernel 'invalid mode' message of Weston's task within 5 ms before its refused commit")
    text = open(text_path).read().splitlines()
    body = [line for line in text if not line.startswith("#")]
    others = [line for line in body if not re.search(r"-%d +" % rpid, line)]
    if others:
        return fail("uev-replay --pid %d shows other tasks: %s" % (rpid, others[0]))
    if not any("invalid mode" in line for line in body) or \
            not any("kms_atomic_commit" in line and "errno=22" in line for line in body):
        return fail("uev-replay --pid %d lacks the explanation or the refused commit" % rpid)
    print("check.py: PASS refused: Weston's commit (pid %d) returned -22 %.3f ms after the kernel said: %s"
          % (rpid, (t - why[-1]["trace_ns"]) / 1e6, msg(why[-1]).split("] ", 1)[-1][:90]))
    return 0


def first_frame(events, wpid):
    damaged = False
    for e in events:
        if e["pid"] != wpid:
            continue
        if e["event"] == "weston_commit_damage":
            damaged = True
        elif damaged and e["event"] == "kms_atomic_commit" and not e["fields"]["test_only"] \
                and e["fields"]["result"] == 0:
            print("check.py: boot to first frame: %.2f s (guest CLOCK_MONOTONIC at the first commit "
                  "showing the client's surface)" % (e["trace_ns"] / 1e9))
            return


def main():
    events = load(sys.argv[1])
    pids = dict(line.split() for line in open(sys.argv[2]) if line.strip())
    wpid, rpid = int(pids["frames"]), int(pids["refused"])
    rc = check_frames(events, wpid)
    rc |= check_refused(events, rpid, sys.argv[3])
    first_frame(events, wpid)
    return rc


if __name__ == "__main__":
    sys.exit(main())
