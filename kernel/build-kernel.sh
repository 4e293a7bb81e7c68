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
# Another kernel source: `build-kernel.sh --source PKG` (first argument) or
# UEV_KERNEL_SOURCE=PKG (the argument wins; default linux-source-6.12). PKG is
# one of the packages in the table source_suites below, e.g.
#
#   UEV_KERNEL_SOURCE=linux-source-7.3 kernel/build-kernel.sh
#
# linux-source-6.12 is installed with apt from the system's suites, as always.
# A package of another release's suite (linux-source-7.3: trixie-backports) is
# never installed: it is downloaded through a private apt configuration whose
# only source is derived from the system's debian.sources (see fetch_source),
# and unpacked with dpkg -x into ${UEV_KERNEL_CACHE%/kernel}/src/PKG_VERSION/,
# which later runs reuse without network (remove that directory to fetch a
# newer version). Such kernels are cached as <pkg>-<version>-<sha256[:16]>/.
# A fragment option that no Kconfig file of the tree defines (say
# CONFIG_PROC_SYSCTL, gone by 7.3) is reported and skipped, not a failure.
#
# Exit status: 0 bzImage ready; 77 SKIP (the source package cannot be had:
# no network, not root); anything else a real failure, said on stderr.
#
# It also makes sure the packages the qemu test needs are there (busybox-static,
# qemu-system-x86, cpio), so kernel/ and tests/qemu/ have one install step.
#
# `build-kernel.sh --print-backports` prints the deb822 entry it would add for
# CODENAME-backports (see add_backports) and changes nothing;
# `build-kernel.sh --print-suite SUITE` prints the one it derives for any SUITE
# (e.g. trixie-backports, what --source linux-source-7.3 downloads from).
#
# Environment: UEV_KERNEL_SOURCE (see above), UEV_KERNEL_CACHE (cache root),
# UEV_KERNEL_BUILD_DIR (where to unpack and build; default /dev/shm when it
# has room, else the cache root), UEV_KERNEL_KEEP_BUILD=1 (keep the unpacked,
# built tree for debugging; a failed build always keeps it, with build.log),
# UEV_KERNEL_JOBS (make -j, default 2: the size of this project's machines).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
fragment=$here/uev.config
cache_root=${UEV_KERNEL_CACHE:-/var/cache/uev/kernel}
# Sources fetched from another release's suite, unpacked (see fetch_source).
src_cache=${cache_root%/kernel}/src
jobs=${UEV_KERNEL_JOBS:-2}
default_src_pkg=linux-source-6.12
src_pkg=${UEV_KERNEL_SOURCE:-$default_src_pkg}
case ${1:-} in
--source)
	(($# >= 2)) || { echo "usage: $0 [--source PKG] [--print-backports | --print-suite SUITE]" >&2; exit 2; }
	src_pkg=$2
	shift 2
	;;
--source=*)
	src_pkg=${1#--source=}
	shift
	;;
esac
# Where each kernel source package comes from:
#   system  installed with apt-get from the system's own suites (on Debian 12
#           bookworm-security or bookworm-backports, whose entry add_backports
#           derives when it is missing); the tarball is /usr/src/PKG.tar.xz
#   SUITE   another release's suite: downloaded, never installed, through a
#           private apt configuration (fetch_source) and unpacked into the cache
declare -A source_suites=(
	[linux-source-6.12]=system
	[linux-source-7.3]=trixie-backports
)
src_suite=${source_suites[$src_pkg]:-}
if [[ -z $src_suite ]]; then
	printf 'build-kernel: FAIL: unknown kernel source %s (known: %s)\n' \
		"$src_pkg" "${!source_suites[*]}" >&2
	exit 1
fi
src_tar=/usr/src/$src_pkg.tar.xz # for "system"; fetch_source sets it otherwise
# What the build and the qemu test need besides the source, by Debian
# package name.
build_deps=(build-essential bc bison flex libelf-dev libssl-dev cpio xz-utils
	busybox-static qemu-system-x86 e2fsprogs)

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

# derive_suite FROM SUITE: a deb822 entry for SUITE on stdout, derived from
# the system's own debian.sources stanza that lists suite FROM: same URIs,
# Components, Signed-By and whatever else it says, only Suites changed. FROM
# is the system's release (bookworm) for SUITE = bookworm-backports as well as
# for another release's trixie-backports: the same archive serves both. No
# mirror name is written here: the machine's configuration decides where
# packages come from. Prints nothing when no stanza lists FROM.
derive_suite() {
	awk -v want="$1" -v suite="$2" '
		# deb822: stanzas separated by blank lines; "#" lines are comments;
		# a line starting with white space continues the field before it.
		function flush() {
			if (n && hit) {
				for (i = 1; i <= n; i++)
					if (!skip[i])
						print (lines[i] ~ /^Suites:/ ? "Suites: " suite : lines[i])
				found = 1
				exit
			}
			n = 0; hit = 0; in_suites = 0
		}
		/^[[:space:]]*$/ { flush(); next }
		/^#/ { next }
		{
			lines[++n] = $0
			skip[n] = 0
			first = 2
			if ($0 ~ /^[[:space:]]/) {
				first = 1
				skip[n] = in_suites # continuation of Suites: replaced whole
			} else
				in_suites = ($1 == "Suites:")
			if (in_suites)
				for (i = first; i <= NF; i++)
					if ($i == want) hit = 1
		}
		END { if (!found) flush() }
	' "$debian_sources"
}

# derive_backports CODENAME: derive_suite's entry for CODENAME-backports.
derive_backports() {
	derive_suite "$1" "$1-backports"
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

# fetch_source SUITE: $src_pkg from another release's SUITE, without touching
# the system's apt state: a private apt configuration (its own sources,
# lists, cache and an empty dpkg status; the system's trusted keys and
# apt.conf.d, e.g. a proxy, still apply) whose only source is derive_suite's
# entry for SUITE; `apt-get download` + `dpkg -x` into
# $src_cache/PKG_VERSION/. Sets src_tar and version. An unpacked copy is
# reused as is, without network (the newest one when there are several).
fetch_source() {
	local suite=$1 dir d v best='' tmp deb
	for d in "$src_cache/${src_pkg}_"*/; do
		[[ -r ${d}usr/src/$src_pkg.tar.xz ]] || continue
		v=${d%/}
		v=${v##*/"${src_pkg}_"}
		if [[ -z $best ]] || dpkg --compare-versions "$v" gt "$best"; then
			best=$v
		fi
	done
	if [[ -n $best ]]; then
		version=$best
		src_tar=$src_cache/${src_pkg}_$version/usr/src/$src_pkg.tar.xz
		return
	fi
	command -v apt-get >/dev/null || skip "no apt-get: cannot download $src_pkg"
	if ! mkdir -p "$src_cache" 2>/dev/null || [[ ! -w $src_cache ]]; then
		skip "$src_pkg is not in $src_cache, which is not writable (run as root once, or set UEV_KERNEL_CACHE)"
	fi
	[[ -r $debian_sources ]] || skip "no $debian_sources to derive a $suite entry from"
	local from
	from=$(codename)
	[[ -n $from ]] || skip "unknown Debian release: no stanza to derive $suite from"
	tmp=$(mktemp -d "$src_cache/.fetch-$src_pkg.XXXXXX")
	# shellcheck disable=SC2064 # expand $tmp now
	trap "rm -rf '$tmp'" EXIT
	mkdir -p "$tmp/sources.list.d" "$tmp/preferences.d" "$tmp/lists/partial" \
		"$tmp/cache/archives/partial" "$tmp/download"
	derive_suite "$from" "$suite" >"$tmp/sources.list.d/uev-$suite.sources"
	[[ -s $tmp/sources.list.d/uev-$suite.sources ]] ||
		skip "$debian_sources has no stanza for suite $from to derive $suite from"
	: >"$tmp/status"
	# A caller's own APT_CONFIG (a proxy, say) still applies; the Dir
	# settings after it win.
	if [[ -n ${APT_CONFIG:-} && -r $APT_CONFIG ]]; then
		printf '#include "%s";\n' "$APT_CONFIG" >"$tmp/apt.conf"
	fi
	cat >>"$tmp/apt.conf" <<-EOF
		Dir::Etc::sourcelist "$tmp/sources.list";
		Dir::Etc::sourceparts "$tmp/sources.list.d";
		Dir::Etc::preferences "$tmp/preferences";
		Dir::Etc::preferencesparts "$tmp/preferences.d";
		Dir::State::lists "$tmp/lists";
		Dir::State::status "$tmp/status";
		Dir::Cache "$tmp/cache";
		Acquire::Languages "none";
	EOF
	# apt's download sandbox user must reach the files it writes.
	chmod 755 "$tmp"
	if id _apt >/dev/null 2>&1 && [[ $(id -u) == 0 ]]; then
		chown _apt "$tmp/download"
	fi
	say "fetching $src_pkg from $suite (private apt configuration in $tmp):"
	sed 's/^/    /' "$tmp/sources.list.d/uev-$suite.sources" >&2
	APT_CONFIG=$tmp/apt.conf apt-get update -qq >&2 || skip "apt-get update for $suite failed (no network?)"
	# apt-get update only warns when an index cannot be fetched.
	APT_CONFIG=$tmp/apt.conf have_candidate "$src_pkg" ||
		skip "apt knows no $src_pkg in $suite (no network?)"
	(cd "$tmp/download" && APT_CONFIG=$tmp/apt.conf apt-get download -q "$src_pkg" >&2) ||
		skip "cannot download $src_pkg from $suite (no network?)"
	deb=$(find "$tmp/download" -maxdepth 1 -name "${src_pkg}_*.deb" | head -n1)
	[[ -n $deb ]] || die "apt-get download $src_pkg left no .deb"
	version=$(dpkg-deb -f "$deb" Version)
	[[ -n $version ]] || die "$deb has no Version"
	say "unpacking $(basename "$deb")"
	dpkg -x "$deb" "$tmp/x"
	dir=$src_cache/${src_pkg}_$version
	[[ -r $tmp/x/usr/src/$src_pkg.tar.xz ]] || die "$deb has no usr/src/$src_pkg.tar.xz"
	# One rename: a half-unpacked tree never looks complete; a concurrent
	# run that got there first wins.
	mv -T "$tmp/x" "$dir" 2>/dev/null || [[ -r $dir/usr/src/$src_pkg.tar.xz ]] ||
		die "cannot move the unpacked $src_pkg to $dir"
	rm -rf "$tmp"
	trap - EXIT
	src_tar=$dir/usr/src/$src_pkg.tar.xz
	say "$src_pkg $version in $dir"
}

ensure_source_package() {
	if [[ $src_suite != system ]]; then
		fetch_source "$src_suite"
		return
	fi
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
# without it. Name each one that did not land. An option that no Kconfig file
# of this tree defines (renamed or removed in this kernel version, say
# CONFIG_PROC_SYSCTL in 7.3) cannot land: that is a note, not a failure.
verify_fragment() { # in the kernel tree
	local name value bad=0 skipped=0 kver
	local -A known=()
	# Every config/menuconfig symbol of the tree, once (scripts/kconfig/tests
	# holds the Kconfig tool's own test inputs, not kernel options).
	while read -r name; do
		known[CONFIG_$name]=1
	done < <(find . -path ./scripts/kconfig/tests -prune -o -type f -name 'Kconfig*' -print0 |
		xargs -0 sed -n 's/^[[:space:]]*\(menu\)\{0,1\}config[[:space:]]\{1,\}\([A-Za-z0-9_]\{1,\}\).*/\2/p' |
		sort -u)
	((${#known[@]} > 1000)) || die "found only ${#known[@]} config symbols in the tree's Kconfig files"
	kver=$(make -s kernelversion 2>/dev/null || printf '%s' "$version")
	while read -r name value; do
		if [[ -z ${known[$name]:-} ]]; then
			say "$name: not in this kernel ($kver): skipped"
			skipped=$((skipped + 1))
		elif [[ $value == n ]]; then
			if grep -q "^$name=" .config; then
				say "FAIL: $name=n asked, .config has $(grep "^$name=" .config)"
				bad=1
			fi
		elif ! grep -qx -- "$name=$value" .config; then
			say "FAIL: $name=$value asked, .config has: $(grep -E "^(# )?${name}[= ]" .config || echo 'nothing (its dependencies are off)')"
			bad=1
		fi
	done < <(fragment_options)
	((bad == 0)) || die "the fragment $fragment did not land in .config (see above)"
	if ((skipped)); then
		say "all $(($(fragment_options | wc -l) - skipped)) options of the fragment that $kver has are in .config ($skipped not in this kernel)"
	else
		say "all $(fragment_options | wc -l) options of the fragment are in .config"
	fi
}

case ${1:-} in
--print-backports)
	derive_backports "$(codename)"
	exit 0
	;;
--print-suite)
	(($# >= 2)) || die "--print-suite needs a SUITE"
	derive_suite "$(codename)" "$2"
	exit 0
	;;
'') ;;
*)
	echo "usage: $0 [--source PKG] [--print-backports | --print-suite SUITE]" >&2
	exit 2
	;;
esac
version=
ensure_source_package
ensure_build_deps
if [[ $src_suite == system ]]; then
	version=$(dpkg-query -W -f='${Version}' "$src_pkg")
fi
# The default source keeps its old keys (<version>-<sha16>): callers and
# caches from before other sources existed stay valid.
key=$version-$(sha256sum "$fragment" | cut -c1-16)
[[ $src_pkg == "$default_src_pkg" ]] || key=$src_pkg-$key
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
