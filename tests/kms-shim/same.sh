#!/usr/bin/env bash
# uev-kms-shim changes nothing the compositor can see: kms-calls' script of
# libdrm calls on non-DRM fds prints the same return values and errno with
# and without the shim preloaded; with the libuev backend chosen by itself
# (no seat records: events disabled) and with UEV_BACKEND=off. And the shim
# loads into programs without libdrm.
# Needs no root and no tracefs.
# usage: same.sh KMS-CALLS UEV-KMS-SHIM.SO
set -uo pipefail
CALLS=$(realpath "$1") SHIM=$(realpath "$2")
# shellcheck source=preload.sh
. "$(dirname "$0")/preload.sh"
T=$(mktemp -d /tmp/uevkmssame.XXXXXX)
trap 'rm -rf "$T"' EXIT
fail=0
echo "a regular file, not a DRM device" >"$T/file"

run() { # NAME PRELOAD [VAR=VALUE...]
	local name=$1 pre=$2
	shift 2
	if ! env ${pre:+LD_PRELOAD="$pre"} UEV_RUN_DIR="$T/run" XDG_SEAT="uevkmssame$$" "$@" \
		"$CALLS" "$T/file" >"$T/$name.out" 2>"$T/$name.err"; then
		echo "FAIL: kms-calls ($name) exited $?"; cat "$T/$name.err"; fail=1
	fi
}
run plain "$(kms_preload)"
run shim "$(kms_preload "$SHIM")"
run off "$(kms_preload "$SHIM")" UEV_BACKEND=off
# sanity: the script ran to its end and met the errors it is made of
for want in "commit null test_only|allow_modeset.* r=-25 errno=25" "commit closed nonblock|event.* r=-9 errno=9" \
	    "commit null empty.* r=0 errno=18" "commit null NULL.* r=-22 errno=18" "set_crtc null full name"; do
	grep -qE -- "$want" "$T/plain.out" || { echo "FAIL: kms-calls without the shim lacks '$want'"; fail=1; }
done
for name in shim off; do
	if ! diff -u "$T/plain.out" "$T/$name.out"; then
		echo "FAIL: with the shim ($name) the calls returned something else (diff above)"; fail=1
	fi
	[ -s "$T/$name.err" ] && { echo "FAIL: the shim ($name) wrote to stderr:"; cat "$T/$name.err"; fail=1; }
done
# A preloaded compositor passes LD_PRELOAD on to every process it starts,
# most of which do not have libdrm: the shim must load and stay silent there.
# An instrumented shim needs its sanitizer runtime: gcc's is a library that
# kms_preload puts first; clang's is linked into each instrumented program,
# so no uninstrumented one can load the shim (see preload.sh).
progs=(/bin/true "$(command -v sh)")
undef=$(nm -D --undefined-only "$SHIM")
if [ -z "$(kms_preload)" ] && grep -qE ' (__asan_|__ubsan_|__sanitizer_|__sancov_)' <<<"$undef"; then
	echo "note: not preloaded into programs without libdrm: the shim is instrumented and its sanitizer runtime is not a library to preload (clang); the plain build checks it"
	progs=()
fi
for prog in "${progs[@]}"; do
	out=$(env LD_PRELOAD="$(kms_preload "$SHIM")" "$prog" -c true 2>&1) ||
		{ echo "FAIL: $prog with the shim preloaded exited $?: $out"; fail=1; continue; }
	[ -z "$out" ] || { echo "FAIL: $prog with the shim preloaded said: $out"; fail=1; }
done
[ "$fail" = 0 ] && echo "ok: $(wc -l <"$T/plain.out") calls, the same results and errno with the shim"
exit "$fail"
