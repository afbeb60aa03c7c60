// SPDX-License-Identifier: GPL-2.0
/*
 * xlb bgp set|del|show: the BGP settings with which the agent announces the
 * instance's VIPs to the routers (agent_bgp.c does the announcing, through a
 * BIRD daemon of its own). Several instances announcing the same VIPs make a
 * tier behind ECMP (docs/SCALE-OUT.md).
 *
 * The settings are instance state like the VIPs, so they live with the pins:
 * a one-value ARRAY map "bgp" in the pin directory, which this file creates
 * on the first `set` (no BPF program knows of it) and detach removes with
 * the rest of the directory. `set` replaces the whole setting, as a saved
 * file's one `xlb bgp set` line must. set and del are edits: the CLI writes
 * the map at once, under the instance lock run_edit() holds; restore only
 * checks them line by line and writes the result after the model is
 * committed (bgp_restore_apply), so a bad line anywhere changes nothing.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "xlb.h"
#include "bgp.h"
#include "out.h"
#include "strbuf.h"
#include "util.h"
#include "pinval.h"

const char bgp_usage[] =
	"usage: xlb bgp set --asn N --peer ADDR --peer-asn N [--peer ADDR --peer-asn N ...]\n"
	"                   [--router-id A] [--hold-time 9s] [--next-hop self|ADDR]\n"
	"       xlb bgp del\n"
	"       xlb bgp show [--json]\n"
	"The agent announces each VIP address (/32, /128) that has a usable backend to every\n"
	"peer, through a BIRD 2 daemon it runs; set replaces the whole BGP setting.\n";

static const char set_syntax[] =
	"xlb bgp set --asn N --peer ADDR --peer-asn N ... [--router-id A] [--hold-time 9s] "
	"[--next-hop self|ADDR]";

void bgp_run_path(const char *iface, const char *suffix, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s.bird.%s", XLB_LOCK_DIR, iface, suffix);
}

int bgp_read(const char *dir, struct xlb_bgp_config *c)
{
	if (pinval_read(dir, BGP_MAP_NAME, c, sizeof(*c)))
		return -1;
	if (c->npeers > XLB_BGP_PEERS_MAX) {
		memset(c, 0, sizeof(*c));
		return -1;
	}
	return 0;
}

/* Writes @c to the map of the instance in @dir, creating and pinning it if need be. */
static int bgp_write(const char *dir, const struct xlb_bgp_config *c)
{
	return pinval_write(dir, BGP_MAP_NAME, "xlb_bgp", c, sizeof(*c));
}


/* ---- parsing ---- */

static int parse_asn(const char *flag, const char *v, __u32 *out)
{
	if (!parse_u32(v, 1, BGP_ASN_MAX, out)) {
		xlb_err("invalid %s \"%s\": must be an AS number, 1 to %u", flag, v, BGP_ASN_MAX);
		return -1;
	}
	return 0;
}

static int parse_peer(struct xlb_bgp_config *c, const char *v)
{
	struct xlb_bgp_peer *p;
	struct xlb_addr a;
	const char *why;

	if (!addr_parse(v, &a, &why)) {
		xlb_err("invalid --peer \"%s\": %s", v, why);
		return -1;
	}
	if (c->npeers && !c->peers[c->npeers - 1].asn) {
		xlb_err("--peer before \"%s\" has no --peer-asn", v);
		return -1;
	}
	for (int i = 0; i < c->npeers; i++) {
		if (c->peers[i].family == a.family && !memcmp(c->peers[i].addr, a.a, sizeof(a.a))) {
			xlb_err("--peer \"%s\" is given twice", v);
			return -1;
		}
	}
	if (c->npeers == XLB_BGP_PEERS_MAX) {
		xlb_err("--peer \"%s\": at most %d peers", v, XLB_BGP_PEERS_MAX);
		return -1;
	}
	p = &c->peers[c->npeers++];
	memcpy(p->addr, a.a, sizeof(a.a));
	p->family = a.family;
	return 0;
}

static int parse_peer_asn(struct xlb_bgp_config *c, const char *v)
{
	struct xlb_bgp_peer *p = c->npeers ? &c->peers[c->npeers - 1] : NULL;

	if (!p || p->asn) {
		xlb_err("--peer-asn \"%s\" must follow its --peer ADDR", v);
		return -1;
	}
	return parse_asn("--peer-asn", v, &p->asn);
}

static int parse_option(struct xlb_bgp_config *c, const char *flag, const char *v)
{
	struct xlb_addr a;
	const char *why;
	__u32 ms;

	if (!strcmp(flag, "--asn"))
		return parse_asn(flag, v, &c->asn);
	if (!strcmp(flag, "--peer"))
		return parse_peer(c, v);
	if (!strcmp(flag, "--peer-asn"))
		return parse_peer_asn(c, v);
	if (!strcmp(flag, "--router-id")) {
		if (!addr_parse(v, &a, &why) || a.family != XLB_AF_INET) {
			xlb_err("invalid --router-id \"%s\": must be a non-zero IPv4 address", v);
			return -1;
		}
		c->router_id = a.a[0];
		return 0;
	}
	if (!strcmp(flag, "--hold-time")) {
		if (!parse_duration_ms(v, BGP_HOLD_MIN_S * 1000, BGP_HOLD_MAX_S * 1000, &ms) ||
		    ms % 1000) {
			xlb_err("invalid --hold-time \"%s\": must be whole seconds, %us to %us", v,
				BGP_HOLD_MIN_S, BGP_HOLD_MAX_S);
			return -1;
		}
		c->hold_time_s = ms / 1000;
		return 0;
	}
	if (!strcmp(flag, "--next-hop")) {
		if (!strcmp(v, "self")) {
			c->next_hop_family = 0;
			memset(c->next_hop, 0, sizeof(c->next_hop));
			return 0;
		}
		if (!addr_parse(v, &a, &why)) {
			xlb_err("invalid --next-hop \"%s\": self or an address (%s)", v, why);
			return -1;
		}
		memcpy(c->next_hop, a.a, sizeof(a.a));
		c->next_hop_family = a.family;
		return 0;
	}
	xlb_err("unexpected argument \"%s\" (%s)", flag, set_syntax);
	return -1;
}

static const char *const set_flags[] = {
	"--asn", "--peer", "--peer-asn", "--router-id", "--hold-time", "--next-hop",
};

static bool known_flag(const char *s)
{
	for (size_t i = 0; i < ARRAY_SIZE(set_flags); i++)
		if (!strcmp(s, set_flags[i]))
			return true;
	return false;
}

/* argv[0] is "set". */
static int parse_set(int argc, char **argv, struct xlb_bgp_config *c)
{
	const char *v;

	memset(c, 0, sizeof(*c));
	c->hold_time_s = BGP_HOLD_DEFAULT_S;
	for (int i = 1; i < argc; i++) {
		if (!known_flag(argv[i])) {
			xlb_err("unexpected argument \"%s\" (%s)", argv[i], set_syntax);
			return -1;
		}
		if (!(v = next_arg(&i, argc, argv, argv[i])) || parse_option(c, argv[i - 1], v))
			return -1;
	}
	if (!c->asn) {
		xlb_err("bgp set needs --asn N");
		return -1;
	}
	if (!c->npeers) {
		xlb_err("bgp set needs at least one --peer ADDR --peer-asn N");
		return -1;
	}
	if (!c->peers[c->npeers - 1].asn) {
		xlb_err("--peer-asn missing for the last --peer");
		return -1;
	}
	return 0;
}

/* ---- the edits ---- */

/* restore: the setting the file declares, written once the whole file is good. */
static struct {
	bool seen;
	struct xlb_bgp_config c;
} pending;

static int bgp_set(struct model *m, int argc, char **argv)
{
	struct xlb_bgp_config c;
	char dir[128];

	if (parse_set(argc, argv, &c))
		return XLB_EXIT_USAGE;
	if (m->restoring) {
		if (pending.seen) {
			xlb_err("a second \"bgp set\": a file has one BGP setting");
			return XLB_EXIT_USAGE;
		}
		pending.seen = true;
		pending.c = c;
		return XLB_EXIT_OK;
	}
	if (inst_pin_dir(opts.iface, dir, sizeof(dir)) || bgp_write(dir, &c))
		return XLB_EXIT_FAIL;
	return XLB_EXIT_OK;
}

static int bgp_del(struct model *m, int argc, char **argv)
{
	struct xlb_bgp_config c, none = {};
	char dir[128];

	if (argc > 1) {
		xlb_err("unexpected argument \"%s\" (xlb bgp del)", argv[1]);
		return XLB_EXIT_USAGE;
	}
	if (m->restoring) {
		pending.seen = true;
		pending.c = none;
		return XLB_EXIT_OK;
	}
	if (inst_pin_dir(opts.iface, dir, sizeof(dir)))
		return XLB_EXIT_FAIL;
	if (bgp_read(dir, &c)) {
		xlb_err("cannot read %s/%s: %s", dir, BGP_MAP_NAME, strerror(errno));
		return XLB_EXIT_FAIL;
	}
	if (!c.asn) {
		xlb_err("bgp is not set on this instance: nothing to delete");
		return XLB_EXIT_FAIL;
	}
	return bgp_write(dir, &none) ? XLB_EXIT_FAIL : XLB_EXIT_OK;
}

int bgp_restore_apply(void)
{
	struct xlb_bgp_config cur;
	char dir[128];

	if (inst_pin_dir(opts.iface, dir, sizeof(dir)) || bgp_read(dir, &cur))
		return XLB_EXIT_FAIL;
	/* The file is the whole configuration: no bgp line, no BGP. */
	if (!pending.seen)
		memset(&pending.c, 0, sizeof(pending.c));
	if (!memcmp(&cur, &pending.c, sizeof(cur)) || (!cur.asn && !pending.c.asn))
		return XLB_EXIT_OK;
	return bgp_write(dir, &pending.c) ? XLB_EXIT_FAIL : XLB_EXIT_OK;
}

/* ---- printing ---- */

static void fmt_v4(__u32 a, char *buf, size_t len)
{
	__u32 w[4] = { a };

	addr_fmt(w, XLB_AF_INET, buf, len);
}

void bgp_save_lines(FILE *f)
{
	char dir[128], addr[XLB_ADDR_STRLEN];
	struct xlb_bgp_config c;

	if (inst_pin_dir(opts.iface, dir, sizeof(dir)) || bgp_read(dir, &c) || !c.asn)
		return;
	fprintf(f, "xlb bgp set --asn %u", c.asn);
	for (int i = 0; i < c.npeers; i++) {
		addr_fmt(c.peers[i].addr, c.peers[i].family, addr, sizeof(addr));
		fprintf(f, " --peer %s --peer-asn %u", addr, c.peers[i].asn);
	}
	if (c.router_id) {
		fmt_v4(c.router_id, addr, sizeof(addr));
		fprintf(f, " --router-id %s", addr);
	}
	fprintf(f, " --hold-time %us", c.hold_time_s);
	if (c.next_hop_family)
		addr_fmt(c.next_hop, c.next_hop_family, addr, sizeof(addr));
	fprintf(f, " --next-hop %s\n", c.next_hop_family ? addr : "self");
}

/* ---- BIRD's control socket ---- */

/* One reply line "NNNN-text", "NNNN text" (the last) or " text" (same code). */
static int bird_line(char *s, int *code, bird_line_fn fn, void *arg)
{
	bool last = false;

	if (strlen(s) >= 5 && s[0] >= '0' && s[0] <= '9' && (s[4] == ' ' || s[4] == '-')) {
		*code = atoi(s);
		last = s[4] == ' ';
		s += 5;
	} else if (s[0] == ' ' || s[0] == '+') {
		s++;
	}
	if (fn)
		fn(*code, s, arg);
	return last;
}

/* Reads reply lines until the last one; its code, or -1. */
static int bird_reply(int fd, struct strbuf *sb, bird_line_fn fn, void *arg)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	size_t done = 0;
	char buf[4096];
	int code = -1;
	ssize_t n;

	for (;;) {
		char *nl;

		while (sb->len > done && (nl = memchr(sb->buf + done, '\n', sb->len - done))) {
			char *line = sb->buf + done;

			*nl = 0;
			done = nl + 1 - sb->buf;
			if (bird_line(line, &code, fn, arg))
				return code;
		}
		if (poll(&p, 1, BIRD_REPLY_TIMEOUT_MS) <= 0)
			return -1;
		n = read(fd, buf, sizeof(buf));
		if (n <= 0 || strbuf_add(sb, buf, n))
			return -1;
	}
}

int bird_cmd(const char *sock, const char *cmd, bird_line_fn fn, void *arg)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct strbuf sb = STRBUF_INIT;
	int fd, code = -1;

	if (strlen(sock) >= sizeof(sa.sun_path))
		return -1;
	strcpy(sa.sun_path, sock);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
		goto out;
	/* The greeting "0001 BIRD 2.x ready.", then the command's reply. */
	if (bird_reply(fd, &sb, NULL, NULL) < 0)
		goto out;
	strbuf_reset(&sb);
	if (dprintf(fd, "%s\n", cmd) < 0)
		goto out;
	code = bird_reply(fd, &sb, fn, arg);
out:
	strbuf_free(&sb);
	close(fd);
	return code;
}

/* ---- show ---- */

#define BIRD_CODE_PROTO_LINE	1002	/* a row of "show protocols" */
#define BIRD_CODE_ROUTE_LINE	1007	/* a row of "show route" */

struct peer_state {
	char state[XLB_BGP_PEERS_MAX][16];	/* up, start, ... (BIRD's State) */
	char info[XLB_BGP_PEERS_MAX][96];	/* Established, Active, ... (BIRD's Info) */
};

static void proto_line(int code, const char *text, void *arg)
{
	struct peer_state *ps = arg;
	char name[64], proto[32], table[32], state[16], since[32];
	int idx, off = 0;

	if (code != BIRD_CODE_PROTO_LINE ||
	    sscanf(text, "%63s %31s %31s %15s %31s %n", name, proto, table, state, since, &off) < 5 ||
	    strncmp(name, BIRD_PROTO_PEER, strlen(BIRD_PROTO_PEER)))
		return;
	idx = atoi(name + strlen(BIRD_PROTO_PEER)) - 1;
	if (idx < 0 || idx >= XLB_BGP_PEERS_MAX)
		return;
	snprintf(ps->state[idx], sizeof(ps->state[idx]), "%s", state);
	snprintf(ps->info[idx], sizeof(ps->info[idx]), "%s", off ? text + off : "");
	ps->info[idx][strcspn(ps->info[idx], "\n")] = 0;
}

static void route_line(int code, const char *text, void *arg)
{
	char prefix[64];

	if (code != BIRD_CODE_ROUTE_LINE || text[0] == ' ' || text[0] == '\t' ||
	    sscanf(text, "%63s", prefix) != 1 || !strchr(prefix, '/'))
		return;
	out_str(NULL, "  announced %s\n", prefix);
}

static void show_peers(const struct xlb_bgp_config *c, const struct peer_state *ps, bool up)
{
	char addr[XLB_ADDR_STRLEN];

	out_arr_open("peers");
	for (int i = 0; i < c->npeers; i++) {
		addr_fmt(c->peers[i].addr, c->peers[i].family, addr, sizeof(addr));
		out_obj_open(NULL);
		out_str("addr", "  peer %s", addr);
		out_u64("asn", " as %llu", c->peers[i].asn);
		if (up && ps->state[i][0]) {
			out_str("state", "  %s", ps->state[i]);
			out_str("info", " %s\n", ps->info[i]);
		} else {
			out_null("state", "  no session");
			out_null("info", "\n");
		}
		out_obj_close();
	}
	out_arr_close();
}

static int bgp_show(int argc, char **argv)
{
	char dir[128], name[IF_NAMESIZE], ctl[160], addr[XLB_ADDR_STRLEN];
	struct peer_state ps = {};
	struct xlb_bgp_config c;
	bool up;

	if (argc > 1) {
		xlb_err("unexpected argument \"%s\" (xlb bgp show [--json])", argv[1]);
		return XLB_EXIT_USAGE;
	}
	if (inst_pick(opts.iface, name, sizeof(name)))
		return XLB_EXIT_FAIL;
	pin_dir(XLB_PIN_ROOT, name, dir, sizeof(dir));
	if (bgp_read(dir, &c)) {
		xlb_err("cannot read %s/%s: %s", dir, BGP_MAP_NAME, strerror(errno));
		return XLB_EXIT_FAIL;
	}
	bgp_run_path(name, "ctl", ctl, sizeof(ctl));
	up = c.asn && bird_cmd(ctl, "show protocols", proto_line, &ps) == 0;
	out_obj_open(NULL);
	out_str("iface", "%s", name);
	out_bool("configured", NULL, c.asn);
	if (!c.asn) {
		out_text(": bgp not set\n");
		out_obj_close();
		out_done();
		return XLB_EXIT_OK;
	}
	out_u64("asn", " as %llu", c.asn);
	if (c.router_id) {
		fmt_v4(c.router_id, addr, sizeof(addr));
		out_str("router_id", " router-id %s", addr);
	} else {
		out_null("router_id", NULL);
	}
	out_u64("hold_time_s", " hold-time %llus", c.hold_time_s);
	if (c.next_hop_family)
		addr_fmt(c.next_hop, c.next_hop_family, addr, sizeof(addr));
	out_str("next_hop", " next-hop %s", c.next_hop_family ? addr : "self");
	out_str("bird", "  bird %s\n", up ? "running" : "not running");
	show_peers(&c, &ps, up);
	out_arr_open("announced");
	if (up) {
		bird_cmd(ctl, "show route protocol " BIRD_PROTO_VIPS4, route_line, NULL);
		bird_cmd(ctl, "show route protocol " BIRD_PROTO_VIPS6, route_line, NULL);
	}
	out_arr_close();
	out_obj_close();
	out_done();
	return XLB_EXIT_OK;
}

const struct verb bgp_verbs[] = {
	{ "set", bgp_set },
	{ "del", bgp_del },
	{ "show", NULL, bgp_show },
	{ NULL },
};
