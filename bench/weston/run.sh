#!/usr/bin/env bash
# The Weston benchmark (root): what recording Weston through uev-weston costs
# Weston, per frame, against Weston with only its own flight recorder; the
# module's own cost per timeline point; and the ring bytes per frame.
#
# usage: bench/weston/run.sh [REPS [SECONDS]]
#   REPS     rounds (default 5); in each, the four configurations below run
#            once, in an order that rotates from round to round (0: only
#            the callgrind rounds and the rest)
#   SECONDS  timed window of each Weston run (default 10)
# env: BUILD=build-bench, FEED_REPS=2000 (tl_feed passes over the recorded
#      timeline), CG_REPS=50 (the same under callgrind), CG_ROUNDS=2 and
#      CG_SECONDS=20 (Weston under callgrind, below; CG_ROUNDS=0 skips it),
#      KEEP=1 keeps the work directory.
#
# Every run is headless Weston 10 (--backend=headless-backend.so
# --use-pixman, its default flight recorder on) with one weston-simple-shm
# client, and bench/weston/wbench.so loaded, which counts repainted frames
# in a shared file. Configurations:
#   base  wbench.so only: Weston with its flight recorder, nothing else
#   fmt   wbench.so subscribes "log" and "timeline" to /dev/null: Weston
#         formats every timeline point, nobody reads them
#   off   uev-weston.so, its seat not recording (no aggregator on it): Weston
#         formats, the module checks uev_enabled() and returns
#   rec   uev-weston.so recording (marker backend) into the seat of a running
#         uev-aggregator: Weston formats, the module parses and emits
# In each run: Weston starts, the client connects, 2 s of warm-up, then the
# window: Weston's CPU time (sum over its threads of /proc/PID/task/*/
# schedstat, nanoseconds) and the frame counter are read at its start and
# end. CPU per frame = CPU delta / frames delta. The ratios are taken per
# round (the four runs of a round follow each other) and their median given.
#
# The same four configurations then run CG_ROUNDS times under callgrind,
# instrumented during a window of CG_SECONDS: Weston's instructions per frame
# (user space only; the kernel's side of each write(2) is not counted). On a
# shared VM these are far steadier than CPU time.
#
# Then, without Weston: the ring's bytes per frame (uev-replay --stats of the
# rec rounds' ring, and the aggregator's byte count), and tl_feed, which
# feeds the timeline lines of a real run (recorded by wbench.so) through the
# module's scope_write(): ns per point with the seat recording and not, and
# callgrind instructions per point.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
T=/sys/kernel/tracing
[ -d $T/instances ] || { echo "no tracefs at $T" >&2; exit 1; }
for p in weston weston-simple-shm valgrind callgrind_annotate callgrind_control; do
	command -v "$p" >/dev/null || { echo "$p is not installed" >&2; exit 1; }
done

reps=${1:-5}
secs=${2:-10}
feed_reps=${FEED_REPS:-2000}
cg_reps=${CG_REPS:-50}
cg_rounds=${CG_ROUNDS:-2}
cg_secs=${CG_SECONDS:-20}
build=${BUILD:-build-bench}

# ---- build ------------------------------------------------------------------
[ -f "$build/build.ninja" ] || meson setup "$build" >/dev/null
ninja -C "$build" aggregator/uev-aggregator aggregator/uev-replay weston/uev-weston.so \
	bench/weston/wbench.so bench/weston/tl_feed >/dev/null
agg=$root/$build/aggregator/uev-aggregator
replay=$root/$build/aggregator/uev-replay
uevmod=$root/$build/weston/uev-weston.so
wbench=$root/$build/bench/weston/wbench.so
feed=$root/$build/bench/weston/tl_feed

out=$(mktemp -d /tmp/uev-bench-weston.XXXXXX)
seat=uevbw$$ seatf=uevbwf$$ seatoff=uevbwoff$$
agg_pid= wpid= cpid=
cleanup() {
	[ -n "$cpid" ] && kill -TERM "$cpid" 2>/dev/null
	[ -n "$wpid" ] && kill -TERM "$wpid" 2>/dev/null
	if [ -n "$agg_pid" ]; then kill -TERM "$agg_pid" 2>/dev/null; wait "$agg_pid" 2>/dev/null; fi
	wait 2>/dev/null
	# the aggregator removes its instance; after a crash we do
	for s in $seat $seatf; do rmdir "$T/instances/uev.$s" 2>/dev/null || true; done
	if [ -z "${KEEP:-}" ]; then rm -rf "$out"; else echo "# kept $out" >&2; fi
}
trap cleanup EXIT

echo "# machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), kernel $(uname -r), $(. /etc/os-release; echo "$PRETTY_NAME"), $(weston --version)"
echo "# command: bench/weston/run.sh $reps $secs   (FEED_REPS=$feed_reps CG_REPS=$cg_reps CG_ROUNDS=$cg_rounds CG_SECONDS=$cg_secs)"
echo "# uev: commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet HEAD -- weston libuev 2>/dev/null || echo ', with uncommitted changes in weston/ or libuev/')"
echo "# load at start: $(cut -d' ' -f1-3 /proc/loadavg)"

# start_agg SEAT RING: an aggregator recording SEAT (mono clock) into RING.
# Its only kernel event is printk:console with a filter that matches no
# message, instead of the default fork/exec/rename (and console), which the
# other work on the machine would fill: the ring's bytes are then Weston's
# (and the run's announcements).
start_agg() {
	cat >"$out/$1.conf" <<-CONF
	[seat]
	clock = mono
	flush_interval_ms = 200
	buffer_kb = 4096
	[ring]
	path = $2
	size = 256M
	[kernel]
	event = printk:console if msg == "uev-bench-weston: no such message"
	CONF
	"$agg" --seat "$1" --config "$out/$1.conf" --run-dir "$out/run" 2>"$out/$1.agg.log" &
	agg_pid=$!
	for _ in $(seq 100); do [ -e "$out/run/$1.enable" ] && return 0; sleep 0.1; done
	echo "uev-aggregator did not start:" >&2; cat "$out/$1.agg.log" >&2; exit 1
}
stop_agg() {
	sleep 0.5   # > flush_interval_ms: the last pages reach the ring
	kill -TERM "$agg_pid"
	local rc=0; wait "$agg_pid" || rc=$?
	agg_pid=
	[ "$rc" = 0 ] || { echo "uev-aggregator exited $rc:" >&2; cat "$out/$1.agg.log" >&2; exit 1; }
}

cpu_ns() { # CPU time of process $1, all threads, in ns
	awk '{s += $1} END {printf "%d\n", s}' /proc/"$1"/task/*/schedstat
}
frames() { od -An -t u8 "$1" | tr -d ' '; }

# run_weston NAME CONF SECONDS [cg]: one Weston run; writes "cpu_ns frames"
# to $out/NAME.res (not to stdout: it runs in this shell, so that cleanup()
# knows its pids). With "cg", Weston runs under callgrind, instrumented only
# during the window (callgrind_control -i on, then -d dumps the window's
# counts), and NAME.res holds "instructions frames".
run_weston() {
	local name=$1 conf=$2 w=$3 cg=${4:-} xdg=$out/$1.xdg sock=uevbw-$$-$1 mods=$wbench scopes=none
	local c0 c1 f0 f1 pre=()
	rm -rf "$xdg"; mkdir -m 0700 "$xdg"
	case $conf in
	fmt) scopes=log,timeline ;;
	capture) scopes=timeline ;;   # tl_feed gets the timeline scope alone
	off) mods=$wbench,$uevmod; printf '[uev]\nseat=%s\n' "$seatoff" >"$out/$name.ini" ;;
	rec) mods=$wbench,$uevmod; printf '[uev]\nseat=%s\n' "$seat" >"$out/$name.ini" ;;
	esac
	[ -f "$out/$name.ini" ] || : >"$out/$name.ini"
	[ -n "$cg" ] && pre=(valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$out/$name.cg")
	env XDG_RUNTIME_DIR="$xdg" UEV_RUN_DIR="$out/run" UEVB_FRAMES="$out/$name.frames" \
		UEVB_SCOPES=$scopes UEVB_TL_FILE="${TL_FILE:-}" "${pre[@]}" \
		weston --backend=headless-backend.so --use-pixman --socket="$sock" --idle-time=0 \
		--config="$out/$name.ini" --modules="$mods" --log="$out/$name.log" >"$out/$name.out" 2>&1 &
	wpid=$!
	for _ in $(seq 600); do [ -e "$xdg/$sock" ] && break; sleep 0.1; done
	[ -e "$xdg/$sock" ] || { echo "$name: weston did not start:" >&2; cat "$out/$name.log" "$out/$name.out" >&2; exit 1; }
	XDG_RUNTIME_DIR=$xdg WAYLAND_DISPLAY=$sock weston-simple-shm >"$out/$name.client" 2>&1 &
	cpid=$!
	sleep 2
	[ -n "$cg" ] && callgrind_control -i on "$wpid" >/dev/null 2>&1
	c0=$(cpu_ns "$wpid"); f0=$(frames "$out/$name.frames")
	sleep "$w"
	c1=$(cpu_ns "$wpid"); f1=$(frames "$out/$name.frames")
	[ -n "$cg" ] && callgrind_control -d "$wpid" >/dev/null 2>&1
	kill -0 "$cpid" 2>/dev/null || { echo "$name: weston-simple-shm died:" >&2; cat "$out/$name.client" >&2; exit 1; }
	kill -TERM "$cpid"; wait "$cpid" 2>/dev/null || true; cpid=
	kill -TERM "$wpid"; wait "$wpid" || { echo "$name: weston exited $?:" >&2; cat "$out/$name.log" >&2; exit 1; }
	wpid=
	if [ -n "$cg" ]; then
		c0=0
		c1=$(sed -n 's/^\(totals\|summary\): *\([0-9]*\).*/\2/p' "$out/$name.cg.1" 2>/dev/null | head -1)
		[ -n "$c1" ] || { echo "$name: no callgrind dump of the window:" >&2; ls "$out" >&2; exit 1; }
	fi
	echo "$((c1 - c0)) $((f1 - f0))" >"$out/$name.res"
}

# ---- a real timeline, recorded for tl_feed ---------------------------------
TL_FILE=$out/timeline.lines run_weston capture capture 3
echo "# recorded timeline: $(grep -c '^{ "T"' "$out/timeline.lines") points, $(wc -l <"$out/timeline.lines") lines, $(stat -c %s "$out/timeline.lines") bytes in 3 s"

# ---- the timed rounds --------------------------------------------------------
start_agg "$seat" "$out/rec.ring"
confs=(base fmt off rec)
: >"$out/results.tsv"
for rep in $(seq "$reps"); do
	for k in 0 1 2 3; do
		c=${confs[$(( (k + rep - 1) % 4 ))]}
		run_weston "$c-$rep" "$c" "$secs"
		read -r cpu fr <"$out/$c-$rep.res"
		printf '%s\t%s\t%s\t%s\n' "$rep" "$c" "$cpu" "$fr" >>"$out/results.tsv"
		awk -v r="$rep" -v c="$c" -v n="$cpu" -v f="$fr" 'BEGIN {
			printf "round %d %-4s: %5d frames, Weston CPU %8.3f ms, %7.1f us/frame\n", r, c, f, n / 1e6, n / 1e3 / f }' >&2
	done
done
# ---- Weston under callgrind: instructions per frame ---------------------------
: >"$out/cg.tsv"
for rep in $(seq "$cg_rounds"); do
	for k in 0 1 2 3; do
		c=${confs[$(( (k + rep - 1) % 4 ))]}
		run_weston "cg-$c-$rep" "$c" "$cg_secs" cg
		read -r ir fr <"$out/cg-$c-$rep.res"
		printf '%s\t%s\t%s\t%s\n' "$rep" "$c" "$ir" "$fr" >>"$out/cg.tsv"
		awk -v r="$rep" -v c="$c" -v n="$ir" -v f="$fr" 'BEGIN {
			printf "callgrind round %d %-4s: %5d frames, %12d instructions, %9.0f per frame\n", r, c, f, n, n / f }' >&2
	done
done
stop_agg "$seat"
off_log=$out/off-1.log
[ -f "$off_log" ] || off_log=$out/cg-off-1.log
grep -q "uev-weston: .*seat $seatoff is not recording" "$off_log" ||
	{ echo "off: the module did not say its seat is not recording:" >&2; cat "$off_log" >&2; exit 1; }
echo "# load at end of the rounds: $(cut -d' ' -f1-3 /proc/loadavg)"

# ---- ring bytes per frame ---------------------------------------------------
"$replay" --stats "$out/rec.ring" >"$out/rec.stats"
rec_frames=$(awk -F'\t' '$2 == "rec" {s += $4} END {print s}' "$out/results.tsv")
ring_frames=$(awk '$1 == "weston_repaint_finished" || $1 ~ /:weston_repaint_finished$/ {print $2}' "$out/rec.stats")
echo "# ring of the rec runs: $(sed -n 's/^uev-aggregator: //p' "$out/$seat.agg.log" | tail -1)"
echo "# ring of the rec runs, uev-replay --stats:"
sed 's/^/#   /' "$out/rec.stats"
ring_bytes=$(sed -n 's/.*pages, \([0-9]*\) bytes.*/\1/p' "$out/$seat.agg.log" | tail -1)
echo "# frames counted by wbench.so in the rec windows: $rec_frames; weston_repaint_finished events in the ring (whole runs): ${ring_frames:-?}"
echo "# ring bytes per frame (aggregator bytes / repaint_finished events, start-up and log lines included): $(awk -v b="$ring_bytes" -v f="$ring_frames" 'BEGIN {printf "%.1f", b / f}')"

# ---- the module alone: tl_feed -----------------------------------------------
start_agg "$seatf" "$out/feed.ring"
feed_rec=$(UEV_RUN_DIR=$out/run "$feed" "$seatf" "$out/timeline.lines" "$feed_reps")
feed_off=$(UEV_RUN_DIR=$out/run "$feed" "$seatoff" "$out/timeline.lines" "$feed_reps")
echo "# tl_feed recording:     $feed_rec"
echo "# tl_feed not recording: $feed_off"
for s in "$seatf" "$seatoff"; do
	UEV_RUN_DIR=$out/run valgrind --tool=callgrind --callgrind-out-file="$out/cg.$s" \
		"$feed" "$s" "$out/timeline.lines" "$cg_reps" \
		>"$out/cg.$s.out" 2>"$out/cg.$s.err" || { cat "$out/cg.$s.err" >&2; exit 1; }
	callgrind_annotate --inclusive=yes "$out/cg.$s" >"$out/cg.$s.txt" 2>/dev/null
	read -r pm pp < <(sed -n 's/.*points fed to scope_write \([0-9]*\), to the parser \([0-9]*\).*/\1 \2/p' "$out/cg.$s.out")
	im=$(awk '/:feed_module[ .]/ {gsub(",", "", $1); print $1; exit}' "$out/cg.$s.txt")
	ip=$(awk '/:feed_parser[ .]/ {gsub(",", "", $1); print $1; exit}' "$out/cg.$s.txt")
	echo "# callgrind, seat $s: scope_write path $im instructions / $pm points = $(awk -v i="$im" -v p="$pm" 'BEGIN {printf "%.0f", i / p}') per point; parser alone $ip / $pp = $(awk -v i="$ip" -v p="$pp" 'BEGIN {printf "%.0f", i / p}') per point"
done
stop_agg "$seatf"
echo "# load at end: $(cut -d' ' -f1-3 /proc/loadavg)"

saved=/tmp/uev-bench-weston-results.$(date +%Y%m%d-%H%M%S).tsv
cp "$out/results.tsv" "$saved"
echo "# raw results (also in $saved): round conf weston_cpu_ns frames"
sed 's/^/#   /' "$out/results.tsv"

# ---- summary ----------------------------------------------------------------
echo
[ -s "$out/results.tsv" ] && awk -F'\t' '
function med(k,   n, a, i, j, t) {
	n = cnt[k]
	for (i = 1; i <= n; i++) a[i] = v[k, i]
	for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
	lo = a[1]; hi = a[n]
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
function add(k, x) { cnt[k]++; v[k, cnt[k]] = x }
{ pf[$1, $2] = $3 / $4 / 1e3; add($2, $3 / $4 / 1e3); add($2 "f", $4); rounds[$1] = 1 }
END {
	nc = split("base fmt off rec", C, " ")
	for (r in rounds) for (i = 2; i <= nc; i++) add(C[i] "/base", pf[r, C[i]] / pf[r, "base"])
	for (r in rounds) add("rec/off", pf[r, "rec"] / pf[r, "off"])
	for (r in rounds) add("off/fmt", pf[r, "off"] / pf[r, "fmt"])
	printf "| configuration | frames per window (median) | Weston CPU per frame, us (median, min-max) | / base (median of rounds, min-max) |\n|---|---|---|---|\n"
	for (i = 1; i <= nc; i++) {
		m = med(C[i]); l = lo; h = hi
		rt = "1"
		if (i > 1) { x = med(C[i] "/base"); rt = sprintf("**%.3f** (%.3f-%.3f)", x, lo, hi) }
		printf "| %s | %d | %.1f (%.1f-%.1f) | %s |\n", C[i], med(C[i] "f"), m, l, h, rt
	}
	x = med("rec/off"); printf "\nrec / off (the module parsing and emitting, per frame): %.3f (%.3f-%.3f)\n", x, lo, hi
	x = med("off/fmt"); printf "off / fmt (the module present, seat not recording): %.3f (%.3f-%.3f)\n", x, lo, hi
}' "$out/results.tsv"
[ -s "$out/cg.tsv" ] && awk -F'\t' '
function med(k,   n, a, i, j, t) {
	n = cnt[k]
	for (i = 1; i <= n; i++) a[i] = v[k, i]
	for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
	lo = a[1]; hi = a[n]
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
function add(k, x) { cnt[k]++; v[k, cnt[k]] = x }
{ pf[$1, $2] = $3 / $4; add($2, $3 / $4); add($2 "f", $4); rounds[$1] = 1 }
END {
	nc = split("base fmt off rec", C, " ")
	for (r in rounds) for (i = 2; i <= nc; i++) add(C[i] "/base", pf[r, C[i]] / pf[r, "base"])
	printf "\nWeston under callgrind (user-space instructions in the window):\n\n"
	printf "| configuration | frames per window (median) | instructions per frame (median, min-max) | / base (median of rounds, min-max) |\n|---|---|---|---|\n"
	for (i = 1; i <= nc; i++) {
		m = med(C[i]); l = lo; h = hi
		rt = "1"
		if (i > 1) { x = med(C[i] "/base"); rt = sprintf("**%.4f** (%.4f-%.4f)", x, lo, hi) }
		printf "| %s | %d | %.0f (%.0f-%.0f) | %s |\n", C[i], med(C[i] "f"), m, l, h, rt
	}
	printf "\nper frame, median: fmt - base %.0f (Weston formatting), off - fmt %.0f (module, not recording), rec - off %.0f (module parsing and emitting)\n", med("fmt") - med("base"), med("off") - med("fmt"), med("rec") - med("off")
}' "$out/cg.tsv"
[ -s "$out/cg.tsv" ] && { echo "# callgrind raw: round conf instructions frames"; sed 's/^/#   /' "$out/cg.tsv"; }
true   # the last test above may be false: not a failure
