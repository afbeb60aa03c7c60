// SPDX-License-Identifier: GPL-2.0
/*
 * Session sync messages (syncproto.h): encoding and decoding, HMAC-SHA256
 * with OpenSSL's libcrypto (one call, the one well-kept implementation
 * Debian has everywhere), compared in constant time, and the key file.
 * Decoding trusts nothing before the HMAC verified: lengths are checked
 * against the datagram first, the HMAC over exactly the bytes announced.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "syncproto.h"

int sync_hmac(const struct sync_key *key, const void *data, size_t len, __u8 *out)
{
	unsigned int olen = 0;

	if (!HMAC(EVP_sha256(), key->k, (int)key->len, data, len, out, &olen) ||
	    olen != SYNC_HMAC_LEN)
		return -1;
	return 0;
}

static void hdr_put(__u8 *buf, __u8 type, __u16 count, __u32 epoch, __u32 seq, __u32 ack_epoch)
{
	struct sync_hdr h = {
		.magic = htonl(SYNC_MAGIC),
		.version = SYNC_VERSION,
		.type = type,
		.count = htons(count),
		.epoch = htonl(epoch),
		.seq = htonl(seq),
		.ack_epoch = htonl(ack_epoch),
	};

	memcpy(buf, &h, sizeof(h));
}

/* Appends the HMAC to the @len bytes at @buf: the message's length, 0 on error. */
static size_t seal(__u8 *buf, size_t len, const struct sync_key *key)
{
	return sync_hmac(key, buf, len, buf + len) ? 0 : len + SYNC_HMAC_LEN;
}

static void flow_put(struct sync_wire_flow *w, const struct sync_flow *f)
{
	memset(w, 0, sizeof(*w));
	memcpy(w->src, f->key.src, sizeof(w->src));
	memcpy(w->dst, f->key.dst, sizeof(w->dst));
	memcpy(w->backend, f->backend, sizeof(w->backend));
	w->sport = f->key.sport;
	w->dport = f->key.dport;
	w->vip_port = f->vip_port;
	w->proto = f->key.proto;
	w->family = f->key.family;
	w->be_family = f->be_family;
	w->flags = f->flags;
}

size_t sync_encode_flows(__u8 *buf, const struct sync_key *key, __u32 epoch, __u32 seq,
			 const struct sync_flow *flows, size_t n)
{
	struct sync_wire_flow *w = (struct sync_wire_flow *)(buf + sizeof(struct sync_hdr));

	if (n > SYNC_FLOWS_PER_MSG)
		return 0;
	hdr_put(buf, SYNC_T_FLOWS, n, epoch, seq, 0);
	for (size_t i = 0; i < n; i++) {
		struct sync_wire_flow tmp;

		flow_put(&tmp, &flows[i]);
		memcpy(&w[i], &tmp, sizeof(tmp));
	}
	return seal(buf, sizeof(struct sync_hdr) + n * sizeof(*w), key);
}

size_t sync_encode_ctl(__u8 *buf, const struct sync_key *key, __u8 type, __u32 epoch, __u32 seq)
{
	hdr_put(buf, type, 0, epoch, seq, 0);
	return seal(buf, sizeof(struct sync_hdr), key);
}

size_t sync_encode_ack(__u8 *buf, const struct sync_key *key, __u32 epoch, __u32 ack_epoch,
		       const __u32 *seqs, size_t n)
{
	__u8 *p = buf + sizeof(struct sync_hdr);

	if (n > SYNC_ACKS_PER_MSG)
		return 0;
	hdr_put(buf, SYNC_T_ACK, n, epoch, 0, ack_epoch);
	for (size_t i = 0; i < n; i++) {
		__be32 s = htonl(seqs[i]);

		memcpy(p + i * sizeof(s), &s, sizeof(s));
	}
	return seal(buf, sizeof(struct sync_hdr) + n * sizeof(__be32), key);
}

static size_t body_len(__u8 type, size_t count)
{
	switch (type) {
	case SYNC_T_FLOWS:
		return count <= SYNC_FLOWS_PER_MSG ? count * sizeof(struct sync_wire_flow) : SIZE_MAX;
	case SYNC_T_ACK:
		return count <= SYNC_ACKS_PER_MSG ? count * sizeof(__be32) : SIZE_MAX;
	case SYNC_T_DUMP_REQ:
	case SYNC_T_DUMP_END:
		return count ? SIZE_MAX : 0;
	default:
		return SIZE_MAX;
	}
}

int sync_decode(const __u8 *buf, size_t len, const struct sync_key *key, struct sync_msg *m)
{
	__u8 mac[SYNC_HMAC_LEN];
	struct sync_hdr h;
	size_t blen;

	if (len < sizeof(h) + SYNC_HMAC_LEN || len > SYNC_MSG_MAX)
		return SYNC_E_MALFORMED;
	memcpy(&h, buf, sizeof(h));
	if (ntohl(h.magic) != SYNC_MAGIC || h.version != SYNC_VERSION)
		return SYNC_E_MALFORMED;
	blen = body_len(h.type, ntohs(h.count));
	if (blen == SIZE_MAX || sizeof(h) + blen + SYNC_HMAC_LEN != len)
		return SYNC_E_MALFORMED;
	if (sync_hmac(key, buf, sizeof(h) + blen, mac) ||
	    CRYPTO_memcmp(mac, buf + sizeof(h) + blen, SYNC_HMAC_LEN))
		return SYNC_E_AUTH;
	m->type = h.type;
	m->count = ntohs(h.count);
	m->epoch = ntohl(h.epoch);
	m->seq = ntohl(h.seq);
	m->ack_epoch = ntohl(h.ack_epoch);
	m->body = buf + sizeof(h);
	return 0;
}

static bool family_ok(__u8 family, const __u8 *addr)
{
	static const __u8 zero[12];

	if (family == XLB_AF_INET)
		return !memcmp(addr + 4, zero, sizeof(zero));
	return family == XLB_AF_INET6;
}

bool sync_msg_flow(const struct sync_msg *m, size_t i, struct sync_flow *f)
{
	struct sync_wire_flow w;

	if (m->type != SYNC_T_FLOWS || i >= m->count)
		return false;
	memcpy(&w, m->body + i * sizeof(w), sizeof(w));
	memset(f, 0, sizeof(*f));
	memcpy(f->key.src, w.src, sizeof(w.src));
	memcpy(f->key.dst, w.dst, sizeof(w.dst));
	memcpy(f->backend, w.backend, sizeof(w.backend));
	f->key.sport = w.sport;
	f->key.dport = w.dport;
	f->key.proto = w.proto;
	f->key.family = w.family;
	f->vip_port = w.vip_port;
	f->be_family = w.be_family;
	f->flags = w.flags & SYNC_FLOW_F_CLOSING;
	return (w.proto == IPPROTO_TCP || w.proto == IPPROTO_UDP) &&
	       family_ok(w.family, w.src) && family_ok(w.family, w.dst) &&
	       family_ok(w.be_family, w.backend) &&
	       (w.vip_port == 0 || w.vip_port == w.dport);
}

__u32 sync_msg_ack(const struct sync_msg *m, size_t i)
{
	__be32 s;

	memcpy(&s, m->body + i * sizeof(s), sizeof(s));
	return ntohl(s);
}

int sync_key_read(const char *path, struct sync_key *key, const char **why)
{
	struct stat st;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		*why = strerror(errno);
		return -1;
	}
	*why = NULL;
	if (fstat(fd, &st))
		*why = strerror(errno);
	else if (!S_ISREG(st.st_mode))
		*why = "not a regular file";
	else if (st.st_uid != geteuid())
		*why = "not owned by this user";
	else if (st.st_mode & (S_IRWXG | S_IRWXO))
		*why = "group or others may access it: the mode must be 0600";
	else if (st.st_size < SYNC_KEY_MIN)
		*why = "shorter than 32 bytes";
	else if (st.st_size > SYNC_KEY_MAX)
		*why = "longer than 1024 bytes";
	if (!*why) {
		n = read(fd, key->k, SYNC_KEY_MAX);
		if (n < SYNC_KEY_MIN)
			*why = n < 0 ? strerror(errno) : "shorter than 32 bytes";
		else
			key->len = n;
	}
	close(fd);
	return *why ? -1 : 0;
}
