#!/usr/bin/env bash
# Install what is missing, build, then show uev at work on seat0 with the
# built-in default: uev-aggregator drains the seat into its ring file while
# the demo emitter writes from two CPUs, the kernel logs a message and a few
# processes start, and headless Weston with uev-weston serves a client for
# 2 s (skipped without Weston); then the aggregator stops and uev-replay
# prints the ring file as one timeline, decoded from nothing but itself.
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

# Headless Weston with uev-weston (from the build tree, by absolute path)
# and weston-simple-shm for ~2 s: its repaint points and log lines go into
# the same seat, between the kernel's exec events and a kernel message.
module=$PWD/build/weston/uev-weston.so
weston_ran=
if ! command -v weston >/dev/null || ! command -v weston-simple-shm >/dev/null; then
	echo "== Weston skipped: weston or weston-simple-shm is not installed"
elif [ ! -f "$module" ]; then
	echo "== Weston skipped: build/weston/uev-weston.so was not built (meson found no libweston-10)"
else
	echo "== headless Weston --modules=$module, weston-simple-shm for 2 s"
	wdir=$(mktemp -d /tmp/uev-demo-weston.XXXXXX)
	sock=uev-demo-$$
	XDG_RUNTIME_DIR=$wdir XDG_SEAT=$seat weston --backend=headless-backend.so --use-pixman \
		--socket="$sock" --idle-time=0 --no-config --modules="$module" \
		--log="$wdir/weston.log" >/dev/null 2>&1 &
	weston_pid=$!
	for _ in $(seq 100); do
		[ -e "$wdir/$sock" ] && break
		kill -0 "$weston_pid" 2>/dev/null || break
		sleep 0.1
	done
	if [ -e "$wdir/$sock" ]; then
		echo "uev-demo: weston's client starts" > /dev/kmsg
		XDG_RUNTIME_DIR=$wdir WAYLAND_DISPLAY=$sock weston-simple-shm >/dev/null 2>&1 &
		client_pid=$!
		sleep 2
		# simple-shm ignores SIGINT while it waits: SIGTERM
		kill -TERM "$client_pid" 2>/dev/null || true; wait "$client_pid" 2>/dev/null || true
		weston_ran=1
	else
		echo "   weston did not start; its log:"; sed 's/^/   /' "$wdir/weston.log"
	fi
	kill -TERM "$weston_pid" 2>/dev/null || true; wait "$weston_pid" 2>/dev/null || true
	grep -h "uev-weston:" "$wdir/weston.log" | sed 's/^/   weston says: /' || true
	rm -rf "$wdir"
fi
sleep 1.2 # one flush interval: everything is in the file even before SIGTERM

echo "== SIGTERM: the aggregator drains what is left and closes the run"
kill -TERM "$agg_pid"
wait "$agg_pid"
agg_pid=

echo "== uev-replay $ring (this demo's events; earlier runs stay in the file)"
build/aggregator/uev-replay --since "@$start" --event 'demo_*' --event printk:console \
	--event sched:sched_process_exec "$ring" | grep -E "demo_|uev-demo|filename=/bin/true|^#" | tail -40

if [ -n "$weston_ran" ]; then
	echo "== uev-replay $ring (Weston's part: its log, the client's start, the first frames after it)"
	# Weston's and the client's exec, the kernel message, Weston's log
	# (of the start-up lines backfilled from its flight recorder the first
	# 5 and the module's own), and of the ~100 timeline events a second
	# only the first 16 after the client started.
	build/aggregator/uev-replay --since "@$start" --event 'weston_log' --event 'weston_repaint_*' \
		--event weston_commit_damage --event printk:console --event sched:sched_process_exec "$ring" |
		awk '/^#/ { next }
		     /sched_process_exec/ && !/filename=[^ ]*weston/ { next }
		     /printk:console/ && !/uev-demo: weston/ { next }
		     /filename=[^ ]*weston-simple-shm/ { client = 1 }
		     /weston_repaint_|weston_commit_damage/ { tl++; if (!client || shown++ >= 16) next }
		     /weston_log: scope="flight-recorder"/ { fr++; if (fr > 5 && !/uev-weston:/) { hidden++; next } }
		     { print }
		     END { printf "# Weston: %d timeline events (%d shown), %d start-up log lines not shown\n", tl, (shown > 16 ? 16 : shown), hidden }'
fi
