#!/usr/bin/env bash
# kernel/build-kernel.sh — build (or find cached) the uev test kernel.
#
# Debian's linux-source-6.12 (bookworm-backports on Debian 12), `make
# tinyconfig` + kernel/uev.config, bzImage. The result is cached outside the
# git tree, keyed by the source package version and the fragment's hash:
#
#   ${UEV_KERNEL_CACHE:-/var/cache/uev/kernel}/<version>-<sha256[:16]>/bzImage
#
# so it is rebuilt only when one of them changes. Progress goes to stderr; the
# only line on stdout is the path of bzImage, so callers can write
# `kernel=$(kernel/build-kernel.sh)`.
#
# Exit status: 0 bzImage ready; 77 SKIP (the source package cannot be had:
# no network, not root); anything else a real failure, said on stderr.
#
# It also makes sure the packages the qemu test needs are there (busybox-static,
# qemu-system-x86, cpio), so kernel/ and tests/qemu/ have one install step.
#
# `build-kernel.sh --print-backports` prints the deb822 entry it would add for
# CODENAME-backports (see add_backports) and changes nothing.
#
# Environment: UEV_KERNEL_CACHE (cache root), UEV_KERNEL_BUILD_DIR (where to
# unpack and build; default /dev/shm when it has room, else the cache root),
# UEV_KERNEL_KEEP_BUILD=1 (keep the unpacked, built tree for debugging; a
# failed build always keeps it, with build.log),
# UEV_KERNEL_JOBS (make -j, default 2: the size of this project's machines).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
fragment=$here/uev.config
cache_root=${UEV_KERNEL_CACHE:-/var/cache/uev/kernel}
jobs=${UEV_KERNEL_JOBS:-2}
src_pkg=linux-source-6.12
src_tar=/usr/src/$src_pkg.tar.xz
# What the build and the qemu test need besides the source, by Debian
# package name.
build_deps=(build-essential bc bison flex libelf-dev libssl-dev cpio xz-utils
	busybox-static qemu-system-x86)

say() { printf 'build-kernel: %s\n' "$*" >&2; }
die() { printf 'build-kernel: FAIL: %s\n' "$*" >&2; exit 1; }
skip() {
	printf '\nbuild-kernel: SKIP: %s\n\n' "$*" >&2
	exit 77
}

[[ -r $fragment ]] || die "$fragment is missing"

installed() { # NAME: is the Debian package installed?
	[[ $(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null || true) == installed ]]
}

have_candidate() { # NAME: does apt know a version to install?
	local c
	c=$(apt-cache policy "$1" 2>/dev/null | awk '/Candidate:/ { print $2 }')
	[[ -n $c && $c != "(none)" ]]
}

# Where apt's sources live (apt-config follows $APT_CONFIG: a test can point
# it elsewhere).
sources_dir=/etc/apt/sources.list.d
sources_list=/etc/apt/sources.list
if command -v apt-config >/dev/null; then
	eval "$(apt-config shell sources_dir Dir::Etc::sourceparts/d sources_list Dir::Etc::sourcelist/f)"
	sources_dir=${sources_dir%/}
fi
debian_sources=$sources_dir/debian.sources

# derive_backports CODENAME: a deb822 entry for CODENAME-backports on stdout,
# derived from the system's own debian.sources stanza for CODENAME: same
# URIs, Components, Signed-By and whatever else it says, only Suites changed.
# No mirror name is written here: the machine's configuration decides where
# packages come from.
derive_backports() {
	awk -v want="$1" -v suite="$1-backports" '
		# deb822: stanzas separated by blank lines; "#" lines are comments.
		function flush() {
			if (n && hit) {
				for (i = 1; i <= n; i++)
					print (lines[i] ~ /^Suites:/ ? "Suites: " suite : lines[i])
				found = 1
				exit
			}
			n = 0; hit = 0
		}
		/^[[:space:]]*$/ { flush(); next }
		/^#/ { next }
		{
			lines[++n] = $0
			if ($1 == "Suites:")
				for (i = 2; i <= NF; i++)
					if ($i == want) hit = 1
		}
		END { if (!found) flush() }
	' "$debian_sources"
}

# add_backports CODENAME: write derive_backports' entry into sources.list.d.
add_backports() {
	local codename=$1 out=$sources_dir/uev-$1-backports.sources
	[[ -r $debian_sources ]] || skip "no $debian_sources to derive a $codename-backports entry from"
	derive_backports "$codename" >"$out.tmp"
	if [[ ! -s $out.tmp ]]; then
		rm -f "$out.tmp"
		skip "$debian_sources has no stanza for suite $codename to derive $codename-backports from"
	fi
	mv "$out.tmp" "$out"
	say "added $out (derived from $debian_sources):"
	sed 's/^/    /' "$out" >&2
}

codename() {
	# shellcheck source=/dev/null # the system's, not ours
	(. /etc/os-release && printf '%s' "${VERSION_CODENAME:-}")
}

ensure_source_package() {
	if installed "$src_pkg" && [[ -r $src_tar ]]; then
		return
	fi
	[[ $(id -u) == 0 ]] || skip "$src_pkg is not installed and installing it needs root"
	command -v apt-get >/dev/null || skip "no apt-get: cannot install $src_pkg"
	if ! have_candidate "$src_pkg"; then
		local codename
		codename=$(codename)
		[[ -n $codename ]] || skip "unknown Debian release: cannot find $src_pkg"
		if ! grep -rqs -- "$codename-backports" "$sources_list" "$sources_dir"; then
			add_backports "$codename"
		fi
		say "apt-get update"
		apt-get update -qq >&2 || skip "apt-get update failed (no network?)"
		have_candidate "$src_pkg" || skip "apt knows no $src_pkg (not in $codename or $codename-backports)"
	fi
	say "installing $src_pkg"
	# Upgrade-By-Source-Package=false: from backports, apt would otherwise
	# "upgrade" the installed binaries of the same source package with it
	# (linux-libc-dev, linux-perf: 6.1 -> 6.12), changing the system's
	# kernel headers under everything else that builds here.
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
		-o APT::Get::Upgrade-By-Source-Package=false "$src_pkg" >&2 ||
		skip "cannot download $src_pkg (no network?)"
	[[ -r $src_tar ]] || die "$src_pkg installed but $src_tar is missing"
}

ensure_build_deps() {
	local missing=() p
	for p in "${build_deps[@]}"; do
		installed "$p" || missing+=("$p")
	done
	((${#missing[@]})) || return 0
	[[ $(id -u) == 0 ]] || skip "missing build dependencies (${missing[*]}) and installing them needs root"
	say "installing ${missing[*]}"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >&2 ||
		skip "cannot download ${missing[*]} (no network?)"
}

# The fragment's options as "NAME VALUE" lines (comments and blanks dropped).
fragment_options() {
	sed -n 's/^[[:space:]]*\(CONFIG_[A-Za-z0-9_]*\)=\(.*\)$/\1 \2/p' "$fragment"
}

apply_fragment() { # in the kernel tree
	local name value
	while read -r name value; do
		case $value in
		y) scripts/config --file .config --enable "$name" ;;
		n) scripts/config --file .config --disable "$name" ;;
		m) scripts/config --file .config --module "$name" ;;
		\"*) value=${value#\"}; scripts/config --file .config --set-str "$name" "${value%\"}" ;;
		*) scripts/config --file .config --set-val "$name" "$value" ;;
		esac
	done < <(fragment_options)
}

# Every fragment line must be in .config as asked: olddefconfig silently
# drops an option whose dependencies are off, and the kernel would build
# without it. Name each one that did not land.
verify_fragment() { # in the kernel tree
	local name value bad=0
	while read -r name value; do
		if [[ $value == n ]]; then
			if grep -q "^$name=" .config; then
				say "FAIL: $name=n asked, .config has $(grep "^$name=" .config)"
				bad=1
			fi
		elif ! grep -qx -- "$name=$value" .config; then
			say "FAIL: $name=$value asked, .config has: $(grep -E "^(# )?${name}[= ]" .config || echo 'nothing (unknown option or its dependencies are off)')"
			bad=1
		fi
	done < <(fragment_options)
	((bad == 0)) || die "the fragment $fragment did not land in .config (see above)"
	say "all $(fragment_options | wc -l) options of the fragment are in .config"
}

if [[ ${1:-} == --print-backports ]]; then
	derive_backports "$(codename)"
	exit 0
fi
ensure_source_package
ensure_build_deps
version=$(dpkg-query -W -f='${Version}' "$src_pkg")
key=$version-$(sha256sum "$fragment" | cut -c1-16)
out=$cache_root/$key
# One build at a time: a second caller waits for the first and then finds
# the kernel cached.
if mkdir -p "$cache_root" 2>/dev/null && [[ -w $cache_root ]]; then
	exec 9>"$cache_root/.lock"
	if ! flock -n 9; then
		say "another build-kernel.sh is running; waiting for it"
		flock 9
	fi
fi
if [[ -r $out/bzImage ]]; then
	say "cached: $out/bzImage ($src_pkg $version, fragment unchanged)"
	printf '%s\n' "$out/bzImage"
	exit 0
fi

# Where to unpack and build: the tree is ~1.2 GiB of small files, which a
# tmpfs unpacks and removes far faster than a disk; /dev/shm when it has
# room, else next to the cache. Only bzImage and .config are kept.
build_parent=${UEV_KERNEL_BUILD_DIR:-}
if [[ -z $build_parent ]]; then
	build_parent=$cache_root
	if [[ -d /dev/shm && -w /dev/shm ]] &&
		(($(df -Pk /dev/shm | awk 'NR == 2 { print $4 }') > 4 * 1024 * 1024)); then
		build_parent=/dev/shm
	fi
fi
[[ -w $cache_root ]] || skip "no cached kernel and $cache_root is not writable (run as root once, or set UEV_KERNEL_CACHE)"
say "building $src_pkg $version with $fragment in $build_parent (make -j$jobs; 5-15 minutes)"
start=$SECONDS
mkdir -p "$cache_root"
build=$build_parent/uev-kernel-build-$key
rm -rf "$build"
mkdir -p "$build"
# Big subtrees no x86 tinyconfig build reads (no Kconfig file in them).
tar -C "$build" -xf "$src_tar" \
	--exclude='*/drivers/gpu/drm/amd/include/asic_reg' \
	--exclude='*/tools/perf/pmu-events' \
	--exclude='*/tools/testing/selftests' \
	--exclude='*/arch/arm/boot/dts' \
	--exclude='*/arch/arm64/boot/dts' \
	--exclude='*/Documentation/devicetree'
tree=$(find "$build" -mindepth 1 -maxdepth 1 -type d | head -n1)
[[ -n $tree && -f $tree/Makefile ]] || die "$src_tar did not unpack to a kernel tree"
say "unpacked in $((SECONDS - start)) s"
log=$build/build.log
cd "$tree"
# KBUILD_BUILD_* keep the image independent of this machine and time.
export KBUILD_BUILD_USER=uev KBUILD_BUILD_HOST=uev KBUILD_BUILD_TIMESTAMP="Debian $version"
make tinyconfig >"$log" 2>&1 || { tail -n 30 "$log" >&2; die "make tinyconfig failed (log: $log)"; }
apply_fragment
make olddefconfig >>"$log" 2>&1 || { tail -n 30 "$log" >&2; die "make olddefconfig failed (log: $log)"; }
verify_fragment
t=$SECONDS
if ! make -j"$jobs" bzImage >>"$log" 2>&1; then
	grep -E 'error|Error' "$log" | tail -n 20 >&2 || true
	tail -n 20 "$log" >&2
	die "make bzImage failed (log: $log)"
fi
say "compiled in $((SECONDS - t)) s"
# Into the cache in one rename, so an interrupted build never looks cached.
tmp=$cache_root/.tmp-$key.$$
rm -rf "$tmp"
mkdir -p "$tmp"
cp arch/x86/boot/bzImage "$tmp/bzImage"
cp .config "$tmp/config"
cp "$fragment" "$tmp/uev.config"
printf '%s %s\n' "$src_pkg" "$version" >"$tmp/source"
rm -rf "$out"
mv "$tmp" "$out"
cd /
if [[ ${UEV_KERNEL_KEEP_BUILD:-0} != 1 ]]; then
	rm -rf "$build"
fi
say "built $out/bzImage ($(stat -c %s "$out/bzImage") bytes) in $((SECONDS - start)) s"
printf '%s\n' "$out/bzImage"
