# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# The DOWN policy (xlb vip add|set --down-flows stay|move --all-down open|drop)
# with the agent deciding DOWN. Health probes are made to fail by a firewall
# rule on the backend that drops the balancer's probes alone (they come from
# its address; clients' packets arrive decapsulated, from the client), so the
# server and its open streams live on while the agent sees it dead.
#   - default (stay): a stream on a backend that goes DOWN survives (counted
#     fwd_down_stay); with --down-flows move it is reset (its packets re-hash
#     to another backend, which has no such connection): the control.
#   - every backend DOWN: by default (open) new connections are still served
#     (fwd_fail_open); with --all-down drop they are not (drop_no_backend).

DP_CHECK=(--check tcp --interval 300ms --timeout 200ms --fall 2 --rise 1)
DP_METRICS=127.0.0.1:9812

dp_agent_start() {
	DP_AGENT_LOG=$TMP/agent.log
	bg lb "$DP_AGENT_LOG" "$XLB" -i "$P-lb" agent --metrics "$DP_METRICS"
	wait_for 5 "agent metrics endpoint" in_ns lb curl -sf --max-time 2 "http://$DP_METRICS/metrics"
}

# dp_block ROLE / dp_unblock ROLE: drop / pass the balancer's probes to port 80.
dp_block() {
	in_ns "$1" nft -f - <<-EOF
	table inet xlbdp {
		chain in {
			type filter hook input priority 0;
			ip saddr $(topo_addr4 lb) tcp dport 80 drop
		}
	}
	EOF
}

dp_unblock() {
	in_ns "$1" nft delete table inet xlbdp
}

# dp_health VIP ADDR: the backend's health in `xlb list`.
dp_health() {
	list_json | jq -r --arg v "$1" --arg a "$2" \
		'.vips[] | select(.vip == $v) | .backends[] | select(.addr == $a) | .health'
}

dp_health_is() {
	[ "$(dp_health "$1" "$2")" = "$3" ]
}

dp_vip_state_is() {
	[ "$(list_json | jq -r --arg v "$1" '.vips[] | select(.vip == $v) | .state')" = "$2" ]
}

dp_reason() {
	xlb_lb stats --json | jq ".reasons.$1"
}

# dp_stream_through_down VIP: a stream, its backend's probes blocked until it is
# DOWN, 1 s more of stream, then its end; prints the stream's result line, and
# writes the DOWN backend's active flows as the agent counted them to $TMP/active.
dp_stream_through_down() {
	local vip=$1 out=$TMP/stream.$RANDOM be pid
	bg c1 "$out" "$XLB_TOOLS/streamclient" -d 20 -r 65536 "$VIP4" 80
	pid=$BG_PID
	wait_for 5 "stream greeting" grep -q '^backend ' "$out"
	be=$(awk '$1 == "backend" { print $2; exit }' "$out")
	dp_block "$be"
	wait_for 5 "$be down" dp_health_is "$vip" "$(topo_addr4 "$be")" down
	sleep 1.2	# stream packets after the DOWN commit, and one conntrack walk
	list_json | jq --arg a "$(topo_addr4 "$be")" \
		'[.vips[].backends[] | select(.addr == $a) | .active_flows] | add' >"$TMP/active"
	kill -TERM "$pid" 2>/dev/null || true	# a reset stream has ended already
	wait "$pid" || true
	dp_unblock "$be"
	wait_for 5 "$be up again" dp_health_is "$vip" "$(topo_addr4 "$be")" up
	grep '^result ' "$out" || echo "result none backend $be"
}

test_down_policy_stream_stays_by_default_moves_with_move() {
	local vip="$VIP4:80/tcp" res be s0 s1
	topo_setup 2 1
	xlb_lb vip add "$vip" "${DP_CHECK[@]}"
	xlb_lb backend add "$vip" "$(topo_addr4 b1)"
	xlb_lb backend add "$vip" "$(topo_addr4 b2)"
	assert_eq "default --down-flows" stay "$(list_json | jq -r '.vips[0].down_flows')"
	dp_agent_start
	wait_for 5 "b1 up" dp_health_is "$vip" "$(topo_addr4 b1)" up
	wait_for 5 "b2 up" dp_health_is "$vip" "$(topo_addr4 b2)" up

	s0=$(dp_reason fwd_down_stay)
	res=$(dp_stream_through_down "$vip")
	s1=$(dp_reason fwd_down_stay)
	echo "default (stay): $res; fwd_down_stay +$((s1 - s0))"
	be=$(echo "$res" | awk '{ print $4 }')
	[[ "$res" == "result ok backend $be "* ]] || fail "stay: expected the stream to survive, got \"$res\""
	[ $((s1 - s0)) -gt 0 ] || fail "stay: fwd_down_stay did not count the stream's packets"
	assert_eq "stay: active flows the agent counts on the DOWN $be" 1 "$(cat "$TMP/active")"

	xlb_lb vip set "$vip" --down-flows move
	assert_eq "--down-flows after set" move "$(list_json | jq -r '.vips[0].down_flows')"
	xlb_lb save | grep -q -- "--down-flows move --all-down open" || fail "save: no --down-flows move"
	res=$(dp_stream_through_down "$vip")
	echo "--down-flows move: $res"
	[[ "$res" == "result fail "*"reset 1"* ]] || fail "move: expected the stream reset, got \"$res\""
	assert_eq "move: active flows the agent counts on the DOWN backend" 0 "$(cat "$TMP/active")"
	echo "--- agent log"
	cat "$DP_AGENT_LOG"
}

test_down_policy_all_down_fails_open_by_default_drops_with_drop() {
	local vip="$VIP4:80/tcp" out n0 n1 d0 d1 i
	topo_setup 2 1
	xlb_lb vip add "$vip" "${DP_CHECK[@]}"
	for i in 1 2; do
		xlb_lb backend add "$vip" "$(topo_addr4 "b$i")"
	done
	dp_agent_start
	wait_for 5 "every backend up" dp_vip_state_is "$vip" ok
	out=$(names c1 -n 10 -w 500 -T 5 "$VIP4" 80) || fail "flows before: $out"
	dp_block b1
	dp_block b2
	wait_for 5 "VIP all_down" dp_vip_state_is "$vip" all_down
	poll_for 2 x grep -q "failing open" "$DP_AGENT_LOG" ||
		fail "agent log: no fail-open line: $(cat "$DP_AGENT_LOG")"

	n0=$(dp_reason fwd_fail_open)
	out=$(names c1 -n 20 -w 500 -T 5 "$VIP4" 80) || fail "all down, open: new flows not served: $out"
	n1=$(dp_reason fwd_fail_open)
	echo "all down, --all-down open: $(echo "$out" | tr '\n' ' '); fwd_fail_open +$((n1 - n0))"
	assert_eq "flows served while failing open" 20 $(($(count_of "$out" b1) + $(count_of "$out" b2)))
	[ $((n1 - n0)) -ge 20 ] || fail "fwd_fail_open: expected at least 20, got $((n1 - n0))"

	xlb_lb vip set "$vip" --all-down drop
	assert_eq "--all-down after set" drop "$(list_json | jq -r '.vips[0].all_down')"
	d0=$(dp_reason drop_no_backend)
	names c1 -n 5 -w 200 -T 3 "$VIP4" 80 >/dev/null 2>&1 && fail "all down, drop: a flow was served"
	d1=$(dp_reason drop_no_backend)
	echo "all down, --all-down drop: no flow served; drop_no_backend +$((d1 - d0))"
	[ $((d1 - d0)) -ge 5 ] || fail "drop_no_backend: expected at least 5, got $((d1 - d0))"

	xlb_lb vip set "$vip" --all-down open
	out=$(names c1 -n 5 -w 500 -T 5 "$VIP4" 80) || fail "open again: new flows not served: $out"
	dp_unblock b1
	wait_for 5 "VIP ok again" dp_vip_state_is "$vip" ok
}

# dp_bad STATUS NEEDLE ARGS: refused with one "xlb: " line naming NEEDLE, nothing changed.
dp_bad() {
	local want=$1 needle=$2 rc=0 err before
	shift 2
	before=$(xlb_lb save)
	err=$(xlb_lb "$@" 2>&1 >/dev/null) || rc=$?
	echo "xlb $*: exit $rc: $err"
	assert_eq "xlb $*: exit status" "$want" "$rc"
	assert_eq "xlb $*: stderr lines" 1 "$(echo "$err" | wc -l)"
	[[ "$err" == "xlb: "*"$needle"* ]] || fail "xlb $*: expected an error naming \"$needle\", got \"$err\""
	[ "$before" = "$(xlb_lb save)" ] || fail "xlb $*: the configuration changed"
}

# The options: defaults, list, save and restore round trip, bad values refused.
test_down_policy_cli_options_round_trip() {
	local v1="$VIP4:80/tcp" v2="$VIP4:81/tcp" conf before after
	topo_setup 1 1
	xlb_lb vip add "$v1"
	xlb_lb vip add "$v2" --down-flows move --all-down drop
	xlb_lb backend add "$v2" "$(topo_addr4 b1)"
	assert_eq "$v1 down_flows" stay "$(list_json | jq -r --arg v "$v1" '.vips[] | select(.vip == $v) | .down_flows')"
	assert_eq "$v1 all_down" open "$(list_json | jq -r --arg v "$v1" '.vips[] | select(.vip == $v) | .all_down')"
	assert_eq "$v2 down_flows" move "$(list_json | jq -r --arg v "$v2" '.vips[] | select(.vip == $v) | .down_flows')"
	assert_eq "$v2 all_down" drop "$(list_json | jq -r --arg v "$v2" '.vips[] | select(.vip == $v) | .all_down')"
	xlb_lb list | grep -q "down-flows move  all-down drop" || fail "list text: no policy of $v2: $(xlb_lb list)"
	dp_bad 2 "sideways" vip set "$v1" --down-flows sideways
	dp_bad 2 "--all-down" vip set "$v1" --all-down
	dp_bad 2 "maybe" vip add "$VIP4:82/tcp" --all-down maybe
	conf=$TMP/xlb.conf
	xlb_lb save >"$conf"
	grep -q "^xlb vip add $v2 .*--down-flows move --all-down drop" "$conf" || fail "save: $(cat "$conf")"
	before=$(list_config)
	xlb_lb vip set "$v2" --down-flows stay --all-down open
	xlb_lb vip del "$v1"
	xlb_lb restore "$conf"
	after=$(list_config)
	[ "$before" = "$after" ] || fail "after restore: expected $before, got $after"
	xlb_lb stats | grep -q fwd_down_stay || fail "stats: no fwd_down_stay line"
	[ "$(xlb_lb stats --json | jq '.reasons.fwd_fail_open')" = 0 ] || fail "stats --json: fwd_fail_open"
}
