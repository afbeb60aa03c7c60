#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The demo behind `make demo-cluster` (run after deps and build): the
# balancer tier of scripts/cluster.sh. A router running BIRD learns the same
# maglev VIP from three xlb instances (each agent runs its own BIRD) and
# spreads flows over them by ECMP; then one instance stops gracefully
# (SIGTERM to its agent: withdraw, drain, exit) while long-lived streams run,
# and every stream survives the rehash because the three maglev tables
# agree. Everything it creates is removed on exit, also on failure or Ctrl-C.
set -euo pipefail

CLUSTER_TOP=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/cluster.sh
source "$CLUSTER_TOP/scripts/cluster.sh"

P=xcdemo$(($$ % 1000))
VIP="$CLUSTER_VIP4:8080/tcp"
CONNS=150
STREAMS=30
OUT=

cleanup() {
	set +e
	trap - EXIT INT TERM HUP PIPE
	pkill_streams
	[ -n "$OUT" ] && rm -rf "$OUT"
	echo
	echo "== cleaning up ($P-*)"
	cluster_down "$P"
}

pkill_streams() {
	local f
	for f in "${OUT:-/nonexistent}"/s.*.pid; do
		[ -e "$f" ] && kill "$(cat "$f")" 2>/dev/null
	done
	return 0
}

die() {
	echo "demo: $*" >&2
	exit 1
}

# Waits (bounded, 15 s) until the router's next hops for the VIP are WANT.
hops_wait() {
	local want=$1 i
	for ((i = 0; i < 150; i++)); do
		[ "$(cluster_router_nexthops "$P" "$CLUSTER_VIP4" | tr '\n' ' ')" = "$want" ] && return 0
		sleep 0.1
	done
	die "the router's next hops are not \"$want\": $(ip -n "$P-rt" route show "$CLUSTER_VIP4")"
}

# New flows per instance, as bars.
per_instance() {
	local k n
	for k in 1 2 3; do
		n=$(cluster_xlb "$P" "$k" stats --json | jq '[.vips[].new_flows] | add // 0')
		printf '  lb%s (%s)  %4d new flows  %s\n' "$k" "$(cluster_addr4 "lb$k")" "$n" \
			"$(head -c $((n / 2)) /dev/zero | tr '\0' '#')"
	done
}

[ "$(id -u)" = 0 ] || die "run as root (namespaces, XDP)"
[ -x "$XLB" ] || die "$XLB is missing: run make"
command -v bird >/dev/null || die "BIRD 2 is missing: run scripts/deps.sh"

trap cleanup EXIT
trap 'exit 130' INT TERM HUP PIPE
OUT=$(mktemp -d /tmp/xlb-demo-cluster.XXXXXX)

echo "== cluster $P: clients c1 c2 -> router rt (BIRD, ECMP) -> balancers lb1 lb2 lb3 -> backends b1 b2 b3"
cluster_up "$P" 3 3 || die "the cluster could not be built"
echo "== on every balancer: the same maglev VIP, the same backends, BGP towards the router"
echo "# xlb vip add $VIP --sched maglev; xlb backend add $VIP ADDR (x3)"
cluster_vip_add "$P" "$VIP" --sched maglev || die "vip add"
echo "# xlb bgp set --asn $CLUSTER_ASN_LB --peer $(cluster_addr4 rt) --peer-asn $CLUSTER_ASN_RT --hold-time $CLUSTER_HOLD"
cluster_bgp_set "$P" || die "bgp set"
for k in 1 2 3; do
	cluster_agent_start "$P" "$k" --drain-time 3s
done
ALL="$(cluster_addr4 lb1) $(cluster_addr4 lb2) $(cluster_addr4 lb3) "
hops_wait "$ALL"
echo
echo "== the router learnt the VIP from all three agents"
cluster_birdc "$P" rt show protocols | sed 's/^/  /'
echo "# ip route show $CLUSTER_VIP4    (on the router)"
ip -n "$P-rt" route show "$CLUSTER_VIP4" | sed 's/^/  /'
echo "# xlb -i $P-lb1 bgp show"
cluster_xlb "$P" 1 bgp show | sed 's/^/  /'

echo
echo "== $CONNS connections from each client: ECMP spreads them over the instances"
for c in c1 c2; do
	topo_in "$P" "$c" "$XLB_TOOLS/nameclient" -n "$CONNS" -T 30 "$CLUSTER_VIP4" 8080 >/dev/null ||
		echo "  (some connections from $c got no answer)"
done
per_instance

echo
echo "== $STREAMS long-lived TCP streams, then lb1 leaves (SIGTERM to its agent)"
for ((i = 0; i < STREAMS; i++)); do
	c=c$((i % 2 + 1))
	nsenter --net="/run/netns/$P-$c" "$XLB_TOOLS/streamclient" -d 40 -r 65536 \
		"$CLUSTER_VIP4" 8080 >"$OUT/s.$i" 2>&1 &
	echo $! >"$OUT/s.$i.pid"
done
for ((i = 0; i < 100; i++)); do
	[ "$(grep -l '^backend ' "$OUT"/s.[0-9]* 2>/dev/null | wc -l)" -eq "$STREAMS" ] && break
	sleep 0.1
done
kill -TERM "$(cluster_agent_pid "$P" 1)"
hops_wait "$(cluster_addr4 lb2) $(cluster_addr4 lb3) "
echo "  the router now:"
ip -n "$P-rt" route show "$CLUSTER_VIP4" | sed 's/^/  /'
cluster_agent_wait "$P" 1 || true
echo "  lb1's agent log:"
grep 'bgp:' "$TOPO_RUN_BASE/$P/lb1.agent.log" | tail -4 | sed 's/^/    /'
sleep 2
pkill_streams
for ((i = 0; i < STREAMS; i++)); do
	wait "$(cat "$OUT/s.$i.pid")" 2>/dev/null || true
done
ok=$(grep -l '^result ok' "$OUT"/s.[0-9]* 2>/dev/null | wc -l)
echo "  streams intact (no reset, every byte acknowledged, same backend): $ok of $STREAMS"
grep -h '^result fail' "$OUT"/s.[0-9]* 2>/dev/null | sed 's/^/    /' || true

echo
echo "== lb1 comes back"
cluster_agent_start "$P" 1 --drain-time 3s
hops_wait "$ALL"
ip -n "$P-rt" route show "$CLUSTER_VIP4" | sed 's/^/  /'
