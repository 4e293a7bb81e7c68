#!/usr/bin/env python3
"""kill -9 of uev-aggregator, round after round, on one seat and one ring
file, while an independent writer puts numbered messages into the kernel
(/dev/kmsg, recorded as printk:console). The instance outlives every kill,
so the next aggregator drains what the kernel still holds. In the end the
ring file, read by uev-replay, must hold every message exactly once: a
kill -9 loses nothing and duplicates nothing. The ring is large enough
that nothing is overwritten, and its use is checked too: restarts must not
waste segments.

usage: kill_loop.py UEV-AGGREGATOR UEV-REPLAY ROUNDS [RATE-PER-S [DIRECT-IO]]
DIRECT-IO: yes (default) or no, the ring's [ring] direct_io.
Exit 0 on success, 1 on failure, 77 without root or tracefs.
"""
import json
import random
import re
import signal
import subprocess
import sys
import threading
import time

import aggd


def main():
    if len(sys.argv) < 4:
        print(__doc__, file=sys.stderr)
        return 2
    agg, replay, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
    rate = int(sys.argv[4]) if len(sys.argv) > 4 else 2000
    direct = sys.argv[5] if len(sys.argv) > 5 else "yes"
    aggd.require_root_tracefs()
    d = aggd.Daemon(agg, "kl", "[seat]\nflush_interval_ms = 100\nbuffer_kb = 4096\n"
                    "[ring]\npath = %(ring)s\nsize = 32M\ndirect_io = " + direct +
                    "\n[kernel]\nevent = printk:console\n")
    seat, ring = d.seat, d.ring
    stop = threading.Event()
    written = [0]

    def producer():
        # One open per message: /dev/kmsg rate-limits a descriptor.
        tag = "uevkill-%s-" % seat
        t0 = time.monotonic()
        while not stop.is_set():
            with open("/dev/kmsg", "w") as k:
                k.write("%s%07d %s\n" % (tag, written[0], "x" * random.randint(8, 60)))
            written[0] += 1
            ahead = written[0] / rate - (time.monotonic() - t0)
            if ahead > 0:
                time.sleep(ahead)

    failed = []
    try:
        p = d.start()
        th = threading.Thread(target=producer)
        th.start()
        for i in range(rounds):
            # Anywhere from right after start to past a few flushes.
            time.sleep(random.uniform(0.0, 0.35))
            p.send_signal(signal.SIGKILL)
            p.wait()
            p = d.start()
        stop.set()
        th.join()
        time.sleep(0.3)
        p.send_signal(signal.SIGTERM)
        if p.wait(timeout=30) != 0:
            failed.append("the last aggregator exited %d" % p.returncode)
        out = subprocess.run([replay, "--json", "--event", "printk:console", ring],
                             capture_output=True, text=True)
        stats = subprocess.run([replay, "--stats", ring], capture_output=True, text=True).stdout
        seen = {}
        pat = re.compile(r"uevkill-%s-(\d{7}) " % seat)
        for line in out.stdout.splitlines():
            m = pat.search(json.loads(line)["fields"].get("msg", ""))
            if m:
                n = int(m.group(1))
                seen[n] = seen.get(n, 0) + 1
        missing = [n for n in range(written[0]) if n not in seen]
        dups = [n for n, c in seen.items() if c > 1]
        gaps = sum(1 for i, n in enumerate(missing) if i == 0 or missing[i - 1] != n - 1)
        print("kill -9 loop (direct_io %s): %d rounds, %d messages written, %d read back, %d missing in %d gaps, "
              "%d duplicated" % (direct, rounds, written[0], len(seen), len(missing), gaps, len(dups)))
        m = re.search(r"(\d+)% used", out.stdout + out.stderr + stats)
        used = m.group(1) if m else "?"
        print("ring use after the loop: %s%%" % used)
        if missing:
            failed.append("missing: %s" % missing[:20])
        if dups:
            failed.append("duplicated: %s" % dups[:20])
        if not written[0]:
            failed.append("nothing was written")
        m = re.search(r"wrapped (\d+) times", out.stdout + out.stderr + stats)
        if not m or m.group(1) != "0":
            # The loop's messages fit the ring several times over unless
            # restarts waste it (each one a segment, as they once did).
            failed.append("the ring wrapped (%s): restarts wasted it, or nothing above proves "
                          "anything" % (m.group(0) if m else "no header"))
    finally:
        stop.set()
        d.close(failed)
    for f in failed:
        print("FAIL:", f)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
