/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The balancer tests' shared configuration and checks: one set of VIPs and
 * backends (below) loaded into the program's maps, a way to send a frame
 * from a client on link A, and the checks of an encapsulated frame and of
 * an untouched one. Each VIP exists for the cases named next to it.
 */
#ifndef XLB_TEST_BALANCE_H
#define XLB_TEST_BALANCE_H

#include <linux/bpf.h>	/* XDP actions */

#include "fixture.h"
#include "check.h"

extern struct xlb_bpf *bal;	/* the loaded balancer */
extern int bal_prog, bal_reasons;

#define BAL_TABLE	1021	/* a prime: small tables keep setup fast */

/* VIP ids; addresses in balance.c's table. */
enum {
	VIP_TCP4 = 1,		/* 192.0.2.10:80/tcp -> BE 1, 2 (maglev) */
	VIP_UDP4,		/* 192.0.2.10:53/udp -> BE 3 */
	VIP_ALLPORTS4,		/* 192.0.2.20:0/tcp -> BE 4 */
	VIP_TCP6,		/* [2001:db8::10]:80/tcp -> BE 5 (fd00:99::15) */
	VIP_4IN6,		/* 192.0.2.30:80/tcp -> BE 6 (fd00:99::16) */
	VIP_EMPTY,		/* 192.0.2.40:80/tcp, table of empty slots */
	VIP_SH,			/* 192.0.2.50:80/tcp sched sh -> BE 7, 8 */
	VIP_NONEIGH4,		/* 192.0.2.60:80/tcp -> BE 9 (10.99.0.50, no neighbour) */
	VIP_LINKB4,		/* 192.0.2.70:80/tcp -> BE 10 (10.98.0.21, link B) */
	VIP_LINKB6,		/* [2001:db8::70]:80/tcp -> BE 11 (fd00:98::21, link B) */
	VIP_NONEIGH6,		/* [2001:db8::60]:80/tcp -> BE 12 (fd00:99::50) */
	VIP_DRAIN,		/* 192.0.2.80:80/tcp -> BE 13 (10.99.0.15), 14 (.16) */
	VIP_6IN4,		/* [2001:db8::20]:80/tcp -> BE 15 (10.99.0.19): refused */
	VIP_NOTABLE,		/* 192.0.2.90:80/tcp, no table at all */
	VIP_ALLDOWN,		/* 192.0.2.91:80/tcp, flagged ALL_DOWN with --all-down drop */
	VIP_LC,			/* 192.0.2.92:80/tcp sched lc -> BE 16 (10.99.0.20), 17 (.21) */
	VIP_COUNT,
};

/* The backend's address and the last byte of its neighbour MAC, by id. */
struct bal_be {
	int family;
	const char *addr;
	__u8 mac_last;
	__u32 vip;
};
extern const struct bal_be bal_be[];
#define BAL_BE_COUNT 18

void bal_setup(void);
/* The same configuration in a balancer loaded with encapsulation @encap (GUE to @gue_port). */
void bal_setup_encap(__u32 encap, __u16 gue_port);

/* Frame from the client MAC to link A's MAC, optionally tagged. */
size_t bal_frame(const struct pkt_spec *s, int vlan, __u16 tci, __u8 *out);

/* Run the balancer on @in as received on @ifindex; @before gets the reason counters. */
void bal_send(__u32 ifindex, const void *in, size_t len, struct fx_run *r,
	      __u64 before[XLB_REASON_MAX]);

/* The flow key the program derives from a TCP/UDP packet of @s. */
struct xlb_flow_key bal_key(const struct pkt_spec *s);
/* The backend a maglev (or sh) VIP's current table gives an untracked flow of @s. */
__u32 bal_predict(__u32 vip_id, const struct pkt_spec *s, int sh);

/* What an encapsulated frame must look like. */
struct want_encap {
	const __u8 *in;		/* the frame sent */
	size_t in_len;
	__u32 be;		/* backend id (address, family, MAC from bal_be) */
	const __u8 *smac;	/* egress interface MAC */
	int vlan;
	__u16 tci;
	/* IPv6 outer: the flow whose hash makes the label (NULL: the inner packet's) */
	const struct xlb_flow_key *key;
};

/*
 * Check every field of the outer header and the link header, and that the
 * inner packet is the input's byte for byte. Records a failure (t_fail).
 */
void check_encap(const struct want_encap *w, const struct fx_run *r);
/* The backend id a forwarded frame went to, by its outer destination (or ~0). */
__u32 encap_backend(const struct fx_run *r, int vlan);
/* Check the program returned @action with the frame unchanged. */
void check_untouched(const void *in, size_t len, const struct fx_run *r, int action);

#endif /* XLB_TEST_BALANCE_H */
