/* SPDX-License-Identifier: MIT */
/*
 * uev-schema: validate a .uev event schema and generate its C header.
 *
 * Output is all or nothing: the schema is parsed completely before a byte is
 * written, and -o writes a temporary file next to OUT.h that is renamed over
 * it only once complete, so neither a schema error nor a write error (disk
 * full) can leave a half header for the build to pick up.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "schema-parse.h"

#ifndef UEV_SCHEMA_VERSION
#define UEV_SCHEMA_VERSION "unknown"
#endif

enum { EXIT_ERRORS = 1, EXIT_USAGE = 2 };

static const char usage_text[] =
	"Usage: uev-schema [--check] [-o OUT.h] SCHEMA.uev\n"
	"Validate a uev event schema and generate its C header.\n"
	"\n"
	"  -c, --check         only validate the schema, write nothing\n"
	"  -o, --output=OUT.h  write the header to OUT.h (atomically), not stdout\n"
	"  -h, --help          show this help and exit\n"
	"  -V, --version       show the version and exit\n"
	"\n"
	"Errors are reported as FILE:LINE: message.\n"
	"Exit status: 0 success, 1 schema or I/O errors (or out of memory), 2 usage errors.\n"
	"See uev-schema(1) for the schema format.\n";

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("uev-schema: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry 'uev-schema --help'.\n", stderr);
	return EXIT_USAGE;
}

/* The header names its schema without directories: the same schema gives
 * the same bytes wherever the build tree is. */
static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

/* A device or pipe (-o /dev/stdout) cannot be replaced, and renaming over
 * /dev/null as root would destroy it: write those in place. */
static int write_in_place(const struct schema *s, const char *source, const char *path)
{
	FILE *f = fopen(path, "w");
	int r;

	if (!f) {
		fprintf(stderr, "%s: cannot open: %s\n", path, strerror(errno));
		return EXIT_ERRORS;
	}
	r = schema_gen(s, source, f);
	if (fclose(f) != 0 || r < 0) {
		fprintf(stderr, "%s: cannot write: %s\n", path, strerror(errno));
		return EXIT_ERRORS;
	}
	return 0;
}

static int write_atomic(const struct schema *s, const char *source, const char *path)
{
	size_t n = strlen(path) + sizeof(".XXXXXX");
	char *tmp;
	struct stat st;
	mode_t mask;
	FILE *f;
	int fd, r, err;

	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode))
		return write_in_place(s, source, path);
	tmp = malloc(n);
	if (!tmp) {
		fputs("uev-schema: out of memory\n", stderr);
		return EXIT_ERRORS;
	}
	/* Same directory as the target, so that rename() cannot cross file
	 * systems and is atomic. */
	snprintf(tmp, n, "%s.XXXXXX", path);
	fd = mkstemp(tmp);
	if (fd < 0) {
		fprintf(stderr, "%s: cannot create a temporary file: %s\n", path, strerror(errno));
		free(tmp);
		return EXIT_ERRORS;
	}
	/* mkstemp() creates 0600; a header should get the usual permissions. */
	mask = umask(0);
	umask(mask);
	f = fdopen(fd, "w");
	if (!f || fchmod(fd, 0666 & ~mask) < 0) {
		err = errno;
		if (f)
			fclose(f);
		else
			close(fd);
		goto fail;
	}
	r = schema_gen(s, source, f);
	err = errno;
	if (fclose(f) != 0 && r == 0) {
		r = -1;
		err = errno;
	}
	if (r < 0)
		goto fail;
	if (rename(tmp, path) < 0) {
		err = errno;
		goto fail;
	}
	free(tmp);
	return 0;
fail:
	unlink(tmp);
	fprintf(stderr, "%s: cannot write: %s\n", path, strerror(err));
	free(tmp);
	return EXIT_ERRORS;
}

static int write_stdout(const struct schema *s, const char *source)
{
	int r = schema_gen(s, source, stdout);

	if (fflush(stdout) != 0 || r < 0 || ferror(stdout)) {
		fprintf(stderr, "uev-schema: write error on standard output: %s\n", strerror(errno));
		return EXIT_ERRORS;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "check", no_argument, NULL, 'c' },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *out = NULL, *in;
	struct schema s;
	int check = 0, c, r;

	opterr = 0; /* report in our own words, with the --help hint */
	while ((c = getopt_long(argc, argv, ":co:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			check = 1;
			break;
		case 'o':
			out = optarg;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return fflush(stdout) ? EXIT_ERRORS : 0;
		case 'V':
			puts("uev-schema " UEV_SCHEMA_VERSION);
			return fflush(stdout) ? EXIT_ERRORS : 0;
		case ':':
			return usage_error("option '%s' needs an argument", argv[optind - 1]);
		default:
			if (optopt)
				return usage_error("unknown option '-%c'", optopt);
			return usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind == argc)
		return usage_error("no schema file given");
	if (argc - optind > 1)
		return usage_error("one schema file at a time ('%s' is extra)", argv[optind + 1]);
	if (check && out)
		return usage_error("--check writes nothing, -o makes no sense with it");
	if (out && !*out)
		return usage_error("-o needs a file name");
	in = argv[optind];

	/* The parser returns errors, it never prints or exits: say it here. */
	if (schema_parse(&s, in) < 0 || schema_check_names(&s) < 0) {
		fprintf(stderr, "uev-schema: %s: %s\n", in, strerror(-s.error));
		schema_free(&s);
		return EXIT_ERRORS;
	}
	if (s.ndiag) {
		schema_print_errors(&s, stderr);
		schema_free(&s);
		return EXIT_ERRORS;
	}
	r = 0;
	if (!check)
		r = out ? write_atomic(&s, base_name(in), out) : write_stdout(&s, base_name(in));
	schema_free(&s);
	return r;
}
