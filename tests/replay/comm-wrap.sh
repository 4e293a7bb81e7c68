#!/usr/bin/env bash
# Names survive wrap: a segment names the pids its own pages use
# (docs/ring-format.md, "Metadata survives wrap"), so a task named once,
# early, that keeps producing events while the ring wraps several times
# under it, is still named on every one of its events that the full ring
# holds, though the segment that first named it is long overwritten. Two
# such tasks: an emitter of user events on both CPUs (replay-emit) and a
# process with a name of its own writing a kernel message every 20 ms.
# With compressed units (the default) and with raw pages.
# usage: comm-wrap.sh UEV-AGGREGATOR UEV-REPLAY REPLAY-EMIT
set -uo pipefail
AGG=$1 REPLAY=$2 EMIT=$3
. "$(dirname "$0")/../cli-lib.sh"
[ -w /dev/kmsg ] || { echo "SKIP: /dev/kmsg is not writable"; exit 77; }

agg_workdir uevcwrap
for comp in zstd none; do
	seat=uevcw$comp$$
	cat >"$T/$comp.conf" <<CONF
[seat]
flush_interval_ms = 100
[ring]
path = $T/$comp.ring
size = 1M
compression = $comp
[kernel]
event = printk:console
CONF
	agg_up "$AGG" "$seat" "$T/$comp.conf" "$T"
	# the long-lived task: named by /proc when its first message is
	# drained, never renamed, alive until the emitter is done
	python3 - "$T/$comp.stop" <<'PY' &
import os, sys, time
with open("/proc/self/comm", "w") as f:
    f.write("uevlonglived")
i, t0 = 0, time.time()
while not os.path.exists(sys.argv[1]) and time.time() - t0 < 60:
    with open("/dev/kmsg", "w") as k:  # one open a message: the rate limit is per open file
        k.write("uevcwrap-long-%d\n" % i)
    i += 1
    time.sleep(0.02)
PY
	long=$!
	sleep 0.5
	# replay-emit's events fill a 1 MiB ring several times over
	for round in 1 2 3 4; do
		"$EMIT" "$seat" "$T/run" 40000 "cw$round" >>"$T/emit.log" 2>&1 ||
			{ echo "FAIL: replay-emit"; cat "$T/emit.log"; fail=1; }
	done
	sleep 0.5
	touch "$T/$comp.stop"
	wait "$long"
	sleep 0.3
	kill -TERM "$agg"; wait "$agg" || { echo "FAIL: aggregator exit $?"; cat "$T/agg.log"; exit 1; }
	agg=

	"$REPLAY" --json "$T/$comp.ring" >"$T/$comp.json" 2>"$T/$comp.err" ||
		{ echo "FAIL: uev-replay ($comp)"; cat "$T/$comp.err"; exit 1; }
	"$REPLAY" --stats "$T/$comp.ring" >"$T/$comp.stats" 2>&1
	python3 - "$T/$comp.json" "$T/$comp.stats" "$comp" <<'PY' || fail=1
import json, re, sys
stats = open(sys.argv[2]).read()
m = re.search(r"wrapped (\d+) times", stats)
if not m or int(m.group(1)) < 2:
    print("FAIL: %s: the ring did not wrap twice: %s" % (sys.argv[3], stats.splitlines()[0]))
    sys.exit(1)
count, bad = {"long": 0, "emit": 0}, []
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e["event"] == "rp_tick":
        kind, want = "emit", "replay-emit"
    elif "uevcwrap-long-" in e["fields"].get("msg", ""):
        kind, want = "long", "uevlonglived"
    else:
        continue
    count[kind] += 1
    if e["comm"] != want:
        bad.append("%s event of pid %d shown as %r" % (kind, e["pid"], e["comm"]))
if count["long"] < 5 or count["emit"] < 10000:
    print("FAIL: %s: too few events held: %s" % (sys.argv[3], count))
    sys.exit(1)
if bad:
    print("FAIL: %s: %d events not named after %s wraps:" % (sys.argv[3], len(bad), m.group(1)))
    print("\n".join(bad[:5]))
    sys.exit(1)
print("PASS: %s: ring wrapped %s times; %d user events and %d messages of the long-lived task, all named"
      % (sys.argv[3], m.group(1), count["emit"], count["long"]))
PY
done
exit "$fail"
