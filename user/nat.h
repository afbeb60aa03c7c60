/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The instance side of full NAT (user/nat_attach.c): the SNAT addresses and
 * ports attach writes into the snat map, and the peer interfaces an instance
 * runs on besides its own (attach --peer-of), recorded beside its maps.
 */
#ifndef XLB_NAT_H
#define XLB_NAT_H

#include <stdbool.h>
#include <net/if.h>
#include <xdp/libxdp.h>

#include "xlb_abi.h"
#include "addr.h"

/* Pin name of the peer record (user/lib/pinval.h) and its most peers. */
#define NAT_PEERS_PIN	"peers"
#define NAT_PEERS_MAX	4

struct nat_peers {
	__u32 n;
	__u32 ifindex[NAT_PEERS_MAX];
	char name[NAT_PEERS_MAX][IF_NAMESIZE];
};

/* attach --snat ADDR (repeatable) and --snat-ports LO-HI, as parsed. */
struct snat_args {
	struct xlb_snat s;	/* addresses and ports asked for */
	bool addrs_set;		/* --snat given: replace the addresses */
	bool ports_set;		/* --snat-ports given: replace the range */
};

/* One --snat / --snat-ports value into @sa; -1 after a one-line error. */
int snat_parse_addr(const char *v, struct snat_args *sa);
int snat_parse_ports(const char *v, struct snat_args *sa);
/*
 * After attach: the snat entry of the instance in @dir. What was asked
 * replaces the pinned value; what was not keeps it; a never written entry
 * takes the defaults (@ifindex's global addresses, XLB_SNAT_PORT_LO-HI).
 */
int snat_apply(const char *dir, int ifindex, const struct snat_args *sa);

/* xlb attach IFACE2 --peer-of IFACE1 [--mode]; returns the exit status. */
int peer_attach(const char *iface, const char *owner, enum xdp_attach_mode mode);
/*
 * xlb detach IFACE for a peer: the instance it is a peer of into @owner
 * (false if none), then the detach itself (an exit status).
 */
bool peer_owner_find(const char *iface, char *owner, size_t len);
int peer_detach(const char *iface, const char *owner);
/* The instance in @dir is going away: take its program off every peer. */
void peers_detach_all(const char *dir);
/* After (re)loading @ifindex's program: run the new one on every peer that runs xlb. */
void peers_follow(const char *dir, int ifindex, enum xdp_attach_mode mode);

/* The instance line of xlb list: SNAT addresses, ports and peers. */
void nat_list_instance(const char *dir);

#endif
