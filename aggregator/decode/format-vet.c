/* SPDX-License-Identifier: MIT */
/*
 * libtraceevent 1.7 crashes on some malformed format texts (a NULL
 * dereference on "field:char x[", a division by zero in a print format;
 * tests/fuzz/crashes/fuzz_ring/format-*). The kernel never writes those, but
 * a ring file's FORMAT records can be damaged past their CRC or made up, and
 * a reader must not die of them. The library cannot be fixed from here, so
 * each text is first parsed in a child process: if the child dies or hangs,
 * the text is refused.
 *
 * A fork costs a fraction of a millisecond in a tool (much more in a
 * sanitized process with gigabytes of shadow mappings), and the same texts
 * come again and again: every run of a file repeats its formats, replay
 * meets them once per CPU stream, a fuzzer decodes the same few thousands
 * of times a second. So the verdicts are kept in one cache per process,
 * here, for every caller: each distinct (system, text) forks once while it
 * stays cached. The cache compares whole texts, not just their hashes: a
 * made-up text that collides with a vetted one must still be vetted (the
 * hash only picks the set). Its memory is bounded (UEV_FORMAT_CACHE_*),
 * the least recently used verdict giving way, so a file with millions of
 * distinct formats costs forks, never memory.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <event-parse.h>

#include "format-vet.h"

/* The process's verdicts, how many texts went to a child, and the
 * vetter (below). One lock for all: texts are vetted one at a time. */
static pthread_mutex_t vet_lock = PTHREAD_MUTEX_INITIALIZER;
static struct uev_format_cache vet_cache;
static unsigned long vet_forks;
static int vetter_fd = -1;
static pid_t vetter_pid;

/* Parse @text in a child: 1 it survived, 0 it died or hung. */
static int vet_in_child(const char *system, const char *text)
{
	int st;
	pid_t pid = fork();

	if (pid < 0)
		return 1; /* cannot tell: parse it as before */
	if (pid == 0) {
		struct rlimit none = { 0, 0 };
		struct tep_handle *tep;

		/* Die plainly: no core file, no crash handler of the parent's
		 * (a sanitizer's or a fuzzer's) reporting a designed death. */
		setrlimit(RLIMIT_CORE, &none);
		signal(SIGSEGV, SIG_DFL);
		signal(SIGFPE, SIG_DFL);
		signal(SIGBUS, SIG_DFL);
		signal(SIGABRT, SIG_DFL);
		signal(SIGALRM, SIG_DFL);
		alarm(5);
		tep = tep_alloc();
		if (tep)
			tep_parse_event(tep, text, strlen(text), system);
		_exit(0); /* no atexit, no leak report: only the verdict */
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return 1;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

/*
 * Forking costs what copying the process's page tables costs: little in a
 * tool that has just started, milliseconds in one that has mapped hundreds
 * of megabytes (a sanitized fuzzer: its shadow memory, its corpus). So the
 * children are forked by a helper, the vetter, itself forked once, at the
 * first text, while the process is small. It reads a text from a socket,
 * forks a child that parses it (vet_in_child), and answers whether the
 * child survived. The vetter parses nothing itself, so every text still
 * meets libtraceevent in a fresh copy of a process that never parsed
 * anything. It exits when the socket closes (this process exited); if it
 * cannot be started or fails, texts are vetted by forking here instead.
 */
static int put_all(int fd, const void *p, size_t n)
{
	for (const char *b = p; n;) {
		ssize_t k = send(fd, b, n, MSG_NOSIGNAL);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		b += k;
		n -= (size_t)k;
	}
	return 0;
}

static int get_all(int fd, void *p, size_t n)
{
	for (char *b = p; n;) {
		ssize_t k = recv(fd, b, n, 0);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		b += k;
		n -= (size_t)k;
	}
	return 0;
}

/* The vetter: (u32 system length, u32 text length, system, text) in, one
 * byte of verdict out, until the socket closes. */
static void vetter_serve(int fd)
{
	uint32_t len[2];
	char *buf;
	uint8_t ok;

	/* Hold none of the process's files (a pipe's reader waits for every
	 * writer to close): the socket moves to 3, the rest are closed. */
	if (fd != 3 && dup2(fd, 3) == 3)
		fd = 3;
	close_range((unsigned)fd + 1, ~0u, 0);
	while (get_all(fd, len, sizeof(len)) == 0) {
		if (!(buf = malloc((size_t)len[0] + len[1] + 2)))
			break;
		if (get_all(fd, buf, len[0]) < 0 || get_all(fd, buf + len[0] + 1, len[1]) < 0)
			break;
		buf[len[0]] = buf[len[0] + 1 + len[1]] = '\0';
		ok = (uint8_t)vet_in_child(buf, buf + len[0] + 1);
		free(buf);
		if (put_all(fd, &ok, 1) < 0)
			break;
	}
	_exit(0);
}

static void vetter_stop(void)
{
	close(vetter_fd);
	vetter_fd = -1;
	kill(vetter_pid, SIGKILL);
	while (waitpid(vetter_pid, NULL, 0) < 0 && errno == EINTR)
		;
}

static int vetter_start(void)
{
	int sv[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return -1;
	if ((pid = fork()) == 0) {
		close(sv[0]);
		vetter_serve(sv[1]);
	}
	close(sv[1]);
	if (pid < 0) {
		close(sv[0]);
		return -1;
	}
	vetter_fd = sv[0];
	vetter_pid = pid;
	return 0;
}

int uev_format_vet_start(void)
{
	int e = 0;

	pthread_mutex_lock(&vet_lock);
	if (vetter_fd < 0 && vetter_start() < 0)
		e = -errno;
	pthread_mutex_unlock(&vet_lock);
	return e;
}

/* Vet @text in a child, through the vetter when there is one. */
static int vet(const char *system, const char *text)
{
	size_t sl = strlen(system), tl = strlen(text);
	uint32_t len[2] = { (uint32_t)sl, (uint32_t)tl };
	uint8_t ok;

	vet_forks++;
	if (sl < UINT32_MAX && tl < UINT32_MAX && (vetter_fd >= 0 || vetter_start() == 0)) {
		if (put_all(vetter_fd, len, sizeof(len)) == 0 && put_all(vetter_fd, system, sl) == 0 &&
		    put_all(vetter_fd, text, tl) == 0 && get_all(vetter_fd, &ok, 1) == 0)
			return ok;
		vetter_stop();
	}
	return vet_in_child(system, text);
}

int uev_format_vet(const char *system, const char *text)
{
	int ok;

	pthread_mutex_lock(&vet_lock);
	ok = uev_format_cache_get(&vet_cache, system, text);
	if (ok < 0) {
		ok = vet(system, text);
		uev_format_cache_put(&vet_cache, system, text, ok);
	}
	pthread_mutex_unlock(&vet_lock);
	return ok;
}

unsigned long uev_format_vet_forks(void)
{
	unsigned long n;

	pthread_mutex_lock(&vet_lock);
	n = vet_forks;
	pthread_mutex_unlock(&vet_lock);
	return n;
}

void uev_format_vet_forget(void)
{
	pthread_mutex_lock(&vet_lock);
	uev_format_cache_clear(&vet_cache);
	pthread_mutex_unlock(&vet_lock);
}

/* The size of the field an argument of __print_hex()/__print_array()
 * points at, or -1 when it is not a plain field. */
static int field_size(const struct tep_print_arg *a)
{
	return a && a->type == TEP_PRINT_FIELD && a->field.field ? a->field.field->size : -1;
}

static long long atom(const struct tep_print_arg *a)
{
	return a && a->type == TEP_PRINT_ATOM && a->atom.atom ? strtoll(a->atom.atom, NULL, 0) : -1;
}

/* Does evaluating @a read only inside the record? */
static int arg_safe(const struct tep_print_arg *a, int depth)
{
	long long n, k;

	if (depth > 64)
		return 0;
	for (; a; a = a->next) {
		switch (a->type) {
		case TEP_PRINT_HEX:
		case TEP_PRINT_HEX_STR:
			if (a->hex.size && a->hex.size->type == TEP_PRINT_DYNAMIC_ARRAY_LEN &&
			    a->hex.field && a->hex.field->type == TEP_PRINT_DYNAMIC_ARRAY)
				break; /* the array's own length: inside the record */
			n = atom(a->hex.size);
			if (n < 0 || n > field_size(a->hex.field))
				return 0;
			break;
		case TEP_PRINT_INT_ARRAY:
			n = atom(a->int_array.count);
			k = atom(a->int_array.el_size);
			if (n < 0 || k <= 0 || k > 8 || n * k > field_size(a->int_array.field))
				return 0;
			break;
		case TEP_PRINT_STRING:
			break; /* __get_str: page-check found its NUL inside the record */
		case TEP_PRINT_OP:
			/* libtraceevent divides as the text says: by a field
			 * that holds 0 (SIGFPE), or LLONG_MIN by -1 (SIGFPE
			 * too). Only a positive constant divisor is safe. */
			if (a->op.op && (!strcmp(a->op.op, "/") || !strcmp(a->op.op, "%")) &&
			    atom(a->op.right) <= 0)
				return 0;
			if (!arg_safe(a->op.left, depth + 1) || !arg_safe(a->op.right, depth + 1))
				return 0;
			break;
		case TEP_PRINT_FUNC:
			if (!arg_safe(a->func.args, depth + 1))
				return 0;
			break;
		case TEP_PRINT_TYPE:
			if (!arg_safe(a->typecast.item, depth + 1))
				return 0;
			break;
		case TEP_PRINT_FLAGS:
			if (!arg_safe(a->flags.field, depth + 1))
				return 0;
			break;
		case TEP_PRINT_SYMBOL:
			if (!arg_safe(a->symbol.field, depth + 1))
				return 0;
			break;
		default:
			break; /* atoms, fields (inside: page-check), masks of dynamic arrays */
		}
	}
	return 1;
}

int uev_format_parse(struct tep_handle *tep, const char *system, const char *text)
{
	struct tep_event *ev = NULL;

	if (!uev_format_vet(system, text))
		return -EINVAL;
	if (tep_parse_format(tep, &ev, text, strlen(text), system) != 0 || !ev)
		return -EINVAL;
	if (!arg_safe(ev->print_fmt.args, 0))
		ev->flags |= TEP_EVENT_FL_FAILED;
	return 0;
}
