/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The wire format of session sync between xlb agents (agent_sync.c,
 * docs/SCALE-OUT.md), its encoding, decoding and authentication. One UDP
 * datagram is one message, at most SYNC_MSG_MAX bytes so that it is never
 * fragmented on an Ethernet path:
 *
 *   struct sync_hdr      20 bytes, every field in network byte order
 *   body                 FLOWS: count x struct sync_wire_flow (60 bytes)
 *                        ACK: count x be32, the sequence numbers acknowledged
 *                        DUMP_REQ, DUMP_END: empty
 *   HMAC-SHA256          32 bytes over header and body, with the shared key
 *
 * A flow travels as addresses (client tuple, VIP address/port/protocol,
 * backend address), never as slot ids: those are each instance's own.
 * Every message but an ACK carries a sequence number of its sender's
 * stream to that peer and is acknowledged; `epoch` names the sender's
 * run (random at agent start), so a restarted sender's numbers are new.
 * Anything that is short, long, of another magic/version, or whose HMAC
 * does not verify, is refused as a whole.
 */
#ifndef XLB_SYNCPROTO_H
#define XLB_SYNCPROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "xlb_abi.h"

#define SYNC_MAGIC		0x584c4253u	/* "XLBS" */
#define SYNC_VERSION		1
#define SYNC_MSG_MAX		1452		/* 1500 - IPv6 - UDP */
#define SYNC_HMAC_LEN		32
#define SYNC_KEY_MIN		32
#define SYNC_KEY_MAX		1024

enum sync_type {
	SYNC_T_FLOWS = 1,
	SYNC_T_ACK,
	SYNC_T_DUMP_REQ,	/* send me every flow you track */
	SYNC_T_DUMP_END,	/* every flow of the dump you asked for has been acknowledged */
};

/* struct sync_wire_flow.flags */
#define SYNC_FLOW_F_CLOSING	(1u << 0)

struct sync_hdr {
	__be32 magic;
	__u8 version;
	__u8 type;		/* enum sync_type */
	__be16 count;		/* FLOWS: flows; ACK: sequence numbers */
	__be32 epoch;		/* the sender's run */
	__be32 seq;		/* this message's number (not ACK) */
	__be32 ack_epoch;	/* ACK: the epoch of the messages acknowledged */
};

struct sync_wire_flow {
	__u8 src[16];		/* client address (IPv4: first 4 bytes, rest zero) */
	__u8 dst[16];		/* VIP address */
	__u8 backend[16];
	__be16 sport;
	__be16 dport;
	__be16 vip_port;	/* the VIP's port: dport, or 0 for an all-ports VIP */
	__u8 proto;
	__u8 family;		/* enum xlb_family of client and VIP */
	__u8 be_family;		/* enum xlb_family of the backend */
	__u8 flags;		/* SYNC_FLOW_F_* */
	__u8 pad[2];
};

_Static_assert(sizeof(struct sync_hdr) == 20, "sync_hdr layout");
_Static_assert(sizeof(struct sync_wire_flow) == 60, "sync_wire_flow layout");

#define SYNC_FLOWS_PER_MSG \
	((SYNC_MSG_MAX - sizeof(struct sync_hdr) - SYNC_HMAC_LEN) / sizeof(struct sync_wire_flow))
#define SYNC_ACKS_PER_MSG \
	((SYNC_MSG_MAX - sizeof(struct sync_hdr) - SYNC_HMAC_LEN) / sizeof(__be32))

/* One flow as the agent handles it. */
struct sync_flow {
	struct xlb_flow_key key;	/* the client's 5-tuple, as conntrack keys it */
	__be16 vip_port;
	__u8 be_family;
	__u8 flags;			/* SYNC_FLOW_F_* */
	__u32 backend[4];
};

struct sync_key {
	unsigned char k[SYNC_KEY_MAX];
	size_t len;
};

/* A decoded, verified message; body points into the buffer given to sync_decode. */
struct sync_msg {
	__u8 type;
	__u16 count;
	__u32 epoch, seq, ack_epoch;
	const __u8 *body;
};

/* HMAC-SHA256 of @len bytes at @data with @key into @out (32 bytes). 0 or -1. */
int sync_hmac(const struct sync_key *key, const void *data, size_t len, __u8 *out);

/* A FLOWS message of @n (<= SYNC_FLOWS_PER_MSG) flows into @buf; its length, 0 on error. */
size_t sync_encode_flows(__u8 *buf, const struct sync_key *key, __u32 epoch, __u32 seq,
			 const struct sync_flow *flows, size_t n);
/* A DUMP_REQ or DUMP_END message. */
size_t sync_encode_ctl(__u8 *buf, const struct sync_key *key, __u8 type, __u32 epoch, __u32 seq);
/* An ACK of @n (<= SYNC_ACKS_PER_MSG) sequence numbers of the peer's run @ack_epoch. */
size_t sync_encode_ack(__u8 *buf, const struct sync_key *key, __u32 epoch, __u32 ack_epoch,
		       const __u32 *seqs, size_t n);

#define SYNC_E_MALFORMED	(-1)	/* length, magic, version, type or count wrong */
#define SYNC_E_AUTH		(-2)	/* HMAC does not verify */
/* Checks and decodes @len bytes at @buf: 0, SYNC_E_MALFORMED or SYNC_E_AUTH. */
int sync_decode(const __u8 *buf, size_t len, const struct sync_key *key, struct sync_msg *m);
/* Flow @i of a verified FLOWS message; false if it is not one xlb could track. */
bool sync_msg_flow(const struct sync_msg *m, size_t i, struct sync_flow *out);
/* Sequence number @i of a verified ACK message. */
__u32 sync_msg_ack(const struct sync_msg *m, size_t i);

/*
 * Reads the shared secret from @path: a regular file of SYNC_KEY_MIN to
 * SYNC_KEY_MAX bytes, owned by this user, not readable or writable by
 * group or others (mode 0600 or 0400). 0, or -1 with @why set.
 */
int sync_key_read(const char *path, struct sync_key *key, const char **why);

#endif
