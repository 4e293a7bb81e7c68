/* SPDX-License-Identifier: MIT */
/*
 * The control thread (control.h): one poll loop over the listening socket,
 * the clients, the incidents' wake-up and the stop. Requests are parsed by
 * the protocol's one parser (libuev/shared/uev-control.h), checked against
 * the policy, and answered at once, except a snapshot, which is answered
 * when its bundle is complete (incidents.c calls done()).
 */
#include <errno.h>
#include <fnmatch.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "config.h"
#include "control.h"
#include "uev-abi.h"
#include "uev-control.h"

#define LISTEN_FDS_START 3

static void say(const struct uev_control *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(const struct uev_control *c, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "uev-aggregator: seat %s: control: ", c->cfg->seat);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* ---- policy ------------------------------------------------------------------ */

static int who_match(const struct uev_cfg_who *w, const struct uev_control_client *cl)
{
	if (w->kind == UEV_WHO_ALL)
		return 1;
	if (w->kind == UEV_WHO_UID)
		return cl->uid == (uid_t)w->id;
	if (cl->gid == (gid_t)w->id)
		return 1;
	for (int i = 0; i < cl->ngroups; i++)
		if (cl->groups[i] == (gid_t)w->id)
			return 1;
	return 0;
}

static int may_snapshot(const struct uev_control *c, const struct uev_control_client *cl)
{
	struct uev_cfg_who w;
	const char *end;
	char msg[160];

	if (cl->uid == 0 || cl->uid == geteuid())
		return 1;
	for (size_t i = 0; i < c->cfg->nsnapshot_allow; i++)
		if (uev_cfg_who_parse(c->cfg->snapshot_allow[i], &w, &end, msg, sizeof msg) == 0 && who_match(&w, cl))
			return 1;
	return 0;
}

/* Any grant at all: enough to read the status. */
static int may_status(const struct uev_control *c, const struct uev_control_client *cl)
{
	struct uev_cfg_grant g;
	char msg[160];

	if (may_snapshot(c, cl))
		return 1;
	for (size_t i = 0; i < c->cfg->nallow; i++)
		if (uev_cfg_grant_parse(c->cfg->allow[i], &g, msg, sizeof msg) == 0 && who_match(&g.who, cl))
			return 1;
	return 0;
}

/* Words separated by single spaces, as a grant is compared. */
static void squeeze(const char *s, char *out, size_t size)
{
	size_t o = 0;

	for (; *s && o + 1 < size; s++) {
		if (*s == ' ' || *s == '\t') {
			if (o && out[o - 1] != ' ')
				out[o++] = ' ';
			continue;
		}
		out[o++] = *s;
	}
	while (o && out[o - 1] == ' ')
		o--;
	out[o] = 0;
}

/* May @cl enable @kind @sel? 0 with *mask for drm, or -EPERM/-EINVAL with
 * the reason in @msg. A dyndbg query must be one the admin wrote (blanks
 * aside); DRM categories all within the grants; an event one name (no
 * glob) that a granted glob matches. */
static int may_enable(const struct uev_control *c, const struct uev_control_client *cl, enum uev_cfg_sel_kind kind,
		      const char *sel, unsigned *mask, char *msg, size_t msgsize)
{
	unsigned want = 0, granted = 0;
	char a[600], b[600], m[160];
	int root = cl->uid == 0 || cl->uid == geteuid();

	if (kind == UEV_SEL_DRM && uev_cfg_drm_parse(sel, &want, msg, msgsize) < 0)
		return -EINVAL;
	if (kind == UEV_SEL_DRM && !want) {
		snprintf(msg, msgsize, "no DRM category named");
		return -EINVAL;
	}
	if (kind == UEV_SEL_EVENT && (strpbrk(sel, "*?[]") || !strchr(sel, ':'))) {
		snprintf(msg, msgsize, "'%.200s' is not one SYSTEM:EVENT (no globs)", sel);
		return -EINVAL;
	}
	if (kind == UEV_SEL_DYNDBG && uev_cfg_query_check(sel, msg, msgsize) < 0)
		return -EINVAL;
	*mask = want;
	if (root)
		return 0;
	squeeze(sel, a, sizeof a);
	for (size_t i = 0; i < c->cfg->nallow; i++) {
		struct uev_cfg_grant g;

		if (uev_cfg_grant_parse(c->cfg->allow[i], &g, m, sizeof m) < 0 || g.kind != kind || !who_match(&g.who, cl))
			continue;
		if (kind == UEV_SEL_DRM) {
			granted |= g.drm_mask;
			continue;
		}
		squeeze(g.selection, b, sizeof b);
		if (kind == UEV_SEL_DYNDBG ? !strcmp(a, b) : !fnmatch(b, a, 0))
			return 0;
	}
	if (kind == UEV_SEL_DRM && want && !(want & ~granted))
		return 0;
	snprintf(msg, msgsize, "%s may not enable %s '%.200s' on seat %s (see [control] allow in uev.conf(5))", cl->who,
		 kind == UEV_SEL_DYNDBG ? "dyndbg" : kind == UEV_SEL_DRM ? "drm" : "event", sel, c->cfg->seat);
	return -EPERM;
}

/* ---- replies ----------------------------------------------------------------- */

static struct uev_control_client *client_by_id(struct uev_control *c, uint64_t id)
{
	for (int i = 0; i < UEV_CONTROL_CLIENTS; i++)
		if (c->cl[i].fd >= 0 && c->cl[i].id == id)
			return &c->cl[i];
	return NULL;
}

static void client_close(struct uev_control *c, struct uev_control_client *cl)
{
	uev_incidents_forget(&c->inc, cl->id);
	if (uev_select_disable(&c->sel, cl->id, 1, UEV_SEL_EVENT, NULL) == 0)
		say(c, "%s went away: its selections are reverted", cl->who);
	close(cl->fd);
	cl->fd = -1;
}

static void reply(struct uev_control *c, struct uev_control_client *cl, const char *msg, int len, int fd)
{
	/* A client that does not read its replies is dropped, never waited for. */
	if (uev_ctl_send(cl->fd, msg, (size_t)len, fd) < 0)
		client_close(c, cl);
}

static void reply_err(struct uev_control *c, struct uev_control_client *cl, int err, const char *msg)
{
	char buf[UEV_CTL_REPLY_MAX + 1];
	int n = uev_ctl_reply_format_error(buf, sizeof buf, err, "%s", msg);

	c->refused++;
	reply(c, cl, buf, n, -1);
}

static void reply_ok(struct uev_control *c, struct uev_control_client *cl, const char *text)
{
	char buf[UEV_CTL_REPLY_MAX + 1];
	int n = uev_ctl_reply_format_ok(buf, sizeof buf, text);

	reply(c, cl, buf, n, -1);
}

/* A bundle is complete (incidents.c): its requester gets it, watchers a note. */
static void done(void *ctx, uint64_t client, int err, const char *name, int fd, uint64_t bytes, const char *msg)
{
	struct uev_control *c = ctx;
	struct uev_control_client *cl = client ? client_by_id(c, client) : NULL;
	char buf[UEV_CTL_REPLY_MAX + 1], text[256];
	int n;

	if (cl && (err < 0 || fd < 0)) {
		reply_err(c, cl, err < 0 ? err : -EIO, msg ? msg : "the bundle could not be opened");
	} else if (cl) {
		snprintf(text, sizeof text, "%s %llu", name, (unsigned long long)bytes);
		n = uev_ctl_reply_format_ok(buf, sizeof buf, text);
		reply(c, cl, buf, n, fd);
	}
	if (fd >= 0)
		close(fd);
	if (!name)
		return;
	n = uev_ctl_incident_format(buf, sizeof buf, name, msg ? msg : "");
	for (int i = 0; i < UEV_CONTROL_CLIENTS; i++)
		if (c->cl[i].fd >= 0 && c->cl[i].watch)
			reply(c, &c->cl[i], buf, n, -1);
}

/* ---- requests ---------------------------------------------------------------- */

static void status(struct uev_control *c, struct uev_control_client *cl)
{
	char text[UEV_CTL_REPLY_MAX], held[1024];
	uint64_t hits, fired;
	size_t o;
	int clients = 0;

	for (int i = 0; i < UEV_CONTROL_CLIENTS; i++)
		clients += c->cl[i].fd >= 0;

	pthread_mutex_lock(&c->lock);
	uev_trigger_counts(c->trig, &hits, &fired);
	o = (size_t)snprintf(text, sizeof text,
			     "protocol %d\nseat %s\nclock %s\nring %s\nring_size %llu\nrun %llu\n"
			     "events %llu\npages %llu\nbytes %llu\nlost %llu\nlost_unknown %llu\n"
			     "triggers %zu\ntrigger_hits %llu\ntrigger_fired %llu\n"
			     "incidents %llu\nincidents_running %u\nincidents_dropped %llu\nincidents_failed %llu\n"
			     "incidents_refused %llu\nlast_incident %s\nincident_dir %s\nclients %d\n",
			     UEV_CTL_PROTOCOL, c->cfg->seat, c->cfg->clock, c->ring_path,
			     (unsigned long long)c->ring_size, (unsigned long long)c->run_id,
			     (unsigned long long)c->st.events, (unsigned long long)c->st.pages,
			     (unsigned long long)c->st.bytes, (unsigned long long)c->st.lost,
			     (unsigned long long)c->st.lost_unknown, c->cfg->ntriggers, (unsigned long long)hits,
			     (unsigned long long)fired, (unsigned long long)c->inc.written,
			     uev_incidents_running(&c->inc), (unsigned long long)c->inc.dropped,
			     (unsigned long long)c->inc.failed, (unsigned long long)(c->inc.refused + c->inc.lost_hits),
			     c->inc.last[0] ? c->inc.last : "-", c->cfg->incident_dir, clients);
	pthread_mutex_unlock(&c->lock);
	uev_select_list(&c->sel, cl->id, held, sizeof held);
	if (o < sizeof text)
		snprintf(text + o, sizeof text - o, "%s", held);
	o = strlen(text);
	while (o && text[o - 1] == '\n')
		text[--o] = 0;
	reply_ok(c, cl, text);
}

static void request(struct uev_control *c, struct uev_control_client *cl, const char *buf, size_t len)
{
	struct uev_ctl_request *rq = malloc(sizeof *rq);
	char msg[512] = "";
	unsigned mask = 0;
	enum uev_cfg_sel_kind kind;
	int r;

	c->requests++;
	if (!rq) {
		reply_err(c, cl, -ENOMEM, "out of memory");
		return;
	}
	if ((r = uev_ctl_request_parse(buf, len, rq, msg, sizeof msg)) < 0) {
		reply_err(c, cl, r, msg);
		free(rq);
		return;
	}
	kind = rq->kind == UEV_CTL_KIND_DYNDBG ? UEV_SEL_DYNDBG : rq->kind == UEV_CTL_KIND_DRM ? UEV_SEL_DRM
											     : UEV_SEL_EVENT;
	switch (rq->verb) {
	case UEV_CTL_STATUS:
		if (!may_status(c, cl))
			reply_err(c, cl, -EPERM, "no grant of seat's [control] names you");
		else
			status(c, cl);
		break;
	case UEV_CTL_WATCH:
	case UEV_CTL_SNAPSHOT:
		if (!may_snapshot(c, cl)) {
			snprintf(msg, sizeof msg, "%s may not take snapshots of seat %s (see [control] snapshot in "
				 "uev.conf(5))", cl->who, c->cfg->seat);
			reply_err(c, cl, -EPERM, msg);
		} else if (rq->verb == UEV_CTL_WATCH) {
			cl->watch = 1;
			reply_ok(c, cl, NULL);
		} else if ((r = uev_incidents_request(&c->inc, cl->id, rq->arg, cl->who)) < 0) {
			snprintf(msg, sizeof msg, "%d bundles are being made; try again in a few seconds",
				 UEV_INCIDENT_JOBS);
			reply_err(c, cl, r, msg);
		} else {
			say(c, "%s asked for a snapshot: %s", cl->who, rq->arg[0] ? rq->arg : "(no reason)");
		}
		break;
	case UEV_CTL_ENABLE:
		if ((r = may_enable(c, cl, kind, rq->arg, &mask, msg, sizeof msg)) < 0 ||
		    (r = uev_select_enable(&c->sel, cl->id, kind, rq->arg, mask, msg, sizeof msg)) < 0) {
			reply_err(c, cl, r, msg);
		} else {
			say(c, "%s enabled %s %s", cl->who, uev_ctl_kind_name(rq->kind), rq->arg);
			reply_ok(c, cl, NULL);
		}
		break;
	case UEV_CTL_DISABLE:
		r = uev_select_disable(&c->sel, cl->id, rq->kind == UEV_CTL_KIND_NONE, kind, rq->arg);
		if (r < 0)
			reply_err(c, cl, r, "nothing of that was enabled by this connection");
		else
			reply_ok(c, cl, NULL);
		break;
	}
	free(rq);
}

/* ---- connections --------------------------------------------------------------- */

static void accept_one(struct uev_control *c)
{
	struct uev_control_client *cl = NULL;
	struct ucred cred;
	socklen_t len = sizeof cred;
	char comm[32] = "?", path[64];
	int fd = accept4(c->lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	FILE *f;

	if (fd < 0)
		return;
	for (int i = 0; i < UEV_CONTROL_CLIENTS && !cl; i++)
		if (c->cl[i].fd < 0)
			cl = &c->cl[i];
	if (!cl || getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
		char buf[128];
		int n = uev_ctl_reply_format_error(buf, sizeof buf, -EBUSY, "%d clients are connected already",
						   UEV_CONTROL_CLIENTS);

		uev_ctl_send(fd, buf, (size_t)n, -1);
		close(fd);
		return;
	}
	memset(cl, 0, sizeof *cl);
	cl->fd = fd;
	cl->id = ++c->next_id;
	cl->uid = cred.uid;
	cl->gid = cred.gid;
	cl->pid = cred.pid;
	len = sizeof cl->groups;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, cl->groups, &len) == 0)
		cl->ngroups = (int)(len / sizeof(gid_t));
	snprintf(path, sizeof path, "/proc/%d/comm", (int)cred.pid);
	if ((f = fopen(path, "re"))) {
		if (fgets(comm, sizeof comm, f))
			comm[strcspn(comm, "\n")] = 0;
		fclose(f);
	}
	snprintf(cl->who, sizeof cl->who, "uid %u (%s, pid %d)", (unsigned)cred.uid, comm, (int)cred.pid);
}

static void client_read(struct uev_control *c, struct uev_control_client *cl)
{
	char buf[UEV_CTL_MAX + 2];
	int fd = -1;
	ssize_t n = uev_ctl_recv(cl->fd, buf, sizeof buf, &fd);

	if (fd >= 0)
		close(fd); /* requests carry none */
	if (n == -EAGAIN)
		return;
	if (n == 0 || (n < 0 && n != -EMSGSIZE)) {
		client_close(c, cl);
		return;
	}
	if (n < 0) {
		reply_err(c, cl, -EMSGSIZE, "request longer than 1024 bytes");
		return;
	}
	request(c, cl, buf, (size_t)n);
}

/* A reload's copy replaces ours, in place (the incidents point to it). */
static void adopt_reload(struct uev_control *c)
{
	struct uev_config *next;

	pthread_mutex_lock(&c->lock);
	next = c->next;
	c->next = NULL;
	pthread_mutex_unlock(&c->lock);
	if (!next)
		return;
	uev_config_free(&c->own);
	c->own = *next;
	free(next);
}

static void *loop(void *arg)
{
	struct uev_control *c = arg;
	struct pollfd p[UEV_CONTROL_CLIENTS + 4];
	int timeout = -1;

	for (;;) {
		int n = 0, idx[UEV_CONTROL_CLIENTS];

		adopt_reload(c);
		p[n++] = (struct pollfd){ .fd = c->stop_fd, .events = POLLIN };
		p[n++] = (struct pollfd){ .fd = c->inc.wake_fd, .events = POLLIN };
		p[n++] = (struct pollfd){ .fd = c->lfd, .events = POLLIN };
		for (int i = 0; i < UEV_CONTROL_CLIENTS; i++)
			if (c->cl[i].fd >= 0) {
				idx[n - 3] = i;
				p[n++] = (struct pollfd){ .fd = c->cl[i].fd, .events = POLLIN };
			}
		if (poll(p, (nfds_t)n, timeout) < 0 && errno != EINTR)
			break;
		if (p[0].revents)
			break;
		if (p[2].revents & POLLIN)
			accept_one(c);
		for (int k = 3; k < n; k++) {
			struct uev_control_client *cl = &c->cl[idx[k - 3]];

			if (cl->fd == p[k].fd && (p[k].revents & (POLLIN | POLLHUP | POLLERR)))
				client_read(c, cl);
		}
		uev_incidents_step(&c->inc, &timeout);
	}
	return NULL;
}

/* ---- start and stop ---------------------------------------------------------- */

/* The socket systemd passed (uev-aggregator@.socket), if it passed one. */
static int activated(void)
{
	const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
	int type = 0;
	socklen_t len = sizeof type;

	if (!pid || !fds || atol(pid) != (long)getpid() || atoi(fds) < 1)
		return -1;
	if (getsockopt(LISTEN_FDS_START, SOL_SOCKET, SO_TYPE, &type, &len) < 0 || type != SOCK_SEQPACKET)
		return -1;
	return LISTEN_FDS_START;
}

static int listen_at(struct uev_control *c, const char *run_dir, char *err, size_t errsize)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	int fd;

	if ((c->lfd = activated()) >= 0)
		return 0;
	if ((size_t)snprintf(sa.sun_path, sizeof sa.sun_path, "%s/%s" UEV_CTL_SOCKET_SUFFIX,
			     run_dir ? run_dir : UEV_RUN_DIR_DEFAULT, c->cfg->seat) >= sizeof sa.sun_path) {
		snprintf(err, errsize, "control socket: the path in %s is too long", run_dir);
		return -ENAMETOOLONG;
	}
	/* A socket a killed run left is ours to replace; anything else stays. */
	if (lstat(sa.sun_path, &st) == 0 && S_ISSOCK(st.st_mode))
		unlink(sa.sun_path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || chmod(sa.sun_path, 0666) < 0 ||
	    listen(fd, 16) < 0) {
		int e = errno;

		snprintf(err, errsize, "control socket %s: %s", sa.sun_path, strerror(e));
		if (fd >= 0)
			close(fd);
		return -e;
	}
	snprintf(c->path, sizeof c->path, "%s", sa.sun_path);
	c->lfd = fd;
	return 0;
}

int uev_control_start(struct uev_control *c, const struct uev_config *cfg, const char *run_dir,
		      struct tracefs_instance *inst, const char *ring_path, uint64_t ring_size,
		      uint64_t run_id, struct uev_trigger *trig, const struct uev_log *log, char *err,
		      size_t errsize)
{
	int r = 0;

	memset(c, 0, sizeof *c);
	c->lfd = -1;
	c->stop_fd = -1;
	if ((r = uev_config_copy(&c->own, cfg)) < 0) {
		snprintf(err, errsize, "control: cannot copy the configuration: %s", strerror(-r));
		return r;
	}
	c->cfg = &c->own;
	cfg = c->cfg;
	c->trig = trig;
	c->ring_path = ring_path;
	c->ring_size = ring_size;
	c->run_id = run_id;
	for (int i = 0; i < UEV_CONTROL_CLIENTS; i++)
		c->cl[i].fd = -1;
	pthread_mutex_init(&c->lock, NULL);
	if ((c->stop_fd = eventfd(0, EFD_CLOEXEC)) < 0 ||
	    (r = uev_incidents_init(&c->inc, cfg, ring_path, run_id, cfg->clock, done, c)) < 0) {
		snprintf(err, errsize, "control: %s", strerror(r < 0 ? -r : errno));
		return r < 0 ? r : -errno;
	}
	uev_select_init(&c->sel, inst, cfg->seat, run_dir, log);
	if (cfg->control_socket)
		r = listen_at(c, run_dir, err, errsize);
	if (pthread_create(&c->thread, NULL, loop, c) != 0) {
		snprintf(err, errsize, "control: cannot start its thread");
		return -EAGAIN;
	}
	c->running = 1;
	return r;
}

void uev_control_reload(struct uev_control *c, const struct uev_config *fresh)
{
	struct uev_config *copy = malloc(sizeof *copy);
	uint64_t one = 1;

	if (!c->running || !copy)
		goto out;
	if (uev_config_copy(copy, fresh) < 0)
		goto out;
	pthread_mutex_lock(&c->lock);
	if (c->next) {
		uev_config_free(c->next);
		free(c->next);
	}
	c->next = copy;
	copy = NULL;
	pthread_mutex_unlock(&c->lock);
	if (write(c->inc.wake_fd, &one, sizeof one) < 0)
		(void)0;
out:
	free(copy);
}

void uev_control_publish(struct uev_control *c, const struct uev_capture_stats *st)
{
	if (!c->running)
		return;
	pthread_mutex_lock(&c->lock);
	c->st = *st;
	pthread_mutex_unlock(&c->lock);
	atomic_store(&c->inc.newest_ns, st->newest_ts);
}

void uev_control_stop(struct uev_control *c)
{
	uint64_t one = 1;

	if (!c->running)
		return;
	if (write(c->stop_fd, &one, sizeof one) < 0)
		(void)0;
	pthread_join(c->thread, NULL);
	c->running = 0;
	uev_incidents_complete(&c->inc);
	for (int i = 0; i < UEV_CONTROL_CLIENTS; i++)
		if (c->cl[i].fd >= 0)
			client_close(c, &c->cl[i]);
	uev_select_fini(&c->sel);
	uev_incidents_fini(&c->inc);
	if (c->lfd >= 0)
		close(c->lfd);
	if (c->path[0])
		unlink(c->path);
	close(c->stop_fd);
	pthread_mutex_destroy(&c->lock);
	if (c->next) {
		uev_config_free(c->next);
		free(c->next);
	}
	uev_config_free(&c->own);
}
