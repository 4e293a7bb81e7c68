#!/usr/bin/env bash
# uev-aggregator refusing bad input: each case gets its message and exit
# status, and nothing is touched (no ring file, no instance, files intact).
# usage: cli.sh PATH-TO-uev-aggregator
set -uo pipefail
agg=$1
# shellcheck source=../cli-lib.sh
. "$(dirname "$0")/../cli-lib.sh"
dir=$(mktemp -d)
seat="cli$$"
pids=()
cleanup() { # shellcheck disable=SC2317 # called by trap
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	rmdir "/sys/kernel/tracing/instances/uev.$seat" 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT
no_instance() {
	if [ -e "/sys/kernel/tracing/instances/uev.$seat" ]; then
		echo "FAIL: $1 left an instance behind"; fail=1
	fi
}
run() { "$agg" --seat "$seat" --run-dir "$dir/run" "$@"; }

expect 2 "--seat NAME is required" "$agg"
expect 2 "bad seat name" "$agg" --seat "a/b"
expect 2 "--size: 'huge' is not a size" run --size huge
expect 2 "--flush-interval: '5' is not 10..600000 ms" run --flush-interval 5
expect 2 "unrecognized option" run --frobnicate
expect 2 "--compression: 'gzip' is not a compression: none, zstd, or zstd:LEVEL" run --compression gzip
expect 2 "--compression: 'zstd:40' is not a compression" run --compression zstd:40
# --compression over [ring] compression, and the default: printed back by name
printf '[ring]\ncompression = none\n' >"$dir/comp.conf"
run --config "$dir/comp.conf" --compression zstd:4 --print-config | grep -qx 'compression = zstd:4' ||
	{ echo "FAIL: --compression does not override [ring] compression"; fail=1; }
run --config "$dir/comp.conf" --print-config | grep -qx 'compression = none' ||
	{ echo "FAIL: [ring] compression = none not printed back"; fail=1; }
run --print-config | grep -qx 'compression = zstd:1' ||
	{ echo "FAIL: the default compression is not zstd:1"; fail=1; }
printf '[ring]\ncompression = lz4\n' >"$dir/comp.conf"
expect 2 "$dir/comp.conf:2: [ring] compression: 'lz4' is not a compression" run --config "$dir/comp.conf" --ring "$dir/z.ring"
[ ! -e "$dir/z.ring" ] || { echo "FAIL: a bad compression created the ring file"; fail=1; }

printf '[seat]\nclock = sundial\nbuffer_kb = lots\n[ring]\nsize = 64M\nbogus = 1\n' >"$dir/bad.conf"
expect 2 "$dir/bad.conf:2: [seat] clock:" run --config "$dir/bad.conf" --ring "$dir/a.ring"
expect 2 "$dir/bad.conf:3: [seat] buffer_kb:" run --config "$dir/bad.conf" --ring "$dir/a.ring"
expect 2 "$dir/bad.conf:6:" run --config "$dir/bad.conf" --ring "$dir/a.ring"
[ ! -e "$dir/a.ring" ] || { echo "FAIL: a bad config created the ring file"; fail=1; }
no_instance "a bad config"
expect 2 "missing.conf: No such file or directory" run --config "$dir/missing.conf"

# [dyndbg] drm_debug: a bad category is refused before anything is touched,
# by --print-config too, and a good one is printed back by name.
printf '[dyndbg]\ndrm_debug = kms atomc\n' >"$dir/drm.conf"
echo 1 >"$dir/drm.param"
UEV_DRM_DEBUG_PATH="$dir/drm.param" expect 2 \
	"$dir/drm.conf:2: [dyndbg] drm_debug: unknown DRM debug category 'atomc'" \
	run --config "$dir/drm.conf" --ring "$dir/d.ring"
expect 2 "unknown DRM debug category 'atomc'" run --config "$dir/drm.conf" --print-config
[ "$(cat "$dir/drm.param")" = 1 ] || { echo "FAIL: a refused drm_debug changed drm.debug"; fail=1; }
[ ! -e "$dir/d.ring" ] || { echo "FAIL: a bad drm_debug created the ring file"; fail=1; }
no_instance "a bad drm_debug"
printf '[dyndbg]\ndrm_debug = 0x114\n' >"$dir/drm.conf"
run --config "$dir/drm.conf" --print-config | grep -qx 'drm_debug = kms atomic dp' ||
	{ echo "FAIL: --print-config does not name drm_debug 0x114"; fail=1; }

chmod 755 "$dir"
expect 1 "run it as root" setpriv --reuid=65534 --regid=65534 --clear-groups \
	"$agg" --seat "$seat" --ring "$dir/nobody.ring" --size 1M
no_instance "an unprivileged start"

printf '[kernel]\nevent = nosuchsys:nosuchevent\n' >"$dir/ev.conf"
expect 2 "no such kernel event" run --config "$dir/ev.conf" --ring "$dir/b.ring"
[ ! -e "$dir/b.ring" ] || { echo "FAIL: an unknown event created the ring file"; fail=1; }

printf 'provider t\nevent ok: fine\n    u32 a\nevent bad: broken\n    u128 b\n' >"$dir/bad.uev"
printf '[user]\nschema = %s\n' "$dir/bad.uev" >"$dir/schema.conf"
expect 2 "$dir/bad.uev:5: unknown type 'u128'" run --config "$dir/schema.conf" --ring "$dir/s.ring"
[ ! -e "$dir/s.ring" ] || { echo "FAIL: a bad schema created the ring file"; fail=1; }
no_instance "a bad schema"

ln -s "$dir/target.ring" "$dir/link.ring"
expect 2 "symbolic link" run --ring "$dir/link.ring" --size 1M
[ ! -e "$dir/target.ring" ] || { echo "FAIL: the symlink target was created"; fail=1; }
no_instance "a symlink ring"

echo "precious data, not a ring" >"$dir/text.ring"
sum=$(md5sum <"$dir/text.ring")
expect 2 "not a uev ring file" run --ring "$dir/text.ring" --size 1M
[ "$(md5sum <"$dir/text.ring")" = "$sum" ] || { echo "FAIL: the foreign file was changed"; fail=1; }
no_instance "a foreign ring file"

# A real ring of another size: refused, then --recreate replaces it.
"$agg" --seat "$seat" --run-dir "$dir/run" --ring "$dir/c.ring" --size 1M --flush-interval 100 2>/dev/null &
pids+=($!)
for _ in $(seq 100); do [ -e "/sys/kernel/tracing/instances/uev.$seat" ] && break; sleep 0.05; done
sleep 0.5
expect 1 "in use" run --ring "$dir/c.ring" --size 1M
kill -TERM "${pids[0]}"; wait "${pids[0]}"; rc=$?
[ "$rc" -eq 0 ] || { echo "FAIL: first aggregator exited $rc on SIGTERM"; fail=1; }
pids=()
no_instance "a stopped aggregator"
sum=$(md5sum <"$dir/c.ring")
expect 2 "--recreate" run --ring "$dir/c.ring" --size 2M
[ "$(md5sum <"$dir/c.ring")" = "$sum" ] || { echo "FAIL: a ring of another size was changed"; fail=1; }
timeout -s TERM 2 "$agg" --seat "$seat" --run-dir "$dir/run" --ring "$dir/c.ring" --size 2M --recreate 2>/dev/null
rc=$?
[ "$rc" -eq 124 ] || [ "$rc" -eq 0 ] || { echo "FAIL: --recreate run exited $rc"; fail=1; }

# A file system that refuses O_DIRECT (ramfs): said once, the ring is written
# through the page cache and reads back. direct_io = no says nothing.
mkdir "$dir/ram"
if mount -t ramfs none "$dir/ram" 2>/dev/null; then
	timeout -s TERM 2 "$agg" --seat "$seat" --run-dir "$dir/run" --ring "$dir/ram/r.ring" --size 1M \
		--flush-interval 100 2>"$dir/ram.err"
	rc=$?
	[ "$rc" -eq 124 ] || [ "$rc" -eq 0 ] || { echo "FAIL: ramfs run exited $rc: $(cat "$dir/ram.err")"; fail=1; }
	grep -q "r.ring: its file system does not take O_DIRECT; writing through the page cache" "$dir/ram.err" ||
		{ echo "FAIL: no notice of the page-cache fallback: $(cat "$dir/ram.err")"; fail=1; }
	"$(dirname "$agg")/uev-ringdump" "$dir/ram/r.ring" >"$dir/ram.dump" 2>&1 ||
		{ echo "FAIL: the ramfs ring does not read back: $(head -3 "$dir/ram.dump")"; fail=1; }
	umount "$dir/ram"
else
	echo "note: no ramfs here, the O_DIRECT fallback is not tested"
fi
printf '[ring]\ndirect_io = no\n' >"$dir/pc.conf"
timeout -s TERM 2 "$agg" --seat "$seat" --run-dir "$dir/run" --config "$dir/pc.conf" --ring "$dir/pc.ring" \
	--size 1M 2>"$dir/pc.err"
if grep -q "O_DIRECT" "$dir/pc.err"; then echo "FAIL: direct_io = no still talks of O_DIRECT"; fail=1; fi
exit $fail
