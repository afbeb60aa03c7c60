# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# The balancer tier behind BGP/ECMP (scripts/cluster.sh): three instances
# announce the same maglev VIP to a router through their agents' BIRD; the
# router spreads flows over them; an instance that stops (gracefully or not)
# or has no usable backend leaves the router's next hops, and long-lived
# streams survive the rehash because every instance's maglev table agrees
# (and, the control, break when one instance's table disagrees).
# Plus the CLI of `xlb bgp` (bad input, save/restore) on the single-balancer
# topology, and an agent without bird.

# shellcheck source=scripts/cluster.sh
source "$LIB_TOP/scripts/cluster.sh"
# shellcheck source=tests/streams.sh
source "$LIB_TOP/tests/streams.sh"

CL_PORT=8080
CL_VIP=$CLUSTER_VIP4
CL_SVC="$CL_VIP:$CL_PORT/tcp"
CL_ALL="$(cluster_addr4 lb1) $(cluster_addr4 lb2) $(cluster_addr4 lb3)"
CL_STREAMS=100
CL_STREAM_RATE=16384	# bytes/s each: 100 streams on a shared 2-core machine
CL_TIMEOUT=10		# the router's FIB follows an agent within this (s)
CL_HEALTH_TIMEOUT=20	# ... and the health checks (fall 3, every 2 s) within this

# Torn down by tests/lib.sh's lib_cleanup, with the tier's own teardown.
LIB_TOPO_DOWN=cluster_down

# The three-instance tier with CL_SVC (maglev, the same backends everywhere)
# and BGP set on every instance; agents not started yet.
cl_setup() {
	[ "$(id -u)" = 0 ] || skip "needs root (namespaces, XDP)"
	command -v jq >/dev/null || skip "needs jq"
	command -v "$CLUSTER_BIRD" >/dev/null || skip "needs BIRD 2 (scripts/deps.sh installs bird2)"
	[ -x "$XLB" ] || fail "$XLB not built (make)"
	trap lib_cleanup EXIT
	trap 'exit 130' INT TERM HUP PIPE
	TMP=$(mktemp -d /tmp/xlb-test.XXXXXX)
	cluster_up "$P" 3 3 || fail "cluster $P could not be built"
	cluster_vip_add "$P" "$CL_SVC" --sched maglev || fail "vip add"
	cluster_bgp_set "$P" || fail "bgp set"
}

cl_agents_start() {
	local k
	for k in 1 2 3; do
		cluster_agent_start "$P" "$k" "$@"
	done
}

# The router's next hops for ADDR, on one line.
cl_hops() {
	cluster_router_nexthops "$P" "${1:-$CL_VIP}" | tr '\n' ' ' | sed 's/ $//'
}

cl_hops_are() {
	[ "$(cl_hops "$1")" = "$2" ]
}

# ADDR WANT WHY [SECONDS]
cl_wait_hops() {
	local addr=$1 want=$2 why=$3 secs=${4:-$CL_TIMEOUT}
	poll_for "$secs" "$why" cl_hops_are "$addr" "$want" ||
		fail "$why: router's next hops for $addr: expected \"$want\" within ${secs}s," \
			"got \"$(cl_hops "$addr")\""
}

cl_new_flows() {
	cluster_xlb "$P" "$1" stats --json | jq "[.vips[] | select(.vip == \"$CL_SVC\") | .new_flows] | add // 0"
}

cl_streams_check() {
	local what=$1 intact
	# A broken stream has ended already and its kill fails: no errexit in here.
	streams_stop || true
	streams_report
	intact=$(streams_intact)
	assert_eq "$what: intact streams" "$CL_STREAMS" "$intact"
}

test_cluster_ecmp_three_next_hops_and_flows_on_every_instance() {
	local k out n t0
	cl_setup
	# Control: without agents nothing is announced, nothing reaches the VIP.
	assert_eq "router's next hops before any agent" "" "$(cl_hops)"
	out=$(topo_in "$P" c1 "$XLB_TOOLS/nameclient" -n 1 -w 300 -T 1 "$CL_VIP" "$CL_PORT" 2>&1 || true)
	[[ "$out" == *failed* ]] || fail "the VIP answered with nothing announced: $out"
	t0=$SECONDS
	cl_agents_start
	cl_wait_hops "$CL_VIP" "$CL_ALL" "three next hops"
	echo "three next hops after $((SECONDS - t0))s:"
	ip -n "$P-rt" route show "$CL_VIP"
	cluster_xlb "$P" 1 bgp show
	for k in 1 2; do
		out=$(topo_in "$P" "c$k" "$XLB_TOOLS/nameclient" -n 60 -w 1000 -T 20 "$CL_VIP" "$CL_PORT") ||
			fail "flows from c$k: $out"
	done
	for k in 1 2 3; do
		n=$(cl_new_flows "$k")
		echo "instance lb$k: $n new flows"
		[ "$n" -gt 0 ] || fail "instance lb$k saw no new flow of the 120"
	done
	# bird dies under the agent: it starts it again, the next hop comes back.
	kill -KILL "$(cluster_bird_pid "$P" 3)"
	cl_wait_hops "$CL_VIP" "$(cluster_addr4 lb1) $(cluster_addr4 lb2)" "lb3 dropped with its bird"
	cl_wait_hops "$CL_VIP" "$CL_ALL" "next hop of lb3 after its bird was restarted"
	assert_eq "birds started by lb3's agent" 2 "$(grep -c 'bird started' "$TOPO_RUN_BASE/$P/lb3.agent.log")"
	# The maps go away under a running agent: it withdraws and ends.
	cluster_xlb "$P" 3 detach "$P-lb3" >/dev/null
	cl_wait_hops "$CL_VIP" "$(cluster_addr4 lb1) $(cluster_addr4 lb2)" "lb3 withdrawn on detach"
	cluster_agent_wait "$P" 3 || fail "lb3's agent did not end after the detach"
	[ ! -e "/sys/fs/bpf/xlb/$P-lb3/bgp" ] || fail "detach left the bgp pin"
}

test_cluster_unrelated_vip_change_does_not_flap() {
	local vip2=${TOPO_VIPS4[1]} mon
	cl_setup
	cl_agents_start
	cl_wait_hops "$CL_VIP" "$CL_ALL" "three next hops"
	mon=$TMP/monitor
	bg rt "$mon" ip -ts monitor route
	cluster_vip_add "$P" "$vip2:$CL_PORT/tcp" --sched maglev || fail "vip add $vip2"
	cl_wait_hops "$vip2" "$CL_ALL" "three next hops for the new VIP $vip2"
	cluster_xlb_all "$P" vip del "$vip2:$CL_PORT/tcp" || fail "vip del $vip2"
	cl_wait_hops "$vip2" "" "$vip2 withdrawn"
	cl_hops_are "$CL_VIP" "$CL_ALL" || fail "$CL_VIP lost next hops: $(cl_hops)"
	kill "$BG_PID"
	# Control: the monitor saw the other VIP come and go ...
	grep -q "Deleted $vip2" "$mon" || fail "route monitor saw nothing of $vip2: $(cat "$mon")"
	# ... and not one change of the unchanged one.
	if grep -q "$CL_VIP " "$mon"; then
		fail "the route of $CL_VIP changed while only $vip2 did: $(grep -A3 "$CL_VIP " "$mon")"
	fi
	echo "route monitor: $(grep -c "$vip2" "$mon") changes of $vip2, none of $CL_VIP"
}

# SIGTERM: withdraw, drain, exit; streams survive the rehash, and again
# when the instance comes back.
test_cluster_graceful_stop_and_return_keep_streams() {
	local k t0 n dt log
	cl_setup
	cl_agents_start --drain-time 3s
	cl_wait_hops "$CL_VIP" "$CL_ALL" "three next hops"
	streams_start "$CL_STREAMS" "$CL_VIP" "$CL_PORT" "$CL_STREAM_RATE"
	for k in 1 2 3; do
		n=$(cl_new_flows "$k")
		echo "instance lb$k: $n streams"
		[ "$n" -gt 0 ] || fail "no stream passes lb$k: the test would prove nothing"
	done
	t0=$SECONDS
	kill -TERM "$(cluster_agent_pid "$P" 1)"
	cl_wait_hops "$CL_VIP" "$(cluster_addr4 lb2) $(cluster_addr4 lb3)" "lb1 withdrawn on SIGTERM"
	echo "lb1 left the router after $((SECONDS - t0))s"
	cluster_agent_wait "$P" 1 || fail "lb1's agent did not end"
	dt=$((SECONDS - t0))
	echo "lb1's agent ended after ${dt}s"
	log=$TOPO_RUN_BASE/$P/lb1.agent.log
	grep -q "still forwarding for 3000 ms" "$log" || fail "no drain logged: $(tail -5 "$log")"
	! grep -q "cut short" "$log" || fail "the drain was cut short: $(tail -5 "$log")"
	[ "$dt" -ge 3 ] || fail "lb1's agent ended ${dt}s after SIGTERM, before its drain time"
	assert_eq "streams ended while lb1 left" 0 "$(streams_ended)"
	cluster_agent_start "$P" 1 --drain-time 3s
	cl_wait_hops "$CL_VIP" "$CL_ALL" "lb1 back"
	# Flows move back with the new hash: let them run there for a while.
	sleep 2
	assert_eq "streams ended while lb1 came back" 0 "$(streams_ended)"
	cl_streams_check "after lb1 left and came back"
}

# The control of the test above: the same leave, but lb1's table disagrees
# with the others' (b2 and b3 drained on lb1 only, so lb1 sends every new
# flow to b1). lb1's streams move to tables that pick b2 or b3 for most of
# them: those backends have no such connection and reset them.
test_cluster_control_disagreeing_tables_break_moved_streams() {
	local b intact
	cl_setup
	for b in b2 b3; do
		cluster_xlb "$P" 1 backend drain "$CL_SVC" "$(cluster_addr4 "$b")" || fail "drain $b on lb1"
	done
	cl_agents_start --drain-time 1s
	cl_wait_hops "$CL_VIP" "$CL_ALL" "three next hops"
	streams_start "$CL_STREAMS" "$CL_VIP" "$CL_PORT" "$CL_STREAM_RATE"
	[ "$(cl_new_flows 1)" -ge 5 ] || fail "only $(cl_new_flows 1) streams pass lb1: the control would prove nothing"
	kill -TERM "$(cluster_agent_pid "$P" 1)"
	cl_wait_hops "$CL_VIP" "$(cluster_addr4 lb2) $(cluster_addr4 lb3)" "lb1 withdrawn on SIGTERM"
	cluster_agent_wait "$P" 1 || fail "lb1's agent did not end"
	sleep 2
	streams_stop || true
	streams_report | tail -1
	intact=$(streams_intact)
	echo "$(cl_new_flows 1) streams were on lb1; $((CL_STREAMS - intact)) broke when they moved"
	[ "$intact" -lt "$CL_STREAMS" ] || fail "every stream survived although the tables disagreed"
}

# Instances that die with XDP left attached. SIGKILL of agent and bird: the
# kernel closes the dead speaker's TCP session, so the router drops it at
# once. A speaker that hangs (SIGSTOP; its agent SIGKILLed) says nothing at
# all: the router drops it when the hold time expires. No stream breaks.
test_cluster_killed_instance_dropped_after_hold_time() {
	local t0 dt
	cl_setup
	cl_agents_start
	cl_wait_hops "$CL_VIP" "$CL_ALL" "three next hops"
	streams_start "$CL_STREAMS" "$CL_VIP" "$CL_PORT" "$CL_STREAM_RATE"
	t0=$(date +%s%N)
	kill -KILL "$(cluster_bird_pid "$P" 1)" "$(cluster_agent_pid "$P" 1)"
	cl_wait_hops "$CL_VIP" "$(cluster_addr4 lb2) $(cluster_addr4 lb3)" "lb1 dropped after SIGKILL"
	dt=$((($(date +%s%N) - t0) / 1000000))
	echo "lb1 (SIGKILL) left the router ${dt} ms after the kill"
	t0=$(date +%s%N)
	kill -STOP "$(cluster_bird_pid "$P" 2)"
	kill -KILL "$(cluster_agent_pid "$P" 2)"
	cl_wait_hops "$CL_VIP" "$(cluster_addr4 lb3)" "lb2 dropped after the hold time"
	dt=$((($(date +%s%N) - t0) / 1000000))
	echo "lb2 (silent) left the router ${dt} ms after it fell silent (hold time $CLUSTER_HOLD)"
	# Control: it was the hold timer (keepalives every third of it).
	[ "$dt" -ge 1500 ] || fail "lb2 left after ${dt} ms: before its hold time could expire"
	kill -KILL "$(cluster_bird_pid "$P" 2)"
	for k in 1 2; do
		topo_in "$P" "lb$k" "$XLB" -i "$P-lb$k" list >/dev/null || fail "lb$k's XDP was not left attached"
	done
	sleep 1
	assert_eq "streams ended" 0 "$(streams_ended)"
	cl_streams_check "after lb1 and lb2 died"
}

test_cluster_vip_without_usable_backend_is_withdrawn() {
	local vip2=${TOPO_VIPS4[1]} b
	cl_setup
	cluster_vip_add "$P" "$vip2:$CL_PORT/tcp" --sched maglev || fail "vip add $vip2"
	cl_agents_start
	cl_wait_hops "$CL_VIP" "$CL_ALL" "three next hops"
	cl_wait_hops "$vip2" "$CL_ALL" "three next hops for $vip2"
	for b in $(topo_backends "$P"); do
		cluster_xlb_all "$P" backend drain "$CL_SVC" "$(cluster_addr4 "$b")" || fail "drain $b"
	done
	cl_wait_hops "$CL_VIP" "" "$CL_VIP withdrawn with every backend drained"
	# Control: the other VIP, whose backends are fine, stays.
	cl_hops_are "$vip2" "$CL_ALL" || fail "$vip2 lost next hops: $(cl_hops "$vip2")"
	cluster_xlb_all "$P" backend undrain "$CL_SVC" "$(cluster_addr4 b2)" || fail "undrain b2"
	cl_wait_hops "$CL_VIP" "$CL_ALL" "$CL_VIP announced again with b2 back"
	# Health checks on: the servers stop, the backends go down, the VIP goes.
	for b in $(topo_backends "$P"); do
		topo_server_stop "$P" "$b"
	done
	# Three failed checks 2 s apart on every instance, each probing on its own.
	cl_wait_hops "$vip2" "" "$vip2 withdrawn with every server stopped" "$CL_HEALTH_TIMEOUT"
	for b in $(topo_backends "$P"); do
		topo_server_start "$P" "$b"
	done
	cl_wait_hops "$vip2" "$CL_ALL" "$vip2 announced again with the servers back" "$CL_HEALTH_TIMEOUT"
}

# ---- the CLI, on the single-balancer topology of tests/lib.sh ----

# expect_rejected, with `bgp show --json` unchanged too.
cl_state() {
	list_json
	xlb_lb bgp show --json
}

cl_expect_bad() {
	local want=$1 needle=$2
	shift 2
	expect_rejected "$want" "$needle" cl_state xlb_lb "$@"
}

cl_bad_set_cases() {
	local ok=(bgp set --asn 65001 --peer 10.200.0.1 --peer-asn 65000)
	cl_expect_bad 2 "--asn" bgp set --asn 0 --peer 10.200.0.1 --peer-asn 65000
	cl_expect_bad 2 "x1" bgp set --asn x1 --peer 10.200.0.1 --peer-asn 65000
	cl_expect_bad 2 "4294967295" bgp set --asn 4294967295 --peer 10.200.0.1 --peer-asn 65000
	cl_expect_bad 2 "--asn" bgp set --peer 10.200.0.1 --peer-asn 65000
	cl_expect_bad 2 "--peer" bgp set --asn 65001
	cl_expect_bad 2 "10.200.0.300" bgp set --asn 65001 --peer 10.200.0.300 --peer-asn 65000
	cl_expect_bad 2 "--peer" bgp set --asn 65001 --peer
	cl_expect_bad 2 "--peer-asn" bgp set --asn 65001 --peer 10.200.0.1
	cl_expect_bad 2 "--peer-asn" bgp set --asn 65001 --peer 10.200.0.1 --peer 10.200.0.3 --peer-asn 1
	cl_expect_bad 2 "--peer-asn" bgp set --asn 65001 --peer-asn 65000 --peer 10.200.0.1
	cl_expect_bad 2 "twice" "${ok[@]}" --peer 10.200.0.1 --peer-asn 65002
	cl_expect_bad 2 "--peer-asn" bgp set --asn 65001 --peer 10.200.0.1 --peer-asn 0
	cl_expect_bad 2 "--hold-time" "${ok[@]}" --hold-time 2s
	cl_expect_bad 2 "--hold-time" "${ok[@]}" --hold-time 3.5s
	cl_expect_bad 2 "--hold-time" "${ok[@]}" --hold-time 70000s
	cl_expect_bad 2 "--hold-time" "${ok[@]}" --hold-time soon
	cl_expect_bad 2 "--router-id" "${ok[@]}" --router-id fd00::1
	cl_expect_bad 2 "--router-id" "${ok[@]}" --router-id 0.0.0.0
	cl_expect_bad 2 "--next-hop" "${ok[@]}" --next-hop elsewhere
	cl_expect_bad 2 "--frob" "${ok[@]}" --frob 1
	cl_expect_bad 2 "65001" bgp set --asn 65001 65001
	cl_expect_bad 2 "frob" bgp frob
	cl_expect_bad 2 "extra" bgp show extra
	cl_expect_bad 2 "extra" bgp del extra
	cl_expect_bad 2 "--drain-time" agent --drain-time soon
	cl_expect_bad 2 "--drain-time" agent --drain-time -1s
}

test_cluster_bgp_cli_rejects_bad_input() {
	topo_setup 1 1
	BASE=$(list_json)
	BGP_BASE=$(xlb_lb bgp show --json)
	assert_eq "bgp configured at first" false "$(echo "$BGP_BASE" | jq .configured)"
	cl_bad_set_cases
	cl_expect_bad 1 "not set" bgp del
	# The same with a setting in place: a bad set keeps it exactly.
	xlb_lb bgp set --asn 65001 --peer 10.200.0.1 --peer-asn 65000 --peer fd00:200::1 \
		--peer-asn 65002 --router-id 10.200.0.2 --hold-time 6s --next-hop 10.200.0.2
	BGP_BASE=$(xlb_lb bgp show --json)
	echo "$BGP_BASE"
	assert_eq "asn" 65001 "$(echo "$BGP_BASE" | jq .asn)"
	assert_eq "peers" '["10.200.0.1",65000,"fd00:200::1",65002]' \
		"$(echo "$BGP_BASE" | jq -c '[.peers[] | .addr, .asn]')"
	assert_eq "hold time" 6 "$(echo "$BGP_BASE" | jq .hold_time_s)"
	assert_eq "next hop" '"10.200.0.2"' "$(echo "$BGP_BASE" | jq .next_hop)"
	cl_bad_set_cases
	xlb_lb bgp del
	BGP_BASE=$(xlb_lb bgp show --json)
	assert_eq "bgp configured after del" false "$(echo "$BGP_BASE" | jq .configured)"
	cl_expect_bad 1 "not set" bgp del
}

test_cluster_bgp_save_restore_and_detach() {
	local conf=$TMP/saved line
	topo_setup 1 1
	xlb_lb vip add "$VIP4:80/tcp"
	xlb_lb bgp set --asn 65001 --peer 10.200.0.1 --peer-asn 65000 --hold-time 3s
	xlb_lb save >"$conf"
	line=$(grep '^xlb bgp ' "$conf")
	assert_eq "saved bgp line" \
		"xlb bgp set --asn 65001 --peer 10.200.0.1 --peer-asn 65000 --hold-time 3s --next-hop self" \
		"$line"
	xlb_lb bgp del
	xlb_lb restore "$conf"
	assert_eq "asn after restore" 65001 "$(xlb_lb bgp show --json | jq .asn)"
	# A bad line after a good bgp line: nothing changes, BGP included.
	xlb_lb bgp del
	{ cat "$conf"; echo "xlb vip add bogus"; } >"$TMP/bad"
	xlb_lb restore "$TMP/bad" 2>/dev/null && fail "restore of a bad file succeeded"
	assert_eq "configured after a failed restore" false "$(xlb_lb bgp show --json | jq .configured)"
	# A file without a bgp line is a configuration without BGP.
	xlb_lb restore "$conf"
	grep -v '^xlb bgp ' "$conf" >"$TMP/nobgp"
	xlb_lb restore "$TMP/nobgp"
	assert_eq "configured after restoring a file without bgp" false \
		"$(xlb_lb bgp show --json | jq .configured)"
	# Detach takes the bgp pin with the others.
	xlb_lb bgp set --asn 65001 --peer 10.200.0.1 --peer-asn 65000
	[ -e "/sys/fs/bpf/xlb/$P-lb/bgp" ] || fail "no bgp pin"
	xlb_lb detach "$P-lb" >/dev/null
	[ ! -e "/sys/fs/bpf/xlb/$P-lb" ] || fail "pins left after detach: $(ls "/sys/fs/bpf/xlb/$P-lb")"
}

test_cluster_agent_without_bird_says_so_once() {
	local log=$TMP/agent.log
	topo_setup 1 1
	xlb_lb vip add "$VIP4:80/tcp"
	xlb_lb backend add "$VIP4:80/tcp" "$(topo_addr4 b1)"
	xlb_lb bgp set --asn 65001 --peer 10.200.0.1 --peer-asn 65000
	XLB_BIRD=/nonexistent/bird bg lb "$log" "$XLB" agent -i "$P-lb"
	wait_for 5 "the agent's message" grep -q "not installed" "$log"
	# It goes on with everything else: probes bring the backend up.
	wait_for 10 "backend b1 probed up" sh -c \
		"nsenter --net=/run/netns/$P-lb $XLB -i $P-lb list --json | grep -q '\"health\":\"up\"'"
	kill -0 "$BG_PID" || fail "the agent ended: $(cat "$log")"
	assert_eq "messages about bird" 1 "$(grep -c "bird" "$log")"
}
