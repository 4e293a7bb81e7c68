#!/usr/bin/env bash
# tests/qemu/incident/run.sh [BUILD_DIR] [KERNEL-SOURCE] — incident bundles
# on a real kernel WARN: the test kernel's lkdtm (debugfs provoke-crash)
# WARNs while uev-aggregator records a seat with the shipped default
# [incident] triggers (incident/init says what the guest does). On the
# host, from the ring file and the bundles the guest sends back:
#   - the bundle triggered by printk:console names the WARNING line in its
#     header, holds the WARN's report (first line, registers, call trace,
#     end marker) and the numbered messages on both sides, and equals the
#     ring's events in [trigger - 1 s, trigger + 1 s] (tests/control/
#     check-window.py);
#   - the bundle triggered by error_report:error_report_end (fired by the
#     same WARN at the end of __warn(), detector "warning") equals its own
#     window of the ring too (check.py), and both say their trigger's
#     trace time exactly.
# Why a WARN and not KASAN/KFENCE: see incident/init.
#
# KERNEL-SOURCE: linux-source-6.12 (default) or linux-source-7.3, built once
# by kernel/build-kernel.sh and cached. Exit 0 pass, 77 skip (no kernel to
# be had), 1 fail (the work dir is kept). Environment as tests/qemu/run.sh
# (UEV_QEMU_TIMEOUT default 90, _KEEP, _ACCEL, _VERBOSE, _APPEND).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../../.." && pwd)
build_arg=${1:-./build}
export UEV_KERNEL_SOURCE=${2:-${UEV_KERNEL_SOURCE:-linux-source-6.12}}
timeout_s=${UEV_QEMU_TIMEOUT:-90}

trap 'printf "qemu-incident: FAIL: line %s: %s (exit %s)\n" "$LINENO" "$BASH_COMMAND" "$?" >&2' ERR
say() { printf 'qemu-incident: %s\n' "$*"; }
fail() {
	printf '\nqemu-incident: FAIL: %s\n' "$*" >&2
	exit 1
}
skip() {
	printf '\nqemu-incident: SKIP: %s\n' "$*"
	exit 77
}

[[ -d $build_arg ]] || fail "no build dir $build_arg"
build=$(cd "$build_arg" && pwd)
bins=("$build/aggregator/uev-aggregator" "$build/aggregator/uev-replay")
for b in "${bins[@]}"; do
	[[ -x $b ]] || fail "$b is not built (ninja -C $build)"
done
replay=$build/aggregator/uev-replay

QEMU_ROOT=$root
. "$root/tests/qemu/lib.sh"
qemu_kernel
qemu_workdir uev-qemu-incident

stage=$work/root
mkdir -p "$stage"/{etc/uev/qemu,var/lib/uev,sys/kernel/debug}
qemu_busybox "$stage"
for b in "${bins[@]}"; do
	cp "$b" "$stage/usr/bin/"
done
qemu_closure "$stage" "${bins[@]}"
cp "$here/seat0.conf" "$stage/etc/uev/qemu/"
cp "$here/init" "$stage/init"
chmod 0755 "$stage/init"
initrd=$work/initramfs.cpio.gz
qemu_cpio "$stage" "$initrd"

console=$work/console.log
files=$work/ttyS1.log
qemu_boot "$timeout_s" "$console" "$files" "$initrd" "$(qemu_append)"
qemu_verdict "$console" UEVQ-DONE "$timeout_s"

problems=()
while read -r line; do
	problems+=("guest: ${line#UEVQ-FAIL }")
done < <(grep '^UEVQ-FAIL ' "$console" || true)
for id in enables triggers bundles; do
	grep -q "^UEVQ-PASS $id " "$console" || problems+=("guest: no PASS marker for $id")
done
out=$work/out
qemu_files "$files" "$out" || problems+=("host: the file transfer on ttyS1 did not complete")
((${#problems[@]} == 0)) || {
	printf 'qemu-incident: FAIL: %s\n' "${problems[@]}" >&2
	exit 1
}

# Which bundle is which: their own description (uev-replay --stats --json).
"$replay" --json "$out/seat0.ring" >"$out/ring.json" 2>"$out/ring.err" ||
	fail "uev-replay --json seat0.ring: $(head -n3 "$out/ring.err")"
warn='' erep=''
for b in "$out"/seat0-*.uevb; do
	[[ -e $b ]] || continue
	"$replay" --json "$b" >"$b.json" 2>"$b.err" || fail "uev-replay --json ${b##*/}: $(head -n3 "$b.err")"
	"$replay" "$b" >"$b.txt" 2>&1 || fail "uev-replay ${b##*/}: $(head -n3 "$b.txt")"
	"$replay" --stats --json "$b" >"$b.stats" || fail "uev-replay --stats --json ${b##*/}"
	grep '^# incident:' "$b.txt" | sed "s|^|qemu-incident: ${b##*/}: |"
	trig=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["incident"]["trigger"])' "$b.stats")
	case $trig in
	"printk:console: WARNING: CPU: "*) warn=$b ;;
	"error_report:error_report_end"*) erep=$b ;;
	*) problems+=("host: ${b##*/}: a bundle of an unexpected trigger: $trig") ;;
	esac
done
[[ -n $warn ]] || fail "no bundle triggered by the WARNING line (see the headers above)"
[[ -n $erep ]] || fail "no bundle triggered by error_report:error_report_end (see the headers above)"

# The printk bundle: its header, and the exact window of the ring.
grep -Eq '^# incident: .*triggered by printk:console: WARNING: CPU: [0-9]+ PID: [0-9]+ at .*lkdtm.*, window -1\.000s\.\.\+1\.000s' "$warn.txt" ||
	problems+=("host: the header of ${warn##*/} does not name the WARNING line and the 1 s + 1 s window: $(grep '^# incident' "$warn.txt")")
if ! python3 "$root/tests/control/check-window.py" "$out/ring.json" "$warn.json" "WARNING: CPU: " 1 1 "uevwarn n=" |
	sed 's/^/qemu-incident: printk bundle: /'; then
	problems+=("host: ${warn##*/} is not the ring's window around the WARNING line (above)")
fi
# The WARN's report inside it, the error_report_end bundle's window, the
# trigger times, the numbered messages as the guest logged them.
if ! python3 "$here/check.py" "$out/ring.json" "$warn.json" "$warn.stats" "$erep.json" "$erep.stats" "$console" |
	sed 's/^/qemu-incident: /'; then
	problems+=("host: check.py (above)")
fi
grep -q 'cannot fire' "$out/agg.err" && problems+=("host: the aggregator said: $(grep -m1 'cannot fire' "$out/agg.err")")

if ((${#problems[@]})); then
	printf 'qemu-incident: FAIL: %s\n' "${problems[@]}" >&2
	exit 1
fi
say "PASS: kernel ${kernel%/bzImage} ($UEV_KERNEL_SOURCE), boot+test ${boot_s} s ($qemu_accel_used)"
