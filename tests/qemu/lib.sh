# shellcheck shell=bash
# tests/qemu/lib.sh — what the qemu harnesses (run.sh, kms/run.sh) share:
# the cached test kernel, an initramfs from busybox and host binaries with
# their shared-library closure, one boot under `timeout` with the console on
# ttyS0 and files on ttyS1, and unpacking those files on the host.
#
# The caller defines say(), fail() and skip() (exit 1 / exit 77) first, or
# has qemu_harness define them.

# qemu_harness NAME BUILD_DIR: say(), fail() and skip() prefixed with NAME,
# a trap that names the command set -e stopped at, and $build, the build
# dir made absolute, with the recorder and uev-replay built in it.
qemu_harness() {
	QEMU_NAME=$1
	trap 'printf "%s: FAIL: line %s: %s (exit %s)\n" "$QEMU_NAME" "$LINENO" "$BASH_COMMAND" "$?" >&2' ERR
	say() { printf '%s: %s\n' "$QEMU_NAME" "$*"; }
	fail() {
		printf '\n%s: FAIL: %s\n' "$QEMU_NAME" "$*" >&2
		exit 1
	}
	skip() {
		printf '\n%s: SKIP: %s\n' "$QEMU_NAME" "$*"
		exit 77
	}
	[[ -d $2 ]] || fail "no build dir $2"
	build=$(cd "$2" && pwd)
	local b
	for b in "$build/aggregator/uev-aggregator" "$build/aggregator/uev-replay"; do
		[[ -x $b ]] || fail "$b is not built (ninja -C $build)"
	done
}

# qemu_kernel: $kernel is the path of the cached test kernel (built once).
qemu_kernel() {
	local rc=0 t0=$SECONDS
	kernel=$("$QEMU_ROOT/kernel/build-kernel.sh") || rc=$?
	((rc != 77)) || skip "the test kernel cannot be built (see build-kernel's SKIP reason above)"
	((rc == 0)) || fail "kernel/build-kernel.sh failed (exit $rc)"
	[[ -r $kernel ]] || fail "kernel/build-kernel.sh printed '$kernel', which is not a file"
	say "kernel: $kernel ($((SECONDS - t0)) s)"
	local tool
	for tool in qemu-system-x86_64 cpio gzip base64 ldd cc nm; do
		command -v "$tool" >/dev/null || fail "$tool is missing (kernel/build-kernel.sh installs the packages)"
	done
	[[ -x /bin/busybox ]] || fail "/bin/busybox (busybox-static) is missing"
}

# qemu_workdir NAME: $work, a new temporary directory removed at exit
# unless the run failed (the evidence: initramfs, console, ring files) or
# UEV_QEMU_KEEP=1.
qemu_workdir() {
	work=$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX")
	trap qemu_cleanup EXIT
}
qemu_cleanup() {
	local rc=$?
	if [[ ${UEV_QEMU_KEEP:-0} == 1 || ($rc != 0 && $rc != 77) ]]; then
		say "work dir kept: $work"
	else
		rm -rf "$work"
	fi
}

# qemu_busybox DIR: busybox in DIR/bin with every applet as a link, /bin/sh
# first of all: the kernel runs /init by its #! line before anything in the
# guest could install them.
qemu_busybox() {
	local stage=$1 applet
	mkdir -p "$stage"/{bin,sbin,usr/bin,proc,sys,dev,run,tmp}
	cp /bin/busybox "$stage/bin/busybox"
	for applet in $(/bin/busybox --list); do
		[[ -e $stage/bin/$applet ]] || ln -s busybox "$stage/bin/$applet"
	done
}

# qemu_closure DIR FILE...: the shared libraries and dynamic loader that
# FILEs (programs or libraries) need, where ldd finds them on this host,
# copied to the same paths under DIR (the guest runs the host's binaries;
# for a static one ldd prints none).
qemu_closure() {
	local stage=$1 f lib
	shift
	for f in "$@"; do
		{ ldd "$f" 2>/dev/null || true; } | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'
	done | sort -u | while read -r lib; do
		mkdir -p "$stage$(dirname "$lib")"
		cp -L "$lib" "$stage$lib"
	done
}

# qemu_probe LIBUEV_A OUT: tests/qemu/uevq.c against this build's libuev.a:
# static, so it runs even where the loader is the question; but a sanitizer
# build's archive needs its runtime, which only links dynamically: then with
# the same sanitizers (qemu_closure copies their libraries like the others').
qemu_probe() {
	local syms sanitize=() link
	syms=$(nm "$1" 2>/dev/null || true) # (not "nm | grep -q": pipefail and SIGPIPE)
	[[ $syms != *" U __asan_"* ]] || sanitize+=(-fsanitize=address)
	[[ $syms != *" U __ubsan_"* ]] || sanitize+=(-fsanitize=undefined)
	if ((${#sanitize[@]})); then link=("${sanitize[@]}"); else link=(-static); fi
	cc "${link[@]}" -O2 -std=gnu11 -Wall -Wextra -Werror -I"$QEMU_ROOT/libuev/include" \
		-o "$2" "$QEMU_ROOT/tests/qemu/uevq.c" "$1" -lpthread
}

# qemu_cpio DIR OUT: DIR as a gzip-compressed newc archive owned by root.
# The kernel unpacks concatenated archives in order, later files replacing
# earlier ones, so a cached part and a per-run part can be joined with cat.
qemu_cpio() {
	(cd "$1" && find . -print0 | cpio --null -o -H newc -R 0:0 --quiet) | gzip -1 >"$2"
}

# qemu_accel: kvm when /dev/kvm is usable and backed by hardware
# virtualisation (kvm_intel/kvm_amd), else tcg; UEV_QEMU_ACCEL overrides.
# Some sandboxes offer /dev/kvm through kvm_pvm, which runs only kernels
# built as PVM guests: a stock kernel hangs right after the BIOS there.
qemu_accel() {
	local mods
	if [[ -n ${UEV_QEMU_ACCEL:-} ]]; then
		echo "$UEV_QEMU_ACCEL"
	elif [[ -r /dev/kvm && -w /dev/kvm ]] && [[ -d /sys/module/kvm_intel || -d /sys/module/kvm_amd ]]; then
		echo kvm
	else
		if [[ -e /dev/kvm ]]; then
			mods=$(find /sys/module -maxdepth 1 -name 'kvm_*' -printf '%f ' 2>/dev/null || true)
			say "/dev/kvm is there but not hardware KVM (modules: ${mods% }): using TCG" >&2
		fi
		echo tcg
	fi
}

# qemu_append: the kernel command line every harness starts from, plus
# UEV_QEMU_APPEND, and the sanitizer options of a sanitizer build (the
# kernel hands unknown NAME=VALUE parameters to init's environment).
qemu_append() {
	local append="console=ttyS0 panic=-1 oops=panic" v
	[[ ${UEV_QEMU_VERBOSE:-0} == 1 ]] || append+=" quiet"
	append+=${UEV_QEMU_APPEND:+ $UEV_QEMU_APPEND}
	for v in ASAN_OPTIONS UBSAN_OPTIONS; do
		[[ -z ${!v:-} || ${!v} == *[[:space:]]* ]] || append+=" $v=${!v}"
	done
	echo "$append"
}

# qemu_boot TIMEOUT CONSOLE FILES INITRD APPEND [QEMU-ARGS...]: boots the
# test kernel, 2 CPUs; ttyS0 (the console) to stdout and CONSOLE, ttyS1 to
# the file FILES. -no-reboot: the guest's `reboot -f` (and a panic,
# panic=-1) ends qemu; with qemu_warm_reboot=1 a reboot or panic resets the
# machine instead (RAM kept, the same kernel and initramfs booted again),
# and only the guest's `poweroff -f` ends qemu. Sets qrc (qemu's exit
# status, 124 on timeout) and boot_s (wall seconds).
qemu_boot() {
	local timeout_s=$1 console=$2 files=$3 initrd=$4 append=$5 accel t1 noreboot=(-no-reboot)
	shift 5
	[[ ${qemu_warm_reboot:-0} != 1 ]] || noreboot=()
	accel=$(qemu_accel)
	say "booting ($accel, 2 CPUs, timeout ${timeout_s} s)"
	t1=$SECONDS
	qrc=0
	timeout -k 10 "$timeout_s" qemu-system-x86_64 -nographic "${noreboot[@]}" -m 512 -smp 2 \
		-accel "$accel" -cpu max -monitor none \
		-serial stdio -serial "file:$files" "$@" \
		-kernel "$kernel" -initrd "$initrd" -append "$append" \
		</dev/null 2>&1 | tr -d '\r' | tee "$console" || qrc=${PIPESTATUS[0]}
	boot_s=$((SECONDS - t1))
	qemu_accel_used=$accel
	say "qemu exited $qrc after $boot_s s"
}

# qemu_verdict CONSOLE DONE-MARKER TIMEOUT: fail on a panic, a hang, a qemu error,
# an unfinished guest script or a sanitizer report on the console.
qemu_verdict() {
	local console=$1 done=$2 timeout_s=$3
	grep -q 'Kernel panic' "$console" &&
		fail "the guest kernel panicked: $(grep -m1 'Kernel panic' "$console")"
	((qrc != 124)) || fail "the guest hung: no end within $timeout_s s (last console line: $(grep -v 'terminating on signal' "$console" | tail -n1))"
	((qrc == 0)) || fail "qemu failed (exit $qrc), see the console above"
	grep -q "^$done " "$console" || fail "the guest script did not finish (no $done marker)"
	if grep -Eq 'runtime error:|ERROR: (Address|Leak|Undefined)Sanitizer' "$console"; then
		fail "a sanitizer reported in the guest: $(grep -Em1 'runtime error:|ERROR: (Address|Leak|Undefined)Sanitizer' "$console")"
	fi
}

# qemu_files FILES OUTDIR: the "=== BEGIN name" ... "=== END name" blocks
# of ttyS1 (gzip+base64) into OUTDIR/name; returns 1 unless "=== DONE" came.
qemu_files() {
	local files=$1 out=$2 b
	mkdir -p "$out"
	tr -d '\r' <"$files" | awk -v dir="$out" '
		/^=== BEGIN / { f = dir "/" $3 ".b64"; next }
		/^=== END / { close(f); f = ""; next }
		f != "" { print > f }'
	for b in "$out"/*.b64; do
		[[ -e $b ]] || continue
		base64 -d <"$b" | gunzip >"${b%.b64}" 2>/dev/null || rm -f "${b%.b64}"
	done
	grep -q '^=== DONE' "$files"
}
