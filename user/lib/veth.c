// SPDX-License-Identifier: GPL-2.0
/*
 * The veth peer fixes of xlb attach (see veth.h). The peer is found by the
 * ethtool statistic "peer_ifindex" and, when it lives in another network
 * namespace, by matching that namespace's id (IFLA_LINK_NETNSID of our end)
 * against the namespaces named in /run/netns. The work in another namespace
 * runs in a child process, so this process never changes namespace.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <linux/ethtool.h>
#include <linux/if_link.h>
#include <linux/net_namespace.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sockios.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "veth.h"
#include "pass.skel.h"
#include "util.h"

#define NETNS_RUN_DIR	"/run/netns"
#define PASS_PROG_NAME	"xlb_pass"
#define NLBUF		8192

/* What the child did in the peer's namespace, as its exit status. */
enum { PEER_FIXED = 0, PEER_FINE = 1, PEER_FAILED = 2, PEER_MISSING = 3 };

static int ethtool(int sock, const char *ifname, void *cmd)
{
	struct ifreq ifr = {};

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_data = cmd;
	return ioctl(sock, SIOCETHTOOL, &ifr);
}

static bool is_veth(int sock, const char *ifname)
{
	struct ethtool_drvinfo di = { .cmd = ETHTOOL_GDRVINFO };

	return !ethtool(sock, ifname, &di) && !strcmp(di.driver, "veth");
}

/* The veth statistic "peer_ifindex" of @ifname, or 0. */
static int veth_peer_index(int sock, const char *ifname)
{
	struct { struct ethtool_sset_info hdr; __u32 len; } ss = {
		.hdr = { .cmd = ETHTOOL_GSSET_INFO, .sset_mask = 1ULL << ETH_SS_STATS },
	};
	struct ethtool_gstrings *names = NULL;
	struct ethtool_stats *vals = NULL;
	int peer = 0;
	__u32 n;

	if (ethtool(sock, ifname, &ss) || !(ss.hdr.sset_mask & (1ULL << ETH_SS_STATS)))
		return 0;
	n = ss.len;
	names = calloc(1, sizeof(*names) + n * ETH_GSTRING_LEN);
	vals = calloc(1, sizeof(*vals) + n * sizeof(__u64));
	if (!names || !vals)
		goto out;
	names->cmd = ETHTOOL_GSTRINGS;
	names->string_set = ETH_SS_STATS;
	names->len = n;
	vals->cmd = ETHTOOL_GSTATS;
	vals->n_stats = n;
	if (ethtool(sock, ifname, names) || ethtool(sock, ifname, vals))
		goto out;
	for (__u32 i = 0; i < n; i++)
		if (!strncmp((char *)names->data + i * ETH_GSTRING_LEN, "peer_ifindex",
			     ETH_GSTRING_LEN))
			peer = vals->data[i];
out:
	free(names);
	free(vals);
	return peer;
}

/* One netlink request on a fresh socket; the answer in @buf. Length or -errno. */
static int nl_request(struct nlmsghdr *req, char *buf, size_t len)
{
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE), n;

	if (fd < 0)
		return -errno;
	n = send(fd, req, req->nlmsg_len, 0) < 0 ? -errno : recv(fd, buf, len, 0);
	if (n < 0 && n != -errno)
		n = -errno;
	close(fd);
	return n;
}

static struct rtattr *attr_find(struct rtattr *rta, int len, int type)
{
	for (; RTA_OK(rta, len); rta = RTA_NEXT(rta, len))
		if (rta->rta_type == type)
			return rta;
	return NULL;
}

/* IFLA_LINK_NETNSID of @ifindex: the peer's namespace id, -1 when it is ours. */
static int link_netnsid(int ifindex)
{
	struct { struct nlmsghdr nh; struct ifinfomsg ifi; } req = {
		.nh = { .nlmsg_len = sizeof(req), .nlmsg_type = RTM_GETLINK,
			.nlmsg_flags = NLM_F_REQUEST },
		.ifi = { .ifi_family = AF_UNSPEC, .ifi_index = ifindex },
	};
	char buf[NLBUF];
	struct nlmsghdr *nh = (void *)buf;
	struct rtattr *a;
	int n = nl_request(&req.nh, buf, sizeof(buf));

	if (n < (int)sizeof(*nh) || !NLMSG_OK(nh, (__u32)n) || nh->nlmsg_type != RTM_NEWLINK)
		return -1;
	a = attr_find(IFLA_RTA((struct ifinfomsg *)NLMSG_DATA(nh)), IFLA_PAYLOAD(nh),
		      IFLA_LINK_NETNSID);
	return a ? *(__s32 *)RTA_DATA(a) : -1;
}

/* The id this namespace gives the namespace open as @nsfd, or -1. */
static int netns_id_of(int nsfd)
{
	struct { struct nlmsghdr nh; struct rtgenmsg g; char pad[3]; struct rtattr a; __u32 fd; }
		req = {
		.nh = { .nlmsg_len = sizeof(req), .nlmsg_type = RTM_GETNSID,
			.nlmsg_flags = NLM_F_REQUEST },
		.g = { .rtgen_family = AF_UNSPEC },
		.a = { .rta_len = RTA_LENGTH(sizeof(__u32)), .rta_type = NETNSA_FD },
		.fd = nsfd,
	};
	char buf[NLBUF];
	struct nlmsghdr *nh = (void *)buf;
	struct rtattr *a;
	int n = nl_request(&req.nh, buf, sizeof(buf));

	if (n < (int)sizeof(*nh) || !NLMSG_OK(nh, (__u32)n) || nh->nlmsg_type != RTM_NEWNSID)
		return -1;
	a = attr_find((struct rtattr *)((char *)NLMSG_DATA(nh) + NLMSG_ALIGN(sizeof(struct rtgenmsg))),
		      nh->nlmsg_len - NLMSG_LENGTH(NLMSG_ALIGN(sizeof(struct rtgenmsg))), NETNSA_NSID);
	return a ? *(__s32 *)RTA_DATA(a) : -1;
}

/*
 * In the peer's namespace: give @peer (index) what it lacks. With @release,
 * take our pass program off it instead.
 */
static int peer_apply(int peer, bool release)
{
	struct ethtool_value tx = { .cmd = ETHTOOL_GTXCSUM };
	char name[IF_NAMESIZE];
	struct bpf_prog_info info = {};
	__u32 id = 0, len = sizeof(info);
	struct pass_bpf *skel;
	int sock, fd, ret = PEER_FINE;

	if (!if_indextoname(peer, name))
		return PEER_MISSING;
	if (bpf_xdp_query_id(peer, 0, &id))
		id = 0;
	if (release) {
		fd = id ? bpf_prog_get_fd_by_id(id) : -1;
		if (fd >= 0 && !bpf_obj_get_info_by_fd(fd, &info, &len) &&
		    !strcmp(info.name, PASS_PROG_NAME))
			bpf_xdp_detach(peer, 0, NULL);
		if (fd >= 0)
			close(fd);
		return PEER_FINE;
	}
	sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (sock < 0)
		return PEER_FAILED;
	if (!ethtool(sock, name, &tx) && tx.data) {
		tx.cmd = ETHTOOL_STXCSUM;
		tx.data = 0;
		ret = ethtool(sock, name, &tx) ? PEER_FAILED : PEER_FIXED;
	}
	close(sock);
	if (ret == PEER_FAILED || id)
		return ret;
	skel = pass_bpf__open_and_load();
	if (!skel)
		return PEER_FAILED;
	ret = bpf_xdp_attach(peer, bpf_program__fd(skel->progs.xlb_pass), XDP_FLAGS_DRV_MODE,
			     NULL) ? PEER_FAILED : PEER_FIXED;
	pass_bpf__destroy(skel);
	return ret;
}

/*
 * Find the namespace of @ifindex's peer among /run/netns (the one whose id
 * here is @nsid) and run peer_apply() there, in a child. Its status, and the
 * namespace's name in @ns.
 */
static int peer_apply_elsewhere(int nsid, int peer, bool release, char *ns, size_t len)
{
	struct dirent *de;
	int status = PEER_MISSING;
	DIR *d = opendir(NETNS_RUN_DIR);
	char path[300];

	while (d && (de = readdir(d)) && status == PEER_MISSING) {
		int fd;
		pid_t pid;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", NETNS_RUN_DIR, de->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (netns_id_of(fd) != nsid) {
			close(fd);
			continue;
		}
		snprintf(ns, len, "%s", de->d_name);
		pid = fork();
		if (pid == 0)
			_exit(setns(fd, CLONE_NEWNET) ? PEER_FAILED : peer_apply(peer, release));
		close(fd);
		if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status))
			status = PEER_FAILED;
		else
			status = WEXITSTATUS(status);
	}
	if (d)
		closedir(d);
	return status;
}

/* Find @iface's veth peer and apply; the outcome, the peer's index and namespace. */
static int peer_do(const char *iface, int ifindex, bool release, int *peer, char *ns, size_t len)
{
	int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), nsid;

	*peer = 0;
	if (sock >= 0 && is_veth(sock, iface))
		*peer = veth_peer_index(sock, iface);
	if (sock >= 0)
		close(sock);
	if (!*peer)
		return -1;	/* not a veth: nothing to do */
	nsid = link_netnsid(ifindex);
	if (nsid < 0) {
		snprintf(ns, len, "this network namespace");
		return peer_apply(*peer, release);
	}
	return peer_apply_elsewhere(nsid, *peer, release, ns, len);
}

void veth_peer_fix(const char *iface, int ifindex)
{
	char ns[300] = "";
	int peer, r = peer_do(iface, ifindex, false, &peer, ns, sizeof(ns));

	if (r == PEER_FIXED)
		xlb_warn("%s is a veth: gave its peer (ifindex %d in %s) an XDP pass program and "
			 "tx checksumming off, which XDP_TX and local senders need", iface, peer,
			 ns);
	else if (r == PEER_FAILED || r == PEER_MISSING)
		xlb_warn("%s is a veth whose peer (ifindex %d, %s) xlb cannot change: give it an XDP "
			 "program and tx checksumming off (ethtool -K PEER tx off), or forwarded "
			 "frames stall and local senders' checksums stay unfinished", iface, peer,
			 ns[0] ? ns : "in a namespace not under " NETNS_RUN_DIR);
}

void veth_peer_release(const char *iface, int ifindex)
{
	char ns[300];
	int peer;

	peer_do(iface, ifindex, true, &peer, ns, sizeof(ns));
}
