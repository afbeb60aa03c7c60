// SPDX-License-Identifier: GPL-2.0
/*
 * Distribution and stability of backend choice. Shares and disruption are
 * measured in user space over the real table builder (user/lib/maglev.c)
 * and the real flow hash (bpf/lib/hash.h via flowhash.c); cases through the
 * program then prove the program picks exactly what that predicts, and that
 * a tracked flow keeps its backend across table changes.
 */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "balance.h"
#include "flowhash.h"
#include "maglev.h"
#include "table.h"

#define N_RANDOM_FLOWS	100000
#define SHARE_TOLERANCE	0.02	/* relative: a 10% share may be 9.8% .. 10.2% */
#define DISRUPT_SLACK	0.01	/* Maglev: at most 1/N + 1% of flows move */
#define N_PROG_FLOWS	2000
#define N_TRACKED	200
#define BIG_VIP		100	/* a VIP with the production table size */
#define BIG_BE		20	/* its backends: ids BIG_BE .. BIG_BE + 3 */
#define SEED		0x5eed1234u

static __u32 *tbl;
static __u8 in[PKT_MAX];
static struct fx_run run;
static __u64 before[XLB_REASON_MAX];

/* xorshift32: deterministic flows, so a failure reproduces. */
static __u32 rnd(__u32 *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static struct xlb_flow_key random_flow(__u32 *s)
{
	struct xlb_flow_key k = { .proto = IPPROTO_TCP, .family = XLB_AF_INET,
				  .dport = htons(80) };

	k.src[0] = rnd(s);
	k.sport = htons(rnd(s) & 0xffff);
	pkt_addr(4, "192.0.2.10", k.dst);
	return k;
}

static void backends(struct maglev_backend *b, size_t n, const __u16 *w)
{
	memset(b, 0, n * sizeof(*b));
	for (size_t i = 0; i < n; i++) {
		char a[32];

		snprintf(a, sizeof(a), "10.1.0.%zu", i + 1);
		b[i].id = i;
		b[i].family = XLB_AF_INET;
		b[i].weight = w ? w[i] : 1;
		pkt_addr(4, a, b[i].addr);
	}
}

static void maglev_weights_1234_shares(void)
{
	const __u16 w[] = { 1, 2, 3, 4 };
	struct maglev_backend b[4];
	__u32 size = XLB_TABLE_SIZE_DEFAULT, s = SEED, count[4] = {}, slots[4] = {};
	char what[96];

	backends(b, 4, w);
	EXPECT_EQ("maglev_build", 0, maglev_build(b, 4, size, tbl));
	for (__u32 i = 0; i < size; i++)
		slots[tbl[i]]++;
	for (int i = 0; i < N_RANDOM_FLOWS; i++) {
		struct xlb_flow_key k = random_flow(&s);

		count[tbl[fh_flow_hash(&k) % size]]++;
	}
	for (int i = 0; i < 4; i++) {
		double want = w[i] / 10.0, got = (double)count[i] / N_RANDOM_FLOWS;
		double slot_share = (double)slots[i] / size;

		snprintf(what, sizeof(what), "weight %u: table share %.4f of %.2f", w[i],
			 slot_share, want);
		EXPECT_TRUE(what, slot_share > want * (1 - SHARE_TOLERANCE) &&
				  slot_share < want * (1 + SHARE_TOLERANCE));
		snprintf(what, sizeof(what), "weight %u: flow share %.4f of %.2f", w[i], got, want);
		EXPECT_TRUE(what, got > want * (1 - SHARE_TOLERANCE) &&
				  got < want * (1 + SHARE_TOLERANCE));
		printf("# %s, table %.4f\n", what, slot_share);
	}
}

/* Flows that change backend when one of @n equal backends is removed. */
static void remove_one(size_t n)
{
	struct maglev_backend b[16];
	__u32 size = XLB_TABLE_SIZE_DEFAULT, s = SEED, moved = 0, lost = 0;
	__u32 *after = calloc(size, sizeof(*after));
	double bound = 1.0 / n + DISRUPT_SLACK, frac;
	char what[96];

	EXPECT_TRUE("memory", after != NULL);
	backends(b, n, NULL);
	maglev_build(b, n, size, tbl);
	/* The removed one is in the middle of the address order, not at an end. */
	b[n / 2].weight = 0;
	maglev_build(b, n, size, after);
	for (int i = 0; i < N_RANDOM_FLOWS; i++) {
		struct xlb_flow_key k = random_flow(&s);
		__u32 slot = fh_flow_hash(&k) % size;

		moved += tbl[slot] != after[slot];
		lost += tbl[slot] == n / 2;
	}
	free(after);
	frac = (double)moved / N_RANDOM_FLOWS;
	snprintf(what, sizeof(what), "%zu backends, one removed: %.4f of flows moved, bound %.4f",
		 n, frac, bound);
	EXPECT_TRUE(what, frac <= bound);
	printf("# %s\n", what);
	/* The removed backend's flows must move; a builder that moved nothing would pass above. */
	EXPECT_TRUE("flows of the removed backend moved", moved >= lost && lost > 0);
}

static void maglev_remove_one_of_5(void)
{
	remove_one(5);
}

static void maglev_remove_one_of_10(void)
{
	remove_one(10);
}

/* The table depends on the (address, weight) set only: any input order gives it. */
static void maglev_input_order_independent(void)
{
	const __u16 w[] = { 3, 1, 4, 1, 5 };
	struct maglev_backend b[5], r[5];
	__u32 size = XLB_TABLE_SIZE_DEFAULT;
	__u32 *other = calloc(size, sizeof(*other));

	EXPECT_TRUE("memory", other != NULL);
	backends(b, 5, w);
	for (int i = 0; i < 5; i++)
		r[i] = b[4 - i];
	maglev_build(b, 5, size, tbl);
	maglev_build(r, 5, size, other);
	EXPECT_TRUE("same table from reversed input", !memcmp(tbl, other, size * sizeof(*tbl)));
	free(other);
}

static bool keep_all_but(__u32 id, void *arg)
{
	return id != *(__u32 *)arg;
}

/*
 * A rebuilt table remembers each slot's previous owner (the GUE second
 * hop): slots that change owner get the old one and the time; slots that
 * do not keep what they had, however old; a deleted backend is forgotten.
 */
static void table_chain_prev_owners(void)
{
	struct maglev_backend b[5];
	__u32 size = XLB_TABLE_SIZE_DEFAULT, gone = 2, none = XLB_BACKEND_NONE;
	__u32 *after = calloc(size, sizeof(*after));
	struct xlb_slot *old = calloc(size, sizeof(*old)), *out = calloc(size, sizeof(*out));
	__u32 changed = 0, kept_old = 0, cleared = 0;

	EXPECT_TRUE("memory", after && old && out);
	backends(b, 5, NULL);
	maglev_build(b, 5, size, tbl);
	/* a first table from nothing: no previous owners */
	table_chain(old, tbl, NULL, size, 100, keep_all_but, &none);
	for (__u32 i = 0; i < size; i++)
		EXPECT_EQ("no prev in a first table", XLB_BACKEND_NONE, old[i].prev);
	/* pretend an older change left prev = 4 (or the soon-deleted 2) in every slot */
	for (__u32 i = 0; i < size; i++) {
		old[i].prev = i % 2 ? 4 : gone;
		old[i].changed_s = 50;
	}
	b[gone].weight = 0;	/* removed from the table, then deleted */
	maglev_build(b, 5, size, after);
	table_chain(out, after, old, size, 200, keep_all_but, &gone);
	for (__u32 i = 0; i < size; i++) {
		if (tbl[i] != after[i]) {
			changed++;
			EXPECT_EQ("changed slot: prev = the old owner (the deleted one: none)",
				  tbl[i] == gone ? XLB_BACKEND_NONE : tbl[i], out[i].prev);
			if (tbl[i] != gone)
				EXPECT_EQ("changed slot: time of the change", 200, out[i].changed_s);
		} else if (old[i].prev == gone || old[i].prev == after[i]) {
			cleared++;
			EXPECT_EQ("deleted or own prev cleared", XLB_BACKEND_NONE, out[i].prev);
		} else {
			kept_old++;
			EXPECT_EQ("unchanged slot keeps its prev", old[i].prev, out[i].prev);
			EXPECT_EQ("unchanged slot keeps its time", 50, out[i].changed_s);
		}
		EXPECT_EQ("owner", after[i], out[i].backend);
	}
	printf("# %u slots changed owner, %u kept an older prev, %u had theirs cleared\n",
	       changed, kept_old, cleared);
	EXPECT_TRUE("every case occurred", changed && kept_old && cleared);
	free(after);
	free(old);
	free(out);
}

static void big_vip_setup(void)
{
	const __u16 w[] = { 1, 2, 3, 4 };
	const char *addr[] = { "10.99.0.11", "10.99.0.12", "10.99.0.13", "10.99.0.14" };
	__u32 ids[4];

	fx_vip(bal, 4, "192.0.2.100", 80, IPPROTO_TCP, BIG_VIP, XLB_TABLE_SIZE_DEFAULT,
	       XLB_SCHED_MAGLEV, 0);
	for (int i = 0; i < 4; i++) {
		ids[i] = BIG_BE + i;
		fx_backend(bal, ids[i], 4, addr[i], w[i], XLB_BE_F_USED, BIG_VIP);
	}
	fx_table(bal, BIG_VIP, XLB_TABLE_SIZE_DEFAULT, ids, 4);
}

static struct pkt_spec flow_spec(__u32 *s, char *src)
{
	__u32 a = rnd(s);

	snprintf(src, 16, "10.%u.%u.%u", (a >> 16) & 0xff, (a >> 8) & 0xff, a & 0xff);
	return (struct pkt_spec){ .family = 4, .src = src, .dst = "192.0.2.100",
				  .proto = IPPROTO_TCP, .sport = 1024 + (rnd(s) & 0x7fff),
				  .dport = 80, .tcp_flags = PKT_SYN };
}

/* The outer destination's last byte: which of the big VIP's backends (11..14). */
static int picked(void)
{
	return run.ret == XDP_TX ? run.out[PKT_ETH_LEN + 19] : -1;
}

/* The program's pick is the slot user space predicts, for any flow. */
static void maglev_program_matches_prediction(void)
{
	__u32 s = SEED ^ 1;
	char src[16], what[64];

	for (int i = 0; i < N_PROG_FLOWS; i++) {
		struct pkt_spec f = flow_spec(&s, src);
		struct xlb_flow_key k = bal_key(&f);
		__u32 want = fx_slot(bal, BIG_VIP, fh_flow_hash(&k) % XLB_TABLE_SIZE_DEFAULT);
		size_t len = bal_frame(&f, 0, 0, in);

		bal_send(fx_ifindex_a, in, len, &run, before);
		RETURN_IF_FAILED();
		snprintf(what, sizeof(what), "flow %d: backend (outer daddr .%d)", i, picked());
		EXPECT_EQ(what, want - BIG_BE + 11, picked());
	}
}

/* Once tracked, a flow stays put through every kind of table change. */
static void maglev_tracked_flow_keeps_backend_across_tables(void)
{
	__u32 s = SEED ^ 2, all[] = { BIG_BE, BIG_BE + 1, BIG_BE + 2, BIG_BE + 3 };
	__u32 two[] = { BIG_BE, BIG_BE + 3 };
	struct pkt_spec f[N_TRACKED];
	static char src[N_TRACKED][16];
	int first[N_TRACKED], moved_new = 0;
	char what[64];

	for (int i = 0; i < N_TRACKED; i++) {
		f[i] = flow_spec(&s, src[i]);
		bal_send(fx_ifindex_a, in, bal_frame(&f[i], 0, 0, in), &run, before);
		RETURN_IF_FAILED();
		first[i] = picked();
		EXPECT_TRUE("flow forwarded", first[i] > 0);
	}
	for (int change = 0; change < 3; change++) {
		if (change == 0)	/* one backend takes every slot */
			fx_table_fill(bal, BIG_VIP, XLB_TABLE_SIZE_DEFAULT, BIG_BE + 1);
		else if (change == 1)	/* two backends removed */
			fx_table(bal, BIG_VIP, XLB_TABLE_SIZE_DEFAULT, two, 2);
		else {			/* reweighted */
			fx_backend(bal, BIG_BE, 4, "10.99.0.11", 9, XLB_BE_F_USED, BIG_VIP);
			fx_table(bal, BIG_VIP, XLB_TABLE_SIZE_DEFAULT, all, 4);
		}
		for (int i = 0; i < N_TRACKED; i++) {
			struct pkt_spec ack = f[i], nw = f[i];

			ack.tcp_flags = PKT_ACK;
			bal_send(fx_ifindex_a, in, bal_frame(&ack, 0, 0, in), &run, before);
			RETURN_IF_FAILED();
			snprintf(what, sizeof(what), "table change %d, flow %d backend", change, i);
			EXPECT_EQ(what, first[i], picked());
			/* a new flow from the same client follows the new table */
			nw.sport ^= 0x4000;
			bal_send(fx_ifindex_a, in, bal_frame(&nw, 0, 0, in), &run, before);
			RETURN_IF_FAILED();
			moved_new += change == 0 && picked() != first[i];
			if (change == 0)
				EXPECT_EQ("new flow on the all-slots backend", 12, picked());
		}
	}
	EXPECT_TRUE("the change mattered for new flows", moved_new > 0);
	fx_backend(bal, BIG_BE, 4, "10.99.0.11", 1, XLB_BE_F_USED, BIG_VIP);
}

/*
 * The tail line sums a table's previous owners up for the data plane: how
 * many slots have one and the latest change of them (older changes and
 * slots without a prev do not move it). The control: a table without
 * previous owners has a tail of nothing, so GUE reads no slot's prev.
 */
static void table_tail_counts_previous_owners_and_the_latest_change(void)
{
	struct xlb_slot s[5] = {
		{ 1, XLB_BACKEND_NONE, 0 }, { 1, 2, 70 }, { 2, 3, 90 },
		{ 3, XLB_BACKEND_NONE, 0 }, { 3, 1, 80 },
	};
	struct xlb_table_tail t = table_tail(s, 5);

	EXPECT_EQ("slots with a prev", 3, t.prevs);
	EXPECT_EQ("the latest change", 90, t.prev_changed_s);
	for (int i = 0; i < 5; i++)
		s[i].prev = XLB_BACKEND_NONE;
	t = table_tail(s, 5);
	EXPECT_EQ("control: no prev, no count", 0, t.prevs);
	EXPECT_EQ("control: no prev, no time", 0, t.prev_changed_s);
}

static const struct t_case cases[] = {
	T_CASE(maglev_weights_1234_shares),
	T_CASE(maglev_remove_one_of_5),
	T_CASE(maglev_remove_one_of_10),
	T_CASE(maglev_input_order_independent),
	T_CASE(table_chain_prev_owners),
	T_CASE(table_tail_counts_previous_owners_and_the_latest_change),
	T_CASE(maglev_program_matches_prediction),
	T_CASE(maglev_tracked_flow_keeps_backend_across_tables),
};

int main(int argc, char **argv)
{
	tbl = calloc(XLB_TABLE_SIZE_DEFAULT, sizeof(*tbl));
	if (!tbl)
		fx_die("out of memory");
	bal_setup();
	big_vip_setup();
	return t_main(argc, argv, cases, sizeof(cases) / sizeof(cases[0]));
}
