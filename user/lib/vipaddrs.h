/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vip_addrs, the set of every address some VIP uses, derived from the
 * VIPs in one place. The balancer looks it up for packets it will not
 * balance (a port with no VIP, another protocol, ICMP echo, a fragment it
 * cannot place): for a VIP address those are dropped, since the host does
 * not own the address and its kernel would route them straight back to
 * the router; for any other address they go to the kernel. Also the
 * count of NAT VIPs in the snat entry, derived the same way.
 */
#ifndef XLB_VIPADDRS_H
#define XLB_VIPADDRS_H

#include <stdbool.h>
#include <stddef.h>
#include "xlb_abi.h"
#include "inst.h"

struct model;

/*
 * Make the vip_addrs map @fd hold exactly the addresses of @keys, each
 * with the number of keys that have it: entries that differ are written,
 * entries no key has are deleted, so whatever the map held before (an
 * instance attached by an older xlb has an empty one) it ends up right.
 * 0, or -1 with errno set.
 */
int vip_addrs_reconcile(int fd, const struct xlb_vip_key *keys, size_t n);

/*
 * The same for @m's VIPs on instance @in (its pinned vip_addrs; an
 * instance without one, pinned by an older xlb that had no such map, is
 * left alone). Called by the commit right after the VIPs are written.
 */
int vip_addrs_sync(const struct xlb_inst *in, const struct model *m);

/*
 * Rebuilds @in's VIP index (vipindex.h) from its vips hash, as the commit
 * does right after the VIPs are written and again after they are deleted:
 * the data plane finds VIPs only there. 0, or -1 with errno set (nothing
 * changed). An instance without one (pinned by an older xlb, whose program
 * reads the vips hash itself) is left alone.
 */
int vip_index_sync(const struct xlb_inst *in);

/*
 * snat.nat_vips: how many of @m's VIPs are NAT VIPs (--forward nat), so the
 * data plane looks at packets for no VIP as NAT answers only while some
 * are. Same rules as vip_addrs_sync(): derived from the whole model at
 * every commit, an instance without the map left alone. 0 or -1 (errno).
 */
int nat_vips_sync(const struct xlb_inst *in, const struct model *m);

/* Sets @addr's bit in @f. */
void vip_filter_set(struct xlb_vip_filter *f, const __u32 addr[4]);

/*
 * The VIP address filter (struct xlb_vip_filter), armed: a bit for each
 * address of @keys and of every key the vips map @vips_fd holds now (-1:
 * none), so that it covers the VIPs about to be written and those still
 * there, and @nat (NAT VIPs may exist). Written only if it differs; the first time it is armed the bits
 * are written before the flag, so no reader sees it armed and half full.
 * 0, or -1 with errno set.
 */
int vip_filter_reconcile(int fd, int vips_fd, const struct xlb_vip_key *keys, size_t n,
			 bool nat);

/*
 * The same on instance @in (an instance without the map, pinned by an
 * older xlb, is left alone), for @m's VIPs (NULL: none) and its vips map;
 * nat while @m has a NAT VIP or snat.nat_vips is not 0.
 * The commit calls it before it writes VIPs (with the new model: the
 * union) and after it deletes them (NULL: what is left).
 */
int vip_filter_sync(const struct xlb_inst *in, const struct model *m);

#endif
