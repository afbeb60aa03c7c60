// SPDX-License-Identifier: GPL-2.0
/*
 * xlb agent: session sync with the other instances of a tier (agent_sync.h,
 * docs/SCALE-OUT.md). Why it is built this way:
 *
 *  - The data plane reports a flow when it enters conntrack and when it
 *    closes (bpf/lib/conntrack.h), never per packet; the agent turns slot
 *    ids into addresses (backend address, VIP port) before anything leaves
 *    the machine, because ids are each instance's own.
 *  - Every event is queued for every peer at once and sent on the same
 *    wake-up, up to SYNC_FLOWS_PER_MSG flows per datagram: under load a
 *    wake-up finds many events and the messages fill, when idle a flow
 *    leaves within a millisecond. IPVS's sync daemon waits for a full
 *    buffer or a second; this never waits.
 *  - Each peer has its own sequence numbers and a window of messages in
 *    flight; the peer acknowledges every message (acks batched per
 *    wake-up), what is not acknowledged is sent again every
 *    AGENT_SYNC_RTO_MS, AGENT_SYNC_TRIES times. A receiver remembers the
 *    last 64 numbers of each peer's run, so a copy is applied once.
 *  - Every message carries an HMAC-SHA256 with the shared key: one that
 *    does not verify, or comes from an address that is no peer, is counted
 *    and dropped before anything in it is looked at.
 *  - A received flow is inserted only where this instance has no entry of
 *    its own (neither table), for a VIP it has (address, port, protocol)
 *    and a backend of that VIP with the same address; it is marked
 *    XLB_FLOW_F_SYNCED, and only such an entry is ever changed by a later
 *    message (a refresh, a close). Nothing this instance learned itself is
 *    touched. A copy sees no packet where it waits, so the owner sends its
 *    live flows again every third of the shortest idle timeout.
 *  - At start every peer is asked for a full copy (DUMP_REQ); it walks its
 *    conntrack, queues every flow and, once they are acknowledged, says so
 *    (DUMP_END). BGP announces this instance when every peer has, or after
 *    AGENT_SYNC_HOLD_MS (agent_sync_ready).
 * Counters go to the pinned map sync_stats for `xlb sync show`.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "agent_sync.h"
#include "ct.h"
#include "model.h"
#include "sync.h"
#include "syncproto.h"
#include "util.h"

#define SYNC_RING_MAP		"sync_events"
#define SYNC_SOCK_BUF		(4 << 20)
#define SYNC_MODEL_TTL_NS	(1000ULL * 1000 * 1000)
#define SYNC_MODEL_RETRY_NS	(100ULL * 1000 * 1000)
#define NS_PER_MS		1000000ULL

struct out_msg {
	bool used;
	__u8 tries;
	__u16 len;
	__u16 nflows;
	__u32 seq;
	__u64 sent_ns;
	__u8 buf[SYNC_MSG_MAX];
};

struct peer {
	struct sockaddr_in6 sa;		/* IPv4 peers as v4-mapped */
	struct xlb_sync_stats st;
	/* sending */
	__u32 next_seq;
	unsigned inflight;
	struct out_msg win[AGENT_SYNC_WINDOW];
	struct sync_flow *q;		/* a ring of flows waiting for the window */
	size_t qcap, qhead, qlen;
	bool req_pending;		/* DUMP_REQ not yet in the window */
	size_t dump_left;		/* flows of a dump still in the queue */
	bool dump_sending;		/* a dump is being sent; DUMP_END follows */
	__u32 dump_last_seq;		/* its last message */
	/* receiving */
	bool rx_known;
	__u32 rx_epoch, rx_top;
	__u64 rx_seen;			/* bit d: rx_top - d was received */
	__u32 acks[SYNC_ACKS_PER_MSG];
	size_t nacks;
	__u32 ack_epoch;
};

static struct {
	bool on;			/* set, key good, socket bound */
	struct xlb_sync_config cfg;
	struct sync_key key;
	struct stat key_st;
	bool key_ok;
	int ep, timer, sock, ring_fd, young_fd, stats_fd;
	struct ring_buffer *rb;
	__u32 epoch;
	struct peer *peers;
	struct xlb_sync_stats others;
	bool dirty;
	struct model model;
	bool model_ok;
	__u64 model_ns;
	__u64 start_ns, refresh_ns;
	bool ready, logged_off;
} ss = { .ep = -1, .timer = -1, .sock = -1, .ring_fd = -1, .young_fd = -1, .stats_fd = -1 };

static __u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* ---- the local view: VIPs and backends by address ---- */

static void model_refresh(struct agent *a, bool force)
{
	__u64 now = now_ns();

	if (ss.model_ok && now - ss.model_ns < (force ? SYNC_MODEL_RETRY_NS : SYNC_MODEL_TTL_NS))
		return;
	if (ss.model_ok)
		model_free(&ss.model);
	ss.model_ok = model_load(&a->in, &ss.model) == 0;
	ss.model_ns = now;
}

/* The addresses of a local flow, for the peers; false if it cannot be named. */
static bool flow_name(struct agent *a, const struct xlb_flow_key *k, __u32 be_id, __u32 vip_id,
		      __u32 flow_flags, struct sync_flow *out)
{
	struct xlb_backend be;
	struct m_vip *v;

	if (bpf_map_lookup_elem(a->in.fd[XLB_M_BACKENDS], &be_id, &be) ||
	    !(be.flags & XLB_BE_F_USED) || be.vip_id != vip_id)
		return false;
	for (int pass = 0; pass < 2; pass++) {
		model_refresh(a, pass);
		v = ss.model_ok ? model_vip_by_id(&ss.model, vip_id) : NULL;
		if (v && v->key.family == k->family && v->key.proto == k->proto &&
		    !memcmp(v->key.addr, k->dst, sizeof(k->dst)) &&
		    (!v->key.port || v->key.port == k->dport))
			break;
		v = NULL;
	}
	if (!v)
		return false;
	memset(out, 0, sizeof(*out));
	out->key = *k;
	out->vip_port = v->key.port;
	out->be_family = be.family;
	memcpy(out->backend, be.addr, sizeof(be.addr));
	out->flags = flow_flags & XLB_FLOW_F_CLOSING ? SYNC_FLOW_F_CLOSING : 0;
	return true;
}

/* The local backend id of @f's backend address for VIP @vip_id, verified in the map. */
static bool backend_of(struct agent *a, const struct sync_flow *f, __u32 vip_id, __u32 *id)
{
	struct xlb_addr addr = { .family = f->be_family };
	struct m_backend *b;
	struct xlb_backend be;

	memcpy(addr.a, f->backend, sizeof(addr.a));
	for (int pass = 0; pass < 2; pass++) {
		model_refresh(a, pass);
		b = ss.model_ok ? model_backend(&ss.model, vip_id, &addr) : NULL;
		if (b && !bpf_map_lookup_elem(a->in.fd[XLB_M_BACKENDS], &b->id, &be) &&
		    (be.flags & (XLB_BE_F_USED | XLB_BE_F_DOWN)) == XLB_BE_F_USED &&
		    be.vip_id == vip_id && be.family == addr.family &&
		    !memcmp(be.addr, addr.a, sizeof(be.addr))) {
			*id = b->id;
			return true;
		}
	}
	return false;
}

/* A peer's flow into the local conntrack, where nothing local names it. */
static bool flow_apply(struct agent *a, const struct sync_flow *f)
{
	struct xlb_vip_key vk = { .port = f->vip_port, .proto = f->key.proto,
				  .family = f->key.family };
	bool closing = f->flags & SYNC_FLOW_F_CLOSING;
	int ct = a->in.fd[XLB_M_CONNTRACK];
	struct xlb_flow fl;
	struct xlb_vip vip;
	__u32 be_id;

	memcpy(vk.addr, f->key.dst, sizeof(vk.addr));
	if (bpf_map_lookup_elem(a->in.fd[XLB_M_VIPS], &vk, &vip) || (vip.flags & XLB_VIP_F_NO_CT))
		return false;
	if (!ct_find(ct, &f->key, &fl)) {
		/* A copy is refreshed (and may learn that the flow closes); our own flows are ours. */
		if (!(fl.flags & XLB_FLOW_F_SYNCED))
			return false;
		fl.last_seen_ns = now_ns();
		if (closing)
			fl.flags |= XLB_FLOW_F_CLOSING;
		return ct_store(ct, &f->key, &fl, BPF_EXIST) == 0;
	}
	if (ss.young_fd >= 0 && !ct_find(ss.young_fd, &f->key, &fl))
		return false;
	if (!backend_of(a, f, vip.id, &be_id))
		return false;
	fl = (struct xlb_flow){
		.backend_id = be_id,
		.vip_id = vip.id,
		.last_seen_ns = now_ns(),
		.flags = XLB_FLOW_F_SYNCED | (closing ? XLB_FLOW_F_CLOSING : 0),
	};
	return ct_store(ct, &f->key, &fl, BPF_NOEXIST) == 0;
}

/* ---- sending ---- */

static void peer_send(struct peer *p, const __u8 *buf, size_t len)
{
	if (sendto(ss.sock, buf, len, MSG_DONTWAIT, (struct sockaddr *)&p->sa, sizeof(p->sa)) < 0 &&
	    errno != EAGAIN && errno != ECONNREFUSED && errno != EHOSTUNREACH &&
	    errno != ENETUNREACH)
		agent_log("sync: send: %s", strerror(errno));
}

static bool enqueue(struct peer *p, const struct sync_flow *f)
{
	if (p->qlen == p->qcap) {
		size_t ncap = p->qcap ? p->qcap * 2 : 1024;
		struct sync_flow *nq;

		if (p->qcap >= AGENT_SYNC_QUEUE_MAX || !(nq = malloc(ncap * sizeof(*nq)))) {
			p->st.lost++;
			ss.dirty = true;
			return false;
		}
		for (size_t i = 0; i < p->qlen; i++)
			nq[i] = p->q[(p->qhead + i) % p->qcap];
		free(p->q);
		p->q = nq;
		p->qcap = ncap;
		p->qhead = 0;
	}
	p->q[(p->qhead + p->qlen++) % p->qcap] = *f;
	return true;
}

static struct out_msg *slot_free(struct peer *p)
{
	if (p->inflight >= AGENT_SYNC_WINDOW)
		return NULL;
	for (int i = 0; i < AGENT_SYNC_WINDOW; i++)
		if (!p->win[i].used)
			return &p->win[i];
	return NULL;
}

/* True while a message of the dump in progress is unacknowledged. */
static bool dump_unacked(const struct peer *p)
{
	for (int i = 0; i < AGENT_SYNC_WINDOW; i++)
		if (p->win[i].used && (__s32)(p->win[i].seq - p->dump_last_seq) <= 0)
			return true;
	return false;
}

/* The next message for the window, encoded into @m; false if there is none. */
static bool next_msg(struct peer *p, struct out_msg *m)
{
	struct sync_flow batch[SYNC_FLOWS_PER_MSG];
	size_t n = 0;

	m->seq = p->next_seq;
	m->nflows = 0;
	if (p->req_pending) {
		m->len = sync_encode_ctl(m->buf, &ss.key, SYNC_T_DUMP_REQ, ss.epoch, m->seq);
		p->req_pending = false;
	} else if (p->dump_sending && !p->dump_left && !dump_unacked(p)) {
		/* Before newer flows: a busy queue must not hold the end of a dump back. */
		m->len = sync_encode_ctl(m->buf, &ss.key, SYNC_T_DUMP_END, ss.epoch, m->seq);
		p->dump_sending = false;
	} else if (p->qlen) {
		while (n < SYNC_FLOWS_PER_MSG && p->qlen) {
			batch[n++] = p->q[p->qhead];
			p->qhead = (p->qhead + 1) % p->qcap;
			p->qlen--;
			if (p->dump_left && !--p->dump_left)
				p->dump_last_seq = m->seq;
		}
		m->len = sync_encode_flows(m->buf, &ss.key, ss.epoch, m->seq, batch, n);
		m->nflows = n;
		p->st.sent += n;
	} else {
		return false;
	}
	p->next_seq++;
	return m->len > 0;
}

static void peer_fill(struct peer *p)
{
	struct out_msg *m;

	while ((m = slot_free(p)) && next_msg(p, m)) {
		m->used = true;
		m->tries = 1;
		m->sent_ns = now_ns();
		p->inflight++;
		peer_send(p, m->buf, m->len);
		ss.dirty = true;
	}
}

static void peer_retransmit(struct peer *p, __u64 now)
{
	for (int i = 0; i < AGENT_SYNC_WINDOW; i++) {
		struct out_msg *m = &p->win[i];

		if (!m->used || now - m->sent_ns < AGENT_SYNC_RTO_MS * NS_PER_MS)
			continue;
		if (m->tries >= AGENT_SYNC_TRIES) {
			p->st.lost += m->nflows;
			m->used = false;
			p->inflight--;
			ss.dirty = true;
			continue;
		}
		m->tries++;
		m->sent_ns = now;
		peer_send(p, m->buf, m->len);
	}
}

static void peer_acks_flush(struct peer *p)
{
	__u8 buf[SYNC_MSG_MAX];
	size_t len;

	if (!p->nacks)
		return;
	len = sync_encode_ack(buf, &ss.key, ss.epoch, p->ack_epoch, p->acks, p->nacks);
	if (len)
		peer_send(p, buf, len);
	p->nacks = 0;
}

static void peer_ack(struct peer *p, __u32 epoch, __u32 seq)
{
	if (p->nacks && (p->ack_epoch != epoch || p->nacks == SYNC_ACKS_PER_MSG))
		peer_acks_flush(p);
	p->ack_epoch = epoch;
	p->acks[p->nacks++] = seq;
}

/* ---- the data plane's events ---- */

static int on_event(void *ctx, void *data, size_t len)
{
	const struct xlb_sync_event *e = data;
	struct agent *a = ctx;
	struct sync_flow f;

	if (len < sizeof(*e) || !ss.on ||
	    !flow_name(a, &e->key, e->backend_id, e->vip_id, e->flow_flags, &f))
		return 0;
	if (e->type == XLB_SYNC_EV_CLOSING)
		f.flags |= SYNC_FLOW_F_CLOSING;
	for (int i = 0; i < ss.cfg.npeers; i++)
		enqueue(&ss.peers[i], &f);
	return 0;
}

/* ---- the full copy ---- */

struct dump_walk {
	struct agent *a;
	struct peer *p;
	size_t n;
};

static bool dump_visit(const struct xlb_flow_key *k, const struct xlb_flow *fl, void *arg)
{
	struct dump_walk *w = arg;
	struct sync_flow f;

	if (flow_name(w->a, k, fl->backend_id, fl->vip_id, fl->flags, &f) && enqueue(w->p, &f))
		w->n++;
	return false;
}

static void dump_to(struct agent *a, struct peer *p)
{
	struct dump_walk w = { .a = a, .p = p };
	char addr[XLB_ADDR_STRLEN];

	ct_walk(a->in.fd[XLB_M_CONNTRACK], dump_visit, &w, NULL, NULL);
	/* Flows queued before the dump go first: the dump ends with the queue's end. */
	p->dump_left = p->qlen;
	p->dump_last_seq = p->next_seq - 1;
	p->dump_sending = true;
	addr_fmt(p->st.addr, p->st.family, addr, sizeof(addr));
	agent_log("sync: %s asked for a full copy: %zu flows", addr, w.n);
}

/*
 * A copy ages at its peers like any entry, but sees no packet there: once
 * a third of the shortest idle timeout, every flow of our own that carried
 * a packet since the last refresh is sent again, and refreshes its copies.
 */
struct refresh_walk {
	struct agent *a;
	__u64 since;
	size_t n;
};

static bool refresh_visit(const struct xlb_flow_key *k, const struct xlb_flow *fl, void *arg)
{
	struct refresh_walk *w = arg;
	struct sync_flow f;

	if ((fl->flags & XLB_FLOW_F_SYNCED) || fl->last_seen_ns < w->since ||
	    !flow_name(w->a, k, fl->backend_id, fl->vip_id, fl->flags, &f))
		return false;
	for (int i = 0; i < ss.cfg.npeers; i++)
		enqueue(&ss.peers[i], &f);
	w->n++;
	return false;
}

static void refresh(struct agent *a)
{
	struct refresh_walk w = { .a = a };
	struct xlb_ctl ctl = {};
	__u32 zero = 0, period_s;
	__u64 now = now_ns();

	bpf_map_lookup_elem(a->in.fd[XLB_M_CTL], &zero, &ctl);
	period_s = ctl.ct_timeout_tcp_s < ctl.ct_timeout_udp_s ? ctl.ct_timeout_tcp_s :
								   ctl.ct_timeout_udp_s;
	period_s = period_s / AGENT_SYNC_REFRESH_DIV ? period_s / AGENT_SYNC_REFRESH_DIV : 1;
	if (now - ss.refresh_ns < period_s * 1000 * NS_PER_MS)
		return;
	w.since = ss.refresh_ns;
	ss.refresh_ns = now;
	ct_walk(a->in.fd[XLB_M_CONNTRACK], refresh_visit, &w, NULL, NULL);
}

/* ---- receiving ---- */

static struct peer *peer_by_addr(const struct sockaddr_in6 *sa)
{
	for (int i = 0; i < ss.cfg.npeers; i++)
		if (!memcmp(&ss.peers[i].sa.sin6_addr, &sa->sin6_addr, sizeof(sa->sin6_addr)))
			return &ss.peers[i];
	return NULL;
}

/* True if message @seq of run @epoch was seen already; records it. */
static bool rx_dup(struct peer *p, __u32 epoch, __u32 seq)
{
	__u32 d;

	if (!p->rx_known || p->rx_epoch != epoch) {
		p->rx_known = true;
		p->rx_epoch = epoch;
		p->rx_top = seq;
		p->rx_seen = 1;
		return false;
	}
	if ((__s32)(seq - p->rx_top) > 0) {
		d = seq - p->rx_top;
		p->rx_seen = d >= 64 ? 0 : p->rx_seen << d;
		p->rx_seen |= 1;
		p->rx_top = seq;
		return false;
	}
	d = p->rx_top - seq;
	if (d >= 64 || (p->rx_seen & (1ULL << d)))
		return true;
	p->rx_seen |= 1ULL << d;
	return false;
}

static void on_ack(struct peer *p, const struct sync_msg *m)
{
	if (m->ack_epoch != ss.epoch)
		return;
	for (size_t i = 0; i < m->count; i++) {
		__u32 seq = sync_msg_ack(m, i);

		for (int j = 0; j < AGENT_SYNC_WINDOW; j++) {
			if (p->win[j].used && p->win[j].seq == seq) {
				p->win[j].used = false;
				p->inflight--;
				break;
			}
		}
	}
}

static void on_message(struct agent *a, struct peer *p, const struct sync_msg *m)
{
	struct sync_flow f;
	char addr[XLB_ADDR_STRLEN];

	if (m->type == SYNC_T_ACK) {
		on_ack(p, m);
		return;
	}
	peer_ack(p, m->epoch, m->seq);
	if (rx_dup(p, m->epoch, m->seq))
		return;
	switch (m->type) {
	case SYNC_T_FLOWS:
		for (size_t i = 0; i < m->count; i++) {
			p->st.received++;
			if (sync_msg_flow(m, i, &f) && flow_apply(a, &f))
				p->st.applied++;
			else
				p->st.skipped++;
		}
		break;
	case SYNC_T_DUMP_REQ:
		dump_to(a, p);
		break;
	case SYNC_T_DUMP_END:
		if (!p->st.dump_done) {
			addr_fmt(p->st.addr, p->st.family, addr, sizeof(addr));
			agent_log("sync: full copy from %s complete (%llu of its flows applied)",
				  addr, (unsigned long long)p->st.applied);
		}
		p->st.dump_done = 1;
		break;
	}
}

static void sock_read(struct agent *a)
{
	__u8 buf[SYNC_MSG_MAX + 1];
	struct sockaddr_in6 sa;
	struct sync_msg m;
	struct peer *p;

	for (int n = 0; n < AGENT_SYNC_RX_BUDGET; n++) {
		socklen_t salen = sizeof(sa);
		ssize_t len = recvfrom(ss.sock, buf, sizeof(buf), MSG_DONTWAIT,
				       (struct sockaddr *)&sa, &salen);

		if (len < 0)
			break;
		ss.dirty = true;
		p = salen == sizeof(sa) ? peer_by_addr(&sa) : NULL;
		if (!p) {
			ss.others.refused++;
			continue;
		}
		if (!ss.key_ok || sync_decode(buf, len, &ss.key, &m)) {
			p->st.refused++;
			continue;
		}
		p->st.last_contact_s = time(NULL);
		on_message(a, p, &m);
	}
	for (int i = 0; i < ss.cfg.npeers; i++)
		peer_acks_flush(&ss.peers[i]);
}

/* ---- counters ---- */

static void stats_write(void)
{
	__u32 o = XLB_SYNC_PEERS_MAX;

	if (!ss.dirty || ss.stats_fd < 0)
		return;
	for (__u32 i = 0; i < ss.cfg.npeers; i++)
		bpf_map_update_elem(ss.stats_fd, &i, &ss.peers[i].st, BPF_ANY);
	bpf_map_update_elem(ss.stats_fd, &o, &ss.others, BPF_ANY);
	ss.dirty = false;
}

static int stats_open(const struct agent *a)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", a->in.dir, SYNC_STATS_MAP_NAME);
	fd = bpf_obj_get(path);
	if (fd >= 0 || errno != ENOENT)
		return fd;
	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "xlb_sync_stats", sizeof(__u32),
			    sizeof(struct xlb_sync_stats), SYNC_STATS_ENTRIES, NULL);
	if (fd >= 0 && bpf_obj_pin(fd, path)) {
		close(fd);
		return -1;
	}
	return fd;
}

static void stats_zero(void)
{
	struct xlb_sync_stats none = {};

	if (ss.stats_fd < 0)
		return;
	for (__u32 i = 0; i < SYNC_STATS_ENTRIES; i++)
		bpf_map_update_elem(ss.stats_fd, &i, &none, BPF_ANY);
}

/* ---- the setting ---- */

static void peers_free(void)
{
	for (int i = 0; ss.peers && i < ss.cfg.npeers; i++)
		free(ss.peers[i].q);
	free(ss.peers);
	ss.peers = NULL;
}

static int sock_open(__u16 port)
{
	struct sockaddr_in6 sa = { .sin6_family = AF_INET6, .sin6_port = htons(port),
				   .sin6_addr = IN6ADDR_ANY_INIT };
	int fd = socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int off = 0, buf = SYNC_SOCK_BUF;

	if (fd < 0)
		return -1;
	setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off));
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof(buf)))
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &buf, sizeof(buf)))
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		close(fd);
		return -1;
	}
	return fd;
}

static void peer_init(struct peer *p, const struct xlb_sync_peer *c, __u16 port)
{
	memset(p, 0, sizeof(*p));
	p->sa.sin6_family = AF_INET6;
	p->sa.sin6_port = htons(port);
	if (c->family == XLB_AF_INET) {
		p->sa.sin6_addr.s6_addr[10] = 0xff;
		p->sa.sin6_addr.s6_addr[11] = 0xff;
		memcpy(&p->sa.sin6_addr.s6_addr[12], &c->addr[0], 4);
	} else {
		memcpy(&p->sa.sin6_addr, c->addr, 16);
	}
	memcpy(p->st.addr, c->addr, sizeof(c->addr));
	p->st.family = c->family;
	p->next_seq = 1;
	p->req_pending = true;		/* a new run asks every peer for its flows */
}

static void sync_off(void)
{
	if (ss.sock >= 0) {
		epoll_ctl(ss.ep, EPOLL_CTL_DEL, ss.sock, NULL);
		close(ss.sock);
		ss.sock = -1;
	}
	peers_free();
	memset(&ss.cfg, 0, sizeof(ss.cfg));
	ss.on = false;
}

static void key_load(void)
{
	const char *why;
	struct stat st;

	if (stat(ss.cfg.key_path, &st) == 0 && ss.key_st.st_ino == st.st_ino &&
	    ss.key_st.st_mtim.tv_nsec == st.st_mtim.tv_nsec &&
	    ss.key_st.st_mtim.tv_sec == st.st_mtim.tv_sec && ss.key_st.st_size == st.st_size &&
	    ss.key_st.st_mode == st.st_mode && ss.key_st.st_dev == st.st_dev)
		return;
	if (stat(ss.cfg.key_path, &ss.key_st))
		memset(&ss.key_st, 0, sizeof(ss.key_st));
	if (sync_key_read(ss.cfg.key_path, &ss.key, &why)) {
		if (ss.key_ok || !ss.logged_off)
			agent_log("sync: key %s unusable (%s): nothing sent, everything refused",
				  ss.cfg.key_path, why);
		ss.key_ok = false;
		ss.logged_off = true;
		return;
	}
	if (ss.logged_off || ss.key_ok)
		agent_log("sync: key %s (re)read", ss.cfg.key_path);
	ss.key_ok = true;
	ss.logged_off = false;
}

static void sync_on(const struct xlb_sync_config *c)
{
	struct epoll_event ev = { .events = EPOLLIN };

	ss.cfg = *c;
	memset(&ss.key_st, 0, sizeof(ss.key_st));
	ss.key_ok = false;
	key_load();
	ss.sock = sock_open(c->port);
	if (ss.sock < 0) {
		agent_log("sync: cannot listen on UDP port %u: %s", c->port, strerror(errno));
		memset(&ss.cfg, 0, sizeof(ss.cfg));
		return;
	}
	ev.data.fd = ss.sock;
	epoll_ctl(ss.ep, EPOLL_CTL_ADD, ss.sock, &ev);
	ss.peers = calloc(c->npeers, sizeof(*ss.peers));
	if (!ss.peers) {
		sync_off();
		return;
	}
	for (int i = 0; i < c->npeers; i++)
		peer_init(&ss.peers[i], &c->peers[i], c->port);
	if (getrandom(&ss.epoch, sizeof(ss.epoch), 0) != sizeof(ss.epoch) || !ss.epoch)
		ss.epoch = (__u32)now_ns() | 1;
	memset(&ss.others, 0, sizeof(ss.others));
	stats_zero();
	ss.dirty = true;
	ss.on = true;
	ss.start_ns = ss.refresh_ns = now_ns();
	agent_log("sync: on, UDP port %u, %u peers; asking each for a full copy", c->port,
		  c->npeers);
}

void agent_sync_tick(struct agent *a)
{
	struct xlb_sync_config c;

	if (sync_read(a->in.dir, &c))
		return;		/* unreadable for now: keep going as we are */
	if (!c.enabled) {
		if (ss.cfg.enabled) {
			agent_log("sync: setting removed: off");
			sync_off();
		}
		return;
	}
	if (memcmp(&c, &ss.cfg, sizeof(c))) {
		if (ss.cfg.enabled)
			agent_log("sync: setting changed");
		sync_off();
		sync_on(&c);
		return;
	}
	key_load();
	if (ss.on && ss.key_ok)
		refresh(a);
}

/* ---- the agent's hooks ---- */

static void on_timer(void)
{
	__u64 ticks, now = now_ns();

	if (read(ss.timer, &ticks, sizeof(ticks)) < 0 && errno != EAGAIN)
		return;
	for (int i = 0; ss.on && i < ss.cfg.npeers; i++)
		peer_retransmit(&ss.peers[i], now);
	stats_write();
}

void agent_sync_service(struct agent *a)
{
	struct epoll_event evs[4];
	int n = epoll_wait(ss.ep, evs, ARRAY_SIZE(evs), 0);

	for (int i = 0; i < n; i++) {
		if (evs[i].data.fd == ss.timer)
			on_timer();
		else if (evs[i].data.fd == ss.sock)
			sock_read(a);
		else if (ss.rb)
			ring_buffer__consume(ss.rb);
	}
	for (int i = 0; ss.on && ss.key_ok && i < ss.cfg.npeers; i++)
		peer_fill(&ss.peers[i]);
	stats_write();		/* at most SYNC_STATS_ENTRIES updates, only when something moved */
}

bool agent_sync_ready(const struct agent *a)
{
	int done = 0;

	if (ss.ready)
		return true;
	if (!ss.on || !ss.key_ok) {
		ss.ready = true;
		return true;
	}
	for (int i = 0; i < ss.cfg.npeers; i++)
		done += ss.peers[i].st.dump_done;
	if (done == ss.cfg.npeers) {
		agent_log("sync: full copies from all %d peers after %llu ms: announcing", done,
			  (unsigned long long)((now_ns() - ss.start_ns) / NS_PER_MS));
		ss.ready = true;
	} else if (now_ns() - ss.start_ns >= AGENT_SYNC_HOLD_MS * NS_PER_MS) {
		agent_log("sync: full copies from %d of %d peers after %u ms: announcing anyway",
			  done, ss.cfg.npeers, AGENT_SYNC_HOLD_MS);
		ss.ready = true;
	}
	return ss.ready;
}

static int ep_add(int fd)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };

	return epoll_ctl(ss.ep, EPOLL_CTL_ADD, fd, &ev);
}

int agent_sync_open(struct agent *a)
{
	struct itimerspec its = {
		.it_value = { 0, AGENT_SYNC_TIMER_MS * NS_PER_MS },
		.it_interval = { 0, AGENT_SYNC_TIMER_MS * NS_PER_MS },
	};

	ss.ep = epoll_create1(EPOLL_CLOEXEC);
	ss.timer = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (ss.ep < 0 || ss.timer < 0 || timerfd_settime(ss.timer, 0, &its, NULL) ||
	    ep_add(ss.timer)) {
		agent_log("sync: setup: %s", strerror(errno));
		return -1;
	}
	ss.young_fd = ct_pin_open(&a->in, CT_YOUNG_MAP);
	ss.stats_fd = stats_open(a);
	ss.ring_fd = ct_pin_open(&a->in, SYNC_RING_MAP);
	if (ss.ring_fd >= 0)
		ss.rb = ring_buffer__new(ss.ring_fd, on_event, a, NULL);
	if (ss.rb)
		ep_add(ring_buffer__epoll_fd(ss.rb));
	agent_sync_tick(a);
	if (ss.on && !ss.rb)
		agent_log("sync: the attached program reports no flows (attach again to upgrade): "
			  "receiving only");
	return ss.ep;
}

static void fd_close(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

void agent_sync_close(struct agent *a)
{
	sync_off();
	ring_buffer__free(ss.rb);
	ss.rb = NULL;
	if (ss.model_ok)
		model_free(&ss.model);
	ss.model_ok = false;
	explicit_bzero(&ss.key, sizeof(ss.key));
	fd_close(&ss.ring_fd);
	fd_close(&ss.young_fd);
	fd_close(&ss.stats_fd);
	fd_close(&ss.timer);
	fd_close(&ss.ep);
}
