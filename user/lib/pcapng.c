// SPDX-License-Identifier: GPL-2.0
/* pcapng blocks (see pcapng.h); host byte order, which the byte-order magic declares. */
#include <errno.h>
#include <string.h>

#include "pcapng.h"

#define PCAPNG_SHB		0x0a0d0d0a
#define PCAPNG_IDB		0x00000001
#define PCAPNG_EPB		0x00000006
#define PCAPNG_MAGIC		0x1a2b3c4d
#define PCAPNG_LINKTYPE_ETHERNET 1
#define PCAPNG_OPT_END		0
#define PCAPNG_OPT_COMMENT	1
#define PCAPNG_IF_TSRESOL	9
#define PCAPNG_TSRESOL_NS	9	/* 10^-9 s */
#define PCAPNG_COMMENT_MAX	512

static __u32 pad4(__u32 n)
{
	return (n + 3) & ~3u;
}

static int put(FILE *f, const void *p, size_t n)
{
	return fwrite(p, 1, n, f) == n ? 0 : -EIO;
}

static int put_zeros(FILE *f, size_t n)
{
	static const __u8 zero[4];

	return n ? put(f, zero, n) : 0;
}

int pcapng_start(FILE *f, __u32 snaplen)
{
	struct { __u32 type, len, magic; __u16 major, minor; __s64 section_len; __u32 len2; }
		shb = { PCAPNG_SHB, sizeof(shb), PCAPNG_MAGIC, 1, 0, -1, sizeof(shb) };
	struct {
		__u32 type, len;
		__u16 linktype, reserved;
		__u32 snaplen;
		__u16 opt, opt_len;
		__u8 tsresol, pad[3];
		__u16 end, end_len;
		__u32 len2;
	} idb = { PCAPNG_IDB, sizeof(idb), PCAPNG_LINKTYPE_ETHERNET, 0, snaplen,
		  PCAPNG_IF_TSRESOL, 1, PCAPNG_TSRESOL_NS, {0}, PCAPNG_OPT_END, 0, sizeof(idb) };

	return put(f, &shb, sizeof(shb)) ?: put(f, &idb, sizeof(idb));
}

int pcapng_packet(FILE *f, __u64 ts_ns, const void *data, __u32 caplen, __u32 origlen,
		  const char *comment)
{
	__u32 clen = comment ? strnlen(comment, PCAPNG_COMMENT_MAX) : 0;
	__u32 opts = clen ? 4 + pad4(clen) + 4 : 0;
	__u32 len = 28 + pad4(caplen) + opts + 4;
	struct { __u32 type, len, ifid, ts_hi, ts_lo, caplen, origlen; } epb = {
		PCAPNG_EPB, len, 0, ts_ns >> 32, (__u32)ts_ns, caplen, origlen,
	};
	__u16 opt[2] = { PCAPNG_OPT_COMMENT, clen }, end[2] = { PCAPNG_OPT_END, 0 };
	int err;

	err = put(f, &epb, sizeof(epb)) ?: put(f, data, caplen) ?:
	      put_zeros(f, pad4(caplen) - caplen);
	if (!err && clen)
		err = put(f, opt, sizeof(opt)) ?: put(f, comment, clen) ?:
		      put_zeros(f, pad4(clen) - clen) ?: put(f, end, sizeof(end));
	return err ?: put(f, &len, sizeof(len));
}
