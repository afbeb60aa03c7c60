// SPDX-License-Identifier: GPL-2.0
/*
 * Raw rtnetlink helpers (see nl.h). Each call opens its own NETLINK_ROUTE
 * socket, sends one request and reads until the kernel's ACK or NLMSG_DONE,
 * so calls share no state and a half-read reply can never confuse the next
 * one. Managed neighbours are added the way `ip neigh add ADDR dev IF
 * managed` does it: state NUD_NONE, NTF_EXT_MANAGED in the u32 NDA_FLAGS_EXT
 * attribute (ndm_flags is 8 bits and full), NLM_F_CREATE|NLM_F_EXCL.
 */
#include <errno.h>
#include <net/if.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/if_addr.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "nl.h"
#include "xlb_abi.h"

/* A dump part is at most 32 KiB (the kernel's cap on its dump skb size). */
#define NL_RCVBUF	32768
#define NL_REQ_ATTRS	256
/* Managed entries of one address on several interfaces: release fallback. */
#define NL_MAX_IFACES	64

struct nl_req {
	struct nlmsghdr n;
	union {
		struct ifaddrmsg ifa;
		struct rtmsg rtm;
		struct ndmsg ndm;
	};
	char attrs[NL_REQ_ATTRS];
};

typedef int (*nl_cb)(const struct nlmsghdr *n, void *arg);

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

static int add_attr(struct nl_req *req, int type, const void *data, int len)
{
	unsigned int off = NLMSG_ALIGN(req->n.nlmsg_len);
	int rtlen = RTA_LENGTH(len);
	struct rtattr *rta;

	if (off + RTA_ALIGN(rtlen) > sizeof(*req))
		return -EMSGSIZE;
	rta = (struct rtattr *)((char *)req + off);
	rta->rta_type = type;
	rta->rta_len = rtlen;
	memcpy(RTA_DATA(rta), data, len);
	req->n.nlmsg_len = off + RTA_ALIGN(rtlen);
	return 0;
}

static void parse_attrs(struct rtattr **tb, int max, struct rtattr *rta, int len)
{
	memset(tb, 0, sizeof(*tb) * (max + 1));
	for (; RTA_OK(rta, len); rta = RTA_NEXT(rta, len))
		if (rta->rta_type <= max && !tb[rta->rta_type])
			tb[rta->rta_type] = rta;
}

/*
 * Sends @req and feeds every reply message to @cb until the ACK (requests)
 * or NLMSG_DONE (dumps). Returns the kernel's error, @cb's first error, or 0.
 */
static int nl_talk(struct nlmsghdr *req, nl_cb cb, void *arg)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	static __u32 seq_base;
	__u32 seq = ++seq_base ^ (__u32)getpid() << 16;
	/* As rtnetlink decides: NLM_F_DUMP shares bits with NLM_F_EXCL/CREATE,
	 * so it only means a dump on a GET request (type & 3 == 2). */
	bool dump = (req->nlmsg_type & 3) == 2 && (req->nlmsg_flags & NLM_F_DUMP);
	char buf[NL_RCVBUF] __attribute__((aligned(NLMSG_ALIGNTO)));
	int fd, ret = 0;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	req->nlmsg_seq = seq;
	req->nlmsg_flags |= NLM_F_REQUEST | (dump ? 0 : NLM_F_ACK);
	if (sendto(fd, req, req->nlmsg_len, 0, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		ret = -errno;
		goto out;
	}
	for (;;) {
		struct iovec iov = { buf, sizeof(buf) };
		struct msghdr msg = { .msg_name = &sa, .msg_namelen = sizeof(sa),
				      .msg_iov = &iov, .msg_iovlen = 1 };
		struct nlmsghdr *n;
		ssize_t len = recvmsg(fd, &msg, 0);

		if (len < 0) {
			if (errno == EINTR)
				continue;
			ret = -errno;
			goto out;
		}
		if (msg.msg_flags & MSG_TRUNC) {
			ret = -EMSGSIZE;
			goto out;
		}
		for (n = (struct nlmsghdr *)buf; NLMSG_OK(n, len); n = NLMSG_NEXT(n, len)) {
			if (n->nlmsg_seq != seq)
				continue;
			if (n->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *e = NLMSG_DATA(n);

				if (n->nlmsg_len < NLMSG_LENGTH(sizeof(*e)))
					ret = ret ?: -EBADMSG;
				else
					ret = ret ?: e->error;
				goto out;
			}
			if (n->nlmsg_type == NLMSG_DONE) {
				if (n->nlmsg_len >= NLMSG_LENGTH(sizeof(int)))
					ret = ret ?: *(int *)NLMSG_DATA(n);
				goto out;
			}
			if (cb && !ret)
				ret = cb(n, arg);
		}
	}
out:
	close(fd);
	return ret;
}

static int iface_check(int ifindex)
{
	char name[IF_NAMESIZE];

	if (ifindex <= 0 || !if_indextoname(ifindex, name))
		return -ENODEV;
	return 0;
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
	struct ifaddrmsg *ifa = NLMSG_DATA(n);
	struct rtattr *tb[IFA_MAX + 1];
	struct rtattr *a;
	__u32 flags;
	__u8 fam;

	if (n->nlmsg_type != RTM_NEWADDR || n->nlmsg_len < NLMSG_LENGTH(sizeof(*ifa)))
		return 0;
	if ((int)ifa->ifa_index != w->ifindex)
		return 0;
	if (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6)
		return 0;
	parse_attrs(tb, IFA_MAX, IFA_RTA(ifa), IFA_PAYLOAD(n));
	/* On point-to-point links IFA_ADDRESS is the peer; IFA_LOCAL is ours. */
	a = tb[IFA_LOCAL] ?: tb[IFA_ADDRESS];
	if (!a || RTA_PAYLOAD(a) < (unsigned int)af_len(ifa->ifa_family))
		return 0;
	flags = tb[IFA_FLAGS] ? *(__u32 *)RTA_DATA(tb[IFA_FLAGS]) : ifa->ifa_flags;
	if (flags & IFA_F_DADFAILED)
		return 0;
	fam = ifa->ifa_family == AF_INET ? XLB_AF_INET : XLB_AF_INET6;

	if (w->global_only) {
		if (ifa->ifa_scope != RT_SCOPE_UNIVERSE)
			return 0;
		if (fam == XLB_AF_INET && !w->have4) {
			memcpy(w->addr4, RTA_DATA(a), 4);
			w->have4 = true;
		} else if (fam == XLB_AF_INET6 && !w->have6) {
			memcpy(w->addr6, RTA_DATA(a), 16);
			w->have6 = true;
		}
		return 0;
	}
	if (ifa->ifa_scope == RT_SCOPE_HOST || ifa->ifa_scope == RT_SCOPE_NOWHERE)
		return 0;
	if (fam == XLB_AF_INET6 && ipv6_link_local(RTA_DATA(a)))
		return 0;
	if (w->count >= w->max)
		return 0;
	memset(w->addrs[w->count], 0, sizeof(w->addrs[0]));
	memcpy(w->addrs[w->count], RTA_DATA(a), af_len(ifa->ifa_family));
	w->families[w->count] = fam;
	w->count++;
	return 0;
}

static int addr_dump(struct addr_walk *w)
{
	struct nl_req req = {
		.n.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifaddrmsg)),
		.n.nlmsg_type = RTM_GETADDR,
		.n.nlmsg_flags = NLM_F_DUMP,
		.ifa.ifa_family = AF_UNSPEC,
	};
	int err = iface_check(w->ifindex);

	return err ?: nl_talk(&req.n, addr_cb, w);
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
	struct rtmsg *rtm = NLMSG_DATA(n);
	struct rtattr *tb[RTA_MAX + 1];

	if (n->nlmsg_type != RTM_NEWROUTE || n->nlmsg_len < NLMSG_LENGTH(sizeof(*rtm)))
		return 0;
	parse_attrs(tb, RTA_MAX, RTM_RTA(rtm), RTM_PAYLOAD(n));
	nh->type = rtm->rtm_type;
	if (tb[RTA_OIF])
		nh->oif = *(int *)RTA_DATA(tb[RTA_OIF]);
	if (tb[RTA_GATEWAY] && RTA_PAYLOAD(tb[RTA_GATEWAY]) == (unsigned int)af_len(rtm->rtm_family)) {
		memset(nh->addr, 0, sizeof(nh->addr));
		memcpy(nh->addr, RTA_DATA(tb[RTA_GATEWAY]), af_len(rtm->rtm_family));
		nh->family = rtm->rtm_family;
	} else if (tb[RTA_VIA]) {
		/* An IPv4 route through an IPv6 gateway (RFC 5549). */
		struct rtvia *via = RTA_DATA(tb[RTA_VIA]);
		unsigned int len = RTA_PAYLOAD(tb[RTA_VIA]);

		if ((via->rtvia_family != AF_INET && via->rtvia_family != AF_INET6) ||
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
	struct nl_req req = {
		.n.nlmsg_len = NLMSG_LENGTH(sizeof(struct rtmsg)),
		.n.nlmsg_type = RTM_GETROUTE,
		.rtm.rtm_family = af,
		.rtm.rtm_dst_len = af_len(af) * 8,
	};
	int err;

	memset(nh, 0, sizeof(*nh));
	nh->family = af;
	memcpy(nh->addr, addr, af_len(af));
	err = add_attr(&req, RTA_DST, addr, af_len(af));
	if (!err)
		err = nl_talk(&req.n, route_cb, nh);
	if (err)
		return err;
	if (nh->type != RTN_UNICAST && nh->type != RTN_LOCAL)
		return -ENETUNREACH;
	return nh->oif > 0 ? 0 : -ENETUNREACH;
}

static void neigh_req(struct nl_req *req, int type, const struct nexthop *nh)
{
	memset(req, 0, sizeof(*req));
	req->n.nlmsg_len = NLMSG_LENGTH(sizeof(struct ndmsg));
	req->n.nlmsg_type = type;
	req->ndm.ndm_family = nh->family;
	req->ndm.ndm_ifindex = nh->oif;
}

static int neigh_add_managed(const struct nexthop *nh)
{
	__u32 ext = NTF_EXT_MANAGED;
	struct nl_req req;
	int err;

	neigh_req(&req, RTM_NEWNEIGH, nh);
	/* EXCL: an entry of any state, permanent ones included, stays as it is. */
	req.n.nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
	req.ndm.ndm_state = NUD_NONE;
	err = add_attr(&req, NDA_DST, nh->addr, af_len(nh->family));
	if (!err)
		err = add_attr(&req, NDA_FLAGS_EXT, &ext, sizeof(ext));
	if (!err)
		err = nl_talk(&req.n, NULL, NULL);
	return err == -EEXIST ? 0 : err;
}

static __u32 neigh_ext_flags(const struct nlmsghdr *n)
{
	struct ndmsg *ndm = NLMSG_DATA(n);
	struct rtattr *tb[NDA_MAX + 1];

	parse_attrs(tb, NDA_MAX, (struct rtattr *)((char *)ndm + NLMSG_ALIGN(sizeof(*ndm))),
		    n->nlmsg_len - NLMSG_LENGTH(sizeof(*ndm)));
	if (!tb[NDA_FLAGS_EXT] || RTA_PAYLOAD(tb[NDA_FLAGS_EXT]) < sizeof(__u32))
		return 0;
	return *(__u32 *)RTA_DATA(tb[NDA_FLAGS_EXT]);
}

static int neigh_get_cb(const struct nlmsghdr *n, void *arg)
{
	if (n->nlmsg_type == RTM_NEWNEIGH && n->nlmsg_len >= NLMSG_LENGTH(sizeof(struct ndmsg)))
		*(bool *)arg = neigh_ext_flags(n) & NTF_EXT_MANAGED;
	return 0;
}

static int neigh_del(const struct nexthop *nh)
{
	struct nl_req req;
	int err;

	neigh_req(&req, RTM_DELNEIGH, nh);
	err = add_attr(&req, NDA_DST, nh->addr, af_len(nh->family));
	if (!err)
		err = nl_talk(&req.n, NULL, NULL);
	return err == -ENOENT ? 0 : err;
}

static int neigh_release_one(const struct nexthop *nh)
{
	struct nl_req req;
	bool managed = false;
	int err;

	neigh_req(&req, RTM_GETNEIGH, nh);
	err = add_attr(&req, NDA_DST, nh->addr, af_len(nh->family));
	if (!err)
		err = nl_talk(&req.n, neigh_get_cb, &managed);
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
	struct ndmsg *ndm = NLMSG_DATA(n);
	struct rtattr *tb[NDA_MAX + 1];
	int len = af_len(w->nh->family);

	if (n->nlmsg_type != RTM_NEWNEIGH || n->nlmsg_len < NLMSG_LENGTH(sizeof(*ndm)))
		return 0;
	if (ndm->ndm_family != w->nh->family || w->count >= NL_MAX_IFACES)
		return 0;
	parse_attrs(tb, NDA_MAX, (struct rtattr *)((char *)ndm + NLMSG_ALIGN(sizeof(*ndm))),
		    n->nlmsg_len - NLMSG_LENGTH(sizeof(*ndm)));
	if (!tb[NDA_DST] || RTA_PAYLOAD(tb[NDA_DST]) != (unsigned int)len ||
	    memcmp(RTA_DATA(tb[NDA_DST]), w->nh->addr, len))
		return 0;
	if (neigh_ext_flags(n) & NTF_EXT_MANAGED)
		w->ifindex[w->count++] = ndm->ndm_ifindex;
	return 0;
}

/* No route left to tell the next hop: drop managed entries of @addr itself. */
static int neigh_release_orphans(const struct nexthop *addr)
{
	struct nl_req req = {
		.n.nlmsg_len = NLMSG_LENGTH(sizeof(struct ndmsg)),
		.n.nlmsg_type = RTM_GETNEIGH,
		.n.nlmsg_flags = NLM_F_DUMP,
		.ndm.ndm_family = addr->family,
	};
	struct neigh_walk w = { .nh = addr };
	int err = nl_talk(&req.n, neigh_dump_cb, &w);

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
