/* SPDX-License-Identifier: MIT */
/*
 * libtraceevent 1.7 crashes on some malformed format texts (a NULL
 * dereference on "field:char x[", a division by zero in a print format;
 * tests/fuzz/crashes/fuzz_ring/format-*). The kernel never writes those, but
 * a ring file's FORMAT records can be damaged past their CRC or made up, and
 * a reader must not die of them. The library cannot be fixed from here, so
 * each text is first parsed in a child process: if the child dies or hangs,
 * the text is refused. A fork per distinct format costs well under a
 * millisecond, against files that carry a few dozen formats.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <event-parse.h>

#include "format-vet.h"

int uev_format_vet(const char *system, const char *text)
{
	int st;
	pid_t pid = fork();

	if (pid < 0)
		return 1; /* cannot tell: parse it as before */
	if (pid == 0) {
		struct tep_handle *tep = tep_alloc();

		alarm(5);
		if (tep)
			tep_parse_event(tep, text, strlen(text), system);
		_exit(0); /* no atexit, no leak report: only the verdict */
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return 1;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}
