#!/bin/sh
# SPDX-License-Identifier: MIT
# uev-kms-shim.so defines exactly the libdrm functions it wraps: nothing of
# libuev, of its object tracking or of libc leaks into the compositor's
# symbol space, and every wrapper is there (a missing one would silently
# stop recording that call), and needs no libdrm symbol. Usage: symbols.sh uev-kms-shim.so  ($NM: nm)
set -u
shim=${1:?usage: symbols.sh uev-kms-shim.so}
nm=${NM:-nm}
want="drmHandleEvent
drmModeAtomicAddProperty
drmModeAtomicCommit
drmModeAtomicFree
drmModeGetPlaneResources
drmModeGetResources
drmModePageFlip
drmModePageFlipTarget
drmModeSetCrtc"
if ! syms=$("$nm" -D --defined-only "$shim"); then
	echo "FAIL: $nm -D --defined-only $shim failed"
	exit 1
fi
# "<addr> <type> <name>": functions (T), unversioned, nothing else
got=$(printf '%s\n' "$syms" | awk 'NF >= 3 { print $3 }' | LC_ALL=C sort)
if [ "$got" != "$want" ]; then
	echo "FAIL: $shim defines:"
	printf '%s\n' "$syms" | sed 's/^/  /'
	echo "want exactly:"
	printf '%s\n' "$want" | sed 's/^/  /'
	exit 1
fi
bad=$(printf '%s\n' "$syms" | awk 'NF >= 3 && $2 != "T"')
if [ -n "$bad" ]; then
	echo "FAIL: not plain global functions: $bad"
	exit 1
fi
# ...and needs none: a libdrm symbol the shim refers to would make it fail
# to load ("symbol lookup error") into every process without libdrm, such
# as the clients and helpers a preloaded compositor starts.
undef=$("$nm" -D --undefined-only "$shim" | awk '$NF ~ /^drm/ { print $NF }')
if [ -n "$undef" ]; then
	echo "FAIL: $shim refers to libdrm symbols: $undef"
	exit 1
fi
echo "ok: $shim defines the $(printf '%s\n' "$want" | wc -l) wrapped libdrm functions, nothing else"
