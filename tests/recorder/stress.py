#!/usr/bin/env python3
"""uev-aggregator under bursts of load, with flushes asked for (SIGUSR1)
in the middle of them and stops (SIGTERM) while the load still runs,
cycle after cycle on one small ring (issue 10, defect 1: a CPU left
undrained after a burst, then a stop that hung).

Each cycle starts an aggregator (--size 4M --flush-interval F), runs a
burst from two writers (kernel messages through /dev/kmsg, and the
instance's trace_marker), sends SIGUSR1 at random moments, and checks:
  - after the burst, within the flush interval plus a margin, every CPU
    of the instance is drained (per_cpu/cpuN/stats says 0 entries);
  - every other cycle, SIGTERM lands while a burst runs; any stop must
    end within 5 s with exit status 0 (a hang fails the test);
  - the ring file reads back without damage.
The seat fsyncs every second, so each cycle has fsyncs in flight.

usage: stress.py UEV-AGGREGATOR UEV-REPLAY CYCLES [MESSAGES-PER-BURST]
Exit 0 on success, 1 on failure, 77 without root or tracefs.
"""
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time

import aggd

FLUSH_MS = 100


def entries(inst):
    """Events each CPU of the instance still holds."""
    out = []
    for cpu in sorted(os.listdir(inst + "/per_cpu")):
        with open("%s/per_cpu/%s/stats" % (inst, cpu)) as f:
            m = re.search(r"^entries: (\d+)", f.read(), re.M)
            out.append(int(m.group(1)) if m else -1)
    return out


def burst(inst, seat, n, stop):
    """Two writers on two CPUs: kmsg (one open per message, as the issue's
    load did) and the instance's trace_marker."""
    def kmsg(cpu):
        os.sched_setaffinity(0, {cpu})
        for i in range(n):
            if stop.is_set():
                return
            with open("/dev/kmsg", "w") as k:
                k.write("uevstress-%s-%07d %s %d\n" % (seat, i, "w" * random.randint(10, 50), i))
            if i % 2000 == 1999:
                time.sleep(0.02)

    def marker(cpu):
        os.sched_setaffinity(0, {cpu})
        fd = os.open(inst + "/trace_marker", os.O_WRONLY)
        try:
            for i in range(n * 2):
                if stop.is_set():
                    return
                os.write(fd, b"uevstress marker %07d" % i)
        except OSError:
            pass  # the instance went away with a stop
        finally:
            os.close(fd)

    ncpu = os.cpu_count() or 1
    ts = [threading.Thread(target=kmsg, args=(0,)),
          threading.Thread(target=marker, args=(1 % ncpu,))]
    for t in ts:
        t.start()
    return ts


def main():
    if len(sys.argv) < 4:
        print(__doc__, file=sys.stderr)
        return 2
    agg, replay, cycles = sys.argv[1], sys.argv[2], int(sys.argv[3])
    per_burst = int(sys.argv[4]) if len(sys.argv) > 4 else 20000
    aggd.require_root_tracefs()
    # fsync every second: an fsync queued behind the polls once held back
    # every later write, so a quiet seat stopped being written.
    d = aggd.Daemon(agg, "st", "[seat]\nfsync = interval\nfsync_interval_s = 1\n"
                    "[ring]\npath = %(ring)s\n[kernel]\nevent = printk:console\n")
    seat, inst, ring = d.seat, d.inst, d.ring
    failed = []
    try:
        for c in range(cycles):
            p = d.start("--size", "4M", "--flush-interval", str(FLUSH_MS))
            stop = threading.Event()
            ts = burst(inst, seat, per_burst, stop)
            stop_in_burst = c % 2 == 1
            t_end = time.monotonic() + (random.uniform(0.3, 1.5) if stop_in_burst else 1e9)
            while any(t.is_alive() for t in ts) and time.monotonic() < t_end:
                time.sleep(random.uniform(0.01, 0.2))
                p.send_signal(signal.SIGUSR1)
            if not stop_in_burst:
                for t in ts:
                    t.join()
                # Everything written must be drained within a flush
                # interval; give the loop one more interval and a margin.
                time.sleep(2 * FLUSH_MS / 1000 + 0.3)
                left = entries(inst)
                if any(left):
                    failed.append("cycle %d: %s events still in the kernel %d ms after the burst"
                                  % (c, left, 2 * FLUSH_MS + 300))
            t0 = time.monotonic()
            p.send_signal(signal.SIGTERM)
            try:
                rc = p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                failed.append("cycle %d: SIGTERM did not stop the aggregator within 5 s" % c)
                p.kill()
                rc = p.wait()
            stop.set()
            for t in ts:
                t.join()
            if rc != 0:
                failed.append("cycle %d: exit status %d" % (c, rc))
            print("cycle %d: %s, stopped in %.0f ms" % (c, "stop during the burst" if stop_in_burst
                                                       else "burst drained", 1000 * (time.monotonic() - t0)))
            if failed:
                break
        r = subprocess.run([replay, "--stats", ring], capture_output=True, text=True)
        if r.returncode != 0:
            failed.append("uev-replay --stats exit %d: %s" % (r.returncode, r.stderr[-500:]))
    finally:
        d.close(failed)
    for f in failed:
        print("FAIL:", f)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
