# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# Spread of real connections over weighted backends, and client affinity of
# the source-hash scheduler, through the namespace topology (tests/lib.sh,
# scripts/topo.sh).

SPREAD_CONNS=150	# per client, two clients: 300 flows from 300 source ports
SPREAD_TOL_PCT=10	# each backend within this many % of all flows of its share
# A hash spreads flows binomially: over 300 flows one standard deviation of a
# 1/4 share is 10% of it, so "within 10% of its share" holds reliably only
# over more flows. SPREAD_STRICT_CONNS per client (4,800 in all) put 10% of
# the smallest share at 4 standard deviations.
SPREAD_STRICT_CONNS=2400

# Weights 1:1:2 on VIP4:80/PROTO; 300 flows from c1 and c2; each backend's
# count within SPREAD_TOL_PCT % (of the total) of its weighted share; then
# 4,800 flows, each backend within SPREAD_TOL_PCT % of its own share.
spread_1_1_2() {
	local proto=$1 flag=() out1 out2 total=$((2 * SPREAD_CONNS)) tol b i want got
	local weights=(0 1 1 2) wsum=4
	[ "$proto" = udp ] && flag=(-u)

	topo_setup 3 2
	xlb_lb vip add "$VIP4:80/$proto"
	for i in 1 2 3; do
		xlb_lb backend add "$VIP4:80/$proto" "$(topo_addr4 "b$i")" --weight "${weights[$i]}"
	done
	vip_ready c1 "${flag[@]}" "$VIP4" 80
	out1=$(names c1 "${flag[@]}" -n "$SPREAD_CONNS" -T 60 "$VIP4" 80) || fail "c1: not every flow answered: $out1"
	out2=$(names c2 "${flag[@]}" -n "$SPREAD_CONNS" -T 60 "$VIP4" 80) || fail "c2: not every flow answered: $out2"
	tol=$((total * SPREAD_TOL_PCT / 100))
	for i in 1 2 3; do
		b=b$i
		got=$(($(count_of "$out1" "$b") + $(count_of "$out2" "$b")))
		want=$((total * weights[i] / wsum))
		echo "$proto $b weight ${weights[$i]}: $got of $total flows (share $want +- $tol)"
		assert_range "$proto flows on $b (weight ${weights[$i]})" $((want - tol)) $((want + tol)) "$got"
	done
	total=$((2 * SPREAD_STRICT_CONNS))
	out1=$(names c1 "${flag[@]}" -n "$SPREAD_STRICT_CONNS" -T 120 "$VIP4" 80) || fail "c1: not every flow answered: $out1"
	out2=$(names c2 "${flag[@]}" -n "$SPREAD_STRICT_CONNS" -T 120 "$VIP4" 80) || fail "c2: not every flow answered: $out2"
	for i in 1 2 3; do
		b=b$i
		got=$(($(count_of "$out1" "$b") + $(count_of "$out2" "$b")))
		want=$((total * weights[i] / wsum))
		tol=$((want * SPREAD_TOL_PCT / 100))
		echo "$proto $b weight ${weights[$i]}: $got of $total flows (share $want +- $tol)"
		assert_range "$proto flows on $b (weight ${weights[$i]}, $total flows)" $((want - tol)) $((want + tol)) "$got"
	done
}

test_tcp_spread_follows_weights_1_1_2() {
	spread_1_1_2 tcp
}

test_udp_spread_follows_weights_1_1_2() {
	spread_1_1_2 udp
}

# `--sched sh`: every flow of one client address reaches one backend,
# whatever its source port, TCP and UDP alike; and it is the address, not a
# single backend for everyone: SH_ADDRS client addresses reach more than one.
SH_ADDRS=8

test_sched_sh_keeps_client_on_one_backend() {
	local a k out n proto flag seen
	topo_setup 3 1
	for ((k = 1; k <= SH_ADDRS; k++)); do
		in_ns c1 ip addr add "10.200.0.$((30 + k))/24" dev "$P-c1"
	done
	for proto in tcp udp; do
		flag=()
		[ "$proto" = udp ] && flag=(-u)
		xlb_lb vip add "$VIP4:80/$proto" --sched sh
		for i in 1 2 3; do
			xlb_lb backend add "$VIP4:80/$proto" "$(topo_addr4 "b$i")"
		done
		vip_ready c1 "${flag[@]}" "$VIP4" 80
		seen=
		for ((k = 1; k <= SH_ADDRS; k++)); do
			a=10.200.0.$((30 + k))
			out=$(names c1 "${flag[@]}" -b "$a" -n 40 -T 30 "$VIP4" 80) ||
				fail "$a $proto: not every flow answered: $out"
			n=$(echo "$out" | wc -l)
			echo "$a $proto: $(echo "$out" | tr '\n' ' ')"
			assert_eq "$proto backends seen by $a under --sched sh" 1 "$n"
			seen="$seen ${out%% *}"
		done
		n=$(echo "$seen" | tr ' ' '\n' | sort -u | grep -c .)
		[ "$n" -gt 1 ] || fail "$proto: $SH_ADDRS client addresses all on one backend ($seen): expected more than one"
	done
}

# An all-ports VIP (port 0) serves every port of its address, and an exact
# VIP of the same address wins on its own port: port 80 only reaches b1,
# port 8080 reaches b2 and b3, TCP and UDP.
test_all_ports_vip_and_exact_vip_on_one_address() {
	local proto flag out i
	topo_setup 3 1
	for proto in tcp udp; do
		flag=()
		[ "$proto" = udp ] && flag=(-u)
		xlb_lb vip add "$VIP4:0/$proto"
		xlb_lb backend add "$VIP4:0/$proto" "$(topo_addr4 b2)"
		xlb_lb backend add "$VIP4:0/$proto" "$(topo_addr4 b3)"
		xlb_lb vip add "$VIP4:80/$proto"
		xlb_lb backend add "$VIP4:80/$proto" "$(topo_addr4 b1)"
		vip_ready c1 "${flag[@]}" "$VIP4" 8080
		out=$(names c1 "${flag[@]}" -n 60 -T 30 "$VIP4" 8080) || fail "$proto 8080: not every flow answered: $out"
		echo "$proto port 8080: $(echo "$out" | tr '\n' ' ')"
		assert_eq "$proto flows of port 8080 on b1 (exact VIP of port 80 only)" 0 "$(count_of "$out" b1)"
		for i in 2 3; do
			[ "$(count_of "$out" "b$i")" -gt 0 ] || fail "$proto 8080: flows on b$i: expected > 0, got 0"
		done
		out=$(names c1 "${flag[@]}" -n 30 -T 30 "$VIP4" 80) || fail "$proto 80: not every flow answered: $out"
		echo "$proto port 80: $(echo "$out" | tr '\n' ' ')"
		assert_eq "$proto flows of port 80 on b1" 30 "$(count_of "$out" b1)"
	done
}
