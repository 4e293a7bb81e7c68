#!/usr/bin/env bash
# Build the libFuzzer targets and run each for a bounded time.
#
# usage: tests/fuzz/run.sh [SECONDS] [BUILD_DIR]
#   SECONDS    per target (default 30: the three targets together take 90 s)
#   BUILD_DIR  default build-fuzz (in the source tree); configured here if
#              it does not exist yet, with clang and the whole tree
#              instrumented: ASan + UBSan (b_sanitize) and libFuzzer's
#              coverage (-fsanitize=fuzzer-no-link), so that the fuzzer
#              sees and checks the aggregator code, not just the harness.
# Environment: FUZZ_TARGETS="fuzz_ring" to run a subset; FUZZ_ARGS="..."
#              extra libFuzzer flags; FUZZ_KEEP=1 keeps the work directory.
#
# The seed corpus is copied to a temporary directory: the fuzzers add to
# the copy, the repository's corpus stays as committed. Exit status 0 when
# no target found anything; 1 when one crashed, leaked, hit UB or timed
# out (the reproducer's path is printed; the work directory is kept);
# 2 when the build failed.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=${UEV_SRC:-$(cd "$here/../.." && pwd)}
secs=${1:-30}
build=${2:-$src/build-fuzz}
targets=${FUZZ_TARGETS:-fuzz_ring fuzz_page fuzz_control}

case $secs in ''|*[!0-9]*) echo "run.sh: SECONDS must be a number" >&2; exit 2;; esac
command -v clang >/dev/null || { echo "run.sh: clang is not installed (apt-get install clang libclang-rt-14-dev)" >&2; exit 2; }

if [ ! -f "$build/build.ninja" ]; then
	CC=clang meson setup "$build" "$src" -Dfuzz=true -Dbench=false \
		-Db_sanitize=address,undefined -Db_lundef=false \
		-Dc_args=-fsanitize=fuzzer-no-link >"$build.setup.log" 2>&1 ||
		{ cat "$build.setup.log" >&2; rm -f "$build.setup.log"; exit 2; }
	rm -f "$build.setup.log"
fi
exes=()
for t in $targets; do exes+=("tests/fuzz/$t"); done
# (grep -q would stop reading early: ninja's SIGPIPE fails the pipeline)
if ! ninja -C "$build" -t targets all 2>/dev/null | grep -c '^tests/fuzz/fuzz_ring:' >/dev/null; then
	echo "run.sh: $build has no fuzz targets. It must be configured with clang and" >&2
	echo "  -Dfuzz=true, and tests/meson.build must end with:" >&2
	printf "  if get_option('fuzz')\n    subdir('fuzz')\n  endif\n" >&2
	exit 2
fi
ninja -C "$build" "${exes[@]}" >/dev/null || { ninja -C "$build" "${exes[@]}"; exit 2; }

work=$(mktemp -d /tmp/uev-fuzz.XXXXXX)
# Every sanitizer report is fatal, so that libFuzzer saves the input.
# lsan.supp: leaks inside libtraceevent itself (see there).
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$here/lsan.supp:print_suppressions=0}
rc=0
printf '%-10s %8s %10s %8s %14s %8s  %s\n' target seconds execs exec/s "cov (edges)" ft result
for t in $targets; do
	mkdir -p "$work/$t/corpus" "$work/$t/crashes"
	cp "$here/corpus/$t/"* "$work/$t/corpus/"
	case $t in fuzz_ring) maxlen=65536;; fuzz_control) maxlen=5000;; *) maxlen=8192;; esac
	# shellcheck disable=SC2086 # FUZZ_ARGS is a list of flags
	"$build/tests/fuzz/$t" "$work/$t/corpus" -max_total_time="$secs" -timeout=10 \
		-max_len=$maxlen -dict="$here/$t.dict" -print_final_stats=1 \
		-artifact_prefix="$work/$t/crashes/" ${FUZZ_ARGS:-} >"$work/$t/log" 2>&1
	status=$?
	# The final stats when libFuzzer stopped by itself, else (a crash,
	# or -fork mode) the last status line.
	last=$(grep -E '^#[0-9]+' "$work/$t/log" | tail -1)
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/$t/log" | tail -1)
	execs=${execs:-$(sed -n 's/^#\([0-9]*\).*/\1/p' <<<"$last")}
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$work/$t/log" | tail -1)
	[ -n "$rate" ] && [ "$rate" != 0 ] || rate=$(sed -n 's/.* exec\/s:* \([0-9]*\).*/\1/p' <<<"$last")
	pcs=$(sed -n 's/.*Loaded 1 modules *(\([0-9]*\) inline.*/\1/p' "$work/$t/log" | head -1)
	cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
	ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
	found=$(find "$work/$t/crashes" -type f | sort)
	if [ "$status" -eq 0 ] && [ -z "$found" ]; then
		result=ok
	else
		result="FOUND (exit $status)"
		rc=1
	fi
	printf '%-10s %8s %10s %8s %14s %8s  %s\n' "$t" "$secs" "${execs:-?}" "${rate:-?}" \
		"${cov:-?}/${pcs:-?}" "${ft:-?}" "$result"
	if [ "$result" != ok ]; then
		grep -m1 -E '^(==[0-9]+==ERROR|SUMMARY|.*runtime error|ALARM|.*deadly signal)' "$work/$t/log" | sed 's/^/  /'
		# -fork mode with -ignore_crashes collects many: show a few.
		head -5 <<<"$found" | sed 's/^/  reproducer: /'
		n=$(wc -l <<<"$found")
		[ "$n" -le 5 ] || echo "  ... and $((n - 5)) more in $work/$t/crashes"
		echo "  log: $work/$t/log"
		echo "  replay: FUZZ_VERBOSE=1 $build/tests/fuzz/$t <reproducer>"
	fi
done
if [ "$rc" -eq 0 ] && [ -z "${FUZZ_KEEP:-}" ]; then
	rm -rf "$work"
else
	echo "work directory (grown corpus, logs): $work"
fi
exit $rc
