#!/usr/bin/env bash
# The drain benchmark (root): the same marker load, drained once by
# uev-aggregator and once by trace-cmd record, at a list of rates, in one run.
#
# usage: bench/drain/run.sh [SECONDS [REPS [RATE...]]]
#   SECONDS  load duration per run (default 5)
#   REPS     repetitions of the whole rate list (default 3)
#   RATE     total events/s over all CPUs; "max" = unpaced; "idle" = no load
#            (default: idle 10000 50000 100000 200000 400000 800000 1200000 1600000 max)
# env: DRAINERS="uev tc tcnc" (which drainers), BUFFER_KB=8192 (kernel buffer
#      per CPU, both drainers), RECORD_SIZE=40, VERIFY_MAX=1500000 (count
#      the records in trace.dat when at most this many were written: libtracecmd
#      reads ~5 us/record), KEEP=1 keeps the work directory.
#
# Drainers:
#   uev   build/aggregator/uev-aggregator, instance uev.drainbench (ring file
#         written with O_DIRECT and compressed units of zstd level 1: the
#         defaults)
#   uevpc the same with [ring] direct_io = no (through the page cache)
#   uevnc the same with [ring] compression = none (a PAGE record per page)
#   tc    trace-cmd record (Debian 3.1.6) with its defaults: file version 7,
#         zstd-compressed, per-CPU recorder processes splicing trace_pipe_raw
#   tcnc  the same with --compression none
# trace-cmd runs as
#   trace-cmd record -q -d --no-filter [--compression none] -B drainpeer \
#                    -b $BUFFER_KB -C mono -e printk:console -o FILE
# -d and --no-filter are what makes it run where function-tracing controls are
# refused (EPERM on /proc/sys/kernel/ftrace_enabled and set_ftrace_pid);
# it then exits 1 at its very end (EPERM on the instance's
# set_ftrace_filter while resetting it, after trace.dat is complete) and
# leaves the instance behind, which this script reads (entries left) and
# removes.
#
# Per run: produce (bench/drain/produce.c) writes RECORD_SIZE-byte records
# into the drainer's instance/trace_marker_raw from one pinned thread per
# CPU for SECONDS; then the per-CPU overrun counts are read, the drainer is
# stopped (SIGTERM / SIGINT) and waited for by drainrun, which reports
# user+sys of the drainer and everything it forked and waited for
# (getrusage RUSAGE_CHILDREN: all threads, io_uring workers, trace-cmd's
# recorder processes), from start to exit.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
# shellcheck disable=SC1091 # sourced from the repository
. .ci/deps.sh
uev_deps trace-cmd libtracecmd-dev
uev_tracefs
T=/sys/kernel/tracing

secs=${1:-5}
reps=${2:-3}
if [ $# -gt 2 ]; then shift 2; rates=("$@")
else rates=(idle 10000 50000 100000 200000 400000 800000 1200000 1600000 max); fi
read -r -a drainers <<<"${DRAINERS:-uev tc tcnc}"
buffer_kb=${BUFFER_KB:-8192}
size=${RECORD_SIZE:-40}
verify_max=${VERIFY_MAX:-1500000}

# ---- build ------------------------------------------------------------------
[ -f build/build.ninja ] || meson setup build >/dev/null
ninja -C build aggregator/uev-aggregator >/dev/null
out=$(mktemp -d /tmp/uev-bench-drain.XXXXXX)
if ninja -C build -t targets all 2>/dev/null | grep '^bench/drain/produce:' >/dev/null; then # not -q: an early exit would be a SIGPIPE failure under pipefail
	ninja -C build bench/drain/produce bench/drain/drainrun bench/drain/drain_count >/dev/null
	bin=$root/build/bench/drain
else # bench/meson.build does not (yet) have subdir('drain')
	bin=$out/bin
	mkdir -p "$bin"
	cc -O2 -Wall -pthread -o "$bin/produce" bench/drain/produce.c
	cc -O2 -Wall -o "$bin/drainrun" bench/drain/drainrun.c
	# shellcheck disable=SC2046 # pkg-config output is a word list
	cc -O2 -Wall -DHAVE_TRACECMD $(pkg-config --cflags libtracecmd libtraceevent libzstd) \
		-o "$bin/drain_count" bench/drain/drain_count.c $(pkg-config --libs libtracecmd libtraceevent libzstd)
fi
agg=$root/build/aggregator/uev-aggregator

runner_pid=
cleanup() {
	[ -n "$runner_pid" ] && kill "$runner_pid" 2>/dev/null && wait "$runner_pid" 2>/dev/null
	[ -d $T/instances/drainpeer ] && rmdir $T/instances/drainpeer 2>/dev/null
	if [ -z "${KEEP:-}" ]; then rm -rf "$out"; else echo "# kept $out" >&2; fi
}
trap cleanup EXIT

# shellcheck disable=SC1091
echo "# machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), kernel $(uname -r), $(. /etc/os-release; echo "$PRETTY_NAME"), $(trace-cmd --version 2>&1 | grep -m1 version | sed 's/ (.*//')"
echo "# command: bench/drain/run.sh $secs $reps ${rates[*]}   (DRAINERS=\"${drainers[*]}\" BUFFER_KB=$buffer_kb RECORD_SIZE=$size)"
echo "# uev: commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet HEAD -- aggregator libuev 2>/dev/null || echo ', with uncommitted changes in aggregator/ or libuev/'); uev-aggregator built $(date -r "$agg" '+%F %T')"
echo "# load at start: $(cut -d' ' -f1-3 /proc/loadavg); other uev-aggregator processes: $(pgrep -c -x uev-aggregator || true)"
echo "# filesystem of the output files: $(df -T "$out" | awk 'NR==2 {print $2}'), $out"

sum_stat() { # FIELD INSTANCE_DIR: sum of a per_cpu/cpuN/stats field
	local f=$1 d=$2
	cat "$d"/per_cpu/cpu*/stats 2>/dev/null | awk -v f="$f:" '$1 == f {s += $2} END {print s + 0}'
}

wait_for() { # CONDITION-COMMAND...: up to 30 s
	for _ in $(seq 300); do "$@" && return 0; sleep 0.1; done
	return 1
}

tc_ready() { [ "$(cat $T/instances/drainpeer/tracing_on 2>/dev/null)" = 1 ]; }

# one RUN: drainer rate rep -> one line in $out/results.tsv
# Starts drainer $d under drainrun (measurements into $m, work dir $w) and
# waits until it records; sets run_one's inst, ring and runner_pid.
start_drainer() {
	case $d in
	uev|uevpc|uevnc)
		inst=$T/instances/uev.drainbench
		ring=$w/uev.ring
		local mb
		if [ "$rate" = max ]; then mb=4096
		elif [ "$rate" = idle ]; then mb=64
		else mb=$(( rate * secs * 100 / 1048576 + 64 )); fi # ~60 B/record in the ring, with room
		conf=$w/uev.conf
		cat >"$conf" <<-EOF
		[seat]
		clock = mono
		flush_interval_ms = 1000
		buffer_kb = $buffer_kb
		[ring]
		path = $ring
		size = ${mb}M
		direct_io = $([ "$d" = uevpc ] && echo no || echo yes)
		compression = $([ "$d" = uevnc ] && echo none || echo zstd)
		[kernel]
		event = printk:console
		EOF
		"$bin/drainrun" -n "$w/ready" -o "$m" -- "$agg" --seat drainbench --config "$conf" \
			--run-dir "$w/rundir" 2>"$w/stderr" &
		runner_pid=$!
		wait_for test -e "$w/ready" || { echo "uev-aggregator did not get ready:" >&2; cat "$w/stderr" >&2; exit 1; }
		;;
	tc|tcnc)
		inst=$T/instances/drainpeer
		[ -d "$inst" ] && rmdir "$inst"
		local comp=()
		[ "$d" = tcnc ] && comp=(--compression none)
		(cd "$w" && exec "$bin/drainrun" -k INT -o "$m" -- trace-cmd record -q -d --no-filter "${comp[@]}" \
			-B drainpeer -b "$buffer_kb" -C mono -e printk:console -o "$w/trace.dat" \
			>"$w/stdout" 2>"$w/stderr") &
		runner_pid=$!
		wait_for tc_ready || { echo "trace-cmd did not start:" >&2; cat "$w/stderr" >&2; exit 1; }
		sleep 0.2 # tracing_on comes after the recorders are forked: let them open their files
		;;
	esac
}

# What drainer $d recorded: sets run_one's ev, ub (bytes used), kernlost,
# ents; exits on a failed run.
count_recorded() {
	case $d in
	uev|uevpc|uevnc)
		[ "$exitc" = 0 ] || { echo "uev-aggregator exited $exitc:" >&2; cat "$w/stderr" >&2; exit 1; }
		read -r ev ub < <("$bin/drain_count" ring "$ring" | awk '{print $2, $8}')
		kernlost=$(sed -n 's/.* \([0-9][0-9]*\) events lost in the kernel.*/\1/p' "$w/stderr")
		;;
	tc|tcnc)
		[ -s "$w/trace.dat" ] || { echo "trace-cmd wrote no trace.dat:" >&2; cat "$w/stderr" >&2; exit 1; }
		ents=$(sum_stat entries "$inst")
		rmdir "$inst"
		if [ "$written" -le "$verify_max" ]; then
			read -r ev ub < <("$bin/drain_count" tracedat "$w/trace.dat" | awk '{print $2, $8}')
		else
			ev=-; ub=$(stat -c %s "$w/trace.dat")
		fi
		;;
	esac
}

run_one() {
	local d=$1 rate=$2 rep=$3 w=$out/run m conf ring inst prate written=0 achieved=0 over ents=0 ev lost
	rm -rf "$w"; mkdir -p "$w"
	m=$w/measure
	start_drainer
	if [ "$rate" = idle ]; then
		sleep "$secs"
	else
		prate=$rate; [ "$rate" = max ] && prate=0
		"$bin/produce" "$inst/trace_marker_raw" "$prate" "$secs" "$size" >"$w/produce"
		written=$(awk '{print $2}' "$w/produce")
		achieved=$(awk '{print $12}' "$w/produce")
	fi
	over=$(sum_stat overrun "$inst")
	kill -TERM "$runner_pid"
	wait "$runner_pid" || true # trace-cmd exits 1 (see the top of this file)
	runner_pid=
	grep -q '^exit' "$m" || { echo "no measurement from drainrun" >&2; exit 1; }
	local cpu user sys wall exitc
	read -r exitc user sys cpu wall < <(awk '/^exit/ {print $2, $4, $6, $8, $12}' "$m")
	local ub pb kernlost=-
	count_recorded
	if [ "$ev" = - ]; then lost=$(( over + ents ))
	else lost=$(( written - ev )); fi
	pb=$(( written * size ))
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' \
		"$d" "$rate" "$rep" "$written" "$achieved" "$ev" "$lost" "$over" "$kernlost" \
		"$user" "$sys" "$cpu" "$wall" "$ub" "$pb" >>"$out/results.tsv"
	printf '%-5s %8s rep %d: written %9s (%8s/s) recorded %9s lost %8s cpu %7.3f s (user %.3f sys %.3f) wall %6.2f s file %11s B\n' \
		"$d" "$rate" "$rep" "$written" "$achieved" "$ev" "$lost" "$cpu" "$user" "$sys" "$wall" "$ub" >&2
}

: >"$out/results.tsv"
for rep in $(seq "$reps"); do
	for rate in "${rates[@]}"; do
		# rotate the order each repetition so no drainer always goes first
		n=${#drainers[@]}
		for i in $(seq 0 $((n - 1))); do
			run_one "${drainers[$(( (i + rep - 1) % n ))]}" "$rate" "$rep"
		done
	done
done
saved=/tmp/uev-bench-drain-results.$(date +%Y%m%d-%H%M%S).tsv
cp "$out/results.tsv" "$saved"
echo "# raw results (also in $saved):"
echo "# drainer rate rep written achieved/s recorded lost overrun agg_lost user sys cpu wall file_bytes produced_bytes"
sed 's/^/#   /' "$out/results.tsv"

# ---- summary ----------------------------------------------------------------
# Per drainer and rate, medians over the repetitions (lost: the largest).
# MiB drained = records that reached the file * RECORD_SIZE.
awk -F'\t' -v size="$size" -v reps="$reps" -v order="${rates[*]}" -v dl="${drainers[*]}" '
function median(key, n,   a, i, j, t) {
	n = cnt[key]
	for (i = 1; i <= n; i++) a[i] = vals[key, i]
	for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
function add(k, v) { cnt[k]++; vals[k, cnt[k]] = v }
{
	d = $1; r = $2
	mib = ($4 - $7) * size / 1048576
	add(d SUBSEP r SUBSEP "cpu", $12)
	add(d SUBSEP r SUBSEP "ach", $5)
	if (r != "idle") {
		add(d SUBSEP r SUBSEP "cpm", (mib > 0 ? 1000 * $12 / mib : 0))
		mibs[d, r, ++nm[d, r]] = mib; cpus[d, r, nm[d, r]] = $12
		add(d SUBSEP r SUBSEP "disk", ($15 > 0 ? $14 / $15 : 0))
	}
	if (!((d, r) in maxlost) || $7 > maxlost[d, r]) maxlost[d, r] = $7
	if ($4 > 0) { lf = $7 / $4; if (!((d, r) in maxlf) || lf > maxlf[d, r]) maxlf[d, r] = lf }
}
END {
	nr = split(order, R, " "); nd = split(dl, D, " ")
	# CPU over idle: the median idle run of the same drainer subtracted
	for (j = 1; j <= nd; j++) for (i = 1; i <= nr; i++) {
		d = D[j]; r = R[i]
		if (r == "idle" || !((d, r) in nm) || !((d SUBSEP "idle" SUBSEP "cpu") in cnt)) continue
		idle = median(d SUBSEP "idle" SUBSEP "cpu")
		for (k = 1; k <= nm[d, r]; k++)
			add(d SUBSEP r SUBSEP "mpm", (mibs[d, r, k] > 0 ? 1000 * (cpus[d, r, k] - idle) / mibs[d, r, k] : 0))
	}
	printf "\n%-6s %-9s %11s %12s %9s %10s %11s %11s %10s\n", "drainer", "rate/s", "achieved/s", "max lost", "lost %", "CPU s", "CPU ms/MiB", "over idle", "disk B/B"
	for (j = 1; j <= nd; j++) for (i = 1; i <= nr; i++) {
		d = D[j]; r = R[i]
		if (!((d SUBSEP r SUBSEP "cpu") in cnt)) continue
		if (r == "idle")
			printf "%-6s %-9s %11s %12s %9s %10.3f %11s %11s %10s\n", d, r, "-", "-", "-", median(d SUBSEP r SUBSEP "cpu"), "-", "-", "-"
		else
			printf "%-6s %-9s %11.0f %12d %9.3f %10.3f %11.2f %11s %10.3f\n", d, r, median(d SUBSEP r SUBSEP "ach"),
				maxlost[d, r], 100 * maxlf[d, r], median(d SUBSEP r SUBSEP "cpu"), median(d SUBSEP r SUBSEP "cpm"),
				(((d SUBSEP r SUBSEP "mpm") in cnt) ? sprintf("%.2f", median(d SUBSEP r SUBSEP "mpm")) : "-"),
				median(d SUBSEP r SUBSEP "disk")
	}
	printf "\nhighest rate with zero lost events in every repetition (of those run):\n"
	for (j = 1; j <= nd; j++) {
		d = D[j]; best = "none"
		for (i = 1; i <= nr; i++) {
			r = R[i]
			if (r == "idle" || !((d, r) in maxlost)) continue
			if (maxlost[d, r] == 0) best = (r == "max" ? "max (unpaced; achieved " sprintf("%.0f", median(d SUBSEP r SUBSEP "ach")) "/s)" : r "/s")
			else break
		}
		printf "  %-5s %s\n", d, best
	}
	split("cpm mpm", K, " ")
	split("CPU ms per MiB|CPU ms per MiB over idle (fixed start, idle and stop cost of each drainer taken out)", KT, "|")
	for (q = 1; q <= 2; q++) {
		printf "\nratio uev / trace-cmd, %s (medians; < 1 means uev uses less):\n", KT[q]
		printf "%-9s", "rate/s"
		for (j = 1; j <= nd; j++) for (k = 1; k <= nd; k++)
			if (D[j] ~ /^uev/ && D[k] ~ /^tc/) printf " %12s", D[j] "/" D[k]
		printf "\n"
		for (i = 1; i <= nr; i++) {
			r = R[i]
			if (r == "idle") continue
			printf "%-9s", r
			for (j = 1; j <= nd; j++) for (k = 1; k <= nd; k++) {
				if (D[j] !~ /^uev/ || D[k] !~ /^tc/) continue
				u = ((D[j] SUBSEP r SUBSEP K[q]) in cnt) ? median(D[j] SUBSEP r SUBSEP K[q]) : 0
				p = ((D[k] SUBSEP r SUBSEP K[q]) in cnt) ? median(D[k] SUBSEP r SUBSEP K[q]) : 0
				printf " %12s", (p > 0 && u > 0 ? sprintf("%.2f", u / p) : "-")
			}
			printf "\n"
		}
	}
}' "$out/results.tsv"
