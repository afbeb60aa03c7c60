// SPDX-License-Identifier: GPL-2.0
/*
 * The agent's BGP speaker. Several instances announcing the same VIPs to
 * their routers make an ECMP tier (docs/SCALE-OUT.md); what makes that safe
 * is that an instance announces a VIP address only while it can serve it:
 * attached (the agent runs only then) and with at least one VIP on that
 * address having a usable backend (vip_state "ok"). It withdraws everything
 * when it stops, before it stops forwarding.
 *
 * The speaker is BIRD 2, one daemon per instance, a child of the agent (it
 * dies with the agent: PR_SET_PDEATHSIG), with its files under /run/xlb:
 * IFACE.bird.conf (generated), .ctl (control socket), .pid, .log. The agent
 * writes the whole configuration from the settings and the VIP set each
 * tick and, only when the text differs from what BIRD has loaded, tells it
 * to `configure`. Unchanged protocols survive a reconfiguration untouched
 * and the static protocols that carry the VIPs reconfigure route by route,
 * so adding or withdrawing one VIP never touches the announcement of
 * another, nor the sessions. If bird is missing the agent says so once and
 * does everything else; if bird dies, the agent starts it again (backing off
 * while it keeps dying).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "xlb.h"
#include "agent_bgp.h"
#include "agent_sync.h"
#include "bgp.h"
#include "strbuf.h"
#include "util.h"

#define BIRD_STOP_WAIT_MS	3000	/* SIGTERM, then SIGKILL */
#define BIRD_RESTART_MAX_S	30	/* longest wait between restarts of a failing bird */
#define BIRD_STABLE_S		10	/* a bird that ran this long starts the backoff afresh */
#define BIRD_ERROR_WAIT		"1, 10"	/* BIRD's delay after a session error, min, max s */
#define POLL_STEP_MS		50

static const char *const bird_paths[] = {
	"/usr/sbin/bird", "/usr/local/sbin/bird", "/sbin/bird", "/usr/bin/bird",
};

static struct {
	__u32 drain_ms;
	bool said_missing;	/* "bird is not installed" logged */
	bool said_bad;		/* a configure error logged for the current text */
	pid_t pid;		/* our bird, 0 when none */
	__u64 started_ns;
	__u64 next_start_ns;	/* restart backoff */
	unsigned fails;
	char *loaded;		/* the configuration text BIRD runs with */
	struct strbuf vips;	/* the announced prefixes, one per line (for the log) */
} bs = { .drain_ms = AGENT_DRAIN_DEFAULT_MS };

int agent_bgp_option(int *i, int argc, char **argv)
{
	const char *v;

	if (strcmp(argv[*i], "--drain-time"))
		return 0;
	if (!(v = next_arg(i, argc, argv, "--drain-time")))
		return -1;
	if (!parse_duration_ms(v, 0, AGENT_DRAIN_MAX_MS, &bs.drain_ms)) {
		xlb_err("invalid --drain-time \"%s\": must be 0s to %us", v,
			AGENT_DRAIN_MAX_MS / 1000);
		return -1;
	}
	return 1;
}

static const char *bird_binary(void)
{
	const char *env = getenv("XLB_BIRD");

	if (env)
		return access(env, X_OK) ? NULL : env;
	for (size_t i = 0; i < ARRAY_SIZE(bird_paths); i++)
		if (!access(bird_paths[i], X_OK))
			return bird_paths[i];
	return NULL;
}

/* ---- what to announce ---- */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * The prefixes to announce, sorted, one per line in @out: every VIP address
 * of which one VIP has a usable backend. Read under the instance lock, shared,
 * so a commit in progress is never seen half done; -1 (try again next tick)
 * while a writer holds it.
 */
static int vip_prefixes(const struct agent *a, struct strbuf *out)
{
	char path[128], addr[XLB_ADDR_STRLEN];
	struct model m;
	char **pfx;
	size_t n = 0;
	int fd, ret = -1;

	snprintf(path, sizeof(path), "%s/%s.lock", XLB_LOCK_DIR, a->iface);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0 || flock(fd, LOCK_SH | LOCK_NB)) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	ret = model_load(&a->in, &m);
	close(fd);
	pfx = ret ? NULL : calloc(m.nvips + 1, sizeof(*pfx));
	for (size_t i = 0; pfx && i < m.nvips; i++) {
		const struct m_vip *v = &m.vips[i];
		bool dup = false;

		if (strcmp(vip_state(&m, v), "ok"))
			continue;
		addr_fmt(v->key.addr, v->key.family, addr, sizeof(addr));
		strcat(addr, v->key.family == XLB_AF_INET ? "/32" : "/128");
		for (size_t j = 0; j < n && !dup; j++)
			dup = !strcmp(pfx[j], addr);
		if (!dup && !(pfx[n++] = strdup(addr)))
			n--;
	}
	if (pfx) {
		qsort(pfx, n, sizeof(*pfx), cmp_str);
		for (size_t j = 0; j < n; j++) {
			strbuf_printf(out, "%s\n", pfx[j]);
			free(pfx[j]);
		}
	}
	ret = ret || !pfx || out->failed ? -1 : 0;
	free(pfx);
	model_free(&m);
	return ret;
}

/* ---- the configuration ---- */

static void conf_static(struct strbuf *sb, const char *name, const char *fam,
			const char *prefixes)
{
	const char *p = prefixes;

	strbuf_printf(sb, "protocol static %s {\n\t%s;\n", name, fam);
	while (*p) {
		size_t len = strcspn(p, "\n");
		bool v6 = memchr(p, ':', len) != NULL;

		if (v6 == !strcmp(fam, "ipv6"))
			strbuf_printf(sb, "\troute %.*s blackhole;\n", (int)len, p);
		p += len + (p[len] == '\n');
	}
	strbuf_printf(sb, "}\n");
}

static void conf_channel(struct strbuf *sb, const struct xlb_bgp_config *c, __u8 family)
{
	char nh[XLB_ADDR_STRLEN];
	bool v4 = family == XLB_AF_INET;

	strbuf_printf(sb, "\t%s { import none; export where proto = \"%s\"; ", v4 ? "ipv4" : "ipv6",
		      v4 ? BIRD_PROTO_VIPS4 : BIRD_PROTO_VIPS6);
	if (c->next_hop_family == family) {
		addr_fmt(c->next_hop, family, nh, sizeof(nh));
		strbuf_printf(sb, "next hop address %s; };\n", nh);
	} else {
		strbuf_printf(sb, "next hop self; };\n");
	}
}

static void conf_gen(struct strbuf *sb, const char *iface, const struct xlb_bgp_config *c,
		     const char *prefixes)
{
	char path[160], addr[XLB_ADDR_STRLEN];

	bgp_run_path(iface, "log", path, sizeof(path));
	strbuf_printf(sb, "# BIRD configuration of xlb instance %s, written by xlb agent;\n"
		      "# rewritten on every change (xlb bgp set, VIPs coming and going).\n", iface);
	strbuf_printf(sb, "log \"%s\" all;\n", path);
	if (c->router_id) {
		__u32 w[4] = { c->router_id };

		addr_fmt(w, XLB_AF_INET, addr, sizeof(addr));
		strbuf_printf(sb, "router id %s;\n", addr);
	}
	strbuf_printf(sb, "protocol device {\n}\n");
	conf_static(sb, BIRD_PROTO_VIPS4, "ipv4", prefixes);
	conf_static(sb, BIRD_PROTO_VIPS6, "ipv6", prefixes);
	for (int i = 0; i < c->npeers; i++) {
		addr_fmt(c->peers[i].addr, c->peers[i].family, addr, sizeof(addr));
		strbuf_printf(sb, "protocol bgp %s%d {\n", BIRD_PROTO_PEER, i + 1);
		strbuf_printf(sb, "\tlocal as %u;\n\tneighbor %s as %u;\n", c->asn, addr,
			      c->peers[i].asn);
		strbuf_printf(sb, "\thold time %u;\n\tgraceful restart off;\n", c->hold_time_s);
		strbuf_printf(sb, "\tconnect delay time 1;\n\tconnect retry time 2;\n"
			      "\terror wait time %s;\n", BIRD_ERROR_WAIT);
		conf_channel(sb, c, XLB_AF_INET);
		conf_channel(sb, c, XLB_AF_INET6);
		strbuf_printf(sb, "}\n");
	}
}

/* Replaces the file at once (rename): BIRD never reads half of one. */
static int conf_write(const char *iface, const char *text)
{
	char path[160], tmp[176];
	size_t len = strlen(text);
	int fd;

	bgp_run_path(iface, "conf", path, sizeof(path));
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, text, len) != (ssize_t)len || close(fd) || rename(tmp, path)) {
		agent_log("bgp: cannot write %s: %s", path, strerror(errno));
		if (fd >= 0)
			unlink(tmp);
		return -1;
	}
	return 0;
}

/* ---- the daemon ---- */

static void bird_spawn(const struct agent *a, const char *bird)
{
	char conf[160], ctl[160], pidf[160];
	pid_t parent = getpid(), pid;
	sigset_t none;

	bgp_run_path(a->iface, "conf", conf, sizeof(conf));
	bgp_run_path(a->iface, "ctl", ctl, sizeof(ctl));
	bgp_run_path(a->iface, "pid", pidf, sizeof(pidf));
	pid = fork();
	if (pid < 0) {
		agent_log("bgp: cannot start bird: %s", strerror(errno));
		return;
	}
	if (pid == 0) {
		/* Only async-signal-safe calls here: the agent has threads. */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() != parent)
			_exit(1);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_DFL);
		close_range(STDERR_FILENO + 1, ~0U, 0);
		execl(bird, "bird", "-f", "-c", conf, "-s", ctl, "-P", pidf, (char *)NULL);
		_exit(127);
	}
	bs.pid = pid;
	bs.started_ns = now_mono_ns();
	agent_log("bgp: bird started (pid %d, %s, control socket %s)", pid, conf, ctl);
}

/* Reaps our bird if it ended; true if it is gone. */
static bool bird_gone(void)
{
	int st;

	if (!bs.pid || waitpid(bs.pid, &st, WNOHANG) != bs.pid)
		return !bs.pid;
	if (WIFEXITED(st))
		agent_log("bgp: bird (pid %d) exited with status %d", bs.pid, WEXITSTATUS(st));
	else
		agent_log("bgp: bird (pid %d) died of %s", bs.pid, strsignal(WTERMSIG(st)));
	bs.pid = 0;
	if (now_mono_ns() - bs.started_ns > BIRD_STABLE_S * 1000000000ULL)
		bs.fails = 0;
	bs.fails++;
	bs.next_start_ns = now_mono_ns() +
		(bs.fails > 5 ? BIRD_RESTART_MAX_S : 1u << (bs.fails - 1)) * 1000000000ULL;
	free(bs.loaded);
	bs.loaded = NULL;
	return true;
}

static void bird_stop(void)
{
	int st;

	if (!bs.pid)
		return;
	kill(bs.pid, SIGTERM);
	for (int t = 0; t < BIRD_STOP_WAIT_MS / POLL_STEP_MS; t++) {
		if (waitpid(bs.pid, &st, WNOHANG) == bs.pid)
			goto reaped;
		poll(NULL, 0, POLL_STEP_MS);
	}
	kill(bs.pid, SIGKILL);
	waitpid(bs.pid, &st, 0);
reaped:
	agent_log("bgp: bird (pid %d) stopped", bs.pid);
	bs.pid = 0;
	free(bs.loaded);
	bs.loaded = NULL;
}

/* One line per prefix that comes or goes, comparing sorted lists. */
static void log_changes(const char *old, const char *new)
{
	while (*old || *new) {
		size_t lo = strcspn(old, "\n"), ln = strcspn(new, "\n");
		int c = !*old ? 1 : !*new ? -1 : strncmp(old, new, lo > ln ? lo : ln);

		if (c < 0)
			agent_log("bgp: withdraw %.*s", (int)lo, old);
		else if (c > 0)
			agent_log("bgp: announce %.*s", (int)ln, new);
		if (c <= 0)
			old += lo + (old[lo] == '\n');
		if (c >= 0)
			new += ln + (new[ln] == '\n');
	}
}

/* BIRD runs @text from now on, or -1. */
static int bird_load(const struct agent *a, const char *text)
{
	char ctl[160];
	int code;

	if (conf_write(a->iface, text))
		return -1;
	bgp_run_path(a->iface, "ctl", ctl, sizeof(ctl));
	code = bird_cmd(ctl, "configure", NULL, NULL);
	if (code < 0 || code >= 8000) {
		if (!bs.said_bad)
			agent_log("bgp: bird refused the new configuration (%s %d); will retry",
				  code < 0 ? "no answer" : "code", code);
		bs.said_bad = true;
		return -1;
	}
	bs.said_bad = false;
	free(bs.loaded);
	bs.loaded = strdup(text);
	return 0;
}

/* Makes BIRD announce @prefixes (a list as vip_prefixes makes) with @c. */
static void bird_follow(const struct agent *a, const struct xlb_bgp_config *c,
			const char *prefixes)
{
	struct strbuf text = STRBUF_INIT;
	const char *bird;

	conf_gen(&text, a->iface, c, prefixes);
	if (text.failed)
		goto out;
	if (!bs.pid) {
		if (!(bird = bird_binary())) {
			if (!bs.said_missing)
				agent_log("bgp: bird (BIRD 2) is not installed: VIPs are not announced");
			bs.said_missing = true;
			goto out;
		}
		if (now_mono_ns() < bs.next_start_ns || conf_write(a->iface, strbuf_str(&text)))
			goto out;
		bird_spawn(a, bird);
		if (bs.pid)
			bs.loaded = strdup(strbuf_str(&text));
	} else if (!bs.loaded || strcmp(bs.loaded, strbuf_str(&text))) {
		if (bird_load(a, strbuf_str(&text)))
			goto out;
	} else {
		goto out;
	}
	log_changes(strbuf_str(&bs.vips), prefixes);
	strbuf_reset(&bs.vips);
	strbuf_printf(&bs.vips, "%s", prefixes);
out:
	strbuf_free(&text);
}

void agent_bgp_tick(const struct agent *a)
{
	struct strbuf pfx = STRBUF_INIT;
	struct xlb_bgp_config c;

	bird_gone();
	if (bgp_read(a->in.dir, &c)) {
		agent_log("bgp: cannot read the settings in %s/%s", a->in.dir, BGP_MAP_NAME);
		return;
	}
	if (!c.asn) {
		if (bs.pid) {
			agent_log("bgp: settings removed: stopping bird, every VIP withdrawn");
			bird_stop();
			log_changes(strbuf_str(&bs.vips), "");
			strbuf_reset(&bs.vips);
		}
		return;
	}
	if (vip_prefixes(a, &pfx) == 0)
		bird_follow(a, &c, agent_sync_ready(a) ? strbuf_str(&pfx) : "");	/* sync: hold */
	strbuf_free(&pfx);
}

void agent_bgp_stop(const struct agent *a, int sig_fd, bool drain)
{
	struct pollfd p = { .fd = sig_fd, .events = POLLIN };
	struct xlb_bgp_config c;
	bool announced = bs.vips.len > 0;

	bird_gone();
	if (!bs.pid)
		goto out;
	if (announced && !bgp_read(a->in.dir, &c) && c.asn)
		bird_follow(a, &c, "");
	if (announced && drain && bs.drain_ms) {
		agent_log("bgp: every VIP withdrawn; still forwarding for %u ms", bs.drain_ms);
		if (poll(&p, 1, bs.drain_ms) > 0)
			agent_log("bgp: second signal: drain cut short");
	}
	bird_stop();
out:
	free(bs.loaded);
	bs.loaded = NULL;
	strbuf_free(&bs.vips);
}
