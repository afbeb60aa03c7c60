// SPDX-License-Identifier: GPL-2.0
/*
 * rtnetlink helpers on libmnl (see nl.h). Each call opens its own
 * NETLINK_ROUTE socket, sends one request and lets mnl_cb_run2() feed the
 * replies to a callback until the kernel's ACK or NLMSG_DONE, so calls share
 * no state and a half-read reply can never confuse the next one. Managed
 * neighbours are added the way `ip neigh add ADDR dev IF managed` does it:
 * state NUD_NONE, NTF_EXT_MANAGED in the u32 NDA_FLAGS_EXT attribute
 * (ndm_flags is 8 bits and full), NLM_F_CREATE|NLM_F_EXCL.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "nl.h"
#include "xlb_abi.h"

/* A dump part is at most 32 KiB (the kernel's cap on its dump skb size). */
#define NL_RCVBUF	32768
#define NL_REQ_SIZE	512	/* one request: headers and a few address attributes */
/* Managed entries of one address on several interfaces: release fallback. */
#define NL_MAX_IFACES	64
/* A dump the kernel marks interrupted (the table changed meanwhile) is asked again. */
#define NL_DUMP_TRIES	3

struct nl_req {
	char buf[NL_REQ_SIZE] __attribute__((aligned(NLMSG_ALIGNTO)));
	struct nlmsghdr *n;
};

/* Per reply message: 0, or -errno to stop with that error. */
typedef int (*nl_cb)(const struct nlmsghdr *n, void *arg);

struct nl_talk_ctx {
	nl_cb cb;
	void *arg;
	int err;	/* the callback's error */
};

struct nexthop {
	int family;		/* AF_INET or AF_INET6 */
	__u32 addr[4];
	int oif;
	__u8 type;		/* RTN_* of the route */
};

static int af_of(__u8 family)
{
	if (family == XLB_AF_INET)
		return AF_INET;
	if (family == XLB_AF_INET6)
		return AF_INET6;
	return -1;
}

static int af_len(int af)
{
	return af == AF_INET ? 4 : 16;
}

/* Starts a request of @type; returns its family header (@fam_len bytes, zeroed). */
static void *req_start(struct nl_req *r, __u16 type, __u16 flags, size_t fam_len)
{
	memset(r->buf, 0, sizeof(r->buf));
	r->n = mnl_nlmsg_put_header(r->buf);
	r->n->nlmsg_type = type;
	r->n->nlmsg_flags = flags;
	return mnl_nlmsg_put_extra_header(r->n, fam_len);
}

static int req_attr(struct nl_req *r, __u16 type, const void *data, size_t len)
{
	return mnl_attr_put_check(r->n, sizeof(r->buf), type, len, data) ? 0 : -EMSGSIZE;
}

struct attr_tb {
	const struct nlattr **tb;
	unsigned int max;
};

static int attr_cb(const struct nlattr *a, void *data)
{
	struct attr_tb *t = data;
	unsigned int type = mnl_attr_get_type(a);

	if (type <= t->max && !t->tb[type])
		t->tb[type] = a;
	return MNL_CB_OK;
}

/* The attributes after a @fam_len family header, first of each type, into tb[0..max]. */
static void parse_attrs(const struct nlmsghdr *n, size_t fam_len, const struct nlattr **tb,
			unsigned int max)
{
	struct attr_tb t = { tb, max };

	memset(tb, 0, sizeof(*tb) * (max + 1));
	mnl_attr_parse(n, fam_len, attr_cb, &t);
}

static int data_cb(const struct nlmsghdr *n, void *data)
{
	struct nl_talk_ctx *t = data;
	int err;

	if (!t->cb)
		return MNL_CB_OK;
	err = t->cb(n, t->arg);
	if (err) {
		t->err = err;
		return MNL_CB_ERROR;
	}
	return MNL_CB_OK;
}

/* The ACK (error 0) ends a request; another error is the kernel's answer. */
static int error_cb(const struct nlmsghdr *n, void *data)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(n);

	if (n->nlmsg_len < mnl_nlmsg_size(sizeof(*e))) {
		errno = EBADMSG;
		return MNL_CB_ERROR;
	}
	if (e->error) {
		errno = -e->error;
		return MNL_CB_ERROR;
	}
	return MNL_CB_STOP;
}

/* The end of a dump, which may carry the dump's error. */
static int done_cb(const struct nlmsghdr *n, void *data)
{
	const int *err = mnl_nlmsg_get_payload(n);

	if (n->nlmsg_len >= mnl_nlmsg_size(sizeof(*err)) && *err) {
		errno = -*err;
		return MNL_CB_ERROR;
	}
	return MNL_CB_STOP;
}

static int talk_once(struct nlmsghdr *req, bool dump, struct nl_talk_ctx *t)
{
	static mnl_cb_t ctl[NLMSG_MIN_TYPE] = {
		[NLMSG_ERROR] = error_cb,
		[NLMSG_DONE] = done_cb,
	};
	static unsigned int seq_base;
	char buf[NL_RCVBUF] __attribute__((aligned(NLMSG_ALIGNTO)));
	struct mnl_socket *nl;
	unsigned int portid, seq = ++seq_base;
	ssize_t len;
	int ret;

	nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!nl)
		return -errno;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		ret = -errno;
		goto out;
	}
	portid = mnl_socket_get_portid(nl);
	req->nlmsg_seq = seq;
	req->nlmsg_flags |= NLM_F_REQUEST | (dump ? 0 : NLM_F_ACK);
	if (mnl_socket_sendto(nl, req, req->nlmsg_len) < 0) {
		ret = -errno;
		goto out;
	}
	t->err = 0;
	do {
		len = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		if (len < 0) {
			if (errno == EINTR)
				continue;
			ret = -errno;
			goto out;
		}
		ret = mnl_cb_run2(buf, len, seq, portid, data_cb, t, ctl, NLMSG_MIN_TYPE);
	} while (ret > MNL_CB_STOP);
	ret = ret < 0 ? (t->err ?: -errno) : 0;
out:
	mnl_socket_close(nl);
	return ret;
}

/*
 * Sends @req and feeds every reply message to @cb (may be NULL) until the
 * ACK (requests) or NLMSG_DONE (dumps). Returns the kernel's error, @cb's
 * error, or 0.
 */
static int nl_talk(struct nlmsghdr *req, nl_cb cb, void *arg)
{
	struct nl_talk_ctx t = { .cb = cb, .arg = arg };
	/* As rtnetlink decides: NLM_F_DUMP shares bits with NLM_F_EXCL/CREATE,
	 * so it only means a dump on a GET request (type & 3 == 2). */
	bool dump = (req->nlmsg_type & 3) == 2 && (req->nlmsg_flags & NLM_F_DUMP);
	int ret;

	for (int i = 0; i < NL_DUMP_TRIES; i++) {
		ret = talk_once(req, dump, &t);
		/* libmnl reports NLM_F_DUMP_INTR as EINTR: the callback saw a partial table. */
		if (!(dump && ret == -EINTR && !t.err))
			break;
	}
	return ret;
}

/* RTM_GETLINK of one index: the kernel's -ENODEV if it does not exist. */
static int iface_check(int ifindex)
{
	struct nl_req req;
	struct ifinfomsg *ifi;
	int err;

	if (ifindex <= 0)
		return -ENODEV;
	ifi = req_start(&req, RTM_GETLINK, 0, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	err = nl_talk(req.n, NULL, NULL);
	return err == -ENODEV || err == -EINVAL ? -ENODEV : err;
}

struct addr_walk {
	int ifindex;
	bool global_only;	/* nl_iface_addrs: scope universe, first per family */
	__u32 *addr4;
	__u32 *addr6;
	bool have4, have6;
	__u32 (*addrs)[4];
	__u8 *families;
	int max, count;
};

static bool ipv6_link_local(const __u8 *a)
{
	return a[0] == 0xfe && (a[1] & 0xc0) == 0x80;
}

static int addr_cb(const struct nlmsghdr *n, void *arg)
{
	struct addr_walk *w = arg;
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(n);
	const struct nlattr *tb[IFA_MAX + 1];
	const struct nlattr *a;
	const void *data;
	__u32 flags;
	__u8 fam;

	if (n->nlmsg_type != RTM_NEWADDR || n->nlmsg_len < mnl_nlmsg_size(sizeof(*ifa)))
		return 0;
	if ((int)ifa->ifa_index != w->ifindex)
		return 0;
	if (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6)
		return 0;
	parse_attrs(n, sizeof(*ifa), tb, IFA_MAX);
	/* On point-to-point links IFA_ADDRESS is the peer; IFA_LOCAL is ours. */
	a = tb[IFA_LOCAL] ?: tb[IFA_ADDRESS];
	if (!a || mnl_attr_get_payload_len(a) < (unsigned int)af_len(ifa->ifa_family))
		return 0;
	data = mnl_attr_get_payload(a);
	flags = tb[IFA_FLAGS] && mnl_attr_get_payload_len(tb[IFA_FLAGS]) >= sizeof(__u32) ?
		mnl_attr_get_u32(tb[IFA_FLAGS]) : ifa->ifa_flags;
	if (flags & IFA_F_DADFAILED)
		return 0;
	fam = ifa->ifa_family == AF_INET ? XLB_AF_INET : XLB_AF_INET6;

	if (w->global_only) {
		if (ifa->ifa_scope != RT_SCOPE_UNIVERSE)
			return 0;
		if (fam == XLB_AF_INET && !w->have4) {
			memcpy(w->addr4, data, 4);
			w->have4 = true;
		} else if (fam == XLB_AF_INET6 && !w->have6) {
			memcpy(w->addr6, data, 16);
			w->have6 = true;
		}
		return 0;
	}
	if (ifa->ifa_scope == RT_SCOPE_HOST || ifa->ifa_scope == RT_SCOPE_NOWHERE)
		return 0;
	if (fam == XLB_AF_INET6 && ipv6_link_local(data))
		return 0;
	if (w->count >= w->max)
		return 0;
	memset(w->addrs[w->count], 0, sizeof(w->addrs[0]));
	memcpy(w->addrs[w->count], data, af_len(ifa->ifa_family));
	w->families[w->count] = fam;
	w->count++;
	return 0;
}

static int addr_dump(struct addr_walk *w)
{
	struct nl_req req;
	struct ifaddrmsg *ifa;
	int err = iface_check(w->ifindex);

	if (err)
		return err;
	ifa = req_start(&req, RTM_GETADDR, NLM_F_DUMP, sizeof(*ifa));
	ifa->ifa_family = AF_UNSPEC;
	return nl_talk(req.n, addr_cb, w);
}

int nl_iface_addrs(int ifindex, __u32 *addr4, __u32 addr6[4])
{
	__u32 a4 = 0, a6[4] = {};
	struct addr_walk w = { .ifindex = ifindex, .global_only = true,
			       .addr4 = &a4, .addr6 = a6 };
	int err = addr_dump(&w);

	if (err)
		return err;
	if (addr4)
		*addr4 = a4;
	if (addr6)
		memcpy(addr6, a6, sizeof(a6));
	return w.have4 || w.have6 ? 0 : -ENOENT;
}

int nl_iface_all_addrs(int ifindex, __u32 (*addrs)[4], __u8 *families, int max)
{
	struct addr_walk w = { .ifindex = ifindex, .addrs = addrs,
			       .families = families, .max = max };
	int err;

	if (max < 0 || (max && (!addrs || !families)))
		return -EINVAL;
	err = addr_dump(&w);
	return err ?: w.count;
}

static int route_cb(const struct nlmsghdr *n, void *arg)
{
	struct nexthop *nh = arg;
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(n);
	const struct nlattr *tb[RTA_MAX + 1];
	unsigned int len;

	if (n->nlmsg_type != RTM_NEWROUTE || n->nlmsg_len < mnl_nlmsg_size(sizeof(*rtm)))
		return 0;
	parse_attrs(n, sizeof(*rtm), tb, RTA_MAX);
	nh->type = rtm->rtm_type;
	if (tb[RTA_OIF] && mnl_attr_get_payload_len(tb[RTA_OIF]) >= sizeof(__u32))
		nh->oif = (int)mnl_attr_get_u32(tb[RTA_OIF]);
	if (tb[RTA_GATEWAY] &&
	    mnl_attr_get_payload_len(tb[RTA_GATEWAY]) == (unsigned int)af_len(rtm->rtm_family)) {
		memset(nh->addr, 0, sizeof(nh->addr));
		memcpy(nh->addr, mnl_attr_get_payload(tb[RTA_GATEWAY]), af_len(rtm->rtm_family));
		nh->family = rtm->rtm_family;
	} else if (tb[RTA_VIA]) {
		/* An IPv4 route through an IPv6 gateway (RFC 5549). */
		const struct rtvia *via = mnl_attr_get_payload(tb[RTA_VIA]);

		len = mnl_attr_get_payload_len(tb[RTA_VIA]);
		if (len < sizeof(*via) ||
		    (via->rtvia_family != AF_INET && via->rtvia_family != AF_INET6) ||
		    len < sizeof(*via) + af_len(via->rtvia_family))
			return -EAFNOSUPPORT;
		memset(nh->addr, 0, sizeof(nh->addr));
		memcpy(nh->addr, via->rtvia_addr, af_len(via->rtvia_family));
		nh->family = via->rtvia_family;
	}
	return 0;
}

/* The next hop the kernel would use towards @addr: gateway or @addr itself. */
static int route_get(int af, const __u32 addr[4], struct nexthop *nh)
{
	struct nl_req req;
	struct rtmsg *rtm;
	int err;

	memset(nh, 0, sizeof(*nh));
	nh->family = af;
	memcpy(nh->addr, addr, af_len(af));
	rtm = req_start(&req, RTM_GETROUTE, 0, sizeof(*rtm));
	rtm->rtm_family = af;
	rtm->rtm_dst_len = af_len(af) * 8;
	err = req_attr(&req, RTA_DST, addr, af_len(af));
	if (!err)
		err = nl_talk(req.n, route_cb, nh);
	if (err)
		return err;
	if (nh->type != RTN_UNICAST && nh->type != RTN_LOCAL)
		return -ENETUNREACH;
	return nh->oif > 0 ? 0 : -ENETUNREACH;
}

/* A neighbour request for @nh's address on its interface. */
static int neigh_req(struct nl_req *req, __u16 type, __u16 flags, const struct nexthop *nh,
		     struct ndmsg **ndm_out)
{
	struct ndmsg *ndm = req_start(req, type, flags, sizeof(*ndm));

	ndm->ndm_family = nh->family;
	ndm->ndm_ifindex = nh->oif;
	if (ndm_out)
		*ndm_out = ndm;
	return req_attr(req, NDA_DST, nh->addr, af_len(nh->family));
}

static int neigh_add_managed(const struct nexthop *nh)
{
	__u32 ext = NTF_EXT_MANAGED;
	struct nl_req req;
	struct ndmsg *ndm;
	int err;

	/* EXCL: an entry of any state, permanent ones included, stays as it is. */
	err = neigh_req(&req, RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_EXCL, nh, &ndm);
	ndm->ndm_state = NUD_NONE;
	if (!err)
		err = req_attr(&req, NDA_FLAGS_EXT, &ext, sizeof(ext));
	if (!err)
		err = nl_talk(req.n, NULL, NULL);
	return err == -EEXIST ? 0 : err;
}

static __u32 neigh_ext_flags(const struct nlattr *const *tb)
{
	if (!tb[NDA_FLAGS_EXT] || mnl_attr_get_payload_len(tb[NDA_FLAGS_EXT]) < sizeof(__u32))
		return 0;
	return mnl_attr_get_u32(tb[NDA_FLAGS_EXT]);
}

static int neigh_get_cb(const struct nlmsghdr *n, void *arg)
{
	const struct nlattr *tb[NDA_MAX + 1];

	if (n->nlmsg_type != RTM_NEWNEIGH || n->nlmsg_len < mnl_nlmsg_size(sizeof(struct ndmsg)))
		return 0;
	parse_attrs(n, sizeof(struct ndmsg), tb, NDA_MAX);
	*(bool *)arg = neigh_ext_flags(tb) & NTF_EXT_MANAGED;
	return 0;
}

static int neigh_del(const struct nexthop *nh)
{
	struct nl_req req;
	int err;

	err = neigh_req(&req, RTM_DELNEIGH, 0, nh, NULL);
	if (!err)
		err = nl_talk(req.n, NULL, NULL);
	return err == -ENOENT ? 0 : err;
}

static int neigh_release_one(const struct nexthop *nh)
{
	struct nl_req req;
	bool managed = false;
	int err;

	err = neigh_req(&req, RTM_GETNEIGH, 0, nh, NULL);
	if (!err)
		err = nl_talk(req.n, neigh_get_cb, &managed);
	if (err == -ENOENT)
		return 0;
	if (err)
		return err;
	return managed ? neigh_del(nh) : 0;
}

struct neigh_walk {
	const struct nexthop *nh;
	int ifindex[NL_MAX_IFACES];
	int count;
};

static int neigh_dump_cb(const struct nlmsghdr *n, void *arg)
{
	struct neigh_walk *w = arg;
	const struct ndmsg *ndm = mnl_nlmsg_get_payload(n);
	const struct nlattr *tb[NDA_MAX + 1];
	unsigned int len = af_len(w->nh->family);

	if (n->nlmsg_type != RTM_NEWNEIGH || n->nlmsg_len < mnl_nlmsg_size(sizeof(*ndm)))
		return 0;
	if (ndm->ndm_family != w->nh->family || w->count >= NL_MAX_IFACES)
		return 0;
	parse_attrs(n, sizeof(*ndm), tb, NDA_MAX);
	if (!tb[NDA_DST] || mnl_attr_get_payload_len(tb[NDA_DST]) != len ||
	    memcmp(mnl_attr_get_payload(tb[NDA_DST]), w->nh->addr, len))
		return 0;
	if (neigh_ext_flags(tb) & NTF_EXT_MANAGED)
		w->ifindex[w->count++] = ndm->ndm_ifindex;
	return 0;
}

/* No route left to tell the next hop: drop managed entries of @addr itself. */
static int neigh_release_orphans(const struct nexthop *addr)
{
	struct neigh_walk w = { .nh = addr };
	struct nl_req req;
	struct ndmsg *ndm;
	int err;

	ndm = req_start(&req, RTM_GETNEIGH, NLM_F_DUMP, sizeof(*ndm));
	ndm->ndm_family = addr->family;
	err = nl_talk(req.n, neigh_dump_cb, &w);
	for (int i = 0; !err && i < w.count; i++) {
		struct nexthop nh = *addr;

		nh.oif = w.ifindex[i];
		err = neigh_del(&nh);
	}
	return err;
}

int nl_neigh_ensure(__u8 family, const __u32 addr[4], int *oif_out)
{
	struct nexthop nh;
	int af = af_of(family);
	int err;

	if (af < 0 || !addr)
		return -EAFNOSUPPORT;
	err = route_get(af, addr, &nh);
	if (err)
		return err;
	if (oif_out)
		*oif_out = nh.oif;
	/* Delivered locally: there is no next hop to resolve. */
	if (nh.type == RTN_LOCAL)
		return 0;
	return neigh_add_managed(&nh);
}

int nl_neigh_release(__u8 family, const __u32 addr[4])
{
	struct nexthop nh;
	int af = af_of(family);
	int err;

	if (af < 0 || !addr)
		return -EAFNOSUPPORT;
	err = route_get(af, addr, &nh);
	if (err) {
		memset(&nh, 0, sizeof(nh));
		nh.family = af;
		memcpy(nh.addr, addr, af_len(af));
		return neigh_release_orphans(&nh);
	}
	if (nh.type == RTN_LOCAL)
		return 0;
	return neigh_release_one(&nh);
}
