// SPDX-License-Identifier: GPL-2.0
/*
 * Reading the host's VLAN devices into vlan_ifs (see vlanifs.h): one
 * RTM_GETLINK dump on a socket of its own, each link whose kind is "vlan"
 * kept with its IFLA_LINK and IFLA_VLAN_ID, then the map made equal to
 * that set. Self-contained rather than in nl.c, whose helpers are private.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <bpf/bpf.h>

#include "xlb_abi.h"
#include "vlanifs.h"

#define VL_RCVBUF	32768	/* a dump part is at most 32 KiB */
#define VL_KIND		"vlan"

struct vlan_dev {
	__u32 ifindex;
	struct xlb_vlan_if v;
};

struct vlan_set {
	struct vlan_dev *d;
	size_t n, cap;
};

static void attrs(struct rtattr **tb, int max, struct rtattr *rta, int len)
{
	memset(tb, 0, sizeof(*tb) * (max + 1));
	for (; RTA_OK(rta, len); rta = RTA_NEXT(rta, len))
		if (rta->rta_type <= max && !tb[rta->rta_type])
			tb[rta->rta_type] = rta;
}

/* The VLAN device one RTM_NEWLINK describes, if it is one we can tag for. */
static bool link_vlan(const struct nlmsghdr *n, struct vlan_dev *out)
{
	struct rtattr *tb[IFLA_MAX + 1], *li[IFLA_INFO_MAX + 1], *vd[IFLA_VLAN_MAX + 1];
	const struct ifinfomsg *ifi = NLMSG_DATA(n);
	int len = n->nlmsg_len - NLMSG_LENGTH(sizeof(*ifi));

	if (n->nlmsg_type != RTM_NEWLINK || len < 0)
		return false;
	attrs(tb, IFLA_MAX, IFLA_RTA(ifi), len);
	/* A lower device in another namespace is no device XDP here can send on. */
	if (!tb[IFLA_LINKINFO] || !tb[IFLA_LINK] || tb[IFLA_LINK_NETNSID])
		return false;
	attrs(li, IFLA_INFO_MAX, RTA_DATA(tb[IFLA_LINKINFO]), RTA_PAYLOAD(tb[IFLA_LINKINFO]));
	if (!li[IFLA_INFO_KIND] || !li[IFLA_INFO_DATA] ||
	    strncmp(RTA_DATA(li[IFLA_INFO_KIND]), VL_KIND, RTA_PAYLOAD(li[IFLA_INFO_KIND])))
		return false;
	attrs(vd, IFLA_VLAN_MAX, RTA_DATA(li[IFLA_INFO_DATA]), RTA_PAYLOAD(li[IFLA_INFO_DATA]));
	if (!vd[IFLA_VLAN_ID])
		return false;
	if (vd[IFLA_VLAN_PROTOCOL] &&
	    *(__be16 *)RTA_DATA(vd[IFLA_VLAN_PROTOCOL]) != htons(ETH_P_8021Q))
		return false;
	out->ifindex = ifi->ifi_index;
	out->v = (struct xlb_vlan_if){ .lower_ifindex = *(__u32 *)RTA_DATA(tb[IFLA_LINK]),
				       .vid = *(__u16 *)RTA_DATA(vd[IFLA_VLAN_ID]) };
	return true;
}

static int set_add(struct vlan_set *s, const struct vlan_dev *d)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 16;
		void *p = realloc(s->d, cap * sizeof(*s->d));

		if (!p)
			return -ENOMEM;
		s->d = p;
		s->cap = cap;
	}
	s->d[s->n++] = *d;
	return 0;
}

/* One reply part: 1 when the dump is over, 0 for more, -errno. */
static int dump_part(const char *buf, ssize_t len, __u32 seq, struct vlan_set *s)
{
	const struct nlmsghdr *n;
	struct vlan_dev d;

	for (n = (const void *)buf; NLMSG_OK(n, len); n = NLMSG_NEXT(n, len)) {
		if (n->nlmsg_seq != seq)
			continue;
		if (n->nlmsg_type == NLMSG_DONE)
			return 1;
		if (n->nlmsg_type == NLMSG_ERROR) {
			const struct nlmsgerr *e = NLMSG_DATA(n);

			return e->error ? e->error : -EBADMSG;
		}
		if (link_vlan(n, &d) && set_add(s, &d))
			return -ENOMEM;
	}
	return 0;
}

/* Every VLAN device of this namespace into @s; 0 or -errno. */
static int vlan_dump(struct vlan_set *s)
{
	struct {
		struct nlmsghdr n;
		struct ifinfomsg ifi;
	} req = {
		.n = { .nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg)),
		       .nlmsg_type = RTM_GETLINK, .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
		       .nlmsg_seq = (__u32)getpid() },
		.ifi = { .ifi_family = AF_UNSPEC },
	};
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	char buf[VL_RCVBUF] __attribute__((aligned(NLMSG_ALIGNTO)));
	int fd, ret = 0;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	if (sendto(fd, &req, req.n.nlmsg_len, 0, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		ret = -errno;
	while (!ret) {
		struct iovec iov = { buf, sizeof(buf) };
		struct msghdr msg = { .msg_name = &sa, .msg_namelen = sizeof(sa),
				      .msg_iov = &iov, .msg_iovlen = 1 };
		ssize_t len = recvmsg(fd, &msg, 0);

		if (len < 0 && errno == EINTR)
			continue;
		if (len < 0)
			ret = -errno;
		else if (msg.msg_flags & MSG_TRUNC)
			ret = -EMSGSIZE;
		else
			ret = dump_part(buf, len, req.n.nlmsg_seq, s);
	}
	close(fd);
	return ret < 0 ? ret : 0;
}

static bool set_has(const struct vlan_set *s, __u32 ifindex)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->d[i].ifindex == ifindex)
			return true;
	return false;
}

/* Write @s into @fd and delete what it does not have; 0 or -errno. */
static int map_reconcile(int fd, const struct vlan_set *s)
{
	__u32 cur, next, *gone = NULL;
	size_t ngone = 0;
	void *prev = NULL;
	int ret = 0;

	for (size_t i = 0; i < s->n && !ret; i++)
		if (bpf_map_update_elem(fd, &s->d[i].ifindex, &s->d[i].v, BPF_ANY))
			ret = -errno;
	while (!ret && !bpf_map_get_next_key(fd, prev, &next)) {
		cur = next;
		prev = &cur;
		if (set_has(s, cur))
			continue;
		__u32 *g = realloc(gone, (ngone + 1) * sizeof(*gone));

		if (!g) {
			ret = -ENOMEM;
			break;
		}
		gone = g;
		gone[ngone++] = cur;
	}
	for (size_t i = 0; i < ngone && !ret; i++)
		if (bpf_map_delete_elem(fd, &gone[i]) && errno != ENOENT)
			ret = -errno;
	free(gone);
	return ret;
}

int vlan_ifs_reconcile(int fd)
{
	struct vlan_set s = {};
	int ret = vlan_dump(&s);

	if (!ret)
		ret = map_reconcile(fd, &s);
	free(s.d);
	if (ret) {
		errno = -ret;
		return -1;
	}
	return 0;
}

int vlan_ifs_sync(const struct xlb_inst *in)
{
	char path[256];
	int fd, ret;

	snprintf(path, sizeof(path), "%s/vlan_ifs", in->dir);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return errno == ENOENT ? 0 : -1;	/* ENOENT: an xlb without vlan_ifs */
	ret = vlan_ifs_reconcile(fd);
	close(fd);
	return ret;
}
