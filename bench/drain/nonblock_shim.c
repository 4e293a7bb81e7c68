/* SPDX-License-Identifier: MIT */
/*
 * nonblock_shim.so: an LD_PRELOAD experiment for the drain benchmark, not
 * part of uev. It adds O_NONBLOCK to every open() of a trace_pipe_raw file,
 * so uev-aggregator's io_uring reads go to a non-blocking file.
 *
 * Why: trace_pipe_raw has only a .read method. io_uring's inline attempt
 * (IOCB_NOWAIT) of a .read file that is not O_NONBLOCK always fails with
 * -EAGAIN (io_uring/rw.c loop_rw_iter), the file is pollable, so io_uring
 * arms a poll; once the buffer_percent watermark is hit the poll is ready
 * at once, the retry fails again, ... until the retry limit sends the read
 * to an io-wq worker. With O_NONBLOCK the inline attempt reads the page.
 *
 *   LD_PRELOAD=.../nonblock_shim.so uev-aggregator ...
 */
/* open and open64 are both defined here: no open -> open64 redirection. */
#undef _FILE_OFFSET_BITS
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>

static int fix(const char *path, int flags)
{
	size_t n = path ? strlen(path) : 0;

	if (n >= 15 && strcmp(path + n - 15, "/trace_pipe_raw") == 0)
		flags |= O_NONBLOCK;
	return flags;
}

int open(const char *path, int flags, ...)
{
	static int (*real)(const char *, int, ...);
	mode_t mode = 0;
	va_list ap;

	if (!real)
		real = (int (*)(const char *, int, ...))dlsym(RTLD_NEXT, "open");
	va_start(ap, flags);
	if (flags & (O_CREAT | O_TMPFILE))
		mode = va_arg(ap, mode_t);
	va_end(ap);
	return real(path, fix(path, flags), mode);
}

int open64(const char *path, int flags, ...)
{
	static int (*real)(const char *, int, ...);
	mode_t mode = 0;
	va_list ap;

	if (!real)
		real = (int (*)(const char *, int, ...))dlsym(RTLD_NEXT, "open64");
	va_start(ap, flags);
	if (flags & (O_CREAT | O_TMPFILE))
		mode = va_arg(ap, mode_t);
	va_end(ap);
	return real(path, fix(path, flags), mode);
}
