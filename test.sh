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
		meson setup "$dir" "$@" >/dev/null || return 1
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
python3 .ci/summary.py build build-asan
exit $rc
