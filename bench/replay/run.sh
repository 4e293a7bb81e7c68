#!/usr/bin/env bash
# The replay benchmark (root): the same events decoded by uev-replay (text to
# /dev/null) and by trace-cmd report on the equivalent trace.dat, in one run,
# for ring files of several sizes: events/s, CPU seconds and peak RSS.
#
# usage: bench/replay/run.sh [REPS [SIZE...]]
#   REPS  timed repetitions of each decoder on each ring (default 5); the
#         tables give the median
#   SIZE  ring file sizes, as in uev.conf ("64M", "1G"; default 64M 512M)
# env: WRAP=1.2 (emit enough events to fill the ring this many times, so a
#      ring of any size is full and has wrapped, as a ring in service is),
#      EVENT_BYTES=51 (ring bytes per event of this load, measured: to size
#      the load), BUFFER_KB=8192 (kernel buffer per CPU), BUILD=build-bench,
#      RINGS=DIR (reuse DIR/SIZE.ring from an earlier KEEP=1 run instead of
#      recording), KEEP=1 keeps the work directory.
#
# Per ring size:
#  1. Record. uev-aggregator (seat uevrb<pid>s<i>, clock boot, flush every
#     200 ms) records printk:console, sched_process_fork/exec and
#     task_rename into a ring file of SIZE while bench/replay/fill emits
#     typed user events through libuev from one pinned thread per CPU,
#     unpaced: frame(u32 seq; u32 output; s64 t_ns; __rel_loc char[] name),
#     plus a /dev/kmsg line every 20000 events. Whatever else runs on the
#     machine meanwhile (forks, execs) is recorded too, as it would be.
#  2. Convert. uev-replay --trace-dat writes the ring's run as a trace.dat
#     (uncompressed, the kernel pages copied whole), so both decoders read
#     the very same kernel pages.
#  3. Count. Each decoder runs once untimed (this also warms the page cache:
#     all timed runs read from memory) and its output is counted: uev-replay
#     events shown (--stats), trace-cmd report lines. trace-cmd has one
#     "cpus=N" header line and prints uev's marker announcements as
#     raw_data records ("# 41564555 ...", UEV_MARKER_ANNOUNCE) that
#     uev-replay consumes instead of printing; the script checks that the
#     rest is exactly uev-replay's event count.
#  4. Time. REPS rounds; in each, every decoder runs once, in an order that
#     rotates from round to round, under /usr/bin/time -f '%e %U %S %M'
#     with stdout to /dev/null:
#       uev       uev-replay RING
#       uev-json  uev-replay --json RING       (header/summary on stderr)
#       tc        trace-cmd report -i X.dat
#     Events/s = events that decoder printed / wall seconds; events per CPU
#     second uses user+sys, which is steadier on a shared VM.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
# shellcheck disable=SC1091 # sourced from the repository
. .ci/deps.sh
uev_deps trace-cmd libtracecmd-dev time
uev_tracefs
T=/sys/kernel/tracing

reps=${1:-5}
if [ $# -gt 1 ]; then shift; sizes=("$@"); else sizes=(64M 512M); fi
wrap=${WRAP:-1.2}
event_bytes=${EVENT_BYTES:-51}
buffer_kb=${BUFFER_KB:-8192}
build=${BUILD:-build-bench}
rings=${RINGS:-}

# ---- build ------------------------------------------------------------------
# Our own build directory: build/ and build-asan/ belong to other work.
[ -f "$build/build.ninja" ] || meson setup "$build" >/dev/null
ninja -C "$build" aggregator/uev-aggregator aggregator/uev-replay bench/replay/fill >/dev/null
agg=$root/$build/aggregator/uev-aggregator
replay=$root/$build/aggregator/uev-replay
fill=$root/$build/bench/replay/fill

out=$(mktemp -d /tmp/uev-bench-replay.XXXXXX)
agg_pid=
inst=
cleanup() {
	# The aggregator removes its instance on SIGTERM; a leftover instance
	# would keep its kernel buffers (2 x BUFFER_KB) until reboot.
	if [ -n "$agg_pid" ]; then kill -TERM "$agg_pid" 2>/dev/null; wait "$agg_pid" 2>/dev/null; fi
	if [ -n "$inst" ] && [ -d "$inst" ]; then rmdir "$inst" 2>/dev/null || echo "# could not remove $inst" >&2; fi
	if [ -z "${KEEP:-}" ]; then rm -rf "$out"; else echo "# kept $out" >&2; fi
}
trap cleanup EXIT

# shellcheck disable=SC1091
echo "# machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), kernel $(uname -r), $(. /etc/os-release; echo "$PRETTY_NAME"), $(trace-cmd --version 2>&1 | grep -m1 version | sed 's/ (.*//')"
echo "# command: bench/replay/run.sh $reps ${sizes[*]}   (WRAP=$wrap EVENT_BYTES=$event_bytes BUFFER_KB=$buffer_kb${rings:+ RINGS=$rings})"
echo "# uev: commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet HEAD -- aggregator libuev 2>/dev/null || echo ', with uncommitted changes in aggregator/ or libuev/'); uev-replay built $(date -r "$replay" '+%F %T')"
echo "# load at start: $(cut -d' ' -f1-3 /proc/loadavg); page cache: warm (every file is read once before the timed runs)"
echo "# filesystem of the work files: $(df -T "$out" | awk 'NR==2 {print $2}'), $out"

bytes_of() { # 64M / 1G / 4096 -> bytes
	local s=$1
	case $s in
	*[kK]) echo $(( ${s%?} * 1024 )) ;;
	*[mM]) echo $(( ${s%?} * 1048576 )) ;;
	*[gG]) echo $(( ${s%?} * 1073741824 )) ;;
	*) echo "$s" ;;
	esac
}


# record I SIZE RING: fill a new ring file of SIZE through a real aggregator
record() {
	local i=$1 size=$2 ring=$3 seat w n rc
	seat=uevrb$$s$i
	w=$out/rec-$size
	mkdir -p "$w"
	cat >"$w/uev.conf" <<-EOF
	[seat]
	clock = boot
	flush_interval_ms = 200
	buffer_kb = $buffer_kb
	[ring]
	path = $ring
	size = $size
	[kernel]
	event = printk:console
	event = sched:sched_process_fork
	event = sched:sched_process_exec
	event = task:task_rename
	EOF
	inst=$T/instances/uev.$seat
	"$agg" --seat "$seat" --config "$w/uev.conf" --run-dir "$w/run" 2>"$w/agg.log" &
	agg_pid=$!
	for _ in $(seq 300); do [ -e "$w/run/$seat.enable" ] && break; sleep 0.1; done
	[ -e "$w/run/$seat.enable" ] || { echo "uev-aggregator did not get ready:" >&2; cat "$w/agg.log" >&2; exit 1; }
	n=$(awk -v b="$(bytes_of "$size")" -v w="$wrap" -v e="$event_bytes" 'BEGIN {printf "%d", b * w / e}')
	"$fill" "$seat" "$w/run" "$n" >"$w/fill.out" || { echo "fill failed:" >&2; cat "$w/fill.out" >&2; exit 1; }
	sleep 0.5 # > flush_interval_ms: the last pages reach the file before the stop
	kill -TERM "$agg_pid"
	rc=0; wait "$agg_pid" || rc=$?
	agg_pid=
	[ "$rc" = 0 ] || { echo "uev-aggregator exited $rc:" >&2; cat "$w/agg.log" >&2; exit 1; }
	if [ -d "$inst" ]; then echo "# warning: $inst was left behind; removing it" >&2; rmdir "$inst"; fi
	inst=
	echo "# record $size: fill: $(cat "$w/fill.out")"
	echo "# record $size: aggregator: $(sed -n 's/^uev-aggregator: //p' "$w/agg.log" | tail -1)"
}

: >"$out/results.tsv"
i=0
for size in "${sizes[@]}"; do
	i=$((i + 1))
	ring=$out/$size.ring
	if [ -n "$rings" ]; then
		ring=$rings/$size.ring
		[ -f "$ring" ] || { echo "no $ring" >&2; exit 1; }
	else
		record "$i" "$size" "$ring"
	fi
	dat=$out/$size.dat
	/usr/bin/time -o "$out/td.time" -f '%e %U %S %M' "$replay" --trace-dat "$dat" "$ring" >/dev/null 2>"$out/td.err"
	echo "# $size: $(head -1 < <("$replay" --stats "$ring" 2>/dev/null) | sed 's/^# //')"
	echo "# $size: trace.dat $(stat -c %s "$dat") B (ring $(stat -c %s "$ring") B), written by uev-replay --trace-dat in $(awk '{print $1}' "$out/td.time") s"

	# ---- counts (the untimed, cache-warming run of each decoder) -------------
	uev_ev=$("$replay" --stats "$ring" 2>/dev/null | awk '/^events:/ {print $2}')
	uev_txt=$("$replay" "$ring" | tail -1)          # "# N events shown of M read, ..."
	uev_txt=$(sed -n 's/^# \([0-9]*\) events shown.*/\1/p' <<<"$uev_txt")
	json_ev=$("$replay" --json "$ring" 2>/dev/null | wc -l)
	read -r tc_lines tc_hdr tc_ann tc_lost < <(trace-cmd report -i "$dat" 2>/dev/null | awk '
		/^cpus=/ {h++; next}
		/raw_data: +# 41564555 / {a++}
		/^CPU:[0-9]+ \[([0-9]+ )?EVENTS DROPPED\]/ {l++}
		{n++}
		END {print n + 0, h + 0, a + 0, l + 0}')
	tc_ev=$((tc_lines - tc_ann - tc_lost))
	echo "# $size: events printed: uev-replay $uev_txt (--stats: $uev_ev), --json $json_ev; trace-cmd report $tc_lines lines after $tc_hdr header line(s): $tc_ann announcement raw_data + $tc_lost LOST lines + $tc_ev events"
	if [ "$uev_ev" != "$tc_ev" ] || [ "$uev_txt" != "$uev_ev" ] || [ "$json_ev" != "$uev_ev" ]; then
		echo "# WARNING: $size: the decoders do not print the same events (see the line above)" >&2
	fi

	# ---- timed runs ----------------------------------------------------------
	decs=(uev uev-json tc)
	for rep in $(seq "$reps"); do
		for k in 0 1 2; do
			d=${decs[$(( (k + rep - 1) % 3 ))]}
			case $d in
			uev)      cmd=("$replay" "$ring"); ev=$uev_txt ;;
			uev-json) cmd=("$replay" --json "$ring"); ev=$json_ev ;;
			tc)       cmd=(trace-cmd report -i "$dat"); ev=$tc_lines ;;
			esac
			/usr/bin/time -o "$out/t" -f '%e %U %S %M' "${cmd[@]}" >/dev/null 2>"$out/t.err" ||
				{ echo "$d failed:" >&2; cat "$out/t.err" "$out/t" >&2; exit 1; }
			read -r wall user sys rss <"$out/t"
			printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$size" "$d" "$rep" "$ev" "$wall" "$user" "$sys" "$rss" >>"$out/results.tsv"
			printf '%-5s %-8s rep %d: %9s events  wall %6.2f s  user %6.2f  sys %5.2f  rss %7s KiB\n' \
				"$size" "$d" "$rep" "$ev" "$wall" "$user" "$sys" "$rss" >&2
		done
	done
done
echo "# load at end: $(cut -d' ' -f1-3 /proc/loadavg)"
saved=/tmp/uev-bench-replay-results.$(date +%Y%m%d-%H%M%S).tsv
cp "$out/results.tsv" "$saved"
echo "# raw results (also in $saved):"
echo "# size decoder rep events wall_s user_s sys_s maxrss_kib"
sed 's/^/#   /' "$out/results.tsv"

# ---- summary ----------------------------------------------------------------
# Medians over the rounds of each (size, decoder), with min-max. The speed
# ratio is taken per round (tc's time / the decoder's time; the three
# decoders of a round run back to back) and its median and range given:
# on a shared VM the load drifts over minutes, and a ratio within one round
# sees less of that drift than a ratio of medians. tc's events are the
# lines it printed (announcements included: it did print them).
echo
awk -F'\t' -v sizes="${sizes[*]}" '
# input: size decoder rep events wall user sys rss (tab-separated)
function med(k,   n, a, i, j, t) {
	n = cnt[k]
	for (i = 1; i <= n; i++) a[i] = v[k, i]
	for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
	lo = a[1]; hi = a[n]
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
function add(k, x) { cnt[k]++; v[k, cnt[k]] = x }
{
	s = $1; d = $2; r = $3
	ev[s, d] = $4; wall[s, r, d] = $5; cpu[s, r, d] = $6 + $7
	add(s SUBSEP d SUBSEP "wall", $5); add(s SUBSEP d SUBSEP "cpu", $6 + $7); add(s SUBSEP d SUBSEP "rss", $8)
	add(s SUBSEP d SUBSEP "evw", $4 / $5); add(s SUBSEP d SUBSEP "evc", $4 / ($6 + $7))
	rounds[s, r] = 1
}
END {
	ns = split(sizes, S, " "); nd = split("uev uev-json tc", D, " ")
	# speed ratio per round: tc time / the decoder time, for the same
	# events, both measured within minutes of each other
	for (k in rounds) {
		split(k, kk, SUBSEP)
		for (j = 1; j <= 2; j++) if (((kk[1], kk[2], D[j]) in wall) && ((kk[1], kk[2], "tc") in wall)) {
			add(kk[1] SUBSEP D[j] SUBSEP "rw", wall[kk[1], kk[2], "tc"] / wall[kk[1], kk[2], D[j]])
			add(kk[1] SUBSEP D[j] SUBSEP "rc", cpu[kk[1], kk[2], "tc"] / cpu[kk[1], kk[2], D[j]])
		}
	}
	printf "| ring | decoder | events printed | wall s | events/s | CPU s (user+sys) | events per CPU-s | peak RSS KiB | speed vs tc, wall | speed vs tc, CPU |\n"
	printf "|---|---|---|---|---|---|---|---|---|---|\n"
	for (i = 1; i <= ns; i++) for (j = 1; j <= nd; j++) {
		s = S[i]; d = D[j]; b = s SUBSEP d SUBSEP
		if (!((b "wall") in cnt)) continue
		w = med(b "wall"); wl = lo; wh = hi
		c = med(b "cpu"); cl = lo; ch = hi
		rs = med(b "rss"); rl = lo; rh = hi
		rw = rc = "—"
		if ((b "rw") in cnt) {
			x = med(b "rw"); rw = sprintf("**%.2f** (%.2f–%.2f)", x, lo, hi)
			x = med(b "rc"); rc = sprintf("**%.2f** (%.2f–%.2f)", x, lo, hi)
		}
		printf "| %s | %s | %d | %.2f (%.2f–%.2f) | %.0f | %.2f (%.2f–%.2f) | %.0f | %d (%d–%d) | %s | %s |\n",
			s, d, ev[s, d], w, wl, wh, med(b "evw"), c, cl, ch, med(b "evc"), rs, rl, rh, rw, rc
	}
	if (ns >= 2) {
		printf "\npeak RSS, median, %s -> %s:\n", S[1], S[ns]
		for (j = 1; j <= nd; j++) {
			a = med(S[1] SUBSEP D[j] SUBSEP "rss"); z = med(S[ns] SUBSEP D[j] SUBSEP "rss")
			printf "  %-8s %7d -> %7d KiB (x%.2f)\n", D[j], a, z, z / a
		}
	}
}
' "$out/results.tsv"
