#!/usr/bin/env bash
# Starts/stops the LTTng session used by the emit benchmark (bench_lttng):
#   lttng-session.sh start OUTDIR   # session "uevbench", only uev_bench:emit
#   lttng-session.sh stop           # stop + destroy; kill sessiond if we started it
# Run as root. Channel buffers: UEVBENCH_SUBBUF_SIZE / UEVBENCH_NUM_SUBBUF.
set -u

SESSION=uevbench
CHANNEL=uevbench_chan
PIDFILE=/tmp/uevbench-lttng-sessiond.pid
SUBBUF_SIZE=${UEVBENCH_SUBBUF_SIZE:-4M}
NUM_SUBBUF=${UEVBENCH_NUM_SUBBUF:-8}

die() { echo "lttng-session.sh: $*" >&2; exit 1; }

session_exists() { lttng list "$SESSION" >/dev/null 2>&1; }

ensure_sessiond() {
	if ! pgrep -x -u 0 lttng-sessiond >/dev/null; then
		lttng-sessiond --daemonize || die "failed to start lttng-sessiond"
		local pid
		pid=$(pgrep -x -o -u 0 lttng-sessiond) || die "lttng-sessiond exited right after start"
		echo "$pid" >"$PIDFILE" || die "cannot write $PIDFILE"
	fi
	local i
	for ((i = 0; i < 100; i++)); do
		lttng list >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	die "lttng-sessiond not answering 'lttng list' after 10 s"
}

do_start() {
	local outdir=${1:-}
	[[ -n $outdir ]] || die "usage: $0 start OUTDIR"
	mkdir -p "$outdir" || die "cannot create $outdir"
	outdir=$(realpath "$outdir") || die "cannot resolve $outdir"
	[[ -z $(ls -A "$outdir") ]] || echo "lttng-session.sh: warning: $outdir is not empty" >&2

	ensure_sessiond
	if session_exists; then
		echo "lttng-session.sh: session $SESSION exists, recreating it" >&2
		lttng destroy "$SESSION" >/dev/null || die "cannot destroy stale session $SESSION"
	fi
	lttng create "$SESSION" --output="$outdir" >/dev/null \
		|| die "lttng create $SESSION failed"
	if ! { lttng enable-channel --session="$SESSION" --userspace \
			--subbuf-size="$SUBBUF_SIZE" --num-subbuf="$NUM_SUBBUF" "$CHANNEL" &&
		lttng enable-event --session="$SESSION" --userspace \
			--channel="$CHANNEL" 'uev_bench:emit' &&
		lttng start "$SESSION"; } >/dev/null; then
		lttng destroy "$SESSION" >/dev/null 2>&1
		die "failed to set up session $SESSION"
	fi
	echo "lttng-session.sh: session $SESSION recording uev_bench:emit to $outdir" >&2
}

do_stop() {
	local rc=0
	if pgrep -x -u 0 lttng-sessiond >/dev/null && session_exists; then
		lttng stop "$SESSION" >/dev/null 2>&1   # fails harmlessly if already stopped
		lttng destroy "$SESSION" >/dev/null || { echo "lttng-session.sh: lttng destroy failed" >&2; rc=1; }
	fi
	if [[ -f $PIDFILE ]]; then
		local pid i
		pid=$(<"$PIDFILE")
		if [[ $pid =~ ^[0-9]+$ ]] && [[ $(cat "/proc/$pid/comm" 2>/dev/null) == lttng-sessiond ]]; then
			kill "$pid"
			for ((i = 0; i < 100; i++)); do
				kill -0 "$pid" 2>/dev/null || break
				sleep 0.1
			done
			if kill -0 "$pid" 2>/dev/null; then
				echo "lttng-session.sh: lttng-sessiond $pid did not exit" >&2
				rc=1
			fi
		fi
		rm -f "$PIDFILE"
	fi
	return $rc
}

[[ $(id -u) -eq 0 ]] || die "must run as root (root lttng-sessiond)"
if ! command -v lttng >/dev/null || ! command -v lttng-sessiond >/dev/null; then
	die "lttng-tools not installed (apt-get install lttng-tools)"
fi

case ${1:-} in
start) do_start "${2:-}" ;;
stop) do_stop ;;
*) die "usage: $0 start OUTDIR | stop" ;;
esac
