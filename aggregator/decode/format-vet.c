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
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
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

int uev_format_parse(struct tep_handle *tep, const char *system, const char *text, int vetted)
{
	struct tep_event *ev = NULL;

	if (!vetted && !uev_format_vet(system, text))
		return -EINVAL;
	if (tep_parse_format(tep, &ev, text, strlen(text), system) != 0 || !ev)
		return -EINVAL;
	if (!arg_safe(ev->print_fmt.args, 0))
		ev->flags |= TEP_EVENT_FL_FAILED;
	return 0;
}
