#!/usr/bin/env bash
# uev-replay --perfetto on a recording of weston-frames-emit's scripted
# repaint points (no Weston needed): each output a named track, whole frames
# as slices from begin to finished, frames that never finished as
# 'unfinished' instants saying why, vblank and damage instants where
# frames.py expects them.
# usage: frames.sh UEV-AGGREGATOR UEV-REPLAY WESTON-FRAMES-EMIT FRAMES.PY
set -uo pipefail
AGG=$1 REPLAY=$2 EMIT=$3 CHECK=$4
. "$(dirname "$0")/../cli-lib.sh"
[ -d /sys/kernel/tracing/instances ] || { echo "SKIP: no tracefs instances"; exit 77; }

T=$(mktemp -d /tmp/uevframes.XXXXXX)
seat=uevfr$$
agg=
cleanup() {
	[ -n "$agg" ] && kill -KILL "$agg" 2>/dev/null
	wait 2>/dev/null
	rmdir "/sys/kernel/tracing/instances/uev.$seat" 2>/dev/null
	if [ -n "${UEV_KEEP:-}" ]; then echo "kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT
fail=0

cat >"$T/agg.conf" <<CONF
[seat]
clock = mono
flush_interval_ms = 100
[ring]
path = $T/seat.ring
size = 4M
CONF
agg_up "$AGG" "$seat" "$T/agg.conf" "$T"
"$EMIT" "$seat" "$T/run" || { echo "FAIL: weston-frames-emit"; exit 1; }
kill -TERM "$agg"; wait "$agg" || { echo "FAIL: aggregator exit $?"; cat "$T/agg.log"; fail=1; }
agg=

"$REPLAY" --json "$T/seat.ring" >"$T/replay.json" 2>"$T/replay.err" ||
	{ echo "FAIL: uev-replay --json"; cat "$T/replay.err"; exit 1; }
"$REPLAY" --perfetto "$T/replay.perfetto" "$T/seat.ring" 2>"$T/perfetto.err" ||
	{ echo "FAIL: uev-replay --perfetto"; cat "$T/perfetto.err"; exit 1; }
python3 "$CHECK" "$T/replay.json" "$T/replay.perfetto" || fail=1
[ "$fail" = 0 ] && echo "ok: scripted frames drawn as expected"
exit "$fail"
