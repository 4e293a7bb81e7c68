#!/usr/bin/env bash
# uev-kms-shim records: kms-calls' script runs with the shim preloaded into
# a seat that uev-aggregator records (this host's tracefs, a test seat);
# check.py then checks every typed field uev-replay --json decodes from the
# ring file against what the script did. fake-res.so, preloaded after the
# shim, gives the script CRTCs, connectors and planes on /dev/null (this
# host has no DRM device) so that the shim's object kinds are checked too.
# The script's own output must be the same as without the shim, now with
# every event enabled. Root and tracefs, else skipped.
# usage: record.sh UEV-AGGREGATOR UEV-REPLAY KMS-CALLS UEV-KMS-SHIM.SO FAKE-RES.SO CHECK.PY
set -uo pipefail
AGG=$(realpath "$1") REPLAY=$(realpath "$2") CALLS=$(realpath "$3") SHIM=$(realpath "$4")
FAKE=$(realpath "$5") CHECK=$6
. "$(dirname "$0")/../cli-lib.sh"
# shellcheck source=preload.sh
. "$(dirname "$0")/preload.sh"
[ -d /sys/kernel/tracing/instances ] || { echo "SKIP: no tracefs instances"; exit 77; }

T=$(mktemp -d /tmp/uevkmsrec.XXXXXX)
seat=uevkms$$
agg=
cleanup() {
	[ -n "$agg" ] && kill -KILL "$agg" 2>/dev/null
	wait 2>/dev/null
	# the aggregator removes its instance; after a kill -9 we do
	rmdir "/sys/kernel/tracing/instances/uev.$seat" 2>/dev/null
	if [ -n "${UEV_KEEP:-}" ]; then echo "kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT
echo "a regular file, not a DRM device" >"$T/file"

cat >"$T/agg.conf" <<CONF
[seat]
clock = mono
flush_interval_ms = 100
[ring]
path = $T/seat.ring
size = 4M
CONF
agg_up "$AGG" "$seat" "$T/agg.conf" "$T"

env LD_PRELOAD="$(kms_preload "$FAKE")" "$CALLS" "$T/file" >"$T/plain.out" 2>&1 ||
	{ echo "FAIL: kms-calls with fake-res.so alone"; cat "$T/plain.out"; exit 1; }
env LD_PRELOAD="$(kms_preload "$SHIM" "$FAKE")" UEV_RUN_DIR="$T/run" XDG_SEAT="$seat" UEV_DEBUG=1 \
	"$CALLS" "$T/file" >"$T/rec.out" 2>"$T/rec.err" ||
	{ echo "FAIL: kms-calls with the shim"; cat "$T/rec.out" "$T/rec.err"; exit 1; }
diff -u "$T/plain.out" "$T/rec.out" || { echo "FAIL: recording changed what the calls returned (diff above)"; fail=1; }
grep -q "uev-kms-shim: .*seat $seat" "$T/rec.err" ||
	{ echo "FAIL: UEV_DEBUG=1: the shim did not say where it records"; cat "$T/rec.err"; fail=1; }
kill -TERM "$agg"; wait "$agg" || { echo "FAIL: aggregator exit $?"; cat "$T/agg.log"; fail=1; }
agg=

"$REPLAY" --json "$T/seat.ring" >"$T/replay.json" 2>"$T/replay.err" ||
	{ echo "FAIL: uev-replay --json"; cat "$T/replay.err"; exit 1; }
python3 "$CHECK" "$T/replay.json" "$T/rec.out" || fail=1
[ "$fail" = 0 ] && echo "ok: the script's KMS calls recorded with their typed fields"
exit "$fail"
