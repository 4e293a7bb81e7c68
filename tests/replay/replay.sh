#!/usr/bin/env bash
# uev-replay on real ring files from this machine's kernel: three recordings
# (an older one of seat C, then seats A and B at the same time), replayed
# alone and merged, through every output and filter, checked by check.py
# against what the emitters wrote. Then damaged files and bad usage.
# usage: replay.sh UEV-AGGREGATOR UEV-REPLAY REPLAY-EMIT CHECK.PY
set -uo pipefail
AGG=$1 REPLAY=$2 EMIT=$3 CHECK=$4
. "$(dirname "$0")/../cli-lib.sh"

T=$(mktemp -d /tmp/uevreplay.XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	if [ -n "${UEV_KEEP:-}" ]; then echo "kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT
N=${N:-1500}

# start SEAT: an aggregator on seat uevrp<pid><SEAT>, ring $T/SEAT.ring
start() {
	local seat=uevrp$$$1
	cat >"$T/$1.conf" <<CONF
[seat]
clock = boot
flush_interval_ms = 200
buffer_kb = 4096
[ring]
path = $T/$1.ring
size = 8M
[kernel]
event = printk:console
event = sched:sched_process_fork
event = sched:sched_process_exec
event = task:task_rename
CONF
	"$AGG" --seat "$seat" --config "$T/$1.conf" --run-dir "$T/run" 2>"$T/$1.agg.log" &
	pids+=($!)
	eval "agg_$1=$!"
	for _ in $(seq 100); do [ -e "$T/run/$seat.enable" ] && return 0; sleep 0.1; done
	echo "FAIL: aggregator for $1 did not start"; cat "$T/$1.agg.log"; exit 1
}
stop() { local v="agg_$1"; kill -TERM "${!v}"; wait "${!v}" || { echo "FAIL: aggregator $1 exit $?"; fail=1; }; }
emit() { "$EMIT" "uevrp$$$1" "$T/run" "$N" "${2:-$1}" || { echo "FAIL: emitter $1"; exit 1; }; }

# An older recording (seat C), then A and B together.
start C; emit C; stop C
sleep 0.3
start A; start B
# A marker record no announcement explains: printed as hex, never a stop.
python3 -c "import struct,sys; open(sys.argv[1],'wb').write(struct.pack('<I',0x5eed1234)+b'nobody-announced-me')" \
	"/sys/kernel/tracing/instances/uev.uevrp$$A/trace_marker_raw" || { echo "FAIL: raw marker write"; fail=1; }
# --follow on A from before anything was emitted: it must see every event
# as it comes, announced after its first pass over the file.
"$REPLAY" --follow --json --event rp_tick "$T/A.ring" >"$T/follow.json" 2>"$T/follow.err" &
fpid=$!
sleep 0.5
emit A & e1=$!
emit B & e2=$!
wait $e1 $e2
N=300 emit A A2
sleep 2.5
kill "$fpid"; wait "$fpid" 2>/dev/null
stop A; stop B

run() { # name args... : stdout to $T/name, exit status must be 0
	local name=$1; shift
	"$REPLAY" "$@" >"$T/$name" 2>"$T/$name.err" || { echo "FAIL: uev-replay $* -> $?"; cat "$T/$name.err"; fail=1; }
}
run a.json --json "$T/A.ring"
run a.txt "$T/A.ring"
run a-rel.txt --no-header --time=relative "$T/A.ring"
run a-boot.txt --no-header --time=boot --utc "$T/A.ring"
run all.json --json "$T/C.ring" "$T/A.ring" "$T/B.ring"
run all.txt --no-header "$T/C.ring" "$T/A.ring" "$T/B.ring"
run stats.txt --stats "$T/C.ring" "$T/A.ring" "$T/B.ring"
run a.perfetto.out --perfetto "$T/a.perfetto" "$T/A.ring"
run f-event.json --json --event 'rp_*' "$T/A.ring" "$T/B.ring"
run f-noevent.json --json --event '!rp_*' --event '!sched:*' "$T/A.ring" "$T/B.ring"
pid1=$(python3 -c "import json,sys
for l in open(sys.argv[1]):
    o=json.loads(l)
    if o['event']=='rp_tick' and o['fields']['thread']==1: print(o['pid']); break" "$T/a.json")
run f-pid.json --json --pid "$pid1" "$T/A.ring"
run f-comm.json --json --comm 'replay-em*' "$T/A.ring"
read -r since until < <(python3 -c "import json,sys
w=[json.loads(l)['wall_ns'] for l in open(sys.argv[1])]
w.sort(); a=w[len(w)//4]; b=w[3*len(w)//4]
print('@%d.%09d @%d.%09d' % (a//10**9, a%10**9, b//10**9, b%10**9))" "$T/a.json")
run f-time.json --json --since "$since" --until "$until" "$T/A.ring"
# half the recording, counted back from its end
rel=$(python3 -c "import json,sys
w=[json.loads(l)['wall_ns'] for l in open(sys.argv[1])]
print('%.3fs' % ((max(w) - min(w)) / 2e9))" "$T/a.json")
run f-rel.json --json --since "-$rel" "$T/A.ring"
run f-grep.txt --no-header --grep 'msg="A-t1-s1[0-9]{2}-' "$T/A.ring"
if command -v trace-cmd >/dev/null; then
	run a.dat.out --trace-dat "$T/a.dat" "$T/A.ring"
	trace-cmd report -i "$T/a.dat" >"$T/a.dat.txt" 2>"$T/a.dat.err" || { echo "FAIL: trace-cmd report"; fail=1; }
fi
python3 "$CHECK" "$T" "$N" "$since" "$until" || fail=1
# Retention in the header: the events the file holds (as --stats counts
# them: all of them, the two sync markers and the announcements aside)
# and how its pages are stored.
held=$(sed -n 's/^# .*A\.ring: .* records, \([0-9]*\) events, .*/\1/p' "$T/a.txt")
shown=$("$REPLAY" --stats "$T/A.ring" 2>/dev/null | sed -n 's/^events: \([0-9]*\) shown.*/\1/p')
[ -n "$held" ] && [ "$held" -ge "$shown" ] && [ "$held" -le $((shown + 40)) ] ||
	{ echo "FAIL: the header says ${held:-no} events, --stats shows $shown"; fail=1; }
grep -q "^#   run 1: .*, compression zstd:1, " "$T/a.txt" || { echo "FAIL: the header does not name the run's compression"; fail=1; }
grep -q "^#   pages: [0-9]* in [0-9]* compressed units" "$T/a.txt" || { echo "FAIL: the header has no pages line"; fail=1; }

# Damage: the reader reports, skips and goes on; exit 1 only when nothing
# could be read. The checks on what survives are in check.py's damage part.
# The damage lands inside the part of the file the recording used, which
# compression makes a fraction of what raw pages take: zeros over its
# middle fifth (whole blocks); a bit flipped in each of the four largest
# data records (each costs its own unit of pages, nothing else); a bit
# flipped in the format of ftrace:raw_data, which carries every user event
# on this kernel (the only copy in this one-segment file: those events can
# no longer be decoded and must show by id, each once, never misdecoded,
# while every other event is untouched).
used() { python3 -c "import sys; print(len(open(sys.argv[1],'rb').read().rstrip(b'\0')))" "$1"; }
u=$(used "$T/A.ring")
z0=$(( (4096 + (u - 4096) * 2 / 5) / 4096 )) z1=$(( (4096 + (u - 4096) * 3 / 5) / 4096 ))
[ "$z1" -gt "$z0" ] || { echo "FAIL: A.ring uses only $u bytes"; fail=1; z1=$((z0 + 1)); }
cp "$T/A.ring" "$T/zeroed.ring"
dd if=/dev/zero of="$T/zeroed.ring" bs=4096 seek="$z0" count=$((z1 - z0)) conv=notrunc status=none
# Zeros over the run's last records look just like a writer killed while
# writing them (a torn end, in the header by default): --verbose reports
# both kinds line by line.
expect 0 "at offset" "$REPLAY" --verbose "$T/zeroed.ring"
DAMAGE=$(dirname "$CHECK")/damage.py
python3 "$DAMAGE" "$T/A.ring" "$T/flipped.ring" units "${RANDOM}" >"$T/flipped.at" || fail=1
expect 0 "record CRC mismatch" "$REPLAY" "$T/flipped.ring"
python3 "$DAMAGE" "$T/A.ring" "$T/noformat.ring" format ftrace:raw_data >/dev/null || fail=1
expect 0 "record CRC mismatch" "$REPLAY" "$T/noformat.ring"
# A run whose only RUN_START is damaged: its pages cannot be decoded, and
# that is said with how many, never passed over in silence.
python3 "$DAMAGE" "$T/A.ring" "$T/norun.ring" runstart - >/dev/null || fail=1
expect 0 "pages skipped (the first of run 1): no valid RUN_START" "$REPLAY" "$T/norun.ring"
head -c 100000 "$T/A.ring" >"$T/trunc.ring"
expect 1 "size mismatch" "$REPLAY" "$T/trunc.ring"
: >"$T/empty.ring"
expect 1 "not a uev ring file" "$REPLAY" "$T/empty.ring"
expect 1 "not a uev ring file" "$REPLAY" /etc/services
expect 1 "No such file" "$REPLAY" "$T/missing.ring"
expect 0 "No such file" "$REPLAY" "$T/missing.ring" "$T/A.ring"
expect 2 "--time" "$REPLAY" --time=local "$T/A.ring"
expect 2 "--since: 'yesterday'" "$REPLAY" --since yesterday "$T/A.ring"
expect 2 "--pid: 'x'" "$REPLAY" --pid 1,x "$T/A.ring"
expect 2 "--grep" "$REPLAY" --grep '(' "$T/A.ring"
expect 2 "no ring file" "$REPLAY"
expect 2 "exactly one" "$REPLAY" --trace-dat "$T/x.dat" "$T/A.ring" "$T/B.ring"
expect 2 "unrecognized" "$REPLAY" --bogus "$T/A.ring"
run zeroed.json --json "$T/zeroed.ring"
run flipped.json --json "$T/flipped.ring"
run noformat.json --json "$T/noformat.ring"
python3 "$CHECK" --damage "$T" || fail=1
[ "$fail" -eq 0 ] && echo "PASS"
exit "$fail"
