# shellcheck shell=bash
# For the bench scripts that record through a real uev-aggregator (codec/,
# retention/): start one on a fresh seat and stop it. They use the
# caller's $agg (the binary), $out (the work directory) and $T (tracefs),
# and set agg_pid, inst (the seat's instance) and seat_name, which the
# caller's cleanup trap reads.

# bench_agg_start NAME SEAT: with the configuration the caller wrote to
# $out/NAME.conf; returns once the aggregator records (exits on failure).
bench_agg_start() {
	local name=$1 seat=$2
	inst=$T/instances/uev.$seat
	"$agg" --seat "$seat" --config "$out/$name.conf" --run-dir "$out/run" 2>"$out/$name.log" &
	agg_pid=$!
	for _ in $(seq 300); do [ -e "$out/run/$seat.enable" ] && break; sleep 0.1; done
	[ -e "$out/run/$seat.enable" ] || { echo "uev-aggregator did not get ready:" >&2; cat "$out/$name.log" >&2; exit 1; }
	seat_name=$seat
}

# bench_agg_stop NAME: after a flush interval (the last pages reach the
# file), SIGTERM and a clean exit.
bench_agg_stop() {
	sleep 0.5
	kill -TERM "$agg_pid"
	wait "$agg_pid" || { echo "uev-aggregator failed:" >&2; cat "$out/$1.log" >&2; exit 1; }
	agg_pid=
	inst=
}
