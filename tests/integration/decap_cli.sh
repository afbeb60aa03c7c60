# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# xlb decap on a backend: bad input to attach (no --from, a bad prefix, a bad
# port, ...) exits non-zero with one line naming the bad argument and leaves
# the attached instance exactly as it was; attaching again replaces the --from
# list and the GUE port; and on the wire, through the topology's real stack:
# a tunnel packet from a host outside --from is dropped and counted, the same
# from the balancer is delivered, and a GUE copy of a TCP segment the first
# backend holds no socket for goes, by the second chance, to the next one.

# The decap instance of b1 without its counters (traffic may move those).
decap_conf() {
	in_ns b1 "$XLB" decap show "$P-b1" --json | jq -S 'del(.instances[].reasons)'
}

decap_reason() {
	in_ns "$1" "$XLB" decap stats "$P-$1" --json | jq ".instances[0].reasons.$2"
}

# decap_expect_bad STATUS NEEDLE ARGS...: xlb decap ARGS in b1 exits STATUS with
# one "xlb: " line on stderr that contains NEEDLE, and b1's decap is unchanged.
decap_expect_bad() {
	local want=$1 needle=$2 rc=0 err after
	shift 2
	err=$(in_ns b1 timeout "$TOPO_XLB_TIMEOUT" "$XLB" decap "$@" 2>&1 >/dev/null) || rc=$?
	echo "xlb decap $*: exit $rc: $err"
	assert_eq "xlb decap $*: exit status" "$want" "$rc"
	assert_eq "xlb decap $*: stderr lines" 1 "$(printf '%s\n' "$err" | wc -l)"
	[[ "$err" == "xlb: "* ]] || fail "xlb decap $*: message: expected \"xlb: ...\", got \"$err\""
	[[ "$err" == *"$needle"* ]] || fail "xlb decap $*: message: expected it to name \"$needle\", got \"$err\""
	after=$(decap_conf)
	[ "$after" = "$DECAP_BASE" ] || fail "xlb decap $*: show changed: expected $DECAP_BASE, got $after"
}

test_decap_cli_rejects_bad_input() {
	local ifc
	topo_setup 1 1
	ifc=$P-b1
	DECAP_BASE=$(decap_conf)
	echo "$DECAP_BASE"
	assert_eq "attached from" '["10.200.0.2/32","fd00:200::2/128"]' \
		"$(echo "$DECAP_BASE" | jq -c '.instances[0].from')"
	decap_expect_bad 2 --from attach "$ifc"
	decap_expect_bad 2 --from attach "$ifc" --gue-port 6080
	decap_expect_bad 2 --from attach "$ifc" --from
	decap_expect_bad 2 10.200.0.300 attach "$ifc" --from 10.200.0.300
	decap_expect_bad 2 10.200.0.2/33 attach "$ifc" --from 10.200.0.2 --from 10.200.0.2/33
	decap_expect_bad 2 "host bits" attach "$ifc" --from 10.200.0.2/24
	decap_expect_bad 2 fd00::/129 attach "$ifc" --from fd00::/129
	decap_expect_bad 2 nonsense attach "$ifc" --from nonsense
	decap_expect_bad 2 --gue-port attach "$ifc" --from 10.200.0.2 --gue-port 0
	decap_expect_bad 2 --gue-port attach "$ifc" --from 10.200.0.2 --gue-port 65536
	decap_expect_bad 2 --gue-port attach "$ifc" --from 10.200.0.2 --gue-port 60x
	decap_expect_bad 2 --mode attach "$ifc" --from 10.200.0.2 --mode turbo
	decap_expect_bad 2 --bogus attach "$ifc" --from 10.200.0.2 --bogus
	decap_expect_bad 1 nosuch0 attach nosuch0 --from 10.200.0.2
	decap_expect_bad 1 nosuch0 show nosuch0
}

test_decap_cli_reattach_replaces_from_and_port() {
	local got
	topo_setup 1 1
	in_ns b1 "$XLB" decap attach "$P-b1" --from 10.200.0.2 --from 10.9.0.0/16 \
		--from fd00:200::/64 --gue-port 7000
	got=$(in_ns b1 "$XLB" decap show --json | jq -c '.instances[0] | [.iface, .gue_port, .from]')
	assert_eq "after the second attach" "[\"$P-b1\",7000,[\"10.9.0.0/16\",\"10.200.0.2/32\",\"fd00:200::/64\"]]" "$got"
	in_ns b1 "$XLB" decap attach "$P-b1" --from fd00:200::2
	got=$(in_ns b1 "$XLB" decap show --json | jq -c '.instances[0] | [.gue_port, .from]')
	assert_eq "after the third attach" '[6080,["fd00:200::2/128"]]' "$got"
	# the interface's own addresses and the VIPs on lo were learnt
	got=$(in_ns b1 "$XLB" decap show --json | jq -c '.instances[0].decap_addrs | sort')
	assert_eq "decap addresses" "[\"$(topo_addr4 b1)\",\"$(topo_addr6 b1)\"]" "$got"
	got=$(in_ns b1 "$XLB" decap show --json | jq '.instances[0].local_addrs')
	assert_range "local addresses (2 + 16 VIPs)" 18 18 "$got"
	in_ns b1 "$XLB" decap stats | grep -q "decap_chain_bounce" || fail "stats names every reason"
	in_ns b1 "$XLB" decap show | grep -qx "  from: fd00:200::2/128" || fail "show (text) names the prefixes"
}

# gue_send ROLE DST HOPS INNER_SRC INNER_DST tcp|udp TCP_FLAGS SPORT DPORT: from
# ROLE's stack, a UDP datagram to DST:6080 carrying GUE (IPv4 hop list HOPS,
# comma separated, or none) around an IPv4 packet built here.
gue_send() {
	local role=$1
	shift
	in_ns "$role" python3 - "$@" <<'EOF'
import socket, struct, sys
dst, hops, isrc, idst, proto, flags, sport, dport = sys.argv[1:9]
def csum(b):
    if len(b) % 2:
        b += b'\0'
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
src, dstb = socket.inet_aton(isrc), socket.inet_aton(idst)
if proto == 'tcp':
    p, l4 = 6, struct.pack('!HHIIBBHHH', int(sport), int(dport), 1000, 2000, 5 << 4,
                           int(flags, 0), 65535, 0, 0)
    ck = 16
else:
    p, l4, ck = 17, struct.pack('!HHHH', int(sport), int(dport), 8, 0), 6
c = csum(src + dstb + struct.pack('!BBH', 0, p, len(l4)) + l4)
l4 = l4[:ck] + struct.pack('!H', c) + l4[ck + 2:]
ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(l4), 0, 0x4000, 64, p, 0, src, dstb)
ip = ip[:10] + struct.pack('!H', csum(ip)) + ip[12:]
hl = hops.split(',') if hops else []
priv = b''
if hl:
    priv = struct.pack('!HBB', 0x786c, 0, len(hl)) + b''.join(socket.inet_aton(h) for h in hl)
    priv += b'\0' * 4 * (2 - len(hl))
gue = struct.pack('!BBH', len(priv) // 4, 4, 0) + priv
socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(gue + ip + l4, (dst, 6080))
EOF
}

test_decap_from_filter_drops_foreign_tunnel_source() {
	local b1
	command -v python3 >/dev/null || skip "needs python3"
	topo_setup 1 1
	b1=$(topo_addr4 b1)
	# a client is no balancer: its tunnel packet is dropped and counted ...
	gue_send c1 "$b1" "" "$(topo_addr4 c1)" "$VIP4" udp 0 40000 9
	wait_for 2 "foreign_src counted on b1" test "$(decap_reason b1 decap_foreign_src)" = 1
	assert_eq "delivered from the client" 0 "$(decap_reason b1 decap_ok)"
	# ... the same from the balancer is delivered (control) ...
	gue_send lb "$b1" "" "$(topo_addr4 c1)" "$VIP4" udp 0 40000 9
	wait_for 2 "decap_ok counted on b1" test "$(decap_reason b1 decap_ok)" = 1
	# ... and one whose inner destination is not this host's is not
	gue_send lb "$b1" "" "$(topo_addr4 c1)" 10.200.99.1 udp 0 40000 9
	wait_for 2 "foreign_dst counted on b1" test "$(decap_reason b1 decap_foreign_dst)" = 1
	assert_eq "foreign sources" 1 "$(decap_reason b1 decap_foreign_src)"
}

# b1 holds no socket for the flow (only the listener): it sends the copy on. A
# backend does not forward, so the copy goes back to the neighbour it came from,
# the balancer, whose kernel routes it to b2 (it must accept its own address as a
# source for that: accept_local); b2 is the last hop and delivers.
test_decap_chain_unowned_ack_reaches_next_backend() {
	local b1 b2
	command -v python3 >/dev/null || skip "needs python3"
	topo_setup 2 1
	b1=$(topo_addr4 b1)
	b2=$(topo_addr4 b2)
	in_ns lb sysctl -qw net.ipv4.conf.all.accept_local=1 "net.ipv4.conf.$P-lb.accept_local=1"
	# control: a SYN is the first hop's, whatever the list says
	gue_send lb "$b1" "$b1,$b2" "$(topo_addr4 c1)" "$VIP4" tcp 0x02 40001 80
	wait_for 2 "the SYN delivered on b1" test "$(decap_reason b1 decap_ok)" = 1
	gue_send lb "$b1" "$b1,$b2" "$(topo_addr4 c1)" "$VIP4" tcp 0x10 40002 80
	wait_for 2 "the ACK bounced on b1" test "$(decap_reason b1 decap_chain_bounce)" = 1
	wait_for 2 "the ACK delivered on b2, the last hop" test "$(decap_reason b2 decap_last_hop)" = 1
	assert_eq "b1 delivered the ACK" 0 "$(decap_reason b1 decap_last_hop)"
	assert_eq "b2 dropped something" 0 "$(decap_reason b2 decap_bad_gue)"
}
