# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# xlb trace shows what the data plane decided for each packet: a new
# connection's SYN with the backend it got, a malformed packet with its drop
# reason (invisible to tcpdump on the host), and --pcap writes the packets as
# they arrived, in a file tcpdump reads with the right count.

# trace_start OUT ARGS...: xlb trace ARGS in the balancer, in the background,
# waits (5 s at most) until it runs.
trace_start() {
	local out=$1
	shift
	bg lb "$out" timeout 20 "$XLB" -i "$P-lb" trace "$@"
	TRACE_PID=$BG_PID
	wait_for 5 "the trace to start" grep -q "^xlb: tracing" "$out"
}

trace_wait() {
	local rc=0
	wait_for 10 "the trace to end (--count)" bash -c "! kill -0 $TRACE_PID 2>/dev/null"
	wait "$TRACE_PID" || rc=$?
	assert_eq "trace exit status" 0 "$rc"
}

# A frame from c1 to the VIP whose TCP header claims 2 words (malformed),
# behind a valid IPv4 header (the bridge in between checks that one).
send_malformed() {
	local lbmac c1mac ip w sum=0 i
	lbmac=$(ip -n "$P-lb" -j link show "$P-lb" | jq -r '.[0].address' | tr -d :)
	c1mac=$(ip -n "$P-c1" -j link show "$P-c1" | jq -r '.[0].address' | tr -d :)
	ip="450000280001400040060000$(printf '%02x' 10 200 0 11 10 200 100 1)"
	for ((i = 0; i < 40; i += 4)); do
		sum=$((sum + 16#${ip:i:4}))
	done
	sum=$(((sum & 0xffff) + (sum >> 16)))
	sum=$(((sum & 0xffff) + (sum >> 16)))
	w=$(printf '%04x' $((~sum & 0xffff)))
	ip="${ip:0:20}$w${ip:24}"
	in_ns c1 "$XLB_TOOLS/rawsend" -i "$P-c1" \
		"${lbmac}${c1mac}0800${ip}9c400050000000010000000020022000000000000000000000000000"
}

test_trace_shows_new_flow_backend_and_pcap() {
	local vip="$VIP4:80/tcp" out pcap n
	topo_setup 2 1
	out=$TMP/trace.out
	pcap=$TMP/trace.pcapng
	command -v tcpdump >/dev/null || skip "needs tcpdump"
	xlb_lb vip add "$vip"
	xlb_lb backend add "$vip" "$(topo_addr4 b1)"
	vip_ready c1 "$VIP4" 80
	trace_start "$out" "$vip" --count 4 --pcap "$pcap"
	names c1 -n 1 -w 1000 "$VIP4" 80 >/dev/null || fail "a connection while tracing"
	trace_wait
	cat "$out"
	grep -E "> $VIP4:80 tcp \[S\] .* vip $vip backend $(topo_addr4 b1) new fwd_tx$" "$out" ||
		fail "no SYN line with its backend, new, fwd_tx"
	assert_eq "packet lines" 4 "$(grep -c " vip $vip " "$out")"
	n=$(tcpdump -nr "$pcap" 2>/dev/null | wc -l)
	tcpdump -nr "$pcap" 2>/dev/null | head -4
	assert_eq "packets tcpdump reads from the pcap" 4 "$n"
	tcpdump -nr "$pcap" 2>/dev/null | head -1 | grep -q "> $VIP4.80: Flags \[S\]" ||
		fail "the pcap's first packet is not the SYN as it arrived"
}

test_trace_shows_malformed_packet_with_its_drop_reason() {
	local out before after
	topo_setup 1 1
	out=$TMP/trace.out
	xlb_lb vip add "$VIP4:80/tcp"
	before=$(xlb_lb stats --json | jq .reasons.drop_malformed)
	trace_start "$out" --reason drop_malformed --count 1
	send_malformed
	trace_wait
	cat "$out"
	after=$(xlb_lb stats --json | jq .reasons.drop_malformed)
	assert_eq "drop_malformed counted" $((before + 1)) "$after"
	grep -q "drop_malformed$" "$out" || fail "no drop_malformed line"
}

test_decap_trace_shows_stripped_tunnel() {
	local vip="$VIP4:80/tcp" out
	topo_setup 1 1
	out=$TMP/trace.out
	xlb_lb vip add "$vip"
	xlb_lb backend add "$vip" "$(topo_addr4 b1)"
	vip_ready c1 "$VIP4" 80
	bg b1 "$out" timeout 20 "$XLB" decap trace "$P-b1" --reason decap_ok --count 2
	TRACE_PID=$BG_PID
	wait_for 5 "the decap trace to start" grep -q "^xlb: tracing" "$out"
	names c1 -n 1 -w 1000 "$VIP4" 80 >/dev/null || fail "a connection while tracing"
	trace_wait
	cat "$out"
	assert_eq "decap_ok lines" 2 "$(grep -c "decap_ok$" "$out")"
}

test_trace_rejects_bad_arguments() {
	topo_setup 1 1
	xlb_lb vip add "$VIP4:80/tcp"
	expect_rejected 2 "--reason" list_json xlb_lb trace --reason bogus
	expect_rejected 2 "--count" list_json xlb_lb trace --count 0
	expect_rejected 2 "--duration" list_json xlb_lb trace --duration 5x
	expect_rejected 1 "10.200.100.9:80/tcp" list_json xlb_lb trace 10.200.100.9:80/tcp
	expect_rejected 2 "--bogus" list_json xlb_lb trace --bogus
}
