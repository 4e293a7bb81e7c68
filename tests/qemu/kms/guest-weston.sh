#!/usr/bin/env bash
# tests/qemu/kms/guest-weston.sh CACHE-ROOT — prints the path of a cached
# gzip cpio archive that holds the guest's Weston userland: Debian's own
# weston and weston-simple-shm binaries, the libweston DRM backend, the
# fullscreen shell, their shared-library closure, the XKB data and
# libinput's quirks, all taken from the Debian packages installed on this
# host (.ci/deps.sh installs them), nothing built by hand.
#
# The archive is keyed by the installed versions of every package that
# owns a file in it and by this script, so an upgrade rebuilds it; building
# it takes a few seconds, a cached one nothing. The kernel unpacks it
# before the per-run archive that the harness appends (cat), so the test's
# own files come last.
set -euo pipefail

cache_root=${1:?usage: guest-weston.sh CACHE-ROOT}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/../lib.sh"
say() { printf 'guest-weston: %s\n' "$*" >&2; }

arch=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo x86_64-linux-gnu)
lib=/usr/lib/$arch
files=(
	/usr/bin/weston
	/usr/bin/weston-simple-shm
	"$lib/weston/libexec_weston.so.0"
	"$lib/weston/fullscreen-shell.so"
	"$lib/libweston-10/drm-backend.so"
)
dirs=(/usr/share/X11/xkb /usr/share/libinput)
for f in "${files[@]}" "${dirs[@]}"; do
	[[ -e $f ]] || {
		say "FAIL: $f is missing (apt-get install weston)"
		exit 1
	}
done

# The key: name, size and time of every file and library that goes in (a
# package upgrade changes them), and this script.
closure=$(for f in "${files[@]}"; do ldd "$f"; done |
	awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' | sort -u)
# shellcheck disable=SC2086 # one word per path
key=$({ stat -L -c '%n %s %Y' "${files[@]}" $closure "${dirs[@]}"; sha256sum "${BASH_SOURCE[0]}"; } |
	sha256sum | cut -c1-16)
out=$cache_root/weston-$key.cpio.gz
if [[ -s $out ]]; then
	printf '%s\n' "$out"
	exit 0
fi

mkdir -p "$cache_root"
stage=$(mktemp -d "$cache_root/.stage.XXXXXX")
trap 'rm -rf "$stage"' EXIT
for f in "${files[@]}"; do
	mkdir -p "$stage$(dirname "$f")"
	cp -L "$f" "$stage$f"
done
qemu_closure "$stage" "${files[@]}"
for d in "${dirs[@]}"; do
	mkdir -p "$stage$(dirname "$d")"
	cp -a "$d" "$stage$d"
done
tmp=$out.tmp.$$
qemu_cpio "$stage" "$tmp"
mv "$tmp" "$out" # one rename: an interrupted build never looks cached
say "built $out ($(stat -c %s "$out") bytes, $(find "$stage" -type f | wc -l) files)"
printf '%s\n' "$out"
