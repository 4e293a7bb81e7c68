# shellcheck shell=bash
# Sourced by demo.sh and test.sh: install the Debian packages that are
# missing (only those), and make sure tracefs is mounted. Idempotent.
# usage: uev_deps [extra packages...]

UEV_BUILD_PKGS="meson ninja-build pkg-config gcc libc6-dev binutils python3
  libtracefs-dev libtraceevent-dev libtracecmd-dev trace-cmd liburing-dev libzstd-dev check
  clang libclang-rt-14-dev
  weston libweston-10-dev libwayland-dev libpixman-1-dev
  libdrm-dev
  systemd-journal-remote"

uev_as_root() {
	if [ "$(id -u)" -eq 0 ]; then "$@"
	elif command -v sudo >/dev/null 2>&1; then sudo "$@"
	else echo "uev: need root for: $*" >&2; return 1
	fi
}

uev_deps() {
	local missing="" p
	for p in $UEV_BUILD_PKGS "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
			missing="$missing $p"
	done
	[ -z "$missing" ] && return 0
	echo "uev: installing:$missing"
	# shellcheck disable=SC2086 # one word per package
	if ! { uev_as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
	       uev_as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			--no-install-recommends $missing >/dev/null; }; then
		echo "uev: could not install:$missing" >&2
		return 1
	fi
}

uev_tracefs() {
	[ -e /sys/kernel/tracing/trace ] && return 0
	uev_as_root mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null ||
		echo "uev: tracefs is not mounted and could not be mounted; kernel tests will skip" >&2
}
