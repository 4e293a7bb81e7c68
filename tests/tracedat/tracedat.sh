#!/usr/bin/env bash
# trace.dat output (aggregator/tracedat.c) end to end: two runs of a real
# uev-aggregator into one ring file on this machine's kernel, converted and
# read back with trace-cmd. The first run has marker records (uev-demo) and
# kmsg lines, the second only kmsg lines (so no ftrace format: the
# placeholder path). Every record the ring decoder finds in a run's pages
# must come out of `trace-cmd report` with the same CPU, pid and timestamp.
# usage: tracedat.sh UEV-AGGREGATOR UEV-DEMO TRACEDAT-CLI
set -uo pipefail
agg=$1 demo=$2 cli=$3
# shellcheck source=../cli-lib.sh
. "$(dirname "$0")/../cli-lib.sh"
command -v trace-cmd >/dev/null || { echo "SKIP: trace-cmd is not installed"; exit 77; }
dir=$(mktemp -d)
seat="td$$"
apid=
# shellcheck disable=SC2317 # called by trap
cleanup() { # KEEP=1 keeps the files for a look
	[ -n "$apid" ] && kill "$apid" 2>/dev/null && wait "$apid" 2>/dev/null
	rmdir "/sys/kernel/tracing/instances/uev.$seat" 2>/dev/null
	if [ -n "${KEEP:-}" ]; then echo "kept $dir"; else rm -rf "$dir"; fi
}
trap cleanup EXIT
bad() { echo "FAIL: $*"; fail=1; }
ring=$dir/seat.ring
ncpu=$(nproc)

start() {
	"$agg" --seat "$seat" --ring "$ring" --size 1M --flush-interval 100 --run-dir "$dir/run" \
		2>>"$dir/agg.err" &
	apid=$!
	for _ in $(seq 200); do [ -e "/sys/kernel/tracing/instances/uev.$seat" ] && break; sleep 0.05; done
	sleep 0.5 # the reads are armed a moment after the instance exists
}
stop() {
	sleep 0.5 # two flush intervals and then some
	kill -TERM "$apid"; wait "$apid"; local rc=$?
	apid=
	[ "$rc" -eq 0 ] || bad "uev-aggregator exited $rc: $(cat "$dir/agg.err")"
}

# Run 1: markers from uev-demo, kmsg lines from a task named uevtd-kmsg.
start
UEV_BACKEND=marker XDG_SEAT=$seat UEV_RUN_DIR=$dir/run "$demo" -n 20 -i 0 >"$dir/demo.out" ||
	bad "uev-demo failed"
"$cli" kmsg uevtd-kmsg "uevtd-$seat-r1 line" 12 >"$dir/k1" || bad "kmsg run 1"
stop
# Run 2: kmsg lines only.
start
"$cli" kmsg uevtd-kmsg "uevtd-$seat-r2 line" 12 >"$dir/k2" || bad "kmsg run 2"
stop

"$cli" count "$ring" >"$dir/count" 2>"$dir/count.err" || bad "count: $(cat "$dir/count.err")"
[ "$(wc -l <"$dir/count")" -eq 2 ] || bad "expected 2 runs with records, got: $(cat "$dir/count")"
read -r run1 n1 < <(sed -n 1p "$dir/count")
read -r run2 n2 < <(sed -n 2p "$dir/count")
[ "$run2" -gt "$run1" ] 2>/dev/null || bad "runs out of order: $(cat "$dir/count")"

# "CPU PID TS" of every event line of a report, in report order.
events() { # trace.dat
	trace-cmd report -t -i "$1" 2>"$1.err" |
		sed -nE 's/^ *(.*)-([0-9]+) +\[([0-9]+)\] *([0-9]+)\.?([0-9]*): .*/\3 \2 \4\5/p' |
		awk '{ printf "%d %d %s\n", $1, $2, $3 }'
}

check_run() { # run-id records-expected out.dat kmsg-file prefix [extra write args]
	local run=$1 n=$2 out=$3 k=$4 prefix=$5 pages got pid cpu i line
	shift 5
	if ! pages=$("$cli" write "$ring" "$out" "$@" 2>"$out.werr"); then
		bad "write run $run: $(cat "$out.werr")"; return
	fi
	[ -s "$out.werr" ] && bad "write run $run reported: $(cat "$out.werr")"
	[ "${pages#pages }" -gt 0 ] || bad "run $run: $pages"
	if ! trace-cmd report -i "$out" >"$out.txt" 2>"$out.rerr"; then
		bad "trace-cmd report of run $run failed: $(cat "$out.rerr")"; return
	fi
	[ -s "$out.rerr" ] && bad "trace-cmd report of run $run warned: $(head -3 "$out.rerr")"
	# Same records: count, and the multiset of (cpu, pid, timestamp).
	got=$(grep -cE '^ *.*-[0-9]+ +\[[0-9]+\]' "$out.txt")
	[ "$got" -eq "$n" ] || bad "run $run: trace-cmd report shows $got events, the ring has $n"
	"$cli" records "$ring" "$run" | sort >"$out.want"
	events "$out" | sort >"$out.got"
	cmp -s "$out.want" "$out.got" ||
		bad "run $run: (cpu pid ts) differ: $(diff "$out.want" "$out.got" | head -5)"
	# Per CPU, timestamps never go back: pages went in in order.
	events "$out" | awk '$3 < last[$1] { bad = 1 } { last[$1] = $3 } END { exit bad }' ||
		bad "run $run: a CPU's timestamps go backwards"
	# Every kmsg line, as printk:console, from uevtd-kmsg on its CPU.
	pid=$(sed -n 's/^pid //p' "$k")
	while read -r i cpu; do
		[ "$i" = pid ] && continue
		line=$(grep -E "console: +$prefix $i\$" "$out.txt")
		[ -n "$line" ] || { bad "run $run: kmsg line $i missing"; continue; }
		# The console event is the writer's unless another task
		# printed it for us (console lock hand-over): then no claim.
		[[ "$line" == *"-$pid "* ]] || continue
		[[ "$line" =~ ^\ *uevtd-kmsg-$pid\ +\[0*$cpu\] ]] ||
			bad "run $run: kmsg line $i not from uevtd-kmsg-$pid on CPU $cpu: $line"
	done <"$k"
	grep -qE "uevtd-kmsg-$pid +\[" "$out.txt" || bad "run $run: no event names uevtd-kmsg-$pid"
	[ "$(trace-cmd dump --clock -i "$out" 2>/dev/null | head -1)" = "[boot]" ] ||
		bad "run $run: trace clock is not [boot]: $(trace-cmd dump --clock -i "$out" 2>&1)"
	trace-cmd report --uname -i "$out" 2>/dev/null | grep -q "$(uname -r)" ||
		bad "run $run: uname lacks $(uname -r)"
}

check_run "$run2" "$n2" "$dir/newest.dat" "$dir/k2" "uevtd-$seat-r2 line"
check_run "$run1" "$n1" "$dir/run1.dat" "$dir/k1" "uevtd-$seat-r1 line" "$run1"
grep -q "uevtd-$seat-r1" "$dir/newest.dat.txt" && bad "run 1's lines in the newest run's file"
grep -q "uevtd-$seat-r2" "$dir/run1.dat.txt" && bad "run 2's lines in run 1's file"
# The markers of run 1 (ftrace:raw_data) are there, all named uev-demo
# (its threads included).
[ "$(grep -cE 'uev-demo-[0-9]+ +\[.*raw_data:' "$dir/run1.dat.txt")" -ge 40 ] ||
	bad "run 1: fewer than 40 uev-demo marker records"
grep -E ' raw_data: ' "$dir/run1.dat.txt" | grep -vE '^ *uev-demo-[0-9]+ ' | head -3 | grep . &&
	bad "run 1: marker records not named uev-demo (above)"
# Run 2 had no ftrace format: the placeholder stands in.
trace-cmd dump --ftrace-events -i "$dir/newest.dat" 2>/dev/null | grep -q uev_placeholder ||
	bad "run 2: no placeholder ftrace format"
[ "$ncpu" -lt 2 ] || [ "$(events "$dir/newest.dat" | awk '{ print $1 }' | sort -u | wc -l)" -ge 2 ] ||
	bad "run 2: events of one CPU only"

# Refusals: negative errno and the file named; the old output untouched.
echo "precious data, not a ring" >"$dir/text.ring"
expect 1 "error -22: $dir/text.ring: not a uev ring file" "$cli" write "$dir/text.ring" "$dir/x.dat"
expect 1 "error -2: $dir/missing/x.dat" "$cli" write "$ring" "$dir/missing/x.dat"
sum=$(md5sum <"$dir/run1.dat")
expect 1 "error -2: $ring: no run 999 in the file" "$cli" write "$ring" "$dir/run1.dat" 999
[ "$(md5sum <"$dir/run1.dat")" = "$sum" ] || bad "a failed write changed the existing output"
[ -e "$dir/x.dat" ] && bad "a failed write left $dir/x.dat"
# No work directory, no half-written output left behind.
left=$(find "$dir" -name '.uev-tracedat.*' -o -name '*.dat.??????')
[ -z "$left" ] || bad "left behind: $left"

[ "$fail" -eq 0 ] && echo "ok: run $run1 ($n1 records), run $run2 ($n2 records) read back by trace-cmd"
exit "$fail"
