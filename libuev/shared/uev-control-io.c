/* SPDX-License-Identifier: MIT */
/*
 * One message of the seat control protocol in or out of a SOCK_SEQPACKET
 * socket, with at most one file descriptor (SCM_RIGHTS). Invariants: no
 * SIGPIPE ever (MSG_NOSIGNAL), every received descriptor is close-on-exec
 * (MSG_CMSG_CLOEXEC) and either handed to the caller or closed here, so a
 * peer cannot leak descriptors into its counterpart.
 */
#include "uev-control.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Room for several descriptors: a peer that sends more than the one the
 * protocol allows gets them closed, not left to the kernel's truncation. */
#define CTL_FDS_MAX 8

int uev_ctl_send(int fd, const char *msg, size_t len, int pass_fd)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} c;
	struct iovec iov = { .iov_base = (void *)msg, .iov_len = len };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;

	if (pass_fd >= 0) {
		memset(&c, 0, sizeof(c));
		m.msg_control = c.buf;
		m.msg_controllen = sizeof(c.buf);
		c.h.cmsg_level = SOL_SOCKET;
		c.h.cmsg_type = SCM_RIGHTS;
		c.h.cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(&c.h), &pass_fd, sizeof(int));
	}
	do
		n = sendmsg(fd, &m, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	/* SEQPACKET sends a message whole or not at all */
	return (size_t)n == len ? 0 : -EIO;
}

ssize_t uev_ctl_recv(int fd, char *buf, size_t size, int *fd_out)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(CTL_FDS_MAX * sizeof(int))];
	} c;
	struct iovec iov = { .iov_base = buf, .iov_len = size ? size - 1 : 0 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1,
			    .msg_control = c.buf, .msg_controllen = sizeof(c.buf) };
	int got = -1;
	ssize_t n;

	if (fd_out)
		*fd_out = -1;
	if (size == 0)
		return -EINVAL;
	do
		n = recvmsg(fd, &m, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	for (struct cmsghdr *h = CMSG_FIRSTHDR(&m); h; h = CMSG_NXTHDR(&m, h)) {
		size_t nfds;

		if (h->cmsg_level != SOL_SOCKET || h->cmsg_type != SCM_RIGHTS)
			continue;
		nfds = (h->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < nfds; i++) {
			int one;

			memcpy(&one, CMSG_DATA(h) + i * sizeof(int), sizeof(int));
			if (got < 0 && fd_out)
				got = one;
			else
				close(one);
		}
	}
	if (m.msg_flags & MSG_TRUNC) {
		if (got >= 0)
			close(got);
		return -EMSGSIZE;
	}
	buf[n] = '\0';
	if (fd_out)
		*fd_out = got;
	return n;
}
