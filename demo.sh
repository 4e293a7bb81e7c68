#!/usr/bin/env bash
# Install what is missing, build, then show uev at work: a fresh seat
# instance, the demo emitter writing into it from two CPUs, a kernel message
# in between, and everything read back out of the kernel ring in time order.
set -euo pipefail
cd "$(dirname "$0")"
. .ci/deps.sh
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null && exec sudo "$0" "$@"
	echo "demo.sh: needs root (tracefs instances)" >&2; exit 1
fi
uev_deps
uev_tracefs
[ -f build/build.ninja ] || meson setup build >/dev/null
ninja -C build >/dev/null

seat="demo$$"
run_dir=$(mktemp -d /tmp/uev-demo.XXXXXX)
seatctl() { build/aggregator/uev-seat --seat "$seat" --run-dir "$run_dir" "$@"; }
cleanup() { seatctl remove >/dev/null 2>&1 || true; rm -rf "$run_dir"; }
trap cleanup EXIT

echo "== seat $seat: instance uev.$seat, markers + printk:console, clock boot"
seatctl --clock boot --event printk:console up
echo "== demo emitter (2 threads x 5 events), a kernel message, the emitter again"
UEV_RUN_DIR=$run_dir build/libuev/demo/uev-demo -s "$seat" -n 5 -i 2
echo "uev-demo: hello from the kernel side" > /dev/kmsg
UEV_RUN_DIR=$run_dir build/libuev/demo/uev-demo -s "$seat" -n 2 -i 0
echo "== what the kernel ring of seat $seat holds (boot-clock seconds, cpu, pid, event, fields)"
seatctl dump
