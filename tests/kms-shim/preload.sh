# shellcheck shell=bash
# Sourced by the kms-shim tests. kms_preload [LIB...]: the LD_PRELOAD value
# that loads LIB... into $CALLS. In a sanitizer build the program and the
# shim are instrumented, and gcc's ASan runtime refuses to run unless it is
# the first library loaded ("ASan runtime does not come first"): it goes
# first, as it would for an instrumented compositor. clang links its
# runtime into each instrumented program instead: nothing to preload, and
# the program provides the runtime to the shim. (An uninstrumented program
# cannot load an instrumented shim at all: the plain build is the one to
# preload into real programs.)
kms_preload() {
	local asan out
	asan=$(ldd "$CALLS" 2>/dev/null | awk '$1 ~ /^libasan\.so/ { print $3; exit }')
	out="$asan"
	for lib in "$@"; do out="${out:+$out }$lib"; done
	printf '%s\n' "$out"
}
