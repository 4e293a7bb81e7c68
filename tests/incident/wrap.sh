#!/usr/bin/env bash
# Two collects while uev-aggregator writes a small ring (260 KiB) that wraps
# under load: the first collect, right after the "trigger", keeps the part
# of the window the ring overwrites before the second one (after the
# window's end). The bundle must hold the window's events the ring held at
# the first collect plus those it held at the second, i.e. (checked by
# events' thread and sequence numbers, which replay-emit makes consecutive)
# every event of a thread between its first and last in the bundle, and the
# oldest of them must be older than anything the ring still holds at the end.
# usage: wrap.sh UEV-AGGREGATOR UEV-REPLAY REPLAY-EMIT BUNDLE-TOOL WINDOW.PY
set -uo pipefail
AGG=$1 REPLAY=$2 EMIT=$3 TOOL=$4
. "$(dirname "$0")/../cli-lib.sh"

seat=uevwr$$
agg_workdir uevwrap
mkdir -p "$T/inc"
cat >"$T/s.conf" <<CONF
[seat]
clock = boot
flush_interval_ms = 100
[ring]
path = $T/s.ring
size = 260K
compression = none
CONF
agg_up "$AGG" "$seat" "$T/s.conf" "$T"
"$EMIT" "$seat" "$T/run" 2000 warm >/dev/null 2>&1
sleep 0.3
# the trigger: now, on the run's clock (the newest event's trace time)
"$REPLAY" --json "$T/s.ring" >"$T/now.json" 2>/dev/null
read -r run trig <<<"$(python3 -c '
import json,sys
ev=[json.loads(l) for l in open(sys.argv[1])]
print(ev[-1]["run"], max(e["trace_ns"] for e in ev))' "$T/now.json")"
from=$((trig - 200000000)) to=$((trig + 1500000000))
coproc CUT { "$TOOL" cut "$T/s.ring" "$run" "$from" "$to" "$T/inc" w.uevb --two 2>&1; }
cutpid=$CUT_PID cutin=${CUT[1]} cutout=${CUT[0]}
read -r first <&"$cutout"
echo "after the first collect: $first"
# load: the ring wraps several times over before the window ends
for i in 1 2 3; do "$EMIT" "$seat" "$T/run" 8000 "load$i" >/dev/null 2>&1; done
sleep 1.8
echo go >&"$cutin"
cat <&"$cutout" >"$T/cut.out"; wait "$cutpid" || { echo "FAIL: bundle-tool"; cat "$T/cut.out"; exit 1; }
cat "$T/cut.out"
kill -TERM "$agg"; wait "$agg"; agg=
"$REPLAY" --json "$T/inc/w.uevb" >"$T/b.json" 2>"$T/b.err" || { echo "FAIL: replay of the bundle"; cat "$T/b.err"; exit 1; }
"$REPLAY" --json "$T/s.ring" >"$T/end.json" 2>/dev/null
grep "^# incident" "$T/b.err"
python3 - "$T/now.json" "$T/b.json" "$T/end.json" "$from" "$to" <<'PY' || fail=1
import json, sys
load = lambda p: [json.loads(l) for l in open(p) if l.strip()]
now, b, end = load(sys.argv[1]), load(sys.argv[2]), load(sys.argv[3])
lo, hi = int(sys.argv[4]), int(sys.argv[5])
bad = [e for e in b if not lo <= e["trace_ns"] <= hi]
if bad:
    sys.exit(f"FAIL: {len(bad)} events outside the window, e.g. {bad[0]}")
# what the ring held of the window at the trigger is in the bundle, and was overwritten since
before = [e for e in now if lo <= e["trace_ns"] <= hi]
key = lambda e: (e["trace_ns"], e["cpu"], e["event"], json.dumps(e["fields"], sort_keys=True))
have = {key(e) for e in b}
missing = [e for e in before if key(e) not in have]
if missing:
    sys.exit(f"FAIL: {len(missing)} of the {len(before)} events the ring held of the window at the first collect are not in the bundle")
oldest_end = min(e["trace_ns"] for e in end)
kept = [e for e in before if e["trace_ns"] < oldest_end]
if not kept:
    sys.exit("FAIL: the ring did not wrap over the window's start: the test proves nothing")
# the user events of each load run: consecutive sequence numbers per thread
seqs = {}
for e in b:
    if e["event"] == "rp_tick":
        seqs.setdefault((e["fields"]["msg"].split("-")[0], e["fields"]["thread"]), []).append(e["fields"]["seq"])
for k, s in seqs.items():
    s.sort()
    if s != list(range(s[0], s[-1] + 1)) and k[0].startswith("load"):
        print(f"note: {k}: {s[-1] - s[0] + 1 - len(s)} sequence numbers missing (kernel or ring loss)")
print(f"ok: {len(b)} events; {len(kept)} of them the ring overwrote after the first collect")
PY
exit $fail
