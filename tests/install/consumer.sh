#!/usr/bin/env bash
# Packaging as another project sees it: install into a scratch DESTDIR, then
# generate a header with the installed uev-schema from an installed schema,
# and build and run a program against the installed libuev via pkg-config
# (shared library, then static). usage: consumer.sh BUILD_DIR CC [SANITIZE]
set -euo pipefail
build=$1 cc=$2
if [ "${3:-none}" != none ]; then
	echo "SKIP: a sanitizer build installs instrumented libraries; the plain build checks packaging"
	exit 77
fi
dest=$(mktemp -d)
trap 'rm -rf "$dest"' EXIT
meson install -C "$build" --destdir "$dest" --no-rebuild --quiet >/dev/null
prefix=$(meson introspect "$build" --buildoptions |
	python3 -c 'import json,sys; print(next(o["value"] for o in json.load(sys.stdin) if o["name"]=="prefix"))')
root=$dest$prefix
pcdir=$(dirname "$(find "$root" -name libuev.pc | head -1)")
[ -f "$pcdir/libuev.pc" ] || { echo "libuev.pc not installed"; exit 1; }
for f in bin/uev-schema bin/uev-seat include/uev/uev.h share/uev/schemas/weston.uev \
	 share/uev/schemas/demo.uev share/uev/schemas/kms.uev share/man/man1/uev-schema.1 share/man/man8/uev-seat.8 \
	 bin/uev-aggregator bin/uev-ringdump share/man/man8/uev-aggregator.8 share/man/man5/uev.conf.5 \
	 lib/systemd/system/uev-aggregator@.service lib/sysusers.d/uev.conf; do
	[ -e "$root/$f" ] || { echo "not installed: $f"; exit 1; }
done
# The Weston module, where Weston looks modules up by name ($libdir/weston),
# exporting its entry point and nothing of the libuev linked into it.
if pkg-config --exists weston libweston-10; then
	mod=$(find "$root" -path '*/weston/uev-weston.so' | head -1)
	[ -n "$mod" ] || { echo "not installed: \$libdir/weston/uev-weston.so"; exit 1; }
	syms=$(nm -D --defined-only "$mod" | awk '{print $3}' | tr '\n' ' ')
	[ "$syms" = "wet_module_init " ] || { echo "uev-weston.so exports: $syms"; exit 1; }
	[ -e "$root/share/man/man7/uev-weston.7" ] || { echo "not installed: share/man/man7/uev-weston.7"; exit 1; }
fi
# The KMS shim in $libdir/uev, exporting exactly the libdrm functions it
# wraps (tests/kms-shim/symbols.sh knows which).
if pkg-config --exists libdrm; then
	shim=$(find "$root" -path '*/uev/uev-kms-shim.so' | head -1)
	[ -n "$shim" ] || { echo "not installed: \$libdir/uev/uev-kms-shim.so"; exit 1; }
	sh "$(dirname "$0")/../kms-shim/symbols.sh" "$shim" >/dev/null || { echo "uev-kms-shim.so exports more or less"; exit 1; }
	[ -e "$root/share/man/man7/uev-kms-shim.7" ] || { echo "not installed: share/man/man7/uev-kms-shim.7"; exit 1; }
fi
"$root/bin/uev-schema" -o "$dest/weston-uev.h" "$root/share/uev/schemas/weston.uev"
cat >"$dest/app.c" <<'C'
#define UEV_WESTON_IMPLEMENTATION
#include "weston-uev.h"
#include <stdio.h>
int main(void)
{
	struct uev_provider *p;

	if (uev_provider_open(&p, NULL) || uev_weston_register(p))
		return 1;
	int r = uev_emit_weston_log("drm", 7, "installed and linked");
	int off = uev_provider_backend(p) == UEV_BACKEND_OFF;

	printf("%s: emit %d\n", uev_provider_status(p), r);
	uev_provider_close(p);
	return off && r == 0 ? 0 : 1;
}
C
export PKG_CONFIG_PATH=$pcdir
sed -i "s|^prefix=.*|prefix=$root|" "$pcdir/libuev.pc"
# shellcheck disable=SC2046 # pkg-config output is a word list
$cc -std=gnu11 -Wall -Wextra -Werror -I"$dest" "$dest/app.c" $(pkg-config --cflags --libs libuev) -o "$dest/app"
LD_LIBRARY_PATH=$(pkg-config --variable=libdir libuev) UEV_BACKEND=off "$dest/app"
# the static archive: libc only, nothing else to link
$cc -std=gnu11 -Wall -Wextra -Werror -I"$dest" "$dest/app.c" -I"$root/include" \
	"$(pkg-config --variable=libdir libuev)/libuev.a" -o "$dest/app-static"
UEV_BACKEND=off "$dest/app-static"
echo "installed tree works: $(cd "$root" && find . -type f | wc -l) files"
