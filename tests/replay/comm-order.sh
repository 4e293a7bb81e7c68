#!/usr/bin/env bash
# uev-replay names a task as the kernel named it at the time of each event,
# also when the exec that renamed it ran on another CPU than its events: the
# aggregator writes its COMM table in per-CPU drain order, so a task that
# execs on one CPU and then runs on the other used to keep the name before
# the exec for the events drained first (seen with Weston under a launcher:
# its DRM debug lines showed up as the launcher's). Twice, exec on CPU 1 and
# events on CPU 0, then the reverse, so that whichever CPU the drain reads
# first, one of the two runs has the exec drained after the events.
# usage: comm-order.sh UEV-AGGREGATOR UEV-REPLAY
set -uo pipefail
AGG=$1 REPLAY=$2
. "$(dirname "$0")/../cli-lib.sh"
py=/usr/bin/python3
for p in taskset "$py"; do command -v "$p" >/dev/null || { echo "SKIP: $p is not installed"; exit 77; }; done
[ "$(nproc)" -ge 2 ] || { echo "SKIP: needs 2 CPUs"; exit 77; }
[ -w /dev/kmsg ] || { echo "SKIP: /dev/kmsg is not writable"; exit 77; }

seat=uevco$$
agg_workdir uevcomm

# One flush for the whole scenario: fork, exec and the messages land in the
# kernel buffers long before the drain reads them, CPU by CPU.
cat >"$T/s.conf" <<CONF
[seat]
flush_interval_ms = 2000
[ring]
path = $T/s.ring
size = 4M
[kernel]
event = printk:console
event = sched:sched_process_fork
event = sched:sched_process_exec
event = task:task_rename
CONF
agg_up "$AGG" "$seat" "$T/s.conf" "$T"
sleep 2.5 # past the first flush

# The shell forks on CPU A; the child execs python3 on CPU B, moves to A and
# writes 20 kernel messages there (one open per message: /dev/kmsg's rate
# limit is per open file).
for pair in "0 1" "1 0"; do
	set -- $pair
	taskset -c "$1" bash -c "taskset -c $2 $py -c '
import os
os.sched_setaffinity(0, {$1})
for i in range(20):
    with open(\"/dev/kmsg\", \"w\") as k:
        k.write(\"uevcomm-$1$2-%d\\n\" % i)
'"
	sleep 2.5
done
kill -TERM "$agg"; wait "$agg" || { echo "FAIL: aggregator exit $?"; cat "$T/agg.log"; exit 1; }
agg=

"$REPLAY" --json --event printk:console "$T/s.ring" >"$T/r.json" 2>"$T/r.err" ||
	{ echo "FAIL: uev-replay"; cat "$T/r.err"; exit 1; }
python3 - "$T/r.json" <<'PY'
import json, sys
bad, seen = [], {}
for line in open(sys.argv[1]):
    e = json.loads(line)
    msg = e["fields"].get("msg", "")
    if "uevcomm-" not in msg:
        continue
    tag = msg.split("uevcomm-")[1][:2]
    seen[tag] = seen.get(tag, 0) + 1
    if e["comm"] != "python3":
        bad.append("%s shown as %r (cpu %d)" % (msg.strip(), e["comm"], e["cpu"]))
for tag in ("01", "10"):
    if seen.get(tag) != 20:
        print("FAIL: run %s: %d of 20 messages recorded" % (tag, seen.get(tag, 0)))
        sys.exit(1)
if bad:
    print("FAIL: %d of 40 messages carry the name before the exec:" % len(bad))
    print("\n".join(bad[:5]))
    sys.exit(1)
print("PASS: 40 messages of a task that exec'd on the other CPU, all named python3")
PY
