// SPDX-License-Identifier: GPL-2.0
/*
 * xlb sync set|del|show: session sync with the other instances of a tier
 * (agent_sync.c does the syncing). Every instance tells its peers about the
 * flows it tracks, so that a flow the routers move to another instance keeps
 * its backend there even where the instances' tables disagree (lc, lrt, wrr
 * VIPs, health or configuration disagreements): docs/SCALE-OUT.md.
 *
 * The setting is instance state like the BGP one and kept the same way: a
 * one-value ARRAY map "sync" in the pin directory, created by the first
 * `set`, removed by detach with the rest. The shared secret is not copied
 * there: the map names the key file, which set checks (0600, at least 32
 * bytes) and the agent reads. The data plane's switch is config.sync_report,
 * part of the model, so run_edit commits it with everything else; restore
 * checks its lines like the others and writes the "sync" map only after the
 * model is committed (sync_restore_apply).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "xlb.h"
#include "sync.h"
#include "ct.h"
#include "out.h"
#include "syncproto.h"
#include "util.h"
#include "pinval.h"

const char sync_usage[] =
	"usage: xlb sync set --peer ADDR [--peer ADDR ...] [--port 8848] --key FILE\n"
	"       xlb sync del\n"
	"       xlb sync show [--json]\n"
	"The agent reports the flows this instance tracks to every peer (UDP, HMAC-SHA256\n"
	"with the secret in FILE: mode 0600, at least 32 bytes) and inserts theirs where\n"
	"this instance has the VIP and backend; set replaces the whole sync setting.\n";

static const char set_syntax[] = "xlb sync set --peer ADDR ... [--port 8848] --key FILE";

static void map_path(const char *dir, const char *name, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s", dir, name);
}

int sync_read(const char *dir, struct xlb_sync_config *c)
{
	if (pinval_read(dir, SYNC_MAP_NAME, c, sizeof(*c)))
		return -1;
	if (c->npeers > XLB_SYNC_PEERS_MAX) {
		memset(c, 0, sizeof(*c));
		return -1;
	}
	c->key_path[XLB_SYNC_KEY_PATH_LEN - 1] = 0;
	return 0;
}

static int sync_write(const char *dir, const struct xlb_sync_config *c)
{
	return pinval_write(dir, SYNC_MAP_NAME, "xlb_sync", c, sizeof(*c));
}


/* ---- parsing ---- */

static int parse_peer(struct xlb_sync_config *c, const char *v)
{
	struct xlb_addr a;
	const char *why;

	if (!addr_parse(v, &a, &why)) {
		xlb_err("invalid --peer \"%s\": %s", v, why);
		return -1;
	}
	for (int i = 0; i < c->npeers; i++) {
		if (c->peers[i].family == a.family && !memcmp(c->peers[i].addr, a.a, sizeof(a.a))) {
			xlb_err("--peer \"%s\" is given twice", v);
			return -1;
		}
	}
	if (c->npeers == XLB_SYNC_PEERS_MAX) {
		xlb_err("--peer \"%s\": at most %d peers", v, XLB_SYNC_PEERS_MAX);
		return -1;
	}
	memcpy(c->peers[c->npeers].addr, a.a, sizeof(a.a));
	c->peers[c->npeers++].family = a.family;
	return 0;
}

static int parse_key(struct xlb_sync_config *c, const char *v)
{
	static struct sync_key key;	/* checked, then forgotten: only the agent keeps it */
	char real[PATH_MAX];
	const char *why;

	if (sync_key_read(v, &key, &why)) {
		xlb_err("invalid --key \"%s\": %s", v, why);
		return -1;
	}
	explicit_bzero(&key, sizeof(key));
	if (!realpath(v, real) || strlen(real) >= XLB_SYNC_KEY_PATH_LEN) {
		xlb_err("invalid --key \"%s\": the path must resolve to at most %d characters", v,
			XLB_SYNC_KEY_PATH_LEN - 1);
		return -1;
	}
	strcpy(c->key_path, real);
	return 0;
}

static int parse_option(struct xlb_sync_config *c, const char *flag, const char *v)
{
	__u32 port;

	if (!strcmp(flag, "--peer"))
		return parse_peer(c, v);
	if (!strcmp(flag, "--port")) {
		if (!parse_u32(v, 1, 65535, &port)) {
			xlb_err("invalid --port \"%s\": must be 1 to 65535", v);
			return -1;
		}
		c->port = port;
		return 0;
	}
	if (!strcmp(flag, "--key")) {
		if (c->key_path[0]) {
			xlb_err("--key \"%s\": a setting has one key", v);
			return -1;
		}
		return parse_key(c, v);
	}
	xlb_err("unexpected argument \"%s\" (%s)", flag, set_syntax);
	return -1;
}

/* argv[0] is "set". */
static int parse_set(int argc, char **argv, struct xlb_sync_config *c)
{
	const char *v;

	memset(c, 0, sizeof(*c));
	c->port = XLB_SYNC_PORT_DEFAULT;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--peer") && strcmp(argv[i], "--port") && strcmp(argv[i], "--key")) {
			xlb_err("unexpected argument \"%s\" (%s)", argv[i], set_syntax);
			return -1;
		}
		if (!(v = next_arg(&i, argc, argv, argv[i])) || parse_option(c, argv[i - 1], v))
			return -1;
	}
	if (!c->npeers) {
		xlb_err("sync set needs at least one --peer ADDR");
		return -1;
	}
	if (!c->key_path[0]) {
		xlb_err("sync set needs --key FILE (the shared secret)");
		return -1;
	}
	c->enabled = 1;
	return 0;
}

/* ---- the edits ---- */

static struct {
	bool seen;
	struct xlb_sync_config c;
} pending;

static int sync_set(struct model *m, int argc, char **argv)
{
	struct xlb_sync_config c;
	char dir[128];

	if (parse_set(argc, argv, &c))
		return XLB_EXIT_USAGE;
	if (m->restoring) {
		if (pending.seen) {
			xlb_err("a second \"sync set\": a file has one sync setting");
			return XLB_EXIT_USAGE;
		}
		pending.seen = true;
		pending.c = c;
		m->config.sync_report = 1;
		return XLB_EXIT_OK;
	}
	if (inst_pin_dir(opts.iface, dir, sizeof(dir)) || sync_write(dir, &c))
		return XLB_EXIT_FAIL;
	m->config.sync_report = 1;
	return XLB_EXIT_OK;
}

static int sync_del(struct model *m, int argc, char **argv)
{
	struct xlb_sync_config c, none = {};
	char dir[128];

	if (argc > 1) {
		xlb_err("unexpected argument \"%s\" (xlb sync del)", argv[1]);
		return XLB_EXIT_USAGE;
	}
	if (m->restoring) {
		pending.seen = true;
		pending.c = none;
		m->config.sync_report = 0;
		return XLB_EXIT_OK;
	}
	if (inst_pin_dir(opts.iface, dir, sizeof(dir)))
		return XLB_EXIT_FAIL;
	if (sync_read(dir, &c)) {
		xlb_err("cannot read %s/%s: %s", dir, SYNC_MAP_NAME, strerror(errno));
		return XLB_EXIT_FAIL;
	}
	if (!c.enabled) {
		xlb_err("sync is not set on this instance: nothing to delete");
		return XLB_EXIT_FAIL;
	}
	if (sync_write(dir, &none))
		return XLB_EXIT_FAIL;
	m->config.sync_report = 0;
	return XLB_EXIT_OK;
}

/* The data plane's switch, after a restore whose file had no sync line. */
static int report_off(void)
{
	struct xlb_config cfg;
	struct xlb_inst in;
	__u32 zero = 0;
	int ret = 0;

	if (inst_open(opts.iface, false, &in))
		return -1;
	if (bpf_map_lookup_elem(in.fd[XLB_M_CONFIG], &zero, &cfg))
		ret = -1;
	else if (cfg.sync_report) {
		cfg.sync_report = 0;
		ret = bpf_map_update_elem(in.fd[XLB_M_CONFIG], &zero, &cfg, BPF_ANY);
	}
	inst_close(&in);
	return ret ? -1 : 0;
}

int sync_restore_apply(void)
{
	struct xlb_sync_config cur;
	char dir[128];

	if (inst_pin_dir(opts.iface, dir, sizeof(dir)) || sync_read(dir, &cur))
		return XLB_EXIT_FAIL;
	/* The file is the whole configuration: no sync line, no sync. */
	if (!pending.seen) {
		memset(&pending.c, 0, sizeof(pending.c));
		if (report_off())
			return XLB_EXIT_FAIL;
	}
	if (!memcmp(&cur, &pending.c, sizeof(cur)) || (!cur.enabled && !pending.c.enabled))
		return XLB_EXIT_OK;
	return sync_write(dir, &pending.c) ? XLB_EXIT_FAIL : XLB_EXIT_OK;
}

/* ---- printing ---- */

void sync_save_lines(FILE *f)
{
	char dir[128], addr[XLB_ADDR_STRLEN];
	struct xlb_sync_config c;

	if (inst_pin_dir(opts.iface, dir, sizeof(dir)) || sync_read(dir, &c) || !c.enabled)
		return;
	fprintf(f, "xlb sync set");
	for (int i = 0; i < c.npeers; i++) {
		addr_fmt(c.peers[i].addr, c.peers[i].family, addr, sizeof(addr));
		fprintf(f, " --peer %s", addr);
	}
	fprintf(f, " --port %u --key %s\n", c.port, c.key_path);
}

/* The agent's counters, zeroed where it has written none. */
static void read_stats(const char *dir, struct xlb_sync_stats *st)
{
	char path[256];
	int fd;

	memset(st, 0, sizeof(*st) * SYNC_STATS_ENTRIES);
	map_path(dir, SYNC_STATS_MAP_NAME, path, sizeof(path));
	fd = bpf_obj_get(path);
	if (fd < 0)
		return;
	for (__u32 i = 0; i < SYNC_STATS_ENTRIES; i++)
		bpf_map_lookup_elem(fd, &i, &st[i]);
	close(fd);
}

static void show_peer(const struct xlb_sync_peer *p, const struct xlb_sync_stats *s)
{
	char addr[XLB_ADDR_STRLEN];
	bool same = s->family == p->family && !memcmp(s->addr, p->addr, sizeof(p->addr));
	struct xlb_sync_stats none = {};
	time_t now = time(NULL);

	if (!same)
		s = &none;	/* the agent has not counted for this peer (yet) */
	addr_fmt(p->addr, p->family, addr, sizeof(addr));
	out_obj_open(NULL);
	out_str("addr", "  peer %s", addr);
	out_u64("sent", " sent %llu", s->sent);
	out_u64("received", " received %llu", s->received);
	out_u64("applied", " applied %llu", s->applied);
	out_u64("skipped", " skipped %llu", s->skipped);
	out_u64("refused", " refused %llu", s->refused);
	out_u64("lost", " lost %llu", s->lost);
	out_bool("dump_done", NULL, s->dump_done);
	if (s->last_contact_s) {
		out_u64("last_contact_s", NULL, s->last_contact_s);
		out_u64("last_contact_ago_s", " last contact %llus ago\n",
			now > (time_t)s->last_contact_s ? now - s->last_contact_s : 0);
	} else {
		out_null("last_contact_s", NULL);
		out_null("last_contact_ago_s", " last contact never\n");
	}
	out_obj_close();
}

static int sync_show(int argc, char **argv)
{
	struct xlb_sync_stats st[SYNC_STATS_ENTRIES];
	__u64 ev[XLB_CT_EV_MAX] = {};
	struct xlb_sync_config c;
	struct xlb_inst in;
	const char *why = NULL;
	struct sync_key key;

	if (argc > 1) {
		xlb_err("unexpected argument \"%s\" (xlb sync show [--json])", argv[1]);
		return XLB_EXIT_USAGE;
	}
	if (inst_open(opts.iface, false, &in))
		return XLB_EXIT_FAIL;
	if (sync_read(in.dir, &c)) {
		xlb_err("cannot read %s/%s: %s", in.dir, SYNC_MAP_NAME, strerror(errno));
		inst_close(&in);
		return XLB_EXIT_FAIL;
	}
	out_obj_open(NULL);
	out_str("iface", "%s", in.iface);
	out_bool("configured", NULL, c.enabled);
	if (!c.enabled) {
		out_text(": sync not set\n");
		out_obj_close();
		out_done();
		inst_close(&in);
		return XLB_EXIT_OK;
	}
	sync_key_read(c.key_path, &key, &why);
	explicit_bzero(&key, sizeof(key));
	ct_events_sum(&in, ev);
	read_stats(in.dir, st);
	out_u64("port", " port %llu", c.port);
	out_str("key", " key %s", c.key_path);
	if (why)
		out_str("key_error", " (unusable: %s)", why);
	else
		out_null("key_error", NULL);
	out_u64("ring_lost", " events lost %llu", ev[XLB_CT_EV_SYNC_LOST]);
	out_u64("unknown_refused", " from non-peers %llu\n", st[XLB_SYNC_PEERS_MAX].refused);
	out_arr_open("peers");
	for (int i = 0; i < c.npeers; i++)
		show_peer(&c.peers[i], &st[i]);
	out_arr_close();
	out_obj_close();
	out_done();
	inst_close(&in);
	return XLB_EXIT_OK;
}

const struct verb sync_verbs[] = {
	{ "set", sync_set },
	{ "del", sync_del },
	{ "show", NULL, sync_show },
	{ NULL },
};
