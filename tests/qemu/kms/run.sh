#!/usr/bin/env bash
# tests/qemu/kms/run.sh [BUILD_DIR] — Weston on a real KMS driver, as a
# normal user, with the kernel's DRM debug in the same timeline: boots the
# test kernel (kernel/build-kernel.sh, cached) with qemu's bochs-display, an initramfs of busybox + Debian's Weston userland
# (guest-weston.sh, cached) + this build's uev-aggregator, uev-replay,
# uev-weston.so, uev-kms-shim.so and the launcher wlaunch (built here), and
# runs the two Weston sessions of kms/init. Then, on the host: the
# guest's ring file decodes to the same JSON as in the guest, and
# check.py proves the causal order of many frames and the explanation of the
# refused commit.
#
# Exit status: 0 every check passed; 77 SKIP (no test kernel: no network or
# root; Weston or the module not built); 1 a check failed, or the guest hung.
# Environment: as tests/qemu/run.sh (UEV_QEMU_TIMEOUT default 180,
# UEV_QEMU_KEEP, UEV_QEMU_ACCEL, UEV_QEMU_VERBOSE, UEV_QEMU_APPEND), and
# UEV_GUEST_CACHE (default /var/cache/uev/guest) for the Weston userland.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../../.." && pwd)
build_arg=${1:-./build}
timeout_s=${UEV_QEMU_TIMEOUT:-180}

trap 'printf "qemu-kms: FAIL: line %s: %s (exit %s)\n" "$LINENO" "$BASH_COMMAND" "$?" >&2' ERR
say() { printf 'qemu-kms: %s\n' "$*"; }
fail() {
	printf '\nqemu-kms: FAIL: %s\n' "$*" >&2
	exit 1
}
skip() {
	printf '\nqemu-kms: SKIP: %s\n' "$*"
	exit 77
}

[[ -d $build_arg ]] || fail "no build dir $build_arg"
build=$(cd "$build_arg" && pwd)
module=$build/weston/uev-weston.so
shim=$build/kms-shim/uev-kms-shim.so
[[ -r $module ]] || skip "$module is not built (Weston's plugin API is missing: see weston/meson.build)"
[[ -r $shim ]] || skip "$shim is not built (libdrm-dev is missing: see kms-shim/meson.build)"
bins=("$build/aggregator/uev-aggregator" "$build/aggregator/uev-replay")
for b in "${bins[@]}" "$shim"; do
	[[ -r $b ]] || fail "$b is not built (ninja -C $build)"
done

QEMU_ROOT=$root
. "$here/../lib.sh"
qemu_kernel
t0=$SECONDS
weston_cpio=$("$here/guest-weston.sh" "${UEV_GUEST_CACHE:-/var/cache/uev/guest}") ||
	fail "the guest's Weston userland could not be put together (guest-weston.sh)"
say "Weston userland: $weston_cpio ($((SECONDS - t0)) s)"

qemu_workdir uev-qemu-kms

# --- the per-run part of the initramfs ------------------------------------------
stage=$work/root
qemu_busybox "$stage"
mkdir -p "$stage"/{etc/uev,etc/weston,usr/lib/uev,usr/share/uev/schemas,var/lib/uev}
cc -static -O2 -std=gnu11 -Wall -Wextra -Werror -D_FORTIFY_SOURCE=2 \
	-o "$work/wlaunch" "$here/wlaunch.c" || fail "cannot build the launcher tests/qemu/kms/wlaunch.c"
cp "${bins[@]}" "$work/wlaunch" "$stage/usr/bin/"
cp "$module" "$shim" "$stage/usr/lib/uev/"
qemu_closure "$stage" "${bins[@]}" "$module" "$shim"
cp "$root"/schemas/*.uev "$stage/usr/share/uev/schemas/"
# The seat configuration a compositor developer would ship, as it is.
cp "$root/docs/examples/weston-drm.conf" "$stage/etc/uev/seat0.conf"
cp "$here"/*.ini "$stage/etc/weston/"
cp "$here/init" "$stage/init"
chmod 0755 "$stage/init"
cat >"$stage/etc/passwd" <<'EOF'
root:x:0:0:root:/:/bin/sh
weston:x:1000:1000:compositor:/tmp:/bin/sh
EOF
cat >"$stage/etc/group" <<'EOF'
root:x:0:
video:x:44:weston
weston:x:1000:
uevemit:x:2000:weston
EOF
run_cpio=$work/run.cpio.gz
qemu_cpio "$stage" "$run_cpio"
initrd=$work/initramfs.cpio.gz
cat "$weston_cpio" "$run_cpio" >"$initrd"
say "initramfs: $(stat -c %s "$initrd") bytes"

# --- boot: bochs-display is the KMS device ---------------------------------------
console=$work/console.log
files=$work/ttyS1.log
qemu_boot "$timeout_s" "$console" "$files" "$initrd" "$(qemu_append)" -vga none -device bochs-display
qemu_verdict "$console" UEVK-DONE "$timeout_s"

problems=()
while read -r line; do
	problems+=("guest: ${line#UEVK-FAIL }")
done < <(grep '^UEVK-FAIL ' "$console" || true)
for id in K-drm-debug-on K-weston-unprivileged K-weston-still-unprivileged K-weston-exit \
	K-refused-logged K-refused-unprivileged K-drm-debug-off; do
	grep -q "^UEVK-PASS $id " "$console" || problems+=("guest: no PASS marker for $id")
done

# --- on the host: the same decode, then the order of things ----------------------
out=$work/out
qemu_files "$files" "$out" || problems+=("host: the file transfer on ttyS1 did not complete")
replay=$build/aggregator/uev-replay
if [[ -s $out/seat0.ring && -s $out/seat0.json ]]; then
	if ! "$replay" --json "$out/seat0.ring" >"$out/host.json" 2>"$out/host.json.err"; then
		problems+=("host: uev-replay --json seat0.ring failed: $(head -n3 "$out/host.json.err")")
	elif ! diff -q "$out/seat0.json" "$out/host.json" >/dev/null; then
		problems+=("host: uev-replay --json of the guest's ring differs from the guest's own (diff below)")
		diff -u "$out/seat0.json" "$out/host.json" | head -n 20
	else
		say "PASS host-decode: $(wc -l <"$out/host.json") events, the same JSON as in the guest ($(tail -n1 "$out/host.json.err" | sed 's/^# //'))"
		"$replay" --pid "$(awk '$1 == "refused" { print $2 }' "$out/pids")" "$out/seat0.ring" \
			>"$out/host-refused.txt" 2>/dev/null || true
		if ! python3 "$here/check.py" "$out/host.json" "$out/pids" "$out/host-refused.txt"; then
			problems+=("host: check.py found the timeline wrong (above)")
		fi
	fi
else
	problems+=("host: the ring file and the guest's JSON did not come back")
fi

up=$(grep -m1 '^UEVK-UP ' "$console" || true)
[[ -z $up ]] || say "${up#UEVK-}"
if ((${#problems[@]})); then
	echo >&2
	printf 'qemu-kms: FAIL: %s\n' "${problems[@]}" >&2
	exit 1
fi
say "PASS: Weston on bochs-drm as uid 1000, DRM debug and KMS commits in one timeline; boot+test ${boot_s} s ($qemu_accel_used)"
