/* SPDX-License-Identifier: MIT */
/*
 * fake-res.so: preloaded after uev-kms-shim.so in the recording test, it
 * stands in for the kernel this host does not have: its
 * drmModeGetResources() and drmModeGetPlaneResources() return fixed
 * resources for any fd (CRTCs 31 32, connectors 40 41, planes 50 51 52),
 * allocated as libdrm does, so libdrm's drmModeFree*Resources() free them.
 * The shim reaches them through dlsym(RTLD_NEXT) as it reaches libdrm.
 */
#include <stdlib.h>
#include <string.h>

#include <xf86drmMode.h>

static uint32_t *ids(const uint32_t *v, size_t n)
{
	uint32_t *p = malloc(n * sizeof(*p));

	if (p)
		memcpy(p, v, n * sizeof(*p));
	return p;
}

__attribute__((visibility("default"))) drmModeResPtr drmModeGetResources(int fd)
{
	static const uint32_t crtcs[] = { 31, 32 }, connectors[] = { 40, 41 };
	drmModeResPtr r = calloc(1, sizeof(*r));

	(void)fd;
	if (!r)
		return NULL;
	r->count_crtcs = 2;
	r->crtcs = ids(crtcs, 2);
	r->count_connectors = 2;
	r->connectors = ids(connectors, 2);
	r->max_width = r->max_height = 4096;
	return r;
}

__attribute__((visibility("default"))) drmModePlaneResPtr drmModeGetPlaneResources(int fd)
{
	static const uint32_t planes[] = { 50, 51, 52 };
	drmModePlaneResPtr r = calloc(1, sizeof(*r));

	(void)fd;
	if (!r)
		return NULL;
	r->count_planes = 3;
	r->planes = ids(planes, 3);
	return r;
}
