// SPDX-License-Identifier: GPL-2.0
/*
 * Backup backends (`xlb backend add VIP ADDR --backup`, XLB_BE_F_BACKUP).
 * Why a file of its own: the feature lives in the control plane's table
 * inputs (model_finalize() and backend_in_table()), so most cases build a
 * model in memory, finalize it as a commit does and count which backends
 * own the slots of the real Maglev table built from table_inputs(). The
 * order they check: usable primaries, else usable backups (weights apply
 * among them), else, every primary DOWN under --all-down open, every
 * primary (fail open on the primaries, never the backups). Each case sets
 * its control beside it (the same model with one primary usable again).
 * The last case goes through the program: a flow tracked on a backup stays
 * there once the table is back on the primaries (the backup is USED and not
 * DOWN, merely out of the table), while a new flow goes to the primary.
 */
#include <netinet/in.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "balance.h"
#include "maglev.h"
#include "model.h"
#include "table_build.h"

#define T_SIZE		1021	/* a Maglev prime */
#define T_VIP		1
#define P1		0	/* ids: primaries 0 and 1, backups 2 (weight 1) and 3 (weight 3) */
#define P2		1
#define B1		2
#define B2		3
#define T_NBES		4
#define SHARE_SLACK	0.05	/* Maglev's weighted shares within 5% of the table */

static struct m_vip vip;
static struct m_backend bes[T_NBES];
static struct model m;

static void model_reset(__u8 vip_flags)
{
	memset(&vip, 0, sizeof(vip));
	vip.v.id = T_VIP;
	vip.v.table_size = T_SIZE;
	vip.v.sched = XLB_SCHED_MAGLEV;
	vip.v.flags = vip_flags;
	memset(bes, 0, sizeof(bes));
	for (__u32 i = 0; i < T_NBES; i++) {
		bes[i].id = i;
		bes[i].be.family = XLB_AF_INET;
		bes[i].be.addr[0] = htonl(0x0a000001 + i);
		bes[i].be.vip_id = T_VIP;
		bes[i].be.weight = i == B2 ? 3 : 1;
		bes[i].be.flags = XLB_BE_F_USED | (i >= B1 ? XLB_BE_F_BACKUP : 0);
	}
	m = (struct model){ .vips = &vip, .nvips = 1, .bes = bes, .nbes = T_NBES };
}

static void set_flag(__u32 id, __u8 flag)
{
	bes[id].be.flags |= flag;
}

/* Finalize as a commit does, build the table, count each backend's slots. */
static void owners(__u32 count[T_NBES])
{
	struct maglev_backend in[T_NBES];
	static __u32 table[T_SIZE];
	size_t n;

	model_finalize(&m);
	n = table_inputs(&m, &vip, in);
	memset(count, 0, T_NBES * sizeof(*count));
	if (n != T_NBES) {
		t_fail("table inputs: %zu backends, expected %d", n, T_NBES);
		return;
	}
	if (maglev_build(in, n, T_SIZE, table)) {
		t_fail("maglev_build failed");
		return;
	}
	for (__u32 s = 0; s < T_SIZE; s++)
		if (table[s] < T_NBES)
			count[table[s]]++;
}

static bool on_backup(void)
{
	return vip.v.flags & XLB_VIP_F_ON_BACKUP;
}

static bool all_down(void)
{
	return vip.v.flags & XLB_VIP_F_ALL_DOWN;
}

static void backup_out_while_a_primary_is_usable(void)
{
	__u32 c[T_NBES];

	model_reset(0);
	owners(c);
	EXPECT_EQ("on_backup, all up", 0, on_backup());
	EXPECT_EQ("primaries' slots, all up", T_SIZE, c[P1] + c[P2]);
	EXPECT_EQ("backups' slots, all up", 0, c[B1] + c[B2]);
	/* One primary left (the other DOWN): still no backup. */
	set_flag(P1, XLB_BE_F_DOWN);
	owners(c);
	EXPECT_EQ("on_backup, P1 down", 0, on_backup());
	EXPECT_EQ("P2's slots, P1 down", T_SIZE, c[P2]);
	EXPECT_EQ("ALL_DOWN, P1 down", 0, all_down());
}

/* Every way a primary is unusable: DOWN, drained, weight 0. */
static void backup_takes_the_table_when_no_primary_is_usable(void)
{
	__u32 c[T_NBES];
	double share;

	model_reset(0);
	set_flag(P1, XLB_BE_F_DOWN);
	set_flag(P2, XLB_BE_F_DRAINED);
	owners(c);
	EXPECT_EQ("on_backup, P1 down, P2 drained", 1, on_backup());
	EXPECT_EQ("ALL_DOWN while on backups", 0, all_down());
	EXPECT_EQ("primaries' slots on backups", 0, c[P1] + c[P2]);
	EXPECT_EQ("backups' slots", T_SIZE, c[B1] + c[B2]);
	share = (double)c[B2] / T_SIZE;
	if (share < 0.75 - SHARE_SLACK || share > 0.75 + SHARE_SLACK)
		t_fail("B2 (weight 3 of 4) owns %.3f of the table, expected 0.75", share);
	RETURN_IF_FAILED();
	bes[P2].be.flags &= ~XLB_BE_F_DRAINED;
	bes[P2].be.weight = 0;
	owners(c);
	EXPECT_EQ("on_backup, P1 down, P2 weight 0", 1, on_backup());
	/* The control: P2 usable again takes every slot back. */
	bes[P2].be.weight = 1;
	owners(c);
	EXPECT_EQ("on_backup, P2 usable again", 0, on_backup());
	EXPECT_EQ("P2's slots, usable again", T_SIZE, c[P2]);
	EXPECT_EQ("backups' slots, P2 usable again", 0, c[B1] + c[B2]);
}

/* A DOWN or drained backup is no more usable than a primary. */
static void backup_only_usable_ones_take_the_table(void)
{
	__u32 c[T_NBES];

	model_reset(0);
	set_flag(P1, XLB_BE_F_DOWN);
	set_flag(P2, XLB_BE_F_DOWN);
	set_flag(B2, XLB_BE_F_DOWN);
	owners(c);
	EXPECT_EQ("on_backup, B2 down", 1, on_backup());
	EXPECT_EQ("B1's slots, B2 down", T_SIZE, c[B1]);
}

/* Nothing usable, every primary DOWN: fail open on the primaries, not the backups. */
static void backup_fail_open_is_on_the_primaries(void)
{
	__u32 c[T_NBES];

	model_reset(0);
	set_flag(P1, XLB_BE_F_DOWN);
	set_flag(P2, XLB_BE_F_DOWN);
	set_flag(B1, XLB_BE_F_DOWN);
	set_flag(B2, XLB_BE_F_DRAINED);
	owners(c);
	EXPECT_EQ("on_backup, nothing usable", 0, on_backup());
	EXPECT_EQ("ALL_DOWN, every primary down", 1, all_down());
	EXPECT_EQ("primaries' slots failing open", T_SIZE, c[P1] + c[P2]);
	EXPECT_EQ("backups' slots failing open", 0, c[B1] + c[B2]);
	/* --all-down drop: the same flags make the data plane drop. */
	model_reset(XLB_VIP_F_ALL_DOWN_DROP);
	for (__u32 i = 0; i < T_NBES; i++)
		set_flag(i, XLB_BE_F_DOWN);
	owners(c);
	EXPECT_EQ("dropping, all down", XLB_VIP_F_DROPPING, vip.v.flags & XLB_VIP_F_DROPPING);
	EXPECT_EQ("slots, all down, drop", 0, c[P1] + c[P2] + c[B1] + c[B2]);
	/* The control: one backup up again runs the VIP on it, no longer failing open. */
	model_reset(0);
	for (__u32 i = 0; i < T_NBES; i++)
		set_flag(i, XLB_BE_F_DOWN);
	bes[B1].be.flags &= ~XLB_BE_F_DOWN;
	owners(c);
	EXPECT_EQ("ALL_DOWN, B1 up", 0, all_down());
	EXPECT_EQ("B1's slots, B1 up", T_SIZE, c[B1]);
}

/* A VIP of backups only runs on them, and fails open on them. */
static void backup_only_backups(void)
{
	__u32 c[T_NBES];

	model_reset(0);
	for (__u32 i = 0; i < T_NBES; i++)
		set_flag(i, XLB_BE_F_BACKUP);
	owners(c);
	EXPECT_EQ("on_backup, no primary", 1, on_backup());
	EXPECT_EQ("slots, no primary", T_SIZE, c[P1] + c[P2] + c[B1] + c[B2]);
	for (__u32 i = 0; i < T_NBES; i++)
		set_flag(i, XLB_BE_F_DOWN);
	owners(c);
	EXPECT_EQ("ALL_DOWN, backups only, all down", 1, all_down());
	EXPECT_EQ("slots failing open on backups only", T_SIZE, c[P1] + c[P2] + c[B1] + c[B2]);
}

/* Switching role changes the table's inputs: a commit rebuilds it. */
static void backup_switch_rebuilds_the_table(void)
{
	struct m_vip ov;
	struct m_backend obes[T_NBES];
	struct model om;

	model_reset(0);
	set_flag(P1, XLB_BE_F_DOWN);
	set_flag(P2, XLB_BE_F_DOWN);
	model_finalize(&m);
	ov = vip;
	memcpy(obes, bes, sizeof(obes));
	om = (struct model){ .vips = &ov, .nvips = 1, .bes = obes, .nbes = T_NBES };
	EXPECT_EQ("table changed, no change", 0, table_changed(&om, &ov, &m, &vip));
	bes[P1].be.flags &= ~XLB_BE_F_DOWN;
	model_finalize(&m);
	EXPECT_EQ("table changed, P1 up", 1, table_changed(&om, &ov, &m, &vip));
}

/* ---- through the program: VIP_DRAIN, BE 13 primary, 14 backup ---- */

#define CLIENT4		"198.51.100.9"
#define VIP_ADDR	"192.0.2.80"

static __u8 pkt[PKT_MAX];

static __u32 send_to(__u16 sport, __u8 tcp_flags)
{
	struct pkt_spec s = { .family = 4, .src = CLIENT4, .dst = VIP_ADDR,
			      .proto = IPPROTO_TCP, .sport = sport, .dport = 80,
			      .tcp_flags = tcp_flags, .frag = PKT_DF, .payload = 40 };
	__u64 before[XLB_REASON_MAX];
	size_t len = bal_frame(&s, 0, 0, pkt);
	struct fx_run run;

	bal_send(fx_ifindex_a, pkt, len, &run, before);
	if (t_failed() || run.ret != XDP_TX)
		return 0;
	return encap_backend(&run, 0);
}

static void backup_tracked_flow_stays_on_the_backup(void)
{
	__u32 primary[] = { 13 }, backup[] = { 14 }, both[] = { 13, 14 };

	/* 13 DOWN: the control plane's table is of the backup 14. */
	fx_backend(bal, 13, 4, bal_be[13].addr, 1, XLB_BE_F_USED | XLB_BE_F_DOWN, VIP_DRAIN);
	fx_backend(bal, 14, 4, bal_be[14].addr, 1, XLB_BE_F_USED | XLB_BE_F_BACKUP, VIP_DRAIN);
	fx_vip(bal, 4, VIP_ADDR, 80, IPPROTO_TCP, VIP_DRAIN, BAL_TABLE, 0, XLB_VIP_F_ON_BACKUP);
	fx_table(bal, VIP_DRAIN, BAL_TABLE, backup, 1);
	EXPECT_EQ("new flow on backups", 14, send_to(43001, PKT_SYN));
	EXPECT_EQ("its next packet", 14, send_to(43001, PKT_ACK));
	/* 13 up again: the table back on it, 14 out of the table but USED. */
	fx_backend(bal, 13, 4, bal_be[13].addr, 1, XLB_BE_F_USED, VIP_DRAIN);
	fx_vip(bal, 4, VIP_ADDR, 80, IPPROTO_TCP, VIP_DRAIN, BAL_TABLE, 0, 0);
	fx_table(bal, VIP_DRAIN, BAL_TABLE, primary, 1);
	EXPECT_EQ("tracked flow after the switch back", 14, send_to(43001, PKT_ACK));
	/* The control: an untracked flow takes the table, the primary. */
	EXPECT_EQ("new flow after the switch back", 13, send_to(43002, PKT_SYN));
	fx_backend(bal, 14, 4, bal_be[14].addr, 1, XLB_BE_F_USED, VIP_DRAIN);
	fx_table(bal, VIP_DRAIN, BAL_TABLE, both, 2);
}

static const struct t_case cases[] = {
	T_CASE(backup_out_while_a_primary_is_usable),
	T_CASE(backup_takes_the_table_when_no_primary_is_usable),
	T_CASE(backup_only_usable_ones_take_the_table),
	T_CASE(backup_fail_open_is_on_the_primaries),
	T_CASE(backup_only_backups),
	T_CASE(backup_switch_rebuilds_the_table),
	T_CASE(backup_tracked_flow_stays_on_the_backup),
};

int main(int argc, char **argv)
{
	bal_setup();
	return t_main(argc, argv, cases, sizeof(cases) / sizeof(cases[0]));
}
