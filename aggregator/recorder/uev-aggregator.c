/* SPDX-License-Identifier: MIT */
/*
 * uev-aggregator --seat NAME: drain a seat's tracefs instance into its ring
 * file until SIGTERM. The order of start-up is the contract: everything that
 * can be refused (options, config, ring file) is checked before anything in
 * tracefs or on disk is touched, so bad input never costs data. This file
 * is the first half (options, configuration, what the host must offer) and
 * main; agg.h names the rest.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <tracefs.h>

#include "agg.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: uev-aggregator --seat NAME [options]\n"
		"Drain the seat's tracefs instance uev.NAME into its ring file until SIGTERM.\n"
		"  --config FILE         seat configuration (uev.conf(5)); default: " UEV_CONFIG_DIR "/NAME.conf\n"
		"                        if it exists, else the built-in default\n"
		"  --ring PATH           ring file (default /var/lib/uev/NAME.ring)\n"
		"  --size BYTES[K|M|G]   ring size when creating it (default 64M)\n"
		"  --flush-interval MS   data reaches the file within MS (default 1000)\n"
		"  --compression C       none, zstd or zstd:LEVEL (default zstd:1)\n"
		"  --keep-instance       leave the instance (and what it holds) on exit\n"
		"  --recreate            replace a ring file of another format or size\n"
		"  --run-dir DIR         where marker enable pages live (default /run/uev)\n"
		"  --print-config        print the effective configuration and exit\n"
		"  --help, --version\n"
		"Signals: TERM/INT drain and stop, USR1 flush now, HUP reload the config.\n"
		"Exit status: 0 stopped cleanly, 1 runtime failure, 2 bad usage or input.\n");
}

/* 0, -1 when done (--help, --version), or the exit status 2 (said). */
static int parse_args(int argc, char **argv, struct agg *a)
{
	struct agg_opts *o = &a->opt;
	static const struct option lo[] = {
		{ "seat", required_argument, NULL, 's' },
		{ "config", required_argument, NULL, 'c' },
		{ "ring", required_argument, NULL, 'r' },
		{ "size", required_argument, NULL, 'S' },
		{ "flush-interval", required_argument, NULL, 'f' },
		{ "compression", required_argument, NULL, 'C' },
		{ "keep-instance", no_argument, NULL, 'k' },
		{ "recreate", no_argument, NULL, 'R' },
		{ "run-dir", required_argument, NULL, 'd' },
		{ "print-config", no_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	char *end, msg[256];
	int c;

	o->compression = -1;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 's': o->seat = optarg; break;
		case 'c': a->config_path = optarg; break;
		case 'r': o->ring = optarg; break;
		case 'S':
			if (uev_parse_size(optarg, &o->size) < 0) {
				fprintf(stderr, "uev-aggregator: --size: '%s' is not a size (e.g. 64M)\n", optarg);
				return 2;
			}
			break;
		case 'f':
			o->flush_ms = strtol(optarg, &end, 10);
			if (*end || o->flush_ms < 10 || o->flush_ms > 600000) {
				fprintf(stderr, "uev-aggregator: --flush-interval: '%s' is not 10..600000 ms\n", optarg);
				return 2;
			}
			break;
		case 'C':
			if (uev_compression_parse(optarg, &o->compression, msg, sizeof(msg)) < 0) {
				fprintf(stderr, "uev-aggregator: --compression: %s\n", msg);
				return 2;
			}
			break;
		case 'k': o->keep = 1; break;
		case 'R': o->recreate = 1; break;
		case 'd': a->run_dir = optarg; break;
		case 'p': o->print = 1; break;
		case 'h': usage(stdout); return -1;
		case 'V': printf("uev-aggregator %s\n", UEV_VERSION_STRING); return -1;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "uev-aggregator: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	if (!o->seat) {
		fprintf(stderr, "uev-aggregator: --seat NAME is required\n");
		return 2;
	}
	if (!uev_seat_name_valid(o->seat)) {
		fprintf(stderr, "uev-aggregator: --seat: bad seat name '%s' (A-Z a-z 0-9 _ -, at most 63)\n", o->seat);
		return 2;
	}
	return 0;
}

/* The built-in configuration for the seat, the file over it (--config, or
 * UEV_CONFIG_DIR/SEAT.conf when there is one), then the options. 0 or the
 * exit status 2 (said). */
static int config_load(struct agg *a)
{
	static char def[512];
	char errs[16384] = "";

	if (!a->config_path) {
		snprintf(def, sizeof(def), UEV_CONFIG_DIR "/%s.conf", a->opt.seat);
		if (access(def, F_OK) == 0)
			a->config_path = def;
	}
	if (uev_config_default(&a->cfg, a->opt.seat, UEV_SCHEMA_DIR) < 0 ||
	    (a->config_path && uev_config_load(&a->cfg, a->config_path, errs, sizeof(errs)) < 0)) {
		fprintf(stderr, "%s%s", errs[0] ? errs : "uev-aggregator: cannot set up the configuration\n",
			errs[0] && errs[strlen(errs) - 1] != '\n' ? "\n" : "");
		return 2;
	}
	if (a->opt.ring)
		snprintf(a->cfg.ring_path, sizeof(a->cfg.ring_path), "%s", a->opt.ring);
	if (a->opt.size)
		a->cfg.ring_size = a->opt.size;
	if (a->opt.flush_ms)
		a->cfg.flush_interval_ms = (unsigned)a->opt.flush_ms;
	if (a->opt.compression >= 0)
		a->cfg.ring_compression = a->opt.compression;
	a->cfg.keep_instance |= a->opt.keep;
	return 0;
}

/* tracefs mounted and ours to write. 0 or the exit status 1 (said). */
static int tracefs_check(void)
{
	char inst[600];

	if (!tracefs_tracing_dir()) {
		fprintf(stderr, "uev-aggregator: tracefs is not mounted and mounting it failed "
			"(mount -t tracefs nodev /sys/kernel/tracing; needs root)\n");
		return 1;
	}
	snprintf(inst, sizeof(inst), "%s/instances", tracefs_tracing_dir());
	/* AT_EACCESS: the effective ids and capabilities decide, so a
	 * service user with CAP_DAC_OVERRIDE (the systemd unit) passes;
	 * plain access() would drop a non-root caller's capabilities. */
	if (faccessat(AT_FDCWD, inst, W_OK | X_OK, AT_EACCESS) != 0) {
		fprintf(stderr, "uev-aggregator: no write access to %s (%s): run it as root, "
			"or with the capabilities of uev-aggregator(8) SECURITY\n", inst, strerror(errno));
		return 1;
	}
	return 0;
}

/* What the kernel must have for the configuration (its events, filters,
 * the schemas' user events). 0 or the exit status 2 (said). */
static int kernel_check(struct agg *a)
{
	if (uev_setup_check(&a->cfg, a->err, sizeof(a->err)) < 0 ||
	    uev_userev_check(&a->cfg, a->err, sizeof(a->err)) < 0) {
		fprintf(stderr, "%s%s", a->config_path ? a->config_path : "built-in configuration", ":\n");
		fprintf(stderr, "%s", a->err);
		return 2;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static struct agg a; /* its buffers are large */
	int r;

	agg_init(&a);
	/* A stop asked for during start-up is taken once the drain runs (the
	 * signalfd of agg_start() reads what is pending): the default action
	 * could kill it after the boot import took the persistent instance's
	 * pages and before it wrote them. */
	agg_signals_block();
	r = parse_args(argc, argv, &a);
	if (r)
		return r < 0 ? 0 : r;
	r = config_load(&a);
	if (r == 0 && a.opt.print) {
		uev_config_write(&a.cfg, stdout);
		uev_config_free(&a.cfg);
		return 0;
	}
	/* Then what the kernel must have, then the ring file (symlink, other
	 * format, locked): all before anything is changed. */
	if (r == 0)
		r = tracefs_check();
	if (r == 0)
		r = kernel_check(&a);
	if (r == 0)
		r = agg_boot_import(&a);
	if (r == 0)
		r = agg_ring_open(&a);
	if (r) {
		uev_config_free(&a.cfg);
		return r;
	}
	r = agg_start(&a);
	if (r == 0)
		r = agg_run(&a);
	return agg_stop(&a, r);
}
