# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# On a veth, the balancer's XDP_TX frames reach the peer only if the peer runs
# an XDP program, and local senders' frames cross it with checksums
# unfinished. scripts/topo.sh gives the balancer's peer both; here they are
# taken away (the control: balancing then fails) and xlb attach must put them
# back itself, saying so in one line.

peer_xdp() {
	ip -n "$1" -d link show "$2" | grep -c "prog/xdp"
}

peer_tx() {
	nsenter --net="/run/netns/$1" ethtool -k "$2" | awk '$1 == "tx-checksumming:" { print $2 }'
}

test_attach_fixes_a_veth_peer_in_another_namespace() {
	local vip="$VIP4:80/tcp" out err
	topo_setup 2 1
	xlb_lb vip add "$vip"
	xlb_lb backend add "$vip" "$(topo_addr4 b1)"
	vip_ready c1 "$VIP4" 80
	# Take both fixes away from the balancer's peer on the bridge.
	topo_in "$P" br "$XLB" decap detach "$P-lbp" >/dev/null
	topo_in "$P" br ethtool -K "$P-lbp" tx on >/dev/null
	assert_eq "XDP programs on $P-lbp" 0 "$(peer_xdp "$P-br" "$P-lbp")"
	# The control: TCP through the balancer now fails (checksums, stalls).
	out=$(names c1 -n 5 -w 300 -T 3 "$VIP4" 80 || true)
	echo "without the fixes: $(echo "$out" | tr '\n' ' ')"
	[ "$(count_of "$out" b1)" -lt 5 ] || fail "control: all 5 flows answered without the peer's fixes"

	err=$(xlb_lb attach "$P-lb" 2>&1 >/dev/null) || fail "attach: $err"
	echo "attach said: $err"
	assert_eq "attach's lines on stderr" 1 "$(printf '%s\n' "$err" | wc -l)"
	[[ "$err" == *"$P-br"* && "$err" == *"veth"* ]] || fail "attach did not name the peer's namespace: $err"
	assert_eq "XDP programs on $P-lbp" 1 "$(peer_xdp "$P-br" "$P-lbp")"
	assert_eq "tx checksumming on $P-lbp" off "$(peer_tx "$P-br" "$P-lbp")"
	out=$(names c1 -n 20 -w 1000 -T 10 "$VIP4" 80) || fail "flows after the fix: $out"
	assert_eq "flows answered after the fix" 20 "$(count_of "$out" b1)"
	# Nothing left to fix: attach says nothing.
	err=$(xlb_lb attach "$P-lb" 2>&1 >/dev/null)
	assert_eq "attach's stderr with the peer fixed" "" "$err"
	# detach takes xlb's pass program off the peer again.
	xlb_lb detach "$P-lb" >/dev/null
	assert_eq "XDP programs on $P-lbp after detach" 0 "$(peer_xdp "$P-br" "$P-lbp")"
}

test_attach_fixes_a_veth_peer_in_the_same_namespace() {
	local err
	topo_setup 1 1
	in_ns lb ip link add "$P-t0" type veth peer name "$P-t1"
	in_ns lb ip link set "$P-t0" up
	in_ns lb ip link set "$P-t1" up
	in_ns lb ip addr add 10.201.0.1/24 dev "$P-t0"
	err=$(in_ns lb "$XLB" attach "$P-t0" 2>&1 >/dev/null) || fail "attach: $err"
	echo "attach said: $err"
	[[ "$err" == *"this network namespace"* ]] || fail "attach did not fix the local peer: $err"
	assert_eq "XDP programs on $P-t1" 1 "$(peer_xdp "$P-lb" "$P-t1")"
	assert_eq "tx checksumming on $P-t1" off "$(peer_tx "$P-lb" "$P-t1")"
	in_ns lb "$XLB" detach "$P-t0" >/dev/null
	assert_eq "XDP programs on $P-t1 after detach" 0 "$(peer_xdp "$P-lb" "$P-t1")"
}
