#!/usr/bin/env bash
# Install what is missing, build, then show uev at work on seat0 with the
# built-in default: uev-aggregator drains the seat into its ring file while
# the demo emitter writes from two CPUs, the kernel logs a message and a few
# processes start; then the aggregator stops and uev-replay prints the ring
# file as one timeline, decoded from nothing but itself.
set -euo pipefail
cd "$(dirname "$0")"
. .ci/deps.sh
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null && exec sudo "$0" "$@"
	echo "demo.sh: needs root (tracefs instances, /var/lib/uev)" >&2; exit 1
fi
uev_deps
uev_tracefs
[ -f build/build.ninja ] || meson setup build >/dev/null
ninja -C build >/dev/null

seat=seat0
ring=/var/lib/uev/$seat.ring
mkdir -p /var/lib/uev
agg_pid=
cleanup() { [ -n "$agg_pid" ] && kill "$agg_pid" 2>/dev/null; wait 2>/dev/null || true; }
trap cleanup EXIT

echo "== uev-aggregator --seat $seat (built-in default: $ring, 64 MiB, clock boot)"
notify=$(mktemp -u /tmp/uev-demo-notify.XXXXXX)
python3 - "$notify" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.bind(sys.argv[1]); s.settimeout(60)
print("   aggregator says:", s.recv(256).decode().replace("\n", " "))
PY
listener=$!
# The daemon's READY=1 is one datagram: it is lost if nobody listens yet.
for _ in $(seq 100); do [ -S "$notify" ] && break; sleep 0.1; done
NOTIFY_SOCKET=$notify build/aggregator/uev-aggregator --seat "$seat" &
agg_pid=$!
wait "$listener"
rm -f "$notify"

start=$(date +%s.%N)
echo "== demo emitter (2 threads x 5 events), a kernel message, a few processes, the emitter again"
build/libuev/demo/uev-demo -s "$seat" -n 5 -i 2
echo "uev-demo: hello from the kernel side" > /dev/kmsg
for _ in 1 2 3; do /bin/true; done
build/libuev/demo/uev-demo -s "$seat" -n 2 -i 0
sleep 1.2 # one flush interval: everything is in the file even before SIGTERM

echo "== SIGTERM: the aggregator drains what is left and closes the run"
kill -TERM "$agg_pid"
wait "$agg_pid"
agg_pid=

echo "== uev-replay $ring (this demo's events; earlier runs stay in the file)"
build/aggregator/uev-replay --since "@$start" --event 'demo_*' --event printk:console \
	--event sched:sched_process_exec "$ring" | grep -E "demo_|uev-demo|filename=/bin/true|^#" | tail -40
