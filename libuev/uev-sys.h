/* SPDX-License-Identifier: MIT */
/*
 * The one system call of the emit path, made directly. libc's write() is a
 * thread cancellation point and reports through errno: a tracing call must
 * not be where a host thread gets cancelled, and must not touch the host's
 * errno, so the raw call, which returns -errno, is both cheaper and the
 * right semantics. Other architectures fall back to syscall(2) with errno
 * saved and restored.
 */
#ifndef UEV_SYS_H
#define UEV_SYS_H

#include <errno.h>
#include <stddef.h>
#include <sys/syscall.h>
#include <unistd.h>

static inline long uev_sys_write(int fd, const void *buf, size_t len)
{
#if defined(__x86_64__)
	long r;

	__asm__ volatile("syscall"
			 : "=a"(r)
			 : "0"((long)SYS_write), "D"((long)fd), "S"(buf), "d"(len)
			 : "rcx", "r11", "memory");
	return r;
#elif defined(__aarch64__)
	register long x8 __asm__("x8") = SYS_write;
	register long x0 __asm__("x0") = fd;
	register long x1 __asm__("x1") = (long)buf;
	register long x2 __asm__("x2") = (long)len;

	__asm__ volatile("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2) : "memory");
	return x0;
#else
	int saved = errno;
	long r = syscall(SYS_write, fd, buf, len);

	if (r < 0)
		r = -errno;
	errno = saved;
	return r;
#endif
}

#endif
