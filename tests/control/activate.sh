#!/usr/bin/env bash
# Socket activation, as uev-aggregator@.socket does it: systemd-socket-
# activate (systemd's own tool) listens on the seat's SOCK_SEQPACKET socket
# and starts the aggregator at the first connection, passing the socket
# (LISTEN_FDS); the aggregator must take it, not make its own, and the
# client that caused the start must be answered on it. At the stop the
# socket file stays: it is systemd's, not the aggregator's.
# usage: activate.sh UEV-AGGREGATOR
set -uo pipefail
AGG=$1
. "$(dirname "$0")/../cli-lib.sh"
HERE=$(cd "$(dirname "$0")" && pwd)
command -v systemd-socket-activate >/dev/null || { echo "SKIP: no systemd-socket-activate"; exit 77; }
seat=uevact$$
agg_workdir uevactivate
mkdir -p "$T/run"
cat >"$T/s.conf" <<CONF
[ring]
path = $T/r.ring
size = 4M
[incident]
dir = $T/inc
CONF
sock=$T/run/$seat.sock
systemd-socket-activate --seqpacket -l "$sock" \
	"$AGG" --seat "$seat" --config "$T/s.conf" --run-dir "$T/run" 2>"$T/agg.log" &
agg=$!
for _ in $(seq 50); do [ -S "$sock" ] && break; sleep 0.1; done
[ -S "$sock" ] || { echo "FAIL: systemd-socket-activate made no socket"; exit 1; }
[ ! -e "$T/run/$seat.enable" ] || { echo "FAIL: the aggregator runs before any connection"; fail=1; }
out=$(timeout 20 python3 "$HERE/control-client.py" "$sock" status 2>&1)
[[ "$out" == "ok protocol 1|seat $seat|"* ]] || { echo "FAIL: status through the activated socket: $out"; cat "$T/agg.log"; fail=1; }
[ -e "$T/run/$seat.enable" ] || { echo "FAIL: the connection did not start the aggregator"; fail=1; }
kill -TERM "$agg"; wait "$agg"; rc=$?; agg=
[ "$rc" = 0 ] || { echo "FAIL: exit $rc"; cat "$T/agg.log"; fail=1; }
[ -S "$sock" ] || { echo "FAIL: the aggregator removed systemd's socket"; fail=1; }
grep -q "control socket" "$T/agg.log" && { echo "FAIL: the aggregator complained about the socket"; cat "$T/agg.log"; fail=1; }
[ $fail = 0 ] && echo PASS
exit $fail
