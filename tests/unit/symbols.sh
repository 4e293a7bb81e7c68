#!/bin/sh
# SPDX-License-Identifier: MIT
# The shared libuev exports only uev_* symbols: the whole public API and none
# of the internal modules (libuev/shared's uev_def_* and uev_ctl_* included). Usage: symbols.sh path/to/libuev.so  ($NM: nm)
set -u

lib=${1:?usage: symbols.sh libuev.so}
nm=${NM:-nm}
fail=0

if ! syms=$("$nm" -D --defined-only "$lib"); then
	echo "FAIL: $nm -D --defined-only $lib failed"
	exit 1
fi
# "<addr> <type> <name>[@@VERSION]" -> "<type> <name>"
names=$(printf '%s\n' "$syms" | awk 'NF >= 3 { n = $3; sub(/@.*/, "", n); print $2, n }')
if [ -z "$names" ]; then
	echo "FAIL: no dynamic symbols in $lib"
	exit 1
fi

# Every defined symbol is uev_*, except the version node itself.
stray=$(printf '%s\n' "$names" | awk '!($1 == "A" && $2 == "UEV_0.1") && $2 !~ /^uev_/')
if [ -n "$stray" ]; then
	echo "FAIL: symbols outside the uev_ namespace:"
	printf '  %s\n' "$stray"
	fail=1
fi

has() {
	printf '%s\n' "$names" | awk -v s="$1" '$2 == s && $1 ~ /^[TDBRVW]$/ { f = 1 } END { exit !f }'
}

for s in uev_provider_open uev_provider_close uev_provider_backend \
	 uev_provider_status uev_provider_seat uev_backend_name \
	 uev_event_register uev_event_unregister uev_event_error \
	 uev_emit uev_emitv uev_emit_packed \
	 uev_seat_connect uev_seat_disconnect uev_seat_set_timeout uev_seat_snapshot \
	 uev_seat_snapshot_request uev_seat_fd uev_seat_reply_read uev_seat_enable \
	 uev_seat_disable uev_seat_status uev_seat_message; do
	if ! has "$s"; then
		echo "FAIL: API symbol $s is not exported"
		fail=1
	fi
done

for s in uev_def_parse uev_def_parse_field uev_def_type_text uev_def_valid_name \
	 uev_encode uev_encode_prepare uev_encode_write uev_utf8_cut \
	 uev_marker_send uev_marker_open uev_marker_register \
	 uev_ue_open uev_ue_register uev_debug \
	 uev_ctl_request_parse uev_ctl_request_format uev_ctl_reply_parse \
	 uev_ctl_reply_format_ok uev_ctl_reply_format_error uev_ctl_incident_format \
	 uev_ctl_snapshot_parse uev_ctl_send uev_ctl_recv uev_ctl_errno_name \
	 uev_ctl_errno_parse uev_ctl_verb_name uev_ctl_kind_name uev_ctl_kind_parse; do
	if printf '%s\n' "$names" | awk -v s="$s" '$2 == s { f = 1 } END { exit !f }'; then
		echo "FAIL: internal symbol $s is exported"
		fail=1
	fi
done

[ "$fail" -eq 0 ] && echo "ok: $(printf '%s\n' "$names" | grep -c ' uev_') uev_* symbols, nothing else"
exit "$fail"
