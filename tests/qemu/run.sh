#!/usr/bin/env bash
# tests/qemu/run.sh [BUILD_DIR] — the end-to-end test on a real user_events
# kernel: boots the test kernel (kernel/build-kernel.sh, cached) in qemu with
# an initramfs of busybox + this build's uev-aggregator, uev-replay,
# uev-ringdump, uev-seat, uev-demo and the probe uevq, and checks what the
# guest script (guest/init) reports on the serial console, then decodes on
# the host the ring files the guest sends back on its second serial port
# (uev-replay --json and uev-ringdump: the same as in the guest).
#
# BUILD_DIR (default ./build) is a meson build dir of this tree.
# Exit status: 0 every check passed; 77 SKIP (the kernel cannot be built for
# lack of network or root, or /dev/kvm-less machine too slow: never); 1 a
# check failed, the guest hung or panicked, or something is missing.
#
# Environment: UEV_QEMU_TIMEOUT (seconds, default 120), UEV_QEMU_KEEP=1
# (keep the work dir: initramfs, console log, ring files), UEV_QEMU_ACCEL
# (kvm|tcg, default kvm when /dev/kvm is usable), UEV_QEMU_VERBOSE=1 (kernel
# messages on the console, not just warnings), UEV_QEMU_APPEND (more kernel
# parameters, e.g. rdinit=/bin/sh to look around).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
build_arg=${1:-./build}
timeout_s=${UEV_QEMU_TIMEOUT:-120}
demo_n=50 # must match N in guest/init

# set -e must not end the test silently: name the command that failed.
trap 'printf "qemu-test: FAIL: line %s: %s (exit %s)\n" "$LINENO" "$BASH_COMMAND" "$?" >&2' ERR
say() { printf 'qemu-test: %s\n' "$*"; }
fail() {
	printf '\nqemu-test: FAIL: %s\n' "$*" >&2
	exit 1
}
skip() {
	printf '\nqemu-test: SKIP: %s\n' "$*"
	exit 77
}

[[ -d $build_arg ]] || fail "no build dir $build_arg (meson setup $build_arg && ninja -C $build_arg)"
build=$(cd "$build_arg" && pwd)
bins=(
	"$build/aggregator/uev-aggregator"
	"$build/aggregator/uev-replay"
	"$build/aggregator/uev-ringdump"
	"$build/aggregator/uev-seat"
	"$build/libuev/demo/uev-demo"
)
for b in "${bins[@]}"; do
	[[ -x $b ]] || fail "$b is not built (ninja -C $build)"
done
libuev_a=$build/libuev/libuev.a
[[ -r $libuev_a ]] || fail "$libuev_a is not built (ninja -C $build)"

# --- the kernel (cached; SKIP without network) ---------------------------------
QEMU_ROOT=$root
. "$here/lib.sh"
qemu_kernel

qemu_workdir uev-qemu

# --- the initramfs ---------------------------------------------------------------
stage=$work/root
mkdir -p "$stage"/{bin,sbin,usr/bin,etc/uev/qemu,usr/share/uev/schemas,usr/share/uev/qemu,lib64,proc,sys,dev,run,tmp,var/lib/uev}
probe=$work/uevq
qemu_probe "$libuev_a" "$probe" || fail "cannot build the probe tests/qemu/uevq.c"
bins+=("$probe")
qemu_busybox "$stage"
for b in "${bins[@]}"; do
	cp "$b" "$stage/usr/bin/"
done
qemu_closure "$stage" "${bins[@]}"
cp "$root"/schemas/*.uev "$stage/usr/share/uev/schemas/"
cp "$here"/guest/*.uev "$stage/usr/share/uev/qemu/"
cp "$here"/guest/seat0.conf "$here"/guest/seat1.conf "$here"/guest/seat2.conf "$stage/etc/uev/qemu/"
cp "$here/guest/init" "$stage/init"
chmod 0755 "$stage/init"
# Names for ls -l; the guest uses numeric ids. 2000 may write user_events_data.
cat >"$stage/etc/passwd" <<'EOF'
root:x:0:0:root:/:/bin/sh
emitter:x:1000:1000:granted emitter:/:/bin/sh
stranger:x:1001:1001:emitter without rights:/:/bin/sh
EOF
cat >"$stage/etc/group" <<'EOF'
root:x:0:
emitter:x:1000:
stranger:x:1001:
uevemit:x:2000:emitter
EOF
initrd=$work/initramfs.cpio.gz
qemu_cpio "$stage" "$initrd"
say "initramfs: $(stat -c %s "$initrd") bytes"

# --- boot ------------------------------------------------------------------------
console=$work/console.log
files=$work/ttyS1.log
qemu_boot "$timeout_s" "$console" "$files" "$initrd" "$(qemu_append)"

# --- verdict -----------------------------------------------------------------------
qemu_verdict "$console" UEVQ-DONE "$timeout_s"

expected=(cpus kernel A-backend B-prereg E-enables D-dyndbg-on A-demo B-written
	C-enabled F-granted-emit F-denied F-denied-demo stop D-revert D-keep B-persist B-nonpersist instances
	B-stale B-busy B-stale-stop
	B-complete B-strings B-userprint C-recorded D-order E-isolation F-recorded B-stale-recorded lossless)
problems=()
while read -r line; do
	problems+=("guest: ${line#UEVQ-FAIL }")
done < <(grep '^UEVQ-FAIL ' "$console" || true)
for id in "${expected[@]}"; do
	grep -q "^UEVQ-PASS $id " "$console" || problems+=("guest: no PASS marker for $id")
done

# G: the rings, decoded again on the host, say the same as in the guest.
out=$work/out
qemu_files "$files" "$out" || problems+=("host: the file transfer on ttyS1 did not complete")
seats=(seat0 seat1 seat2)
for seat in "${seats[@]}"; do
	for name in $seat.ring $seat.json $seat.txt; do
		[[ -s $out/$name ]] || problems+=("host: $name did not come back intact over ttyS1")
	done
done
replay=$build/aggregator/uev-replay
ringdump=$build/aggregator/uev-ringdump
for seat in "${seats[@]}"; do
	[[ -s $out/$seat.ring && -s $out/$seat.json && -s $out/$seat.txt ]] || continue
	# uev-replay --json: every key of every event the same as in the guest
	# (event, cpu, pid, trace_ns, typed fields; and time/wall_ns, comm,
	# seat, run: they come from the file too).
	if ! "$replay" --json "$out/$seat.ring" >"$out/$seat.host.json" 2>"$out/$seat.host.json.err"; then
		problems+=("host: uev-replay --json $seat.ring failed: $(head -n3 "$out/$seat.host.json.err")")
	elif ! diff -u "$out/$seat.json" "$out/$seat.host.json" >"$out/$seat.json.diff"; then
		problems+=("host: uev-replay --json of $seat.ring on the host differs from the guest's (head of diff below)")
		head -n 20 "$out/$seat.json.diff"
	elif grep -qv '^# ' "$out/$seat.host.json.err"; then
		problems+=("host: uev-replay --json $seat.ring reported: $(grep -v '^# ' "$out/$seat.host.json.err" | head -n3)")
	else
		say "PASS G-$seat: uev-replay --json: $(tail -n1 "$out/$seat.host.json.err" | sed 's/^# //'), the same $(wc -l <"$out/$seat.host.json") events as in the guest"
	fi
	# The guest has no time zone: UTC. Same file, same zone, same text.
	if ! TZ=UTC "$ringdump" "$out/$seat.ring" >"$out/$seat.host.txt" 2>"$out/$seat.host.err"; then
		problems+=("host: uev-ringdump $seat.ring failed: $(head -n3 "$out/$seat.host.err")")
	elif ! diff -u "$out/$seat.txt" "$out/$seat.host.txt" >"$out/$seat.diff"; then
		problems+=("host: uev-ringdump of $seat.ring on the host differs from the guest's (head of diff below)")
		head -n 20 "$out/$seat.diff"
	elif [[ -s $out/$seat.host.err ]]; then
		problems+=("host: uev-ringdump $seat.ring reported: $(head -n3 "$out/$seat.host.err")")
	else
		say "PASS G-$seat-ringdump: $(tail -n1 "$out/$seat.host.txt" | sed 's/^# //'), as in the guest"
	fi
done
if [[ -s $out/seat0.host.json ]]; then
	# Not only equal: also what the guest checked, typed and named as
	# marker-backend records are.
	ticks=$(grep -c '"system":"user","event":"demo_tick","fields":{"seq":[0-9]*,"thread":[0-9]*,' "$out/seat0.host.json" || true)
	((ticks == 2 * demo_n)) || problems+=("host: seat0.ring has $ticks demo_tick records, want $((2 * demo_n))")
	grep -q '"system":"user","event":"qemu0_mark","fields":{"n":1,"text":"A"}}$' "$out/seat0.host.json" ||
		problems+=("host: seat0.ring lacks the timeline marker A")
fi

npass=$(grep -c '^UEVQ-PASS ' "$console" || true)
# Known problems a check allowed for (see guest/init), shown with the verdict.
while read -r line; do
	say "note: ${line#UEVQ-NOTE }"
done < <(grep '^UEVQ-NOTE ' "$console" || true)
if ((${#problems[@]})); then
	echo >&2
	printf 'qemu-test: FAIL: %s\n' "${problems[@]}" >&2
	exit 1
fi
say "PASS: all ${#expected[@]} guest checks ($npass markers) and the host decode; kernel ${kernel%/bzImage}, boot+test ${boot_s} s ($qemu_accel_used)"
