/* SPDX-License-Identifier: GPL-2.0 */
/*
 * rtnetlink helpers (on libmnl) for the control plane: an interface's
 * addresses, and kernel-managed neighbour entries for the next hops the data
 * plane forwards to. bpf_fib_lookup() answers NO_NEIGH until the next hop's
 * neighbour entry is resolved, and XDP cannot trigger resolution itself, so
 * the control plane asks the kernel to keep those entries resolved
 * (NTF_EXT_MANAGED, >= 5.16).
 *
 * Netlink sockets only (links, addresses, routes, neighbours): no /sys, so
 * everything works in a namespace entered with setns()/nsenter, whose /sys
 * may belong to another.
 * Addresses are four words in network byte order (IPv4 in word 0, words 1..3
 * zero); family is XLB_AF_INET or XLB_AF_INET6. Every function returns 0 (or
 * a count) on success, -errno on failure, and prints nothing.
 */
#ifndef XLB_NL_H
#define XLB_NL_H

#include <linux/types.h>

/*
 * The first global (scope universe) IPv4 and IPv6 addresses of @ifindex; a
 * missing family is left all-zero. Returns 0 if at least one was found,
 * -ENOENT if none, -ENODEV if there is no such interface.
 */
int nl_iface_addrs(int ifindex, __u32 *addr4, __u32 addr6[4]);

/*
 * Every address of @ifindex except host-scope ones and IPv6 link-local
 * (fe80::/10), at most @max of them (more are left out). Returns the count.
 */
int nl_iface_all_addrs(int ifindex, __u32 (*addrs)[4], __u8 *families, int max);

/*
 * Keeps the next hop towards @addr resolved: looks the route up
 * (RTM_GETROUTE), takes its gateway (or @addr when on-link) and output
 * interface, and adds a managed neighbour entry for it. An existing entry,
 * in any state, is left as it is. *oif_out (may be NULL) gets the output
 * ifindex. The kernel's error (e.g. -ENETUNREACH) when there is no route.
 *
 * Entries are per next hop, not per @addr: callers that ensure several
 * addresses behind one gateway must count them before releasing.
 */
int nl_neigh_ensure(__u8 family, const __u32 addr[4], int *oif_out);

/*
 * Deletes the neighbour entry of @addr's next hop if it is a managed one;
 * permanent and ordinary entries are never touched. No entry: 0. With no
 * route left to @addr, a managed entry for @addr itself is removed.
 */
int nl_neigh_release(__u8 family, const __u32 addr[4]);

#endif
