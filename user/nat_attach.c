// SPDX-License-Identifier: GPL-2.0
/*
 * The instance side of full NAT (docs/DESIGN.md "NAT"), kept out of
 * attach.c so that attach stays one flow:
 *
 * - the snat map's one entry: the addresses and ports NAT flows leave with.
 *   Only what attach is asked changes it, so a plain upgrade keeps what an
 *   operator set; a fresh instance takes the interface's global addresses
 *   (at most XLB_SNAT_ADDRS_MAX a family) and XLB_SNAT_PORT_LO-HI. Each CPU
 *   searches its own slice of the range (cpu_slice), so CPUs do not contend.
 * - peers: a NAT backend may sit behind another interface than the clients.
 *   `attach IFACE2 --peer-of IFACE1` runs IFACE1's very program (hence its
 *   maps) on IFACE2 too, so the data plane can redirect between them; the
 *   peer is recorded in a pinned value beside the maps (pinval.h), which
 *   detach of either interface and every upgrade of IFACE1 read.
 *
 * Locks: the instance's first, then the peer's name, everywhere.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "xlb.h"
#include "nat.h"
#include "host.h"
#include "nl.h"
#include "out.h"
#include "pinval.h"
#include "util.h"
#include "veth.h"
#include "xdp_load.h"

#define XLB_PROG_NAME	"xlb_balance"
#define SNAT_MAP	"snat"
/* Addresses of an interface looked at for the default SNAT addresses. */
#define IFACE_ADDRS_MAX	64

int snat_parse_addr(const char *v, struct snat_args *sa)
{
	struct xlb_addr a;
	const char *why;
	__u8 *n;

	if (!addr_parse(v, &a, &why)) {
		xlb_err("invalid --snat \"%s\": %s", v, why);
		return -1;
	}
	n = a.family == XLB_AF_INET ? &sa->s.n4 : &sa->s.n6;
	for (int i = 0; i < *n; i++)
		if (a.family == XLB_AF_INET ? sa->s.addr4[i] == a.a[0] :
		    !memcmp(sa->s.addr6[i], a.a, sizeof(a.a))) {
			xlb_err("--snat \"%s\" given twice", v);
			return -1;
		}
	if (*n >= XLB_SNAT_ADDRS_MAX) {
		xlb_err("--snat \"%s\": at most %d addresses of a family", v, XLB_SNAT_ADDRS_MAX);
		return -1;
	}
	if (a.family == XLB_AF_INET)
		sa->s.addr4[*n] = a.a[0];
	else
		memcpy(sa->s.addr6[*n], a.a, sizeof(a.a));
	++*n;
	sa->addrs_set = true;
	return 0;
}

int snat_parse_ports(const char *v, struct snat_args *sa)
{
	char lo[8], hi[8];
	const char *dash = strchr(v, '-');
	__u32 l, h;

	if (!dash || dash == v || (size_t)(dash - v) >= sizeof(lo) || strlen(dash + 1) >= sizeof(hi))
		goto bad;
	snprintf(lo, sizeof(lo), "%.*s", (int)(dash - v), v);
	snprintf(hi, sizeof(hi), "%s", dash + 1);
	if (!parse_u32(lo, 1, 65535, &l) || !parse_u32(hi, 1, 65535, &h) || l > h)
		goto bad;
	sa->s.port_lo = l;
	sa->s.port_hi = h;
	sa->ports_set = true;
	return 0;
bad:
	xlb_err("invalid --snat-ports \"%s\": must be LO-HI, 1 <= LO <= HI <= 65535", v);
	return -1;
}

/* The interface's global addresses, at most XLB_SNAT_ADDRS_MAX a family. */
static void snat_default_addrs(int ifindex, struct xlb_snat *s)
{
	__u32 addrs[IFACE_ADDRS_MAX][4];
	__u8 fams[IFACE_ADDRS_MAX];
	int n = nl_iface_all_addrs(ifindex, addrs, fams, IFACE_ADDRS_MAX);

	s->n4 = s->n6 = 0;
	for (int i = 0; i < n; i++) {
		if (fams[i] == XLB_AF_INET && s->n4 < XLB_SNAT_ADDRS_MAX)
			s->addr4[s->n4++] = addrs[i][0];
		else if (fams[i] == XLB_AF_INET6 && s->n6 < XLB_SNAT_ADDRS_MAX)
			memcpy(s->addr6[s->n6++], addrs[i], sizeof(addrs[i]));
	}
}

static int snat_open(const char *dir)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", dir, SNAT_MAP);
	return bpf_obj_get(path);
}

int snat_apply(const char *dir, int ifindex, const struct snat_args *sa)
{
	struct xlb_snat s;
	int fd = snat_open(dir), ncpu = libbpf_num_possible_cpus(), err;
	__u32 zero = 0, range;
	bool fresh;

	if (fd < 0) {
		xlb_err("cannot open %s/%s: %s", dir, SNAT_MAP, strerror(errno));
		return -1;
	}
	if (bpf_map_lookup_elem(fd, &zero, &s))
		memset(&s, 0, sizeof(s));
	fresh = !s.port_lo;
	if (sa->addrs_set) {
		memcpy(s.addr4, sa->s.addr4, sizeof(s.addr4));
		memcpy(s.addr6, sa->s.addr6, sizeof(s.addr6));
		s.n4 = sa->s.n4;
		s.n6 = sa->s.n6;
	} else if (fresh) {
		snat_default_addrs(ifindex, &s);
	}
	if (sa->ports_set || fresh) {
		s.port_lo = sa->ports_set ? sa->s.port_lo : XLB_SNAT_PORT_LO;
		s.port_hi = sa->ports_set ? sa->s.port_hi : XLB_SNAT_PORT_HI;
	}
	range = s.port_hi - s.port_lo + 1;
	s.cpu_slice = ncpu > 0 && range / ncpu ? range / ncpu : 1;
	err = bpf_map_update_elem(fd, &zero, &s, BPF_ANY);
	if (err)
		xlb_err("cannot write %s/%s: %s", dir, SNAT_MAP, strerror(errno));
	close(fd);
	return err ? -1 : 0;
}

/* The peer record of the instance in @dir (empty when there is none). */
static int peers_read(const char *dir, struct nat_peers *p)
{
	if (pinval_read(dir, NAT_PEERS_PIN, p, sizeof(*p)))
		return -1;
	if (p->n > NAT_PEERS_MAX)
		p->n = NAT_PEERS_MAX;
	return 0;
}

static int peers_write(const char *dir, const struct nat_peers *p)
{
	return pinval_write(dir, NAT_PEERS_PIN, "xlb_peers", p, sizeof(*p));
}

/* The index of @iface in @p, or -1. A peer renamed or gone is no longer it. */
static int peers_index(const struct nat_peers *p, const char *iface)
{
	for (__u32 i = 0; i < p->n; i++)
		if (!strncmp(p->name[i], iface, IF_NAMESIZE))
			return i;
	return -1;
}

/* Whether the recorded peer @i is still the interface it was. */
static bool peer_present(const struct nat_peers *p, __u32 i)
{
	char name[IF_NAMESIZE];

	return if_indextoname(p->ifindex[i], name) && !strncmp(name, p->name[i], IF_NAMESIZE);
}

/* Checks of attach --peer-of once both locks are held; -1 after an error line. */
static int peer_check(const char *iface, int ifindex, const char *owner, int owner_ifindex,
		      const char *dir, struct nat_peers *p)
{
	char other[IF_NAMESIZE + 1], mine[128];

	if (access(dir, F_OK) || !owner_ifindex ||
	    xdp_mode_of(owner_ifindex, XLB_PROG_NAME) == XDP_MODE_UNSPEC) {
		xlb_err("--peer-of %s: %s is not attached", owner, owner);
		return -1;
	}
	if (pin_dir_owned(dir, owner, false) || peers_read(dir, p))
		return -1;
	pin_dir(XLB_PIN_ROOT, iface, mine, sizeof(mine));
	if (!access(mine, F_OK) || xdp_mode_of(ifindex, XLB_PROG_NAME) != XDP_MODE_UNSPEC ||
	    peer_owner_find(iface, other, sizeof(other))) {
		xlb_err("%s already has xlb: detach it first", iface);
		return -1;
	}
	if (p->n >= NAT_PEERS_MAX) {
		xlb_err("--peer-of %s: it has %d peers already, the most", owner, NAT_PEERS_MAX);
		return -1;
	}
	return 0;
}

int peer_attach(const char *iface, const char *owner, enum xdp_attach_mode mode)
{
	int ifindex, owner_ifindex, lock, lock2 = -1, ret = XLB_EXIT_FAIL;
	struct nat_peers p;
	char dir[128], why[256];

	if (need_root() || bpffs_ensure(false))
		return XLB_EXIT_FAIL;
	ifindex = if_nametoindex(iface);
	if (!ifindex) {
		xlb_err("no interface \"%s\"", iface);
		return XLB_EXIT_FAIL;
	}
	owner_ifindex = if_nametoindex(owner);
	lock = inst_lock(owner);
	if (lock < 0)
		return XLB_EXIT_FAIL;
	lock2 = inst_lock(iface);
	if (lock2 < 0)
		goto out;
	bpf_libs_quiet();
	pin_dir(XLB_PIN_ROOT, owner, dir, sizeof(dir));
	if (peer_check(iface, ifindex, owner, owner_ifindex, dir, &p))
		goto out;
	if (!mode)
		mode = xdp_mode_of(owner_ifindex, XLB_PROG_NAME);
	if (xdp_attach_same(owner_ifindex, ifindex, XLB_PROG_NAME, mode, why, sizeof(why))) {
		xlb_err("%s: attach failed: %s", iface, why);
		goto out;
	}
	p.ifindex[p.n] = ifindex;
	snprintf(p.name[p.n], IF_NAMESIZE, "%s", iface);
	p.n++;
	if (peers_write(dir, &p)) {
		xdp_detach_named(ifindex, XLB_PROG_NAME);
		goto out;
	}
	if (host_forwarding_ensure(iface))
		goto out;
	veth_peer_fix(iface, ifindex);
	printf("attached %s as a peer of %s in %s mode\n", iface, owner, xdp_mode_name(mode));
	ret = XLB_EXIT_OK;
out:
	if (lock2 >= 0)
		close(lock2);
	close(lock);
	return ret;
}

bool peer_owner_find(const char *iface, char *owner, size_t len)
{
	DIR *d = opendir(XLB_PIN_ROOT);
	struct nat_peers p;
	struct dirent *e;
	char dir[512];
	bool found = false;

	if (!d)
		return false;
	while (!found && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(dir, sizeof(dir), "%s/%s", XLB_PIN_ROOT, e->d_name);
		if (pin_dir_owned(dir, e->d_name, true) || peers_read(dir, &p))
			continue;
		for (__u32 i = 0; i < p.n && !found; i++)
			found = !strncmp(p.name[i], iface, IF_NAMESIZE) && peer_present(&p, i);
		if (found)
			snprintf(owner, len, "%s", e->d_name);
	}
	closedir(d);
	return found;
}

int peer_detach(const char *iface, const char *owner)
{
	int lock, lock2, i, ret = XLB_EXIT_FAIL;
	struct nat_peers p;
	char dir[128];

	lock = inst_lock(owner);
	if (lock < 0)
		return XLB_EXIT_FAIL;
	lock2 = inst_lock(iface);
	if (lock2 < 0)
		goto out;
	bpf_libs_quiet();
	pin_dir(XLB_PIN_ROOT, owner, dir, sizeof(dir));
	if (peers_read(dir, &p))
		goto out;
	i = peers_index(&p, iface);
	if (i < 0) {
		xlb_err("%s is no longer a peer of %s", iface, owner);
		goto out;
	}
	if (peer_present(&p, i) && xdp_detach_named(p.ifindex[i], XLB_PROG_NAME) > 0)
		veth_peer_release(iface, p.ifindex[i]);
	p.n--;
	memmove(&p.ifindex[i], &p.ifindex[i + 1], (p.n - i) * sizeof(p.ifindex[0]));
	memmove(p.name[i], p.name[i + 1], (p.n - i) * sizeof(p.name[0]));
	memset(&p.ifindex[p.n], 0, sizeof(p.ifindex[0]));
	memset(p.name[p.n], 0, sizeof(p.name[0]));
	if (peers_write(dir, &p))
		goto out;
	printf("detached %s (a peer of %s)\n", iface, owner);
	ret = XLB_EXIT_OK;
out:
	if (lock2 >= 0)
		close(lock2);
	close(lock);
	return ret;
}

void peers_detach_all(const char *dir)
{
	struct nat_peers p;

	if (peers_read(dir, &p))
		return;
	for (__u32 i = 0; i < p.n; i++) {
		if (!peer_present(&p, i) || xdp_detach_named(p.ifindex[i], XLB_PROG_NAME) <= 0)
			continue;
		veth_peer_release(p.name[i], p.ifindex[i]);
		printf("detached peer %s\n", p.name[i]);
	}
}

void peers_follow(const char *dir, int ifindex, enum xdp_attach_mode mode)
{
	struct nat_peers p;
	char why[256];

	if (peers_read(dir, &p))
		return;
	for (__u32 i = 0; i < p.n; i++) {
		/* A peer someone took the program off stays off. */
		if (!peer_present(&p, i) ||
		    xdp_mode_of(p.ifindex[i], XLB_PROG_NAME) == XDP_MODE_UNSPEC)
			continue;
		if (xdp_attach_same(ifindex, p.ifindex[i], XLB_PROG_NAME, mode, why, sizeof(why)))
			xlb_warn("peer %s still runs the old program: %s", p.name[i], why);
	}
}

static void list_addrs(const struct xlb_snat *s)
{
	char a[XLB_ADDR_STRLEN];
	__u32 v4[4] = {};
	int n = 0;

	out_arr_open("snat");
	for (int i = 0; i < s->n4 && i < XLB_SNAT_ADDRS_MAX; i++, n++) {
		v4[0] = s->addr4[i];
		addr_fmt(v4, XLB_AF_INET, a, sizeof(a));
		out_str(NULL, n ? ",%s" : "  snat %s", a);
	}
	for (int i = 0; i < s->n6 && i < XLB_SNAT_ADDRS_MAX; i++, n++) {
		addr_fmt(s->addr6[i], XLB_AF_INET6, a, sizeof(a));
		out_str(NULL, n ? ",%s" : "  snat %s", a);
	}
	out_arr_close();
	out_text("%s", n ? "" : "  snat none");
}

void nat_list_instance(const char *dir)
{
	struct xlb_snat s = {};
	struct nat_peers p;
	__u32 zero = 0;
	int fd = snat_open(dir);

	if (fd >= 0) {
		bpf_map_lookup_elem(fd, &zero, &s);
		close(fd);
	}
	list_addrs(&s);
	if (s.port_lo) {
		out_u64("snat_port_lo", " ports %llu", s.port_lo);
		out_u64("snat_port_hi", "-%llu", s.port_hi);
	} else {	/* an instance attached before NAT existed */
		out_null("snat_port_lo", NULL);
		out_null("snat_port_hi", NULL);
	}
	if (peers_read(dir, &p))
		p.n = 0;
	out_arr_open("peers");
	for (__u32 i = 0; i < p.n; i++)
		out_str(NULL, i ? ",%s" : "  peers %s", p.name[i]);
	out_arr_close();
}
