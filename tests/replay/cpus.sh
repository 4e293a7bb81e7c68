#!/usr/bin/env bash
# A ring file whose PAGE records carry CPUs 0, 257, 1000, 4095 and 65534
# (replay-mkcpus), as a machine with that many (or that sparse) CPUs
# records them: uev-replay (text, JSON, --stats, --stats --json) and
# uev-ringdump show every event with its CPU; CPU 65535, which the ring's
# 16-bit cpu field cannot carry, is refused by the writer. Replay once
# kept 256 CPUs for --stats and its run ends, and a stream for every CPU
# number up to the highest (4096 descriptors for CPU 4095).
# usage: cpus.sh UEV-REPLAY UEV-RINGDUMP REPLAY-MKCPUS
set -uo pipefail
REPLAY=$1 RINGDUMP=$2 MKCPUS=$3
T=$(mktemp -d /tmp/uevcpus.XXXXXX)
trap 'rm -rf "$T"' EXIT
fail=0
CPUS="0 257 1000 4095 65534"
want() { # file pattern what
	grep -Eq -- "$2" "$1" || { echo "FAIL: $3: no '$2' in:"; cat "$1"; fail=1; }
}
# shellcheck disable=SC2086
"$MKCPUS" "$T/r.ring" $CPUS 65535 >"$T/mk.txt" || { echo "FAIL: replay-mkcpus"; exit 1; }
want "$T/mk.txt" "^refused CPU 65535$" "the writer"
# A low limit of open files: a stream per CPU that has pages, not per number.
(ulimit -n 64; "$REPLAY" --json "$T/r.ring") >"$T/r.json" 2>"$T/r.err" ||
	{ echo "FAIL: uev-replay --json"; cat "$T/r.err"; fail=1; }
grep -v '^#' "$T/r.err" && { echo "FAIL: uev-replay --json reported the above"; fail=1; }
python3 - "$T/r.json" "$CPUS" <<'PY' || fail=1
import json, sys
got = [(e['cpu'], e['event'], e['fields']['value']) for e in map(json.loads, open(sys.argv[1]))]
want = [(c, 'uevtest:alpha', c) for c in map(int, sys.argv[2].split())]
if got != want:
    print('FAIL: uev-replay --json: %s, wanted %s' % (got, want))
    sys.exit(1)
PY
"$REPLAY" --no-header "$T/r.ring" >"$T/r.txt" 2>&1 || { echo "FAIL: uev-replay"; fail=1; }
"$REPLAY" --stats "$T/r.ring" >"$T/stats.txt" 2>&1 || { echo "FAIL: uev-replay --stats"; fail=1; }
want "$T/stats.txt" "^events: 5 shown of 5 read$" "uev-replay --stats"
"$RINGDUMP" "$T/r.ring" >"$T/dump.txt" 2>&1 || { echo "FAIL: uev-ringdump"; fail=1; }
for c in $CPUS; do
	want "$T/r.txt" "\[0*$c\] .*uevtest:alpha: value=$c$" "uev-replay, CPU $c"
	want "$T/stats.txt" "^  cpu$c +1$" "uev-replay --stats, CPU $c"
	want "$T/dump.txt" " cpu$c .*uevtest:alpha +value=$c$" "uev-ringdump, CPU $c"
done
"$REPLAY" --stats --json "$T/r.ring" >"$T/stats.json" 2>/dev/null || { echo "FAIL: uev-replay --stats --json"; fail=1; }
python3 - "$T/stats.json" "$CPUS" <<'PY' || fail=1
import json, sys
got = json.load(open(sys.argv[1]))['per_cpu']
want = {c: 1 for c in sys.argv[2].split()}
if got != want:
    print('FAIL: uev-replay --stats --json per_cpu: %s, wanted %s' % (got, want))
    sys.exit(1)
PY
# trace.dat: a file per CPU number, so it takes those a kernel can have.
"$REPLAY" --trace-dat "$T/r.dat" "$T/r.ring" >/dev/null 2>"$T/dat.err" || { echo "FAIL: --trace-dat"; cat "$T/dat.err"; fail=1; }
want "$T/dat.err" "wrote 4 pages" "uev-replay --trace-dat"
want "$T/dat.err" "PAGE of cpu 65534: a trace.dat export takes CPUs 0 to 8191 \(no kernel has more\); skipped" "uev-replay --trace-dat"
if command -v trace-cmd >/dev/null; then
	trace-cmd report -i "$T/r.dat" >"$T/dat.txt" 2>&1 || { echo "FAIL: trace-cmd report"; fail=1; }
	for c in 0 257 1000 4095; do
		want "$T/dat.txt" "\[0*$c\] .*alpha: +value=$c$" "trace-cmd report, CPU $c"
	done
fi
[ "$fail" -eq 0 ] && echo PASS
exit "$fail"
