#!/usr/bin/env bash
# uev-replay alone on a ring file written by replay-mkruns (two runs, one
# event each): both events decoded. With no-tracefs (a -Drecorder=false
# build), the binary must load neither libtracefs nor liburing (ldd); with
# no-tracedat, --trace-dat must refuse with a message and write nothing.
# usage: standalone.sh UEV-REPLAY REPLAY-MKRUNS any|no-tracefs tracedat|no-tracedat
set -uo pipefail
REPLAY=$1 MKRUNS=$2 LINK=$3 TRACEDAT=$4
T=$(mktemp -d /tmp/uevstandalone.XXXXXX)
trap 'rm -rf "$T"' EXIT
fail=0
"$MKRUNS" "$T/r.ring" || exit 1
"$REPLAY" --json "$T/r.ring" >"$T/r.json" 2>"$T/r.err" || { echo "FAIL: uev-replay --json"; cat "$T/r.err"; fail=1; }
python3 - "$T/r.json" <<'PY' || fail=1
import json, sys
got = [(e['run'], e['event'], e['fields']) for e in map(json.loads, open(sys.argv[1]))]
want = [(1, 'uevtest:alpha', {'value': 111}), (2, 'uevtest:beta', {'big': 222})]
if got != want:
    print('FAIL: uev-replay --json: %s, wanted %s' % (got, want))
    sys.exit(1)
PY
ldd "$REPLAY" >"$T/ldd" || { echo "FAIL: ldd $REPLAY"; fail=1; }
if grep -q liburing "$T/ldd"; then echo "FAIL: uev-replay loads liburing:"; cat "$T/ldd"; fail=1; fi
if [ "$LINK" = no-tracefs ] && grep -Eq 'libtracefs|libtracecmd' "$T/ldd"; then
	echo "FAIL: uev-replay of a -Drecorder=false build loads libtracefs or libtracecmd:"; cat "$T/ldd"; fail=1
fi
if [ "$TRACEDAT" = no-tracedat ]; then
	if "$REPLAY" --trace-dat "$T/r.dat" "$T/r.ring" >/dev/null 2>"$T/dat.err"; then
		echo "FAIL: --trace-dat succeeded without libtracecmd"; fail=1
	fi
	grep -q "no trace.dat export in this build" "$T/dat.err" || { echo "FAIL: --trace-dat message:"; cat "$T/dat.err"; fail=1; }
	[ ! -e "$T/r.dat" ] || { echo "FAIL: --trace-dat wrote $T/r.dat"; fail=1; }
fi
[ "$fail" -eq 0 ] && echo PASS
exit "$fail"
