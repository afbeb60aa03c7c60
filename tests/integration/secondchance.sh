# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# Connections survive lost balancer state. 30 long-lived TCP streams on a
# maglev VIP; then a new backend takes about a quarter of the table and the
# balancer forgets the streams (`xlb conntrack flush`, as after a restart or
# an ECMP move to another instance). With GUE the packets of a moved flow carry the
# slot's previous owner as a second hop, and the new owner's decap program,
# which has no socket for them, hands them on: every stream survives. The same
# with a stateless VIP (--conntrack off), which never had state to lose. The
# control: with IPIP (no hop list) some streams must break.

# shellcheck source=tests/streams.sh
source "$LIB_TOP/tests/streams.sh"

SC_PORT=8080
SC_STREAMS=30

# sc_run ENCAP CONNTRACK: the scenario; leaves the streams stopped and
# reported, and SC_INTACT set.
sc_run() {
	local encap=$1 ct=$2 vip="$VIP4:$SC_PORT/tcp" i moved=0 out
	topo_setup 4 2
	if [ "$encap" = gue ]; then
		xlb_lb attach "$P-lb" --encap gue
		xlb_lb list | grep -q "encap gue" || fail "attach --encap gue: not shown by xlb list"
	fi
	xlb_lb vip add "$vip" --conntrack "$ct"
	for i in 1 2 3; do
		xlb_lb backend add "$vip" "$(topo_addr4 "b$i")"
	done
	streams_start "$SC_STREAMS" "$VIP4" "$SC_PORT"
	echo "streams greeted by: $(for ((i = 0; i < SC_STREAMS; i++)); do streams_backend $i; done | sort | uniq -c | tr -s ' \n' ' ')"

	# The table changes first (tracked flows would keep their backend), then
	# the state is lost: the next packet of every stream is scheduled by the
	# new table, and about a quarter of them now hash to b4.
	xlb_lb backend add "$vip" "$(topo_addr4 b4)"
	xlb_lb conntrack flush
	# New connections reach the new backend: the table did change.
	out=$(names c2 -n 80 -T 30 "$VIP4" "$SC_PORT") || fail "new flows after the change: $out"
	echo "new flows after adding b4: $(echo "$out" | tr '\n' ' ')"
	[ "$(count_of "$out" b4)" -gt 0 ] || fail "no new flow reached b4: the table did not change"
	# Let every stream carry data across the change (the exposure, not a wait
	# for a condition): a moved IPIP flow is reset within one round trip.
	sleep 3
	moved=$(xlb_lb stats --json | jq '[.vips[].backends[]? | select(.addr == "'"$(topo_addr4 b4)"'") | .packets] | add // 0')
	echo "packets b4 received: $moved"
	streams_stop
	streams_report
	SC_INTACT=$(streams_intact)
}

test_gue_streams_survive_conntrack_flush_and_backend_add() {
	sc_run gue on
	assert_eq "intact streams (gue, conntrack on)" "$SC_STREAMS" "$SC_INTACT"
	xlb_lb stats | grep -E "fwd_tx|new flows" || true
}

test_stateless_vip_streams_survive_backend_add() {
	sc_run gue off
	assert_eq "intact streams (gue, conntrack off)" "$SC_STREAMS" "$SC_INTACT"
	assert_eq "conntrack entries of a stateless VIP" 0 "$(xlb_lb conntrack count)"
}

# The control: without a hop list the moved flows land on a backend with no
# socket for them and are reset. (3/4)^30: the chance that no stream moves.
test_ipip_streams_break_on_conntrack_flush_and_backend_add() {
	sc_run ipip on
	[ "$SC_INTACT" -lt "$SC_STREAMS" ] ||
		fail "intact streams (ipip): expected fewer than $SC_STREAMS, got $SC_INTACT"
}
