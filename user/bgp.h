/* SPDX-License-Identifier: GPL-2.0 */
/*
 * BGP announcement of an instance's VIPs, the parts the CLI (bgp.c) and the
 * agent (agent_bgp.c) share: the settings, kept in a pinned map "bgp" of
 * the instance (struct xlb_bgp_config, created by the first `xlb bgp set`,
 * removed by detach with the other pins), the files of the BIRD daemon the
 * agent runs for the instance under /run/xlb, and a client of BIRD's control
 * socket (the protocol birdc speaks: one command line, numbered reply lines).
 */
#ifndef XLB_BGP_H
#define XLB_BGP_H

#include <stdbool.h>
#include <stddef.h>
#include "xlb_abi.h"

#define BGP_MAP_NAME		"bgp"
#define BGP_HOLD_DEFAULT_S	9	/* keepalives every 3 s */
#define BGP_HOLD_MIN_S		3	/* RFC 4271: 0 or at least 3 */
#define BGP_HOLD_MAX_S		65535
#define BGP_ASN_MAX		4294967294u	/* 4294967295 is reserved (RFC 7300) */
#define BIRD_REPLY_TIMEOUT_MS	3000
#define BIRD_PROTO_PEER		"xlb_peer"	/* protocols xlb_peer1..N, in peer order */
#define BIRD_PROTO_VIPS4	"xlb_vips4"	/* the static protocols holding the VIPs */
#define BIRD_PROTO_VIPS6	"xlb_vips6"

/* /run/xlb/IFACE.bird.SUFFIX: conf, ctl (control socket), pid, log. */
void bgp_run_path(const char *iface, const char *suffix, char *buf, size_t len);

/*
 * The settings of the instance whose pin directory is @dir: zeroed (asn 0)
 * when none are set. 0, or -1 when the map exists but cannot be read.
 */
int bgp_read(const char *dir, struct xlb_bgp_config *c);

/*
 * Runs @cmd on BIRD's control socket @sock; @line (if not NULL) gets every
 * reply line with its code. Returns the code of the last line (0 "OK",
 * 3 "Reconfigured", 8000 and up errors), or -1 if BIRD does not answer.
 */
typedef void (*bird_line_fn)(int code, const char *text, void *arg);
int bird_cmd(const char *sock, const char *cmd, bird_line_fn line, void *arg);

#endif
