#!/usr/bin/env bash
# tests/qemu/boot/run.sh [BUILD_DIR] [KERNEL-SOURCE] — the previous boot's
# last moments, recovered: one qemu machine booted four times (a panic,
# then a warm reset, three times; guest/init's phases) with the kernel's
# persistent ring (reserve_mem= + trace_instance=uevboot^traceoff@uevboot)
# and the ring file on a virtio disk. On the host, uev-replay of the ring
# file must show every user event and kernel message the guest logged as
# written before each panic, each exactly once, in order, typed fields
# decoded although the next boot registered its events in another order
# (their ids differ), the part only the kernel kept marked as recovered;
# and the last boot refuses what a run of another ring file left in the
# instance, and records on.
#
# KERNEL-SOURCE: the Debian source package of the test kernel
# (linux-source-6.12, the default, or linux-source-7.3); kernel/build-kernel.sh
# builds it once and caches it. Exit 0 pass, 77 skip (no kernel to be had),
# 1 fail (the work dir is kept: console log, disk image, ring file).
# Environment as tests/qemu/run.sh (UEV_QEMU_TIMEOUT, _KEEP, _ACCEL,
# _VERBOSE, _APPEND).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../../.." && pwd)
build_arg=${1:-./build}
export UEV_KERNEL_SOURCE=${2:-${UEV_KERNEL_SOURCE:-linux-source-6.12}}
timeout_s=${UEV_QEMU_TIMEOUT:-240}

QEMU_ROOT=$root
. "$root/tests/qemu/lib.sh"
qemu_harness qemu-boot "$build_arg"
bins=("$build/aggregator/uev-aggregator" "$build/aggregator/uev-replay")
libuev_a=$build/libuev/libuev.a
command -v mke2fs >/dev/null || fail "mke2fs is missing (e2fsprogs)"

qemu_kernel
qemu_workdir uev-qemu-boot

stage=$work/root
mkdir -p "$stage"/{etc/uev/qemu,usr/share/uev/qemu,var/lib/uev}
probe=$work/uevq
qemu_probe "$libuev_a" "$probe" || fail "cannot build the probe tests/qemu/uevq.c"
bins+=("$probe")
qemu_busybox "$stage"
for b in "${bins[@]}"; do
	cp "$b" "$stage/usr/bin/"
done
qemu_closure "$stage" "${bins[@]}"
cp "$root/tests/qemu/guest/qemu0.uev" "$stage/usr/share/uev/qemu/"
cp "$here/seat0.conf" "$stage/etc/uev/qemu/"
cp "$here/init" "$stage/init"
chmod 0755 "$stage/init"
initrd=$work/initramfs.cpio.gz
qemu_cpio "$stage" "$initrd"

# The disk: ext2, empty (phase 0).
disk=$work/disk.img
mkdir -p "$work/empty"
mke2fs -q -t ext2 -F -d "$work/empty" "$disk" 64M

console=$work/console.log
files=$work/ttyS1.log
# 16 MiB alignment keeps the reserved range out of the firmware's scratch
# memory at the top of RAM below 4 GiB (kernel/README.md).
append="$(qemu_append) reserve_mem=4M:0x1000000:uevboot trace_instance=uevboot^traceoff@uevboot"
qemu_warm_reboot=1 qemu_boot "$timeout_s" "$console" "$files" "$initrd" "$append" \
	-drive "file=$disk,format=raw,if=virtio"

((qrc != 124)) || fail "the guest hung: no end within $timeout_s s (last line: $(tail -n1 "$console"))"
((qrc == 0)) || fail "qemu failed (exit $qrc)"
grep -q '^UEVQ-DONE ' "$console" || fail "the guest did not finish its third boot"
out=$work/out
qemu_files "$files" "$out" || fail "the ring file did not come back over ttyS1"
"$build/aggregator/uev-replay" --json "$out/seat0.ring" >"$out/seat0.json" 2>"$out/seat0.err" ||
	fail "uev-replay --json: $(head -n3 "$out/seat0.err")"
"$build/aggregator/uev-replay" "$out/seat0.ring" >"$out/seat0.txt" 2>/dev/null || true
grep '^#' "$out/seat0.txt" | sed 's/^/qemu-boot: /'
grep '^UEVQ-KLOG ' "$console" | sed 's/^UEVQ-KLOG /qemu-boot: kernel: /' | sort -u
python3 "$here/check.py" "$console" "$out/seat0.json" "$out/seat0.txt" ||
	fail "the recovered timeline is not what the guest wrote (above); work dir kept"
say "PASS: kernel ${kernel%/bzImage} ($UEV_KERNEL_SOURCE), 4 boots in ${boot_s} s ($qemu_accel_used)"
