# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# IPv6 through the balancer: an IPv6 VIP on IPv6 backends (6-in-6), and an
# IPv4 VIP on IPv6 backends (4-in-6), TCP and UDP; every flow answered and
# every backend used.

# Sends FLOWS flows of PROTO to ADDR PORT from c1 and checks all three
# backends answered them all.
all_three_answer() {
	local what=$1 proto=$2 addr=$3 port=$4 flag=() out i
	[ "$proto" = udp ] && flag=(-u)
	out=$(names c1 "${flag[@]}" -n 90 -T 30 "$addr" "$port") || fail "$what: not every flow answered: $out"
	echo "$what: $(echo "$out" | tr '\n' ' ')"
	for i in 1 2 3; do
		[ "$(count_of "$out" "b$i")" -gt 0 ] || fail "$what: flows on b$i: expected > 0, got 0"
	done
}

# VIP_HOST (as written in a VIP: IPv6 in brackets) on port 80, TCP and UDP,
# with the three backends' IPv6 addresses; every flow answered, every backend used.
vip_on_ipv6_backends() {
	local host=$1 addr=$2 what=$3 proto i
	topo_setup 3 1
	for proto in tcp udp; do
		xlb_lb vip add "$host:80/$proto"
		for i in 1 2 3; do
			xlb_lb backend add "$host:80/$proto" "$(topo_addr6 "b$i")"
		done
		all_three_answer "$what $proto" "$proto" "$addr" 80
	done
}

test_ipv6_vip_on_ipv6_backends() {
	vip_on_ipv6_backends "[$VIP6]" "$VIP6" 6-in-6
}

test_ipv4_vip_on_ipv6_backends() {
	vip_on_ipv6_backends "$VIP4" "$VIP4" 4-in-6
}
