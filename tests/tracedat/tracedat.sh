#!/usr/bin/env bash
# trace.dat output (aggregator/tracedat/tracedat.c) end to end: real uev-aggregator
# runs on this machine's kernel, converted and read back with trace-cmd.
#  - one ring, two runs: markers (uev-demo) and kmsg lines, then kmsg lines
#    only (no ftrace format: the placeholder path); the newest run and a
#    chosen run are converted
#  - a flood into a small kernel buffer with 8 KiB sub-buffers (where the
#    kernel has them): pages of that size, losses reported by trace-cmd
# Every record the ring decoder finds in a run's pages must come out of
# `trace-cmd report` (and KernelShark's loader, if KSHARK-DUMP is given)
# with the same CPU, pid and timestamp.
# usage: tracedat.sh UEV-AGGREGATOR UEV-DEMO TRACEDAT-CLI [KSHARK-DUMP]
set -uo pipefail
agg=$1 demo=$2 cli=$3 kshark=${4:-}
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
ncpu=$(nproc)

start() { # uev-aggregator options...
	"$agg" --seat "$seat" --run-dir "$dir/run" "$@" 2>>"$dir/agg.err" &
	apid=$!
	for _ in $(seq 200); do [ -e "/sys/kernel/tracing/instances/uev.$seat" ] && break; sleep 0.05; done
	sleep 0.5 # the reads are armed a moment after the instance exists
}
stop() {
	sleep 0.5 # a few flush intervals
	kill -TERM "$apid"; wait "$apid"; local rc=$?
	apid=
	[ "$rc" -eq 0 ] || bad "uev-aggregator exited $rc: $(cat "$dir/agg.err")"
}
emit() { UEV_BACKEND=marker XDG_SEAT=$seat UEV_RUN_DIR=$dir/run "$demo" "$@" >>"$dir/demo.out" || bad "uev-demo failed"; }

ring=$dir/seat.ring
start --ring "$ring" --size 1M --flush-interval 100
emit -n 20 -i 0
"$cli" kmsg uevtd-kmsg "uevtd-$seat-r1 line" 12 >"$dir/k1" || bad "kmsg run 1"
stop
start --ring "$ring" --size 1M --flush-interval 100
"$cli" kmsg uevtd-kmsg "uevtd-$seat-r2 line" 12 >"$dir/k2" || bad "kmsg run 2"
stop

# "CPU PID TS" of every event line of a report.
events() { # report.txt
	sed -nE 's/^ *(.*)-([0-9]+) +\[([0-9]+)\] *([0-9]+)\.?([0-9]*): .*/\3 \2 \4\5/p' "$1" |
		awk '{ printf "%d %d %s\n", $1, $2, $3 }'
}

# Convert a run and check it against the ring decoder's view of it.
check_run() { # ring run out.dat [write args]
	local ring=$1 run=$2 out=$3 n lost pages got drops
	shift 3
	read -r n lost < <("$cli" count "$ring" | awk -v r="$run" '$1 == r { print $2, $3 }')
	if ! pages=$("$cli" write "$ring" "$out" "$@" 2>"$out.werr"); then
		bad "write run $run: $(cat "$out.werr")"; return 1
	fi
	[ "${pages#pages }" -gt 0 ] || bad "run $run: $pages"
	# The one report expected: an aggregator that recorded the top
	# instance's header_page for an instance with other sub-buffers.
	grep -v "header_page says" "$out.werr" | head -3 | grep . && bad "run $run: reports (above)"
	if ! trace-cmd report -t -i "$out" >"$out.txt" 2>"$out.rerr"; then
		bad "trace-cmd report of run $run failed: $(cat "$out.rerr")"; return 1
	fi
	[ -s "$out.rerr" ] && bad "trace-cmd report of run $run warned: $(head -3 "$out.rerr")"
	got=$(grep -cE '^ *.*-[0-9]+ +\[[0-9]+\]' "$out.txt")
	[ "$got" -eq "$n" ] || bad "run $run: trace-cmd report shows $got events, the ring has $n"
	"$cli" records "$ring" "$run" | sort >"$out.want"
	events "$out.txt" | sort >"$out.got"
	cmp -s "$out.want" "$out.got" ||
		bad "run $run: (cpu pid ts) differ: $(diff "$out.want" "$out.got" | head -5)"
	# trace-cmd merges the CPUs by time: if one CPU's pages were out of
	# order, its timestamps would go backwards in the report.
	events "$out.txt" | awk '$3 < last[$1] { bad = 1 } { last[$1] = $3 } END { exit bad }' ||
		bad "run $run: a CPU's timestamps go backwards"
	# The kernel's loss counts, kept in the pages, are what trace-cmd reports.
	drops=$(sed -nE 's/^CPU:[0-9]+ \[([0-9]+) EVENTS DROPPED\]$/\1/p' "$out.txt" | awk '{ s += $1 } END { print s + 0 }')
	[ "$drops" -eq "$lost" ] || bad "run $run: trace-cmd reports $drops events dropped, the pages $lost"
	[ "$(trace-cmd dump --clock -i "$out" 2>/dev/null | head -1)" = "[boot]" ] ||
		bad "run $run: trace clock is not [boot]: $(trace-cmd dump --clock -i "$out" 2>&1)"
	grep -q "$(uname -r)" <<<"$(trace-cmd report --uname -i "$out" 2>/dev/null)" ||
		bad "run $run: uname lacks $(uname -r)"
	# KernelShark: the same records, plus one missed_events entry per
	# EVENTS DROPPED line. (Its library and libtracecmd leak a little at
	# exit: not ours to report under ASan.)
	if [ -n "$kshark" ]; then
		if ! ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 "$kshark" "$out" >"$out.ks" 2>"$out.kerr"; then
			bad "run $run: KernelShark's loader failed: $(head -3 "$out.kerr")"
		else
			awk '$NF != "missed_events" { print $1, $2, $3 }' "$out.ks" | sort | cmp -s - "$out.want" ||
				bad "run $run: KernelShark's (cpu pid ts) differ from the ring's"
			[ "$(grep -c ' missed_events$' "$out.ks")" -eq "$(grep -c 'EVENTS DROPPED\]$' "$out.txt")" ] ||
				bad "run $run: KernelShark's missed_events differ from trace-cmd's drops"
		fi
	fi
	echo "run $run: $n records, $lost lost, $pages"
}

# Every kmsg line, as printk:console, from uevtd-kmsg on its CPU.
check_kmsg() { # report.txt kmsg-output prefix
	local txt=$1 k=$2 prefix=$3 pid i cpu line
	pid=$(sed -n 's/^pid //p' "$k")
	while read -r i cpu; do
		[ "$i" = pid ] && continue
		line=$(grep -E "console: +$prefix $i\$" "$txt")
		[ -n "$line" ] || { bad "$txt: kmsg line $i missing"; continue; }
		# The console event is the writer's unless another task
		# printed it for us (console lock hand-over): then no claim.
		[[ "$line" == *"-$pid "* ]] || continue
		[[ "$line" =~ ^\ *uevtd-kmsg-$pid\ +\[0*$cpu\] ]] ||
			bad "kmsg line $i not from uevtd-kmsg-$pid on CPU $cpu: $line"
	done <"$k"
	grep -qE "uevtd-kmsg-$pid +\[" "$txt" || bad "$txt: no event names uevtd-kmsg-$pid"
	# KernelShark names the task the same way.
	[ -z "$kshark" ] || [ "$(awk -v p="$pid" '$2 == p && $NF == "printk/console" && $4 != "uevtd-kmsg"' \
		"${txt%.txt}.ks" | wc -l)" -eq 0 ] || bad "${txt%.txt}: KernelShark misnames $pid"
}

read -r run1 _ < <("$cli" count "$ring" | sed -n 1p)
read -r run2 _ < <("$cli" count "$ring" | sed -n 2p)
[ "${run2:-0}" -gt "${run1:-0}" ] || bad "expected two runs: $("$cli" count "$ring")"
check_run "$ring" "$run2" "$dir/newest.dat"
check_run "$ring" "$run1" "$dir/run1.dat" "$run1"
check_kmsg "$dir/newest.dat.txt" "$dir/k2" "uevtd-$seat-r2 line"
check_kmsg "$dir/run1.dat.txt" "$dir/k1" "uevtd-$seat-r1 line"
grep -q "uevtd-$seat-r1" "$dir/newest.dat.txt" && bad "run 1's lines in the newest run's file"
grep -q "uevtd-$seat-r2" "$dir/run1.dat.txt" && bad "run 2's lines in run 1's file"
# The markers of run 1 (ftrace:raw_data) are there, all named uev-demo
# (its threads included).
[ "$(grep -cE 'uev-demo-[0-9]+ +\[.*raw_data:' "$dir/run1.dat.txt")" -ge 40 ] ||
	bad "run 1: fewer than 40 uev-demo marker records"
grep -E ' raw_data: ' "$dir/run1.dat.txt" | grep -vE '^ *uev-demo-[0-9]+ ' | head -3 | grep . &&
	bad "run 1: marker records not named uev-demo (above)"
# Run 2 had no ftrace format: the placeholder stands in.
grep -q uev_placeholder <<<"$(trace-cmd dump --ftrace-events -i "$dir/newest.dat" 2>/dev/null)" ||
	bad "run 2: no placeholder ftrace format"
[ "$ncpu" -lt 2 ] || [ "$(events "$dir/newest.dat.txt" | awk '{ print $1 }' | sort -u | wc -l)" -ge 2 ] ||
	bad "run 2: events of one CPU only"

# The flood: 64 KiB of kernel buffer per CPU, 8 KiB sub-buffers.
flood=$dir/flood.ring
subbuf=4096
printf '[seat]\nbuffer_kb = 64\nflush_interval_ms = 100\n[ring]\npath = %s\nsize = 8M\n' "$flood" >"$dir/flood.conf"
if [ -e /sys/kernel/tracing/buffer_subbuf_size_kb ]; then
	printf '[seat]\nsubbuf_kb = 8\n' >>"$dir/flood.conf"
	subbuf=8192
fi
start --config "$dir/flood.conf"
emit -n 30000 -i 0
stop
if check_run "$flood" "$(sed -n 's/^\([0-9]*\) .*/\1/p' < <("$cli" count "$flood"))" "$dir/flood.dat"; then
	# the whole dump first: grep -q would close the pipe early and, with
	# pipefail, trace-cmd's SIGPIPE would fail the check
	summary=$(trace-cmd dump --summary -i "$dir/flood.dat" 2>&1)
	grep -qE "^\s*$subbuf\s+\[Page size" <<<"$summary" ||
		bad "flood: page size is not $subbuf: $(grep -i page <<<"$summary")"
fi

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

exit "$fail"
