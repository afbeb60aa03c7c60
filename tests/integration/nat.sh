# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# Full NAT (`xlb vip add ... --forward nat`, issue 15) end to end, on the
# topology of scripts/nat_topo.sh: the balancer has an interface on the
# clients' segment and one on the backends' (`xlb attach PREFIX-lb2 --peer-of
# PREFIX-lb`), and the backends run nothing of ours (no decap, no VIP on lo)
# and have no route to the clients (their default route goes to a gateway
# that does not exist). So a client gets an answer only if the balancer
# rewrote both directions; the control cases show that the same backends do
# not answer an encap VIP, nor a NAT VIP whose backend side is not attached,
# nor a VIP port they do not listen on.

# shellcheck source=scripts/nat_topo.sh
source "$LIB_TOP/scripts/nat_topo.sh"
# shellcheck source=tests/streams.sh
source "$LIB_TOP/tests/streams.sh"

# The bounds of tests/integration/balance.sh's spread test, the same numbers:
# 300 flows, each backend within 10 % of all flows of its share; then 4,800,
# each within 10 % of its own share.
NAT_SPREAD_CONNS=150
NAT_SPREAD_TOL_PCT=10
NAT_SPREAD_STRICT_CONNS=2400
NAT_BPORT=${TOPO_NAT_PORTS[0]}	# the one port the backends listen on
NAT_STREAMS=4

# topo_setup for this topology: built under $P, torn down by the EXIT trap
# (lib_cleanup with topo_nat_down) whatever happens; attached unless the
# third argument is "noattach".
topo_nat_setup() {
	[ "$(id -u)" = 0 ] || skip "needs root (namespaces, XDP)"
	command -v jq >/dev/null || skip "needs jq"
	[ -x "$XLB" ] || fail "$XLB not built (make)"
	# shellcheck disable=SC2034 # read by lib_cleanup
	LIB_TOPO_DOWN=topo_nat_down
	trap lib_cleanup EXIT
	trap 'exit 130' INT TERM HUP PIPE
	TMP=$(mktemp -d /tmp/xlb-test.XXXXXX)
	topo_nat_up "$P" "${1:-3}" "${2:-2}" || fail "NAT topology $P could not be built"
	if [ "${3:-}" != noattach ]; then
		topo_nat_attach "$P" || fail "xlb could not be attached in NAT topology $P"
	fi
}

be4() {
	topo_nat_addr4 "$1"
}

be6() {
	topo_nat_addr6 "$1"
}

reason() {
	xlb_lb stats --json | jq ".reasons.$1"
}

# Every drop reason that counted something, "" when none did.
drops() {
	xlb_lb stats --json | jq -r '.reasons | to_entries[]
		| select(.value > 0 and (.key | startswith("drop"))) | "\(.key)=\(.value)"' | tr '\n' ' '
}

# The backends' side of the control cases: the route a backend would take
# to the client is not through the balancer.
assert_backend_cannot_reach_client() {
	local b=$1 via
	via=$(in_ns "$b" ip -o route get "$(topo_addr4 c1)" | awk '{ for (i = 1; i < NF; i++) if ($i == "via") print $(i + 1) }')
	assert_eq "$b's next hop to the client" "$TOPO_NAT_GW4" "$via"
	via=$(in_ns "$b" ip -o -6 route get "$(topo_addr6 c1)" | awk '{ for (i = 1; i < NF; i++) if ($i == "via") print $(i + 1) }')
	assert_eq "$b's IPv6 next hop to the client" "$TOPO_NAT_GW6" "$via"
}

# Weights 1:1:2 on a NAT VIP4:80/PROTO whose backends are ADDR:8080; the
# bounds of balance.sh's spread_1_1_2; every flow answered; and the answers
# came back through the NAT (fwd_nat_reply), with nothing dropped.
nat_spread_1_1_2() {
	local proto=$1 flag=() out1 out2 total=$((2 * NAT_SPREAD_CONNS)) tol b i want got n
	local weights=(0 1 1 2) wsum=4 vip="$VIP4:80/$proto"
	[ "$proto" = udp ] && flag=(-u)

	topo_nat_setup 3 2
	assert_backend_cannot_reach_client b1
	xlb_lb vip add "$vip" --forward nat
	for i in 1 2 3; do
		xlb_lb backend add "$vip" "$(be4 "b$i"):$NAT_BPORT" --weight "${weights[$i]}"
	done
	vip_ready c1 "${flag[@]}" "$VIP4" 80
	out1=$(names c1 "${flag[@]}" -n "$NAT_SPREAD_CONNS" -T 60 "$VIP4" 80) ||
		fail "c1: not every flow answered: $out1; drops: $(drops)"
	out2=$(names c2 "${flag[@]}" -n "$NAT_SPREAD_CONNS" -T 60 "$VIP4" 80) ||
		fail "c2: not every flow answered: $out2; drops: $(drops)"
	tol=$((total * NAT_SPREAD_TOL_PCT / 100))
	for i in 1 2 3; do
		b=b$i
		got=$(($(count_of "$out1" "$b") + $(count_of "$out2" "$b")))
		want=$((total * weights[i] / wsum))
		echo "nat $proto $b weight ${weights[$i]}: $got of $total flows (share $want +- $tol)"
		assert_range "nat $proto flows on $b (weight ${weights[$i]})" $((want - tol)) $((want + tol)) "$got"
	done
	total=$((2 * NAT_SPREAD_STRICT_CONNS))
	out1=$(names c1 "${flag[@]}" -n "$NAT_SPREAD_STRICT_CONNS" -T 120 "$VIP4" 80) ||
		fail "c1: not every flow answered: $out1; drops: $(drops)"
	out2=$(names c2 "${flag[@]}" -n "$NAT_SPREAD_STRICT_CONNS" -T 120 "$VIP4" 80) ||
		fail "c2: not every flow answered: $out2; drops: $(drops)"
	for i in 1 2 3; do
		b=b$i
		got=$(($(count_of "$out1" "$b") + $(count_of "$out2" "$b")))
		want=$((total * weights[i] / wsum))
		tol=$((want * NAT_SPREAD_TOL_PCT / 100))
		echo "nat $proto $b weight ${weights[$i]}: $got of $total flows (share $want +- $tol)"
		assert_range "nat $proto flows on $b (weight ${weights[$i]}, $total flows)" \
			$((want - tol)) $((want + tol)) "$got"
	done
	n=$(reason fwd_nat_reply)
	echo "fwd_nat_reply $n, drops: $(drops)"
	[ "$n" -ge "$total" ] || fail "fwd_nat_reply: expected at least $total (one answer per flow), got $n"
	assert_eq "drops" "" "$(drops)"
}

test_nat_tcp_spread_follows_weights_1_1_2() {
	nat_spread_1_1_2 tcp
}

test_nat_udp_spread_follows_weights_1_1_2() {
	nat_spread_1_1_2 udp
}

# The open NAT flows of VIP $1 in `xlb conntrack list --json`, both halves
# present: "BACKEND-ADDR SNAT-ADDR:PORT" lines, sorted.
nat_ct_open() {
	xlb_lb conntrack list --json | jq -r --arg v "$1" '.[] | select(.nat and (.closing | not)
		and .vip == $v and .reply_idle_s != null) | "\(.backend) \(.nat_src)"' | sort
}

# Every stream's bytes came from an SNAT address and port: the one line
# per stream (only streams send data) that the backends' namesrv logged at
# its clean end names lb2's address and a port of TOPO_NAT_SNAT_PORTS as the
# peer, no two streams on one backend shared a peer, and these are the
# tuples `xlb conntrack list` showed while they were open ($1).
nat_streams_came_from_snat() {
	local ct=$1 lo=${TOPO_NAT_SNAT_PORTS%-*} hi=${TOPO_NAT_SNAT_PORTS#*-} lines peer port
	lines=$(for b in $(topo_backends "$P"); do
		awk -v a="$(be4 "$b")" '$1 == "conn" && $6 == "eof" { print a, $2 }' \
			"$TOPO_RUN_BASE/$P/$b.log"
	done | sort)
	echo "stream peers: $(echo "$lines" | tr '\n' ' ')"
	assert_eq "streams logged by the backends" "$NAT_STREAMS" "$(echo "$lines" | grep -c .)"
	assert_eq "distinct backend/peer pairs" "$NAT_STREAMS" "$(echo "$lines" | sort -u | grep -c .)"
	while read -r _ peer; do
		assert_eq "a stream's source address at its backend" "$(be4 lb2)" "${peer%:*}"
		port=${peer##*:}
		assert_range "a stream's SNAT port" "$lo" "$hi" "$port"
	done <<<"$lines"
	assert_eq "the streams' tuples at the backends and in xlb conntrack list" "$ct" "$lines"
}

# Every stream is still open at its backend: each backend that carries N of
# them dumps (SIGUSR1) at least N open connections.
nat_streams_open() {
	local b n i want log
	for b in $(for ((i = 0; i < NAT_STREAMS; i++)); do streams_backend "$i"; done | sort -u); do
		want=0
		for ((i = 0; i < NAT_STREAMS; i++)); do
			[ "$(streams_backend "$i")" = "$b" ] && want=$((want + 1))
		done
		log=$TOPO_RUN_BASE/$P/$b.log
		n=$(grep -c '^open ' "$log" || true)
		kill -USR1 "$(cat "$TOPO_RUN_BASE/$P/$b.pid")"
		poll_for 3 "open streams on $b" _nat_open_grew "$log" $((n + want)) ||
			fail "not all $want streams open on $b any more: $(tail -5 "$log")"
	done
}

_nat_open_grew() {
	[ "$(grep -c '^open ' "$1")" -ge "$2" ]
}

# NAT_STREAMS long-lived streams to a NAT VIP, opened while it has b1 and b2:
# b3 and b4 (weight 2) are added, the backend x of stream 0 is drained, the
# other first backend weighted, b3 (no stream: added after them) deleted, x
# undrained; new flows follow every change, every stream keeps its backend
# and every byte arrives (streams.sh: acked == sent, the backend logged a
# clean end of exactly that many).
test_nat_streams_survive_add_drain_weight_delete() {
	local vip="$VIP4:$NAT_BPORT/tcp" out x y ct

	topo_nat_setup 4 2
	xlb_lb vip add "$vip" --forward nat
	xlb_lb backend add "$vip" "$(be4 b1)"
	xlb_lb backend add "$vip" "$(be4 b2)"
	vip_ready c1 "$VIP4" "$NAT_BPORT"
	streams_start "$NAT_STREAMS" "$VIP4" "$NAT_BPORT" 65536
	sleep 1
	nat_streams_open
	ct=$(nat_ct_open "$vip")
	echo "open NAT flows: $(echo "$ct" | tr '\n' ' ')"
	x=$(streams_backend 0)
	y=b1
	[ "$x" = b1 ] && y=b2
	echo "stream 0 is on $x"

	xlb_lb backend add "$vip" "$(be4 b3)"
	xlb_lb backend add "$vip" "$(be4 b4)" --weight 2
	xlb_lb backend drain "$vip" "$(be4 "$x")"
	out=$(names c2 -n 100 -T 30 "$VIP4" "$NAT_BPORT") || fail "flows during drain: $out"
	echo "new flows with $x drained: $(echo "$out" | tr '\n' ' ')"
	assert_eq "new flows on drained $x" 0 "$(count_of "$out" "$x")"
	[ "$(count_of "$out" b4)" -gt 0 ] || fail "new flows on added b4: expected > 0, got 0"
	sleep 1
	nat_streams_open

	xlb_lb backend weight "$vip" "$(be4 "$y")" 3
	xlb_lb backend del "$vip" "$(be4 b3)"
	out=$(names c2 -n 100 -T 30 "$VIP4" "$NAT_BPORT") || fail "flows after delete: $out"
	echo "new flows after deleting b3: $(echo "$out" | tr '\n' ' ')"
	assert_eq "new flows on deleted b3" 0 "$(count_of "$out" b3)"
	assert_eq "new flows on drained $x" 0 "$(count_of "$out" "$x")"
	assert_eq "streams ended before their time" 0 "$(streams_ended)"
	sleep 1
	nat_streams_open

	xlb_lb backend undrain "$vip" "$(be4 "$x")"
	out=$(names c2 -n 100 -T 30 "$VIP4" "$NAT_BPORT") || fail "flows after undrain: $out"
	echo "new flows after undrain of $x: $(echo "$out" | tr '\n' ' ')"
	[ "$(count_of "$out" "$x")" -gt 0 ] || fail "new flows on undrained $x: expected > 0, got 0"
	assert_eq "streams ended before their time" 0 "$(streams_ended)"

	streams_stop
	streams_report
	assert_eq "intact streams" "$NAT_STREAMS" "$(streams_intact)"
	nat_streams_came_from_snat "$ct"
}

# The backends listen on 8080 only. A NAT VIP on port 80 whose backends are
# ADDR:8080 reaches every one of them, TCP and UDP; the control: the same
# backends without a port (the VIP's, 80) answer nothing.
test_nat_remaps_vip_port_80_to_backend_port_8080() {
	local proto flag out i ctl=${TOPO_VIPS4[1]}

	topo_nat_setup 3 1
	for proto in tcp udp; do
		flag=()
		[ "$proto" = udp ] && flag=(-u)
		xlb_lb vip add "$VIP4:80/$proto" --forward nat
		xlb_lb vip add "$ctl:80/$proto" --forward nat
		for i in 1 2 3; do
			xlb_lb backend add "$VIP4:80/$proto" "$(be4 "b$i"):$NAT_BPORT"
			xlb_lb backend add "$ctl:80/$proto" "$(be4 "b$i")"
		done
		vip_ready c1 "${flag[@]}" "$VIP4" 80
		out=$(names c1 "${flag[@]}" -n 60 -T 30 "$VIP4" 80) ||
			fail "$proto: not every flow to port 80 answered: $out; drops: $(drops)"
		echo "$proto $VIP4:80 -> :$NAT_BPORT: $(echo "$out" | tr '\n' ' ')"
		for i in 1 2 3; do
			[ "$(count_of "$out" "b$i")" -gt 0 ] || fail "$proto: flows on b$i: expected > 0, got 0"
		done
		out=$(names c1 "${flag[@]}" -n 10 -w 300 -T 20 "$ctl" 80) &&
			fail "$proto control: backends without a port answered on 80: $out"
		echo "$proto control $ctl:80 -> :80: $(echo "$out" | tr '\n' ' ')"
		assert_eq "$proto control: flows answered without the backend port" 10 "$(count_of "$out" failed)"
	done
}

# IPv6 on both sides: VIP6:80 to [ADDR6]:8080, TCP and UDP, every flow
# answered by every backend, through the NAT.
test_nat_ipv6_tcp_and_udp_reach_every_backend() {
	local proto flag out i n

	topo_nat_setup 3 2
	for proto in tcp udp; do
		flag=()
		[ "$proto" = udp ] && flag=(-u)
		xlb_lb vip add "[$VIP6]:80/$proto" --forward nat
		for i in 1 2 3; do
			xlb_lb backend add "[$VIP6]:80/$proto" "[$(be6 "b$i")]:$NAT_BPORT"
		done
		vip_ready c1 "${flag[@]}" "$VIP6" 80
		for c in c1 c2; do
			out=$(names "$c" "${flag[@]}" -n 60 -T 30 "$VIP6" 80) ||
				fail "$proto $c: not every IPv6 flow answered: $out; drops: $(drops)"
			echo "$proto $c [$VIP6]:80: $(echo "$out" | tr '\n' ' ')"
			for i in 1 2 3; do
				[ "$(count_of "$out" "b$i")" -gt 0 ] ||
					fail "$proto $c: IPv6 flows on b$i: expected > 0, got 0"
			done
		done
	done
	n=$(reason fwd_nat_reply)
	[ "$n" -ge 240 ] || fail "fwd_nat_reply: expected at least 240 (one answer per flow), got $n"
	assert_eq "drops" "" "$(drops)"
}

# Two interfaces: `list` names the backend side as a peer of the instance,
# both directions are redirected between them (fwd_redirect), and it is the
# peer's program that turns the answers back: with PREFIX-lb2 detached, the
# backends' answers reach the balancer's kernel instead and no flow is
# answered; attached again, every one is.
test_nat_two_interfaces_need_the_backend_side_peer() {
	local vip="$VIP4:80/tcp" out r0 r1 i

	topo_nat_setup 3 1
	xlb_lb list | grep -q "$P-lb2" || fail "xlb list does not show the peer $P-lb2: $(xlb_lb list)"
	xlb_lb list --json | grep -q "\"$P-lb2\"" ||
		fail "xlb list --json does not show the peer $P-lb2: $(xlb_lb list --json)"
	xlb_lb vip add "$vip" --forward nat
	for i in 1 2 3; do
		xlb_lb backend add "$vip" "$(be4 "b$i"):$NAT_BPORT"
	done
	vip_ready c1 "$VIP4" 80
	r0=$(reason fwd_redirect)
	out=$(names c1 -n 50 -T 30 "$VIP4" 80) || fail "not every flow answered: $out; drops: $(drops)"
	r1=$(reason fwd_redirect)
	echo "50 flows: fwd_redirect $r0 -> $r1, fwd_nat_reply $(reason fwd_nat_reply)"
	# Each flow: SYN, ACK, FIN... one way, SYN-ACK, data, FIN... the other.
	[ $((r1 - r0)) -ge 200 ] || fail "fwd_redirect: expected at least 200 more, got $((r1 - r0))"

	xlb_lb detach "$P-lb2"
	xlb_lb list | grep -q "$P-lb2" && fail "xlb list still shows the detached peer $P-lb2"
	out=$(names c1 -n 10 -w 300 -T 20 "$VIP4" 80) &&
		fail "flows answered without the backend side attached: $out"
	echo "backend side detached: $(echo "$out" | tr '\n' ' ')"
	assert_eq "flows answered with $P-lb2 detached" 10 "$(count_of "$out" failed)"

	xlb_lb attach "$P-lb2" --peer-of "$P-lb"
	out=$(names c1 -n 50 -T 30 "$VIP4" 80) ||
		fail "not every flow answered after attaching $P-lb2 again: $out; drops: $(drops)"
	echo "attached again: $(echo "$out" | tr '\n' ' ')"
}

# The control case of the whole topology: the same backends behind the same
# VIP in encap mode (IPIP, no decap on them, no VIP on their lo, no route to
# the client) never answer, though xlb forwards to them; switched to
# --forward nat, every flow is answered.
test_nat_control_encap_vip_without_decap_does_not_connect() {
	local vip="$VIP4:$NAT_BPORT/tcp" out i f0 f1

	topo_nat_setup 3 1
	assert_backend_cannot_reach_client b1
	xlb_lb vip add "$vip"
	for i in 1 2 3; do
		xlb_lb backend add "$vip" "$(be4 "b$i")"
	done
	f0=$(reason fwd_redirect)
	out=$(names c1 -n 10 -w 300 -T 20 "$VIP4" "$NAT_BPORT") &&
		fail "encap VIP answered by backends without decap: $out"
	f1=$(reason fwd_redirect)
	echo "encap: $(echo "$out" | tr '\n' ' '); fwd_redirect $f0 -> $f1"
	assert_eq "encap flows answered" 10 "$(count_of "$out" failed)"
	[ "$f1" -gt "$f0" ] || fail "encap: xlb forwarded nothing to the backends (fwd_redirect $f0 -> $f1)"

	xlb_lb vip set "$vip" --forward nat
	vip_ready c1 "$VIP4" "$NAT_BPORT"
	out=$(names c1 -n 30 -T 30 "$VIP4" "$NAT_BPORT") ||
		fail "not every flow answered after --forward nat: $out; drops: $(drops)"
	echo "nat: $(echo "$out" | tr '\n' ' ')"
}

NAT_PMTU=1280		# the balancer's route MTU both ways in the path MTU test
NAT_PMTU_BYTES=1048576	# what iperf3 sends down

# Path MTU discovery through the NAT, both ways: the balancer's routes to
# the backend segment and to the client segment carry an MTU of NAT_PMTU,
# smaller than both ends' links (so neither end's MSS knows it). Up: the
# client's full-sized segments get frag-needed from the VIP (tx_too_big) and
# its stream still arrives whole. Down: the backend's full-sized segments
# (iperf3 -R) get frag-needed from the SNAT address, and every byte arrives.
# Each way from its own client: once c1 learned the path MTU to the VIP it
# announces the smaller MSS, and the backend would never send a segment too
# big.
test_nat_path_mtu_discovery_works_both_ways() {
	local vip="$VIP4:$NAT_BPORT/tcp" bulk="$VIP4:5201/tcp" n0 n1 res got

	command -v iperf3 >/dev/null || skip "needs iperf3 (scripts/deps.sh)"
	topo_nat_setup 1 2
	in_ns lb ip route replace "$TOPO_NAT_NET4.0/24" dev "$P-lb2" src "$(be4 lb2)" mtu lock "$NAT_PMTU"
	in_ns lb ip route replace "$TOPO_NET4.0/24" dev "$P-lb" src "$(topo_addr4 lb)" mtu lock "$NAT_PMTU"
	xlb_lb vip add "$vip" --forward nat
	xlb_lb backend add "$vip" "$(be4 b1)"
	xlb_lb vip add "$bulk" --forward nat
	xlb_lb backend add "$bulk" "$(be4 b1)"
	bg b1 "$TMP/iperf3.log" iperf3 -s -p 5201
	vip_ready c1 "$VIP4" "$NAT_BPORT"

	n0=$(reason tx_too_big)
	res=$(in_ns c1 "$XLB_TOOLS/streamclient" -d 2 -r 1048576 "$VIP4" "$NAT_BPORT" | grep '^result ') ||
		fail "stream up through the NAT: $res; drops: $(drops)"
	n1=$(reason tx_too_big)
	echo "up: $res; tx_too_big $n0 -> $n1"
	[ "$(echo "$res" | awk '{ print $2 }')" = ok ] || fail "stream up: $res"
	[ "$n1" -gt "$n0" ] || fail "up: no frag-needed sent to the client (tx_too_big $n0 -> $n1)"

	wait_for 5 "iperf3 server" in_ns b1 sh -c "ss -ltn | grep -q ':5201 '"
	got=$(in_ns c2 timeout 30 iperf3 -c "$VIP4" -p 5201 -R -n "$NAT_PMTU_BYTES" -J |
		jq '.end.sum_received.bytes') || fail "iperf3 -R through the NAT failed; drops: $(drops)"
	n0=$n1
	n1=$(reason tx_too_big)
	echo "down: $got bytes received; tx_too_big $n0 -> $n1"
	[ "$got" -ge "$NAT_PMTU_BYTES" ] || fail "down: expected $NAT_PMTU_BYTES bytes, got $got"
	[ "$n1" -gt "$n0" ] || fail "down: no frag-needed sent to the backend (tx_too_big $n0 -> $n1)"
}

NAT_FEW_PORTS=20000-20003	# four SNAT ports: four flows to one backend at most
NAT_FEW_FLOWS=12

# SNAT ports run out: with four ports (and one backend, one SNAT address)
# at most four of NAT_FEW_FLOWS flows are answered (no agent expires them,
# and a tuple is never handed out twice); the others are dropped and
# counted (drop_snat_exhausted), never sent.
test_nat_snat_ports_run_out_drop_and_count() {
	local vip="$VIP4:80/tcp" out ok n

	topo_nat_setup 1 1 noattach
	TOPO_NAT_SNAT_PORTS=$NAT_FEW_PORTS topo_nat_attach "$P" || fail "attach --snat-ports $NAT_FEW_PORTS"
	xlb_lb vip add "$vip" --forward nat
	xlb_lb backend add "$vip" "$(be4 b1):$NAT_BPORT"
	out=$(names c1 -n "$NAT_FEW_FLOWS" -w 300 -T 30 "$VIP4" 80) || true
	ok=$(count_of "$out" b1)
	n=$(reason drop_snat_exhausted)
	echo "$NAT_FEW_FLOWS flows over 4 SNAT ports: $(echo "$out" | tr '\n' ' '); drop_snat_exhausted $n"
	assert_range "flows answered over 4 SNAT ports" 1 4 "$ok"
	[ "$n" -ge $((NAT_FEW_FLOWS - ok)) ] ||
		fail "drop_snat_exhausted: expected at least $((NAT_FEW_FLOWS - ok)), got $n"
	assert_eq "NAT flows in conntrack" "$ok" \
		"$(xlb_lb conntrack list --json | jq '[.[] | select(.nat)] | length')"
}
