// SPDX-License-Identifier: GPL-2.0
/*
 * Session sync's wire format (user/lib/syncproto.c): the HMAC is HMAC-SHA256
 * (RFC 4231 vector), flows and acks survive encode/decode unchanged, and
 * anything altered, cut, padded, keyed otherwise or claiming more than it
 * carries is refused; the key file must be private and long enough.
 */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "syncproto.h"
#include "util.h"

static struct sync_key key_a, key_b;

static void keys(void)
{
	key_a.len = key_b.len = SYNC_KEY_MIN;
	memset(key_a.k, 'a', key_a.len);
	memset(key_b.k, 'b', key_b.len);
}

static void test_hmac_is_rfc4231(void)
{
	static const __u8 want[SYNC_HMAC_LEN] = {
		0x5b, 0xdc, 0xc1, 0x46, 0xbf, 0x60, 0x75, 0x4e, 0x6a, 0x04, 0x24, 0x26,
		0x08, 0x95, 0x75, 0xc7, 0x5a, 0x00, 0x3f, 0x08, 0x9d, 0x27, 0x39, 0x83,
		0x9d, 0xec, 0x58, 0xb9, 0x64, 0xec, 0x38, 0x43,
	};
	const char *data = "what do ya want for nothing?";
	struct sync_key k = { .len = 4 };
	__u8 mac[SYNC_HMAC_LEN];

	memcpy(k.k, "Jefe", 4);
	EXPECT_EQ("hmac", 0, sync_hmac(&k, data, strlen(data), mac));
	EXPECT_EQ("RFC 4231 case 2", 0, memcmp(mac, want, sizeof(want)));
}

static void flows_make(struct sync_flow *f, size_t n)
{
	memset(f, 0, n * sizeof(*f));
	for (size_t i = 0; i < n; i++) {
		f[i].key.family = i % 2 ? XLB_AF_INET6 : XLB_AF_INET;
		f[i].key.proto = i % 3 ? IPPROTO_TCP : IPPROTO_UDP;
		f[i].key.src[0] = htonl(0x0a000001 + i);
		f[i].key.dst[0] = htonl(0x0a640001);
		if (f[i].key.family == XLB_AF_INET6) {
			f[i].key.src[3] = htonl(i);
			f[i].key.dst[3] = htonl(7);
		}
		f[i].key.sport = htons(40000 + i);
		f[i].key.dport = htons(80);
		f[i].vip_port = i % 4 ? htons(80) : 0;
		f[i].be_family = XLB_AF_INET;
		f[i].backend[0] = htonl(0x0ac90065 + i % 3);
		f[i].flags = i % 5 ? 0 : SYNC_FLOW_F_CLOSING;
	}
}

static void test_flows_round_trip(void)
{
	struct sync_flow in[SYNC_FLOWS_PER_MSG], out;
	__u8 buf[SYNC_MSG_MAX];
	struct sync_msg m;
	size_t len;

	keys();
	flows_make(in, SYNC_FLOWS_PER_MSG);
	len = sync_encode_flows(buf, &key_a, 0x11223344, 77, in, SYNC_FLOWS_PER_MSG);
	EXPECT_TRUE("fits a datagram", len > 0 && len <= SYNC_MSG_MAX);
	EXPECT_EQ("decode", 0, sync_decode(buf, len, &key_a, &m));
	EXPECT_EQ("type", SYNC_T_FLOWS, m.type);
	EXPECT_EQ("count", SYNC_FLOWS_PER_MSG, m.count);
	EXPECT_EQ("epoch", 0x11223344, m.epoch);
	EXPECT_EQ("seq", 77, m.seq);
	for (size_t i = 0; i < SYNC_FLOWS_PER_MSG; i++) {
		EXPECT_TRUE("flow decodes", sync_msg_flow(&m, i, &out));
		EXPECT_EQ("flow unchanged", 0, memcmp(&out, &in[i], sizeof(out)));
	}
	EXPECT_TRUE("no flow past count", !sync_msg_flow(&m, SYNC_FLOWS_PER_MSG, &out));
	EXPECT_EQ("too many flows", 0, sync_encode_flows(buf, &key_a, 1, 1, in,
							 SYNC_FLOWS_PER_MSG + 1));
}

static void test_altered_or_foreign_messages_are_refused(void)
{
	struct sync_flow in[3];
	__u8 buf[SYNC_MSG_MAX + 8];
	struct sync_msg m;
	size_t len;

	keys();
	flows_make(in, 3);
	len = sync_encode_flows(buf, &key_a, 1, 2, in, 3);
	EXPECT_EQ("wrong key", SYNC_E_AUTH, sync_decode(buf, len, &key_b, &m));
	for (size_t i = 0; i < len; i++) {
		buf[i] ^= 0x01;
		int r = sync_decode(buf, len, &key_a, &m);

		buf[i] ^= 0x01;
		if (r == 0) {
			t_fail("a flipped bit at byte %zu was accepted", i);
			return;
		}
	}
	EXPECT_EQ("cut short", SYNC_E_MALFORMED, sync_decode(buf, len - 1, &key_a, &m));
	EXPECT_EQ("padded", SYNC_E_MALFORMED, sync_decode(buf, len + 1, &key_a, &m));
	EXPECT_EQ("header only", SYNC_E_MALFORMED, sync_decode(buf, sizeof(struct sync_hdr), &key_a, &m));
	buf[6] = 0xff;	/* count: more flows than the datagram holds */
	EXPECT_EQ("count lies", SYNC_E_MALFORMED, sync_decode(buf, len, &key_a, &m));
}

static void test_acks_and_controls_round_trip(void)
{
	__u32 seqs[SYNC_ACKS_PER_MSG];
	__u8 buf[SYNC_MSG_MAX];
	struct sync_msg m;
	size_t len;

	keys();
	for (size_t i = 0; i < SYNC_ACKS_PER_MSG; i++)
		seqs[i] = 1000 + i * 3;
	len = sync_encode_ack(buf, &key_a, 5, 9, seqs, SYNC_ACKS_PER_MSG);
	EXPECT_TRUE("ack fits", len > 0 && len <= SYNC_MSG_MAX);
	EXPECT_EQ("ack decodes", 0, sync_decode(buf, len, &key_a, &m));
	EXPECT_EQ("ack type", SYNC_T_ACK, m.type);
	EXPECT_EQ("ack epoch", 9, m.ack_epoch);
	for (size_t i = 0; i < SYNC_ACKS_PER_MSG; i++)
		EXPECT_EQ("acked seq", seqs[i], sync_msg_ack(&m, i));
	len = sync_encode_ctl(buf, &key_a, SYNC_T_DUMP_REQ, 5, 42);
	EXPECT_EQ("dump request decodes", 0, sync_decode(buf, len, &key_a, &m));
	EXPECT_EQ("dump request", SYNC_T_DUMP_REQ, m.type);
	EXPECT_EQ("dump request seq", 42, m.seq);
	buf[5] = 99;	/* no such type */
	EXPECT_EQ("unknown type", SYNC_E_MALFORMED, sync_decode(buf, len, &key_a, &m));
}

static void test_untrackable_flows_are_not_decoded(void)
{
	struct sync_flow in[1], out;
	__u8 buf[SYNC_MSG_MAX];
	struct sync_msg m;
	size_t len;

	keys();
	flows_make(in, 1);
	in[0].key.src[2] = 1;	/* an IPv4 address with bits past its 4 bytes */
	len = sync_encode_flows(buf, &key_a, 1, 1, in, 1);
	EXPECT_EQ("decodes", 0, sync_decode(buf, len, &key_a, &m));
	EXPECT_TRUE("IPv4 with stray bytes refused", !sync_msg_flow(&m, 0, &out));
	flows_make(in, 1);
	in[0].key.proto = 1;	/* ICMP */
	len = sync_encode_flows(buf, &key_a, 1, 1, in, 1);
	EXPECT_EQ("decodes", 0, sync_decode(buf, len, &key_a, &m));
	EXPECT_TRUE("ICMP refused", !sync_msg_flow(&m, 0, &out));
	flows_make(in, 1);
	in[0].vip_port = htons(81);	/* neither the port nor 0 */
	len = sync_encode_flows(buf, &key_a, 1, 1, in, 1);
	EXPECT_EQ("decodes", 0, sync_decode(buf, len, &key_a, &m));
	EXPECT_TRUE("VIP port other than dport refused", !sync_msg_flow(&m, 0, &out));
}

static int key_file(const char *path, size_t len, mode_t mode)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -1;
	for (size_t i = 0; i < len; i++)
		fputc('k', f);
	fclose(f);
	return chmod(path, mode);
}

static void test_key_file_must_be_private_and_long(void)
{
	char path[] = "/tmp/xlb-synckey.XXXXXX";
	struct sync_key k;
	const char *why;
	int fd = mkstemp(path);

	if (fd < 0) {
		t_skip("no temporary file");
		return;
	}
	close(fd);
	EXPECT_EQ("write", 0, key_file(path, 32, 0600));
	EXPECT_EQ("0600, 32 bytes", 0, sync_key_read(path, &k, &why));
	EXPECT_EQ("length", 32, k.len);
	EXPECT_EQ("chmod", 0, key_file(path, 32, 0644));
	EXPECT_EQ("0644 refused", -1, sync_key_read(path, &k, &why));
	EXPECT_TRUE("says why", strstr(why, "0600") != NULL);
	EXPECT_EQ("write", 0, key_file(path, 31, 0600));
	EXPECT_EQ("31 bytes refused", -1, sync_key_read(path, &k, &why));
	unlink(path);
	EXPECT_EQ("missing refused", -1, sync_key_read(path, &k, &why));
}

int main(int argc, char **argv)
{
	static const struct t_case cases[] = {
		T_CASE(test_hmac_is_rfc4231),
		T_CASE(test_flows_round_trip),
		T_CASE(test_altered_or_foreign_messages_are_refused),
		T_CASE(test_acks_and_controls_round_trip),
		T_CASE(test_untrackable_flows_are_not_decoded),
		T_CASE(test_key_file_must_be_private_and_long),
	};

	return t_main(argc, argv, cases, ARRAY_SIZE(cases));
}
