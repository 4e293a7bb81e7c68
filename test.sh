#!/usr/bin/env bash
# Install what is missing, build (release-like and ASan+UBSan), run every
# test in both. Exit status: 0 only if every test passed (skips allowed).
set -uo pipefail
cd "$(dirname "$0")" || exit 1
. .ci/deps.sh
uev_deps || exit 1
uev_tracefs

rc=0
build() { # dir, extra meson options...
	local dir=$1; shift
	if [ ! -f "$dir/build.ninja" ]; then
		case $dir in build-fuzz) export CC=clang ;; esac
		meson setup "$dir" "$@" >/dev/null || { unset CC; return 1; }
		unset CC
	fi
	ninja -C "$dir" >/dev/null || { ninja -C "$dir"; return 1; }
}
for cfg in "build" "build-asan -Db_sanitize=address,undefined -Db_lundef=false"; do
	set -- $cfg
	dir=$1; shift
	echo "== $dir: build"
	if ! build "$dir" "$@"; then rc=1; continue; fi
	echo "== $dir: test"
	# ASan must not hide a UBSan report: make both fatal.
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 ASAN_OPTIONS=detect_leaks=1 \
		meson test -C "$dir" --print-errorlogs --num-processes 2 || rc=1
done
# The libFuzzer targets: clang, the whole tree instrumented (ASan, UBSan,
# coverage), so only the fuzz suite runs here: the corpus and every
# reproducer of a past finding, then a bounded fuzzing run per target.
echo "== build-fuzz: build"
if build build-fuzz -Dfuzz=true -Dbench=false -Db_sanitize=address,undefined -Db_lundef=false \
	-Dc_args=-fsanitize=fuzzer-no-link; then
	echo "== build-fuzz: fuzz"
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		meson test -C build-fuzz --suite fuzz --print-errorlogs --num-processes 2 || rc=1
else
	rc=1
fi
# uev-replay on a machine with neither libtracefs nor liburing (a bug report
# read elsewhere): -Drecorder=false, and pkg-config sees only copies of
# libtraceevent's and libzstd's .pc (so libtracecmd, which requires
# libtracefs, is not found either). Every step runs with that view, a
# rebuild's reconfigure too.
replay_pc=$(mktemp -d /tmp/uev-replay-pc.XXXXXX)
cp "$(pkg-config --variable=pcfiledir libtraceevent)/libtraceevent.pc" "$replay_pc/"
cp "$(pkg-config --variable=pcfiledir libzstd)/libzstd.pc" "$replay_pc/"
echo "== build-replay: build (-Drecorder=false, pkg-config sees libtraceevent and libzstd only)"
if PKG_CONFIG_LIBDIR=$replay_pc PKG_CONFIG_PATH='' build build-replay -Drecorder=false; then
	echo "== build-replay: test"
	PKG_CONFIG_LIBDIR=$replay_pc PKG_CONFIG_PATH='' \
		meson test -C build-replay --print-errorlogs --num-processes 2 || rc=1
else
	rc=1
fi
rm -rf "$replay_pc"
python3 .ci/summary.py build build-asan build-fuzz build-replay
exit $rc
