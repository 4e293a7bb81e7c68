#!/usr/bin/env bash
# Two runs in one ring segment, on two boots, event id 600 meaning
# uevtest:alpha in the first and uevtest:beta in the second
# (replay-mkruns): uev-replay (text and JSON), uev-ringdump and the
# trace-cmd export must each decode every event with its own run's format.
# usage: runs-share.sh UEV-REPLAY UEV-RINGDUMP REPLAY-MKRUNS
set -uo pipefail
REPLAY=$1 RINGDUMP=$2 MKRUNS=$3
T=$(mktemp -d /tmp/uevruns.XXXXXX)
trap 'rm -rf "$T"' EXIT
fail=0
want() { # file pattern what
	grep -Eq -- "$2" "$1" || { echo "FAIL: $3: no '$2' in:"; cat "$1"; fail=1; }
}
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
"$REPLAY" --no-header "$T/r.ring" >"$T/r.txt" 2>&1 || { echo "FAIL: uev-replay"; fail=1; }
want "$T/r.txt" "uevtest:alpha: value=111$" "uev-replay"
want "$T/r.txt" "uevtest:beta: big=222$" "uev-replay"
"$RINGDUMP" "$T/r.ring" >"$T/dump.txt" 2>&1 || { echo "FAIL: uev-ringdump"; fail=1; }
want "$T/dump.txt" "uevtest:alpha +value=111$" "uev-ringdump"
want "$T/dump.txt" "uevtest:beta +big=222$" "uev-ringdump"
"$RINGDUMP" --last-run "$T/r.ring" >"$T/last.txt" 2>&1 || { echo "FAIL: uev-ringdump --last-run"; fail=1; }
if grep -q alpha "$T/last.txt"; then echo "FAIL: uev-ringdump --last-run shows run 1"; fail=1; fi
want "$T/last.txt" "uevtest:beta +big=222$" "uev-ringdump --last-run"
# --trace-dat exports the newest run: run 2's page, with run 2's format.
"$REPLAY" --trace-dat "$T/r.dat" "$T/r.ring" >/dev/null 2>"$T/dat.err" || { echo "FAIL: --trace-dat"; cat "$T/dat.err"; fail=1; }
want "$T/dat.err" "wrote 1 pages" "uev-replay --trace-dat"
if command -v trace-cmd >/dev/null; then
	trace-cmd report -i "$T/r.dat" >"$T/dat.txt" 2>&1 || { echo "FAIL: trace-cmd report"; fail=1; }
	want "$T/dat.txt" "beta: +big=222" "trace-cmd report"
	if grep -q alpha "$T/dat.txt"; then echo "FAIL: the export holds run 1's event"; fail=1; fi
fi
[ "$fail" -eq 0 ] && echo PASS
exit "$fail"
