#!/usr/bin/env bash
# Ring files recorded on machines of another byte order or word size
# (replay-mkforeign synthesizes their pages field by field): uev-replay and
# uev-ringdump decode every one to the same events; a file of a layout no
# decoder reads, and a trace.dat export of another machine's pages, are
# refused with a message naming the file, its layout and this machine's.
# A version 2 file (before the layout was recorded) still reads.
# usage: foreign.sh UEV-REPLAY UEV-RINGDUMP REPLAY-MKFOREIGN
set -uo pipefail
REPLAY=$1 RINGDUMP=$2 MK=$3
T=$(mktemp -d /tmp/uevforeign.XXXXXX)
trap 'rm -rf "$T"' EXIT
fail=0
want() { # file pattern what
	grep -Eq -- "$2" "$1" || { echo "FAIL: $3: no '$2' in:"; cat "$1"; fail=1; }
}
same() { # file text what: the whole of file is text
	[ "$(cat "$1")" = "$2" ] || { echo "FAIL: $3: got '$(cat "$1")', wanted '$2'"; fail=1; }
}
host=$(python3 -c 'import struct, sys; print("%s-endian, %d-byte long" % (sys.byteorder, struct.calcsize("l")))')

for l in be64 le32 be32 le64 v2; do
	"$MK" "$T/$l.ring" "$l" || { echo "FAIL: replay-mkforeign $l"; fail=1; continue; }
	"$REPLAY" --json "$T/$l.ring" >"$T/$l.json" 2>"$T/$l.err" || { echo "FAIL: uev-replay --json $l"; cat "$T/$l.err"; fail=1; }
	python3 - "$T/$l.json" "$l" <<'PY' || fail=1
import json, sys
addr = 0xdeadbeef if sys.argv[2].endswith("32") else 0xffff0000deadbeef
got = [(e["trace_ns"], e["pid"], e["comm"], e["event"], e.get("lost_before"), e["fields"])
       for e in map(json.loads, open(sys.argv[1]))]
want = [(5000001000, 4242, "fx", "uevtest:kev", None, {"addr": addr, "value": -7, "msg": "kernel"}),
        (5000010000, 4242, "fx", "fx_user", 7,
         {"a": 0x1234, "b": 0x89abcdef, "c": 0x0123456789abcdef, "d": -5, "s": "swapped"}),
        (5000012000, 4242, "fx", "uevtest:kev", None, {"addr": addr, "value": 8, "msg": "kernel"})]
if got != want:
    print("FAIL: uev-replay --json %s:\n  got  %s\n  want %s" % (sys.argv[2], got, want))
    sys.exit(1)
PY
	"$RINGDUMP" "$T/$l.ring" >"$T/$l.dump" 2>&1 || { echo "FAIL: uev-ringdump $l"; fail=1; }
	want "$T/$l.dump" "fx_user .*a=4660 b=2309737967 c=81985529216486895 d=-5 s=\"swapped\"$" "uev-ringdump $l"
	want "$T/$l.dump" "uevtest:kev +addr=(ffff0000)?deadbeef value=8 msg=kernel$" "uev-ringdump $l"
	want "$T/$l.dump" "^# 3 events, 1 announcements, 7 lost in the kernel, 0 problems reported$" "uev-ringdump $l"
done
"$REPLAY" --no-header "$T/le32.ring" >"$T/le32.txt" 2>&1 || { echo "FAIL: uev-replay le32"; fail=1; }
want "$T/le32.txt" "uevtest:kev: addr=deadbeef value=-7 msg=kernel$" "uev-replay le32"
"$REPLAY" "$T/be64.ring" >"$T/be64.txt" 2>&1 || { echo "FAIL: uev-replay be64"; fail=1; }
want "$T/be64.txt" "uevtest:kev: addr=ffff0000deadbeef value=-7 msg=kernel$" "uev-replay be64"
want "$T/be64.txt" "clock boot, pages big-endian, 8-byte long," "uev-replay header be64"
"$REPLAY" "$T/v2.ring" >"$T/v2.txt" 2>&1
if [ "$host" != "little-endian, 8-byte long" ]; then
	want "$T/v2.txt" "pages little-endian, 8-byte long," "uev-replay header v2"
elif grep -q "pages " "$T/v2.txt"; then
	echo "FAIL: the header names this machine's own layout:"; cat "$T/v2.txt"; fail=1
fi

# trace.dat holds this machine's layout: another's is refused, by name.
for l in be64 le32; do
	case $l in be64) theirs="big-endian, 8-byte long" ;; le32) theirs="little-endian, 4-byte long" ;; esac
	[ "$theirs" = "$host" ] && continue
	"$REPLAY" --trace-dat "$T/$l.dat" "$T/$l.ring" >/dev/null 2>"$T/$l.daterr"
	rc=$?
	[ "$rc" -eq 1 ] || { echo "FAIL: --trace-dat $l exit $rc"; fail=1; }
	same "$T/$l.daterr" "uev-replay: $T/$l.ring: run 1 was recorded as $theirs, and a trace.dat is written as this machine's pages are ($host): export it on a machine like the recording one, or read the ring file with uev-replay" "--trace-dat $l"
	[ ! -e "$T/$l.dat" ] || { echo "FAIL: --trace-dat $l left a file"; fail=1; }
done
if [ "$host" = "little-endian, 8-byte long" ]; then
	"$REPLAY" --trace-dat "$T/v2.dat" "$T/v2.ring" >/dev/null 2>"$T/v2.daterr" || { echo "FAIL: --trace-dat v2"; cat "$T/v2.daterr"; fail=1; }
	if command -v trace-cmd >/dev/null; then
		trace-cmd report -i "$T/v2.dat" >"$T/v2.report" 2>&1 || { echo "FAIL: trace-cmd report v2"; fail=1; }
		want "$T/v2.report" "kev: +addr=ffff0000deadbeef value=8 msg=kernel" "trace-cmd report v2"
	fi
fi

# A layout no decoder reads: every tool refuses the file, naming it.
"$MK" "$T/bad.ring" bad || { echo "FAIL: replay-mkforeign bad"; fail=1; }
msg="$T/bad.ring: run 1 was recorded as little-endian, 2-byte long, which this build cannot decode (this machine: $host)"
"$REPLAY" "$T/bad.ring" >"$T/bad.out" 2>"$T/bad.err"
rc=$?
[ "$rc" -eq 1 ] || { echo "FAIL: uev-replay bad exit $rc"; fail=1; }
same "$T/bad.err" "uev-replay: $msg" "uev-replay bad"
[ ! -s "$T/bad.out" ] || { echo "FAIL: uev-replay bad printed events:"; cat "$T/bad.out"; fail=1; }
"$RINGDUMP" "$T/bad.ring" >"$T/bad.out" 2>"$T/bad.err"
rc=$?
[ "$rc" -eq 1 ] || { echo "FAIL: uev-ringdump bad exit $rc"; fail=1; }
same "$T/bad.err" "uev-ringdump: $msg" "uev-ringdump bad"
"$REPLAY" --trace-dat "$T/bad.dat" "$T/bad.ring" >/dev/null 2>"$T/bad.err"
same "$T/bad.err" "uev-replay: $msg" "uev-replay --trace-dat bad"
[ "$fail" -eq 0 ] && echo PASS
exit "$fail"
