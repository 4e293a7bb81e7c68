#!/usr/bin/env bash
# uev-replay on a file that a crash loop wrote: a real aggregator on this
# kernel killed with -9 round after round on one ring file. Each killed run
# leaves a torn tail; uev-replay sums them up in one header line and the
# summary (a line each only with --verbose), and still reports real damage
# line by line. Then a file that shrinks under --follow: named, with the
# offset, and exit status 1.
# usage: unclean.sh UEV-AGGREGATOR UEV-REPLAY REPLAY-EMIT
set -uo pipefail
AGG=$1 REPLAY=$2 EMIT=$3
. "$(dirname "$0")/../cli-lib.sh"

T=$(mktemp -d /tmp/uevunclean.XXXXXX)
seat=uevuc$$
agg=
cleanup() {
	[ -n "$agg" ] && kill -9 "$agg" 2>/dev/null
	wait 2>/dev/null
	# a killed daemon's io_uring requests hold the instance a moment
	for _ in $(seq 50); do
		[ -d "/sys/kernel/tracing/instances/uev.$seat" ] || break
		rmdir "/sys/kernel/tracing/instances/uev.$seat" 2>/dev/null || sleep 0.1
	done
	if [ -n "${UEV_KEEP:-}" ]; then echo "kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT
KILLS=${KILLS:-6}

cat >"$T/c.conf" <<CONF
[seat]
clock = boot
flush_interval_ms = 50
buffer_kb = 1024
[ring]
path = $T/c.ring
size = 2M
[kernel]
event = printk:console
CONF
start() {
	rm -f "$T/run/$seat.enable"
	"$AGG" --seat "$seat" --config "$T/c.conf" --run-dir "$T/run" --keep-instance 2>>"$T/agg.log" &
	agg=$!
	for _ in $(seq 100); do [ -e "$T/run/$seat.enable" ] && return 0; sleep 0.1; done
	echo "FAIL: the aggregator did not start"; cat "$T/agg.log"; exit 1
}
emit() { "$EMIT" "$seat" "$T/run" "$1" "$2" || { echo "FAIL: emitter"; exit 1; }; }

# A first run fills the ring more than once, so that every later run's
# last segment has an earlier lap's bytes behind its last record: what a
# killed run leaves there is a torn tail, not zeros. Then the crash loop,
# each killed run small enough for all of them to stay in the ring.
start; emit 40000 fill; kill -TERM "$agg"; wait "$agg"
for k in $(seq "$KILLS"); do
	start; emit 200 "k$k"; sleep 0.3; kill -9 "$agg"; wait "$agg" 2>/dev/null
done
agg=

# The counts, as --stats --json gives them.
"$REPLAY" --stats --json "$T/c.ring" >"$T/stats.json" 2>"$T/stats.err" ||
	{ echo "FAIL: --stats --json -> $?"; cat "$T/stats.err"; fail=1; }
read -r runs unclean torn problems < <(python3 -c "import json,sys
s=json.load(open(sys.argv[1])); print(s['runs'], s['unclean_runs'], s['torn_tails'], s['problems'])" "$T/stats.json")
echo "crash loop: $KILLS kills, runs=$runs unclean_runs=$unclean torn_tails=$torn problems=$problems"
# The ring keeps the newest runs: every killed one is unclean, the first
# (stopped with TERM) is not, if it is still there.
"$REPLAY" "$T/c.ring" >"$T/out.txt" 2>"$T/out.err" || { echo "FAIL: uev-replay -> $?"; fail=1; }
n=$(grep -cE '^#   run ([2-9]|[1-9][0-9]+): .*, no clean stop$' "$T/out.txt")
[ "$n" -eq "$unclean" ] && [ "$n" -eq "$(grep -cE '^#   run ([2-9]|[1-9][0-9]+): ' "$T/out.txt")" ] ||
	{ echo "FAIL: $unclean runs without a clean stop, $n killed"; grep '^#' "$T/out.txt"; fail=1; }
grep -q '^#   run 1: .*, no clean stop$' "$T/out.txt" && { echo "FAIL: the TERM'd run has no clean stop"; fail=1; }
# A torn tail needs a kill while a write was in flight: the stage writes
# back what the killed run had not written and the next run continues
# right after it (docs/ring-format.md), so a crash loop may leave none.
[ "$unclean" -ge 2 ] ||
	{ echo "FAIL: $unclean killed runs in the ring: nothing to sum up"; fail=1; }
[ "$problems" -eq 0 ] || { echo "FAIL: $problems problems: $(head -3 "$T/stats.err")"; fail=1; }

# By default: nothing on stderr (no damage, and no line per torn tail),
# one header line with the count, the same count in the summary.
n=$(wc -l <"$T/out.err")
[ "$n" -eq 0 ] || { echo "FAIL: $n lines on stderr by default"; head -3 "$T/out.err"; fail=1; }
if [ "$torn" -eq 0 ]; then
	n=$(grep -c "^#   $unclean runs ended without a clean stop (killed, crashed or still running)$" "$T/out.txt")
else
	n=$(grep -cE "^#   $unclean runs ended without a clean stop.*: $torn torn tails? skipped, at offsets? [0-9]" "$T/out.txt")
fi
[ "$n" -eq 1 ] || { echo "FAIL: header: $n summary lines"; grep '^#' "$T/out.txt"; fail=1; }
grep -qE "^# .*, $unclean runs without a clean stop \($torn torn tails? skipped\), 0 problems in the files$" \
	"$T/out.txt" || { echo "FAIL: summary line"; tail -1 "$T/out.txt"; fail=1; }
# --verbose and --stats: a line each.
"$REPLAY" --verbose "$T/c.ring" >/dev/null 2>"$T/verbose.err" || { echo "FAIL: --verbose -> $?"; fail=1; }
n=$(grep -c "torn tail at seq .*where a run stopped without a clean end" "$T/verbose.err")
[ "$n" -eq "$torn" ] || { echo "FAIL: --verbose: $n torn-tail lines, $torn torn tails"; fail=1; }
n=$(grep -c "torn tail at seq" "$T/stats.err")
[ "$n" -eq "$torn" ] || { echo "FAIL: --stats: $n torn-tail lines, $torn torn tails"; fail=1; }
"$REPLAY" --stats "$T/c.ring" >"$T/stats.txt" 2>/dev/null
grep -q "^runs: [0-9]*, $unclean ended without a clean stop" "$T/stats.txt" &&
	grep -q "^torn tails of those runs, skipped: $torn$" "$T/stats.txt" ||
	{ echo "FAIL: --stats text"; cat "$T/stats.txt"; fail=1; }

# Real damage is still reported line by line: a byte flipped in the
# first record of a run's last segment, which has records after it, looks
# like no kill: the run's records stop there with records of the segment
# after them. That record is the segment's RUN_START: when the segment is
# its run's first (run_segment 0), no other copy of it exists, and the
# run's pages there are skipped and said so, a second problem.
read -r off rseg < <(python3 -c "import struct,sys
b=open(sys.argv[1],'rb').read(); S=struct.unpack_from('<I',b,24)[0]; N=struct.unpack_from('<I',b,28)[0]
segs={}
for i in range(N):
    base=4096+i*S
    if b[base:base+4]==b'USEG':
        seq,first,run,rs=struct.unpack_from('<QQQI',b,base+8); segs[seq]=(run,base,rs)
hits=[]
for seq,(run,base,rs) in sorted(segs.items()):
    if seq+1 in segs and segs[seq+1][0]==run: continue
    ln=struct.unpack_from('<I',b,base+64+4)[0]
    nxt=base+64+((24+ln+7)&~7)
    if struct.unpack_from('<I',b,nxt+16)[0]==seq&0xffffffff: hits.append((base+64+24,rs))
print(*hits[len(hits)//2])" "$T/c.ring")
cp "$T/c.ring" "$T/flipped.ring"
python3 -c "import sys
f=open(sys.argv[1],'r+b'); f.seek(int(sys.argv[2])); c=f.read(1); f.seek(int(sys.argv[2])); f.write(bytes([c[0]^0x40]))" \
	"$T/flipped.ring" "$off"
expect 0 "record CRC mismatch); 1 record lost, reading goes on at seq" "$REPLAY" "$T/flipped.ring"
"$REPLAY" "$T/flipped.ring" >"$T/flipped.txt" 2>/dev/null
want=1
if [ "$rseg" -eq 0 ]; then
	want=2
	expect 0 "pages skipped (the first of run" "$REPLAY" "$T/flipped.ring"
fi
grep -q ", $want problems in the files$" "$T/flipped.txt" ||
	{ echo "FAIL: flipped summary (run_segment $rseg)"; tail -1 "$T/flipped.txt"; fail=1; }

# A file that shrinks while --follow reads it: the failure is named with
# its offset, the replay ends (no file left to follow), exit status 1.
cp "$T/c.ring" "$T/shrink.ring"
"$REPLAY" --follow "$T/shrink.ring" >"$T/follow.out" 2>"$T/follow.err" &
fpid=$!
sleep 1.5
truncate -s 400K "$T/shrink.ring"
for _ in $(seq 50); do kill -0 "$fpid" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$fpid" 2>/dev/null; then
	echo "FAIL: --follow still running after its only file shrank"; kill "$fpid"; fail=1
fi
wait "$fpid"; rc=$?
[ "$rc" -eq 1 ] || { echo "FAIL: --follow on a shrunk file: exit $rc, wanted 1"; fail=1; }
grep -Eq "^uev-replay: $T/shrink.ring: at offset [0-9]+: .*the file shrank to 409600 bytes while being read \(its ring has [0-9]+\); the rest of the file is not read$" \
	"$T/follow.err" || { echo "FAIL: --follow shrink message"; cat "$T/follow.err"; fail=1; }
[ -s "$T/follow.out" ] || { echo "FAIL: --follow showed nothing before the file shrank"; fail=1; }

[ "$fail" -eq 0 ] && echo "PASS"
exit "$fail"
