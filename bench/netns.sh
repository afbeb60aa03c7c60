# SPDX-License-Identifier: GPL-2.0
# Sourced by bench/run.sh: the namespace the data-plane benchmarks run in.
# One veth pair, xlbb-a (generator side) and xlbb-b (balancer side). The
# balancer side has 10.200.0.1/24 and fd00:200::1/64; the gateway .2 is a
# permanent neighbour (the peer's MAC) and routes every backend network
# through it, so bpf_fib_lookup resolves each backend and xlb encapsulates
# for real; the client networks too (NAT answers go back to them).
# Forwarding is on: bpf_fib_lookup refuses otherwise.

BENCH_NS=xlbb-pc

bench_ns_down() {
	ip netns del "$BENCH_NS" 2>/dev/null || true
}

bench_ns_up() {
	local mac
	bench_ns_down
	ip netns add "$BENCH_NS"
	ip -n "$BENCH_NS" link add xlbb-a type veth peer name xlbb-b
	ip -n "$BENCH_NS" link set lo up
	ip -n "$BENCH_NS" link set xlbb-a up
	ip -n "$BENCH_NS" link set xlbb-b up
	ip netns exec "$BENCH_NS" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
	ip -n "$BENCH_NS" addr add 10.200.0.1/24 dev xlbb-b
	ip -n "$BENCH_NS" addr add fd00:200::1/64 dev xlbb-b nodad
	mac=$(ip -n "$BENCH_NS" -j link show xlbb-a | sed -n 's/.*"address":"\([^"]*\)".*/\1/p')
	ip -n "$BENCH_NS" neigh replace 10.200.0.2 lladdr "$mac" dev xlbb-b nud permanent
	ip -n "$BENCH_NS" neigh replace fd00:200::2 lladdr "$mac" dev xlbb-b nud permanent
	ip -n "$BENCH_NS" route add 10.128.0.0/9 via 10.200.0.2
	ip -n "$BENCH_NS" route add fd00:201::/64 via fd00:200::2
	# The clients too: a NAT VIP's answers are routed back to them.
	ip -n "$BENCH_NS" route add 11.0.0.0/8 via 10.200.0.2
	ip -n "$BENCH_NS" route add fd00:50::/64 via fd00:200::2
}

# Runs a command in the namespace, keeping the host's bpffs (COMMON.md).
bench_ns_run() {
	nsenter --net=/run/netns/"$BENCH_NS" "$@"
}
