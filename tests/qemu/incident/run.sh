#!/usr/bin/env bash
# tests/qemu/incident/run.sh [BUILD_DIR] [KERNEL-SOURCE] — incident bundles
# on a real kernel WARN: the test kernel's lkdtm (debugfs provoke-crash)
# WARNs while uev-aggregator records two seats, seat0 with the shipped
# default [incident] triggers, seat1 with error_report:error_report_end
# alone (incident/init says what the guest does). On the host, from the
# ring files and the bundles the guest sends back:
#   - seat0 has one bundle, triggered by printk:console: its header names
#     the WARNING line, it holds the WARN's report (first line, registers,
#     call trace, end marker), its error_report_end and the numbered
#     messages on both sides, and it equals the ring's events in
#     [trigger - 1 s, trigger + 1 s] (tests/control/check-window.py);
#   - seat1 has one bundle, triggered by the error_report_end that the same
#     WARN emits at the end of __warn() (detector "warning"), equal to its
#     window of seat1's ring (check.py);
#   - each bundle names its trigger's trace time exactly, and both seats
#     saw the WARN at the same trace times.
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

QEMU_ROOT=$root
. "$root/tests/qemu/lib.sh"
qemu_harness qemu-incident "$build_arg"
bins=("$build/aggregator/uev-aggregator" "$build/aggregator/uev-replay")
replay=$build/aggregator/uev-replay

qemu_kernel
qemu_workdir uev-qemu-incident

stage=$work/root
mkdir -p "$stage"/{etc/uev/qemu,var/lib/uev,sys/kernel/debug}
qemu_busybox "$stage"
for b in "${bins[@]}"; do
	cp "$b" "$stage/usr/bin/"
done
qemu_closure "$stage" "${bins[@]}"
cp "$here/seat0.conf" "$here/seat1.conf" "$stage/etc/uev/qemu/"
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
for id in enables-seat0 enables-seat1 triggers-seat0 triggers-seat1 bundle-seat0 bundle-seat1; do
	grep -q "^UEVQ-PASS $id " "$console" || problems+=("guest: no PASS marker for $id")
done
out=$work/out
qemu_files "$files" "$out" || problems+=("host: the file transfer on ttyS1 did not complete")
((${#problems[@]} == 0)) || {
	printf 'qemu-incident: FAIL: %s\n' "${problems[@]}" >&2
	exit 1
}

# Each seat's ring and its one bundle, decoded; the bundle's own
# description (uev-replay --stats --json) says its trigger.
declare -A bundle
for seat in seat0 seat1; do
	"$replay" --json "$out/$seat.ring" >"$out/$seat.json" 2>"$out/$seat.replay.err" ||
		fail "uev-replay --json $seat.ring: $(head -n3 "$out/$seat.replay.err")"
	shopt -s nullglob
	bs=("$out/$seat"-*.uevb)
	shopt -u nullglob
	((${#bs[@]} == 1)) || fail "$seat: ${#bs[@]} bundles came back, want 1: ${bs[*]##*/}"
	b=${bs[0]}
	bundle[$seat]=$b
	"$replay" --json "$b" >"$b.json" 2>"$b.err" || fail "uev-replay --json ${b##*/}: $(head -n3 "$b.err")"
	"$replay" "$b" >"$b.txt" 2>&1 || fail "uev-replay ${b##*/}: $(head -n3 "$b.txt")"
	"$replay" --stats --json "$b" >"$b.stats" 2>"$b.stats.err" || fail "uev-replay --stats --json ${b##*/}: $(head -n3 "$b.stats.err")"
	grep '^# incident:' "$b.txt" | sed "s|^|qemu-incident: ${b##*/}: |"
	# what uev-replay says beyond its summary is a problem in the file
	for f in "$out/$seat.replay.err" "$b.err"; do
		if grep -qv '^# ' "$f"; then
			problems+=("host: uev-replay of ${f##*/} reported: $(grep -v '^# ' "$f" | head -n2)")
		fi
	done
done
warn=${bundle[seat0]} erep=${bundle[seat1]}

# seat0: the header names printk:console and the WARNING line; the bundle
# is exactly the ring's window around it.
# (a WARN's first line as 6.12 prints it, or as 7.3 does: see check.py)
grep -Eq '^# incident: .*triggered by printk:console: WARNING: (CPU: [0-9]+ PID: [0-9]+ at .*lkdtm|.*lkdtm.*, CPU#[0-9]+: ).*, window -1\.000s\.\.\+1\.000s$' "$warn.txt" ||
	problems+=("host: the header of ${warn##*/} does not name the WARNING line and the 1 s + 1 s window: $(grep '^# incident' "$warn.txt")")
if ! python3 "$root/tests/control/check-window.py" "$out/seat0.json" "$warn.json" "WARNING: " 1 1 "uevwarn n=" |
	sed 's/^/qemu-incident: seat0 bundle: /'; then
	problems+=("host: ${warn##*/} is not seat0's window around the WARNING line (above)")
fi
# seat1: the header names error_report_end; the rest (the report in seat0's
# bundle, seat1's window, trigger times, the numbered messages) check.py.
grep -Eq '^# incident: .*triggered by error_report:error_report_end at .*, window -1\.000s\.\.\+1\.000s$' "$erep.txt" ||
	problems+=("host: the header of ${erep##*/} does not name error_report:error_report_end: $(grep '^# incident' "$erep.txt")")
if ! python3 "$here/check.py" "$out/seat0.json" "$warn.json" "$warn.stats" \
	"$out/seat1.json" "$erep.json" "$erep.stats" "$console" | sed 's/^/qemu-incident: /'; then
	problems+=("host: check.py (above)")
fi
for seat in seat0 seat1; do
	if grep -q 'cannot fire' "$out/$seat.err"; then
		problems+=("host: $seat's aggregator said: $(grep -m1 'cannot fire' "$out/$seat.err")")
	fi
done

if ((${#problems[@]})); then
	printf 'qemu-incident: FAIL: %s\n' "${problems[@]}" >&2
	exit 1
fi
say "PASS: kernel ${kernel%/bzImage} ($UEV_KERNEL_SOURCE), boot+test ${boot_s} s ($qemu_accel_used)"
