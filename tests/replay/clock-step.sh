#!/usr/bin/env bash
# The wall clock stepped between two runs of one boot (NTP, a virtual
# machine restored): replay-mkruns FILE step writes run 1's event at
# trace 5 s = wall W, and run 2's at trace 15 s = wall W + 15 s (its SYNC
# says so). The merge keeps one timeline per boot; what a user sees and
# selects by is the wall time: the header's run spans, the events' times,
# --since and --until, and the --stats span all go by each run's own sync
# points. (Found when ./demo.sh on a restored machine showed none of its
# own events: --since compared the boot's first offset.)
# usage: clock-step.sh UEV-REPLAY REPLAY-MKRUNS
set -uo pipefail
REPLAY=$1 MKRUNS=$2
T=$(mktemp -d /tmp/uevclockstep.XXXXXX)
trap 'rm -rf "$T"' EXIT
fail=0
W=1700000000 # fake-kernel.h's WALL, in seconds
"$MKRUNS" "$T/r.ring" step || exit 1

# want ARGS... -- EXPECTED: the events (by field) uev-replay ARGS shows
want() {
	local args=() exp
	while [ "$1" != -- ]; do args+=("$1"); shift; done
	exp=$2
	got=$("$REPLAY" --json "${args[@]}" "$T/r.ring" 2>/dev/null | python3 -c '
import json, sys
print(" ".join("%s@%d" % (list(e["fields"])[0], e["wall_ns"] // 10**9) for e in map(json.loads, sys.stdin)))')
	if [ "$got" != "$exp" ]; then echo "FAIL: uev-replay ${args[*]}: '$got', wanted '$exp'"; fail=1; fi
}
want -- "value@$W big@$((W + 15))"
want --since "@$((W + 12))" -- "big@$((W + 15))"
want --until "@$((W + 12))" -- "value@$W"
want --since "@$((W + 14))" --until "@$((W + 16))" -- "big@$((W + 15))"

"$REPLAY" "$T/r.ring" >"$T/head" 2>&1
run2=$(date -d "@$((W + 15))" '+%Y-%m-%d %H:%M:%S')
grep -q "^#   run 2: .* $run2\.000000 to $run2\.000000" "$T/head" ||
	{ echo "FAIL: the header's run 2 is not at $run2:"; grep "run 2" "$T/head"; fail=1; }
"$REPLAY" --stats "$T/r.ring" >"$T/stats" 2>&1
grep -q "^span: .* (10.000000 s on the trace clock, 15.000000 s on the wall clock)$" "$T/stats" ||
	{ echo "FAIL: --stats span:"; grep span "$T/stats"; fail=1; }
[ "$fail" -eq 0 ] && echo "PASS: run spans, times, --since, --until and the span by each run's wall clock"
exit "$fail"
