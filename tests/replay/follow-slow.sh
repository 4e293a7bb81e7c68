#!/usr/bin/env bash
# uev-replay --follow on a seat whose flush interval (3 s) is longer than
# the 1.5 s replay used to hold events back: a quiet CPU's page reaches the
# file only at the flush, after the busy CPU's pages written since, and its
# events are older than theirs. The hold-back comes from the run's
# flush_interval_ms (docs/uev-replay.1), so the followed output must still
# be in timestamp order, every event once.
# usage: follow-slow.sh UEV-AGGREGATOR UEV-REPLAY REPLAY-EMIT
set -uo pipefail
AGG=$1 REPLAY=$2 EMIT=$3
. "$(dirname "$0")/../cli-lib.sh"

T=$(mktemp -d /tmp/uevfollow.XXXXXX)
seat=uevfs$$
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rmdir "/sys/kernel/tracing/instances/uev.$seat" 2>/dev/null
	if [ -n "${UEV_KEEP:-}" ]; then echo "kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT
N=30000

# A small kernel buffer, so that the busy CPU's pages pass the watermark
# (half of it) and are written long before the flush.
cat >"$T/s.conf" <<CONF
[seat]
flush_interval_ms = 3000
buffer_kb = 256
[ring]
path = $T/s.ring
size = 8M
CONF
agg_up "$AGG" "$seat" "$T/s.conf" "$T"
pids+=("$agg")
sleep 0.5 # the run's RUN_START is in the file before replay scans it

"$REPLAY" --follow --json --event rp_tick "$T/s.ring" >"$T/follow.json" 2>"$T/follow.err" &
fpid=$!
pids+=("$fpid")
sleep 0.5
"$EMIT" "$seat" "$T/run" "$N" F 4000 || { echo "FAIL: emitter"; exit 1; }
# the quiet CPU's last page comes with the next flush, then the hold-back
sleep 8
kill "$fpid"; wait "$fpid" 2>/dev/null
kill -TERM "$agg"; wait "$agg" || { echo "FAIL: aggregator exit $?"; fail=1; }

python3 - "$T/follow.json" "$N" <<'PY' || fail=1
import json, sys
evs = [json.loads(l) for l in open(sys.argv[1])]
n = int(sys.argv[2])
bad = []
per = {0: set(), 1: set()}
for e in evs:
    per[e['fields']['thread']].add(e['fields']['seq'])
want = {0: n, 1: (n + 99) // 100}
for t in (0, 1):
    if per[t] != set(range(want[t])):
        bad.append('thread %d: %d of %d events' % (t, len(per[t]), want[t]))
if len(evs) != want[0] + want[1]:
    bad.append('%d events, %d wanted' % (len(evs), want[0] + want[1]))
ts = [e['trace_ns'] for e in evs]
late = [i for i in range(1, len(ts)) if ts[i] < ts[i - 1]]
if late:
    bad.append('%d events out of timestamp order, the first at line %d (%.3f s behind)' %
               (len(late), late[0] + 1, (ts[late[0] - 1] - ts[late[0]]) / 1e9))
for b in bad:
    print('FAIL: follow.json: ' + b)
sys.exit(1 if bad else 0)
PY
[ "$fail" -eq 0 ] && echo "PASS"
exit "$fail"
