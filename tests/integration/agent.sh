# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# The agent (xlb agent) with real servers: health checks move new flows off a
# dead backend and back, a SIGKILL loses nothing, one agent per instance, the
# metrics match the traffic and survive abuse, and lc, lrt and wrr show their
# effect. Checks run with short intervals (AG_CHECK) so each test stays short.

AG_INTERVAL_MS=500
AG_FALL=2
AG_RISE=2
AG_CHECK=(--interval "${AG_INTERVAL_MS}ms" --timeout 300ms --fall "$AG_FALL" --rise "$AG_RISE")
AG_METRICS=127.0.0.1:9810	# the default, in the balancer's own namespace
AG_UDP_SPORT=40000		# the source port of the UDP stream (one flow)

ms() {
	date +%s%3N
}

# Starts the agent in the balancer's namespace; sets AGENT_PID and AGENT_LOG
# and waits for its metrics endpoint.
agent_start() {
	AGENT_LOG=$TMP/agent.$((${#BG_PIDS[@]})).log
	bg lb "$AGENT_LOG" "$XLB" -i "$P-lb" agent
	AGENT_PID=$BG_PID
	wait_for 5 "agent metrics endpoint" scrape_ok
}

scrape() {
	in_ns lb curl -sf --max-time 2 "http://$AG_METRICS/metrics"
}

scrape_ok() {
	scrape >/dev/null
}

# metric TEXT NAME LABELS: the value of NAME{LABELS} in a scrape (0 if absent).
metric() {
	echo "$1" | awk -v k="$2{$3}" '$1 == k { v = $2 } END { print v + 0 }'
}

# health_is VIP ADDR STATE: `xlb list` shows that health for the backend.
health_is() {
	[ "$(list_json | jq -r --arg v "$1" --arg a "$2" \
		'.vips[] | select(.vip == $v) | .backends[] | select(.addr == $a) | .health')" = "$3" ]
}

all_up() {
	[ "$(list_json | jq '[.vips[].backends[] | select(.health != "up")] | length')" = 0 ]
}

# flows_avoid NAME: 30 new TCP flows from c1 all answered, none by NAME.
flows_avoid() {
	local out
	out=$(names c1 -n 30 -w 300 -T 5 "$VIP4" 80) || return 1
	[ "$(count_of "$out" "$1")" = 0 ]
}

flows_reach() {
	local out
	out=$(names c1 -n 30 -w 300 -T 5 "$VIP4" 80) || return 1
	[ "$(count_of "$out" "$1")" -gt 0 ]
}

# Kill one backend's server: new TCP flows leave it within fall x interval + 1 s
# while a UDP stream (one flow, one datagram each 100 ms) to another backend
# loses nothing; start it again: it gets flows again within rise x interval + 1 s.
test_agent_health_moves_flows_off_dead_backend_and_back() {
	local tv="$VIP4:80/tcp" uv="$VIP4:80/udp" i s v t0 took bound out res bad
	topo_setup 3 2
	# --down-flows move: flows tracked to the dead backend stop counting for it
	# (by default they stay, and count: tests/integration/down_policy.sh).
	for v in "$tv" "$uv"; do
		xlb_lb vip add "$v" --check tcp --down-flows move "${AG_CHECK[@]}"
		for i in 1 2 3; do
			xlb_lb backend add "$v" "$(topo_addr4 "b$i")"
		done
	done
	agent_start
	wait_for 5 "every backend up" all_up
	# The UDP stream's backend, and a victim that is not it.
	s=$(names c2 -u -s "$AG_UDP_SPORT" -n 1 -w 500 "$VIP4" 80 | awk '{ print $1 }')
	for v in b1 b2 b3; do [ "$v" != "$s" ] && break; done
	echo "UDP stream on $s; stopping the server of $v"
	bg c2 "$TMP/udp.out" bash -c "for i in \$(seq 50); do
		$XLB_TOOLS/nameclient -u -s $AG_UDP_SPORT -n 1 -w 300 -T 2 $VIP4 80 || echo 'failed 1'
		sleep 0.1; done"
	UDP_PID=$BG_PID
	sleep 0.5

	t0=$(ms)
	topo_server_stop "$P" "$v"
	wait_for 5 "new flows off $v" flows_avoid "$v"
	took=$(($(ms) - t0))
	bound=$((AG_FALL * AG_INTERVAL_MS + 1000))
	echo "new flows left $v after ${took}ms (bound ${bound}ms)"
	[ "$took" -le "$bound" ] || fail "new flows off dead $v: expected within ${bound}ms, took ${took}ms"
	health_is "$tv" "$(topo_addr4 "$v")" down || fail "xlb list: expected $v down"
	# The agent logs right after its commit, which the data plane may show first.
	poll_for 2 x grep -q "backend $(topo_addr4 "$v") of $tv: down" "$AGENT_LOG" ||
		fail "agent log: expected a down line for $v, got: $(cat "$AGENT_LOG")"
	sleep 1.2	# one conntrack walk: flows tracked to the dead $v no longer count for it
	echo "--- xlb list with $v down"
	xlb_lb list
	echo "--- metrics with $v down"
	scrape | grep -v '^#' | grep -E 'vip_new_flows|backend_(up|new_flows|active|probe)|reason="(fwd|drop_no)'
	assert_eq "active flows counted for the dead $v" 0 \
		"$(list_json | jq --arg a "$(topo_addr4 "$v")" '[.vips[].backends[] | select(.addr == $a) | .active_flows] | add')"

	t0=$(ms)
	topo_server_start "$P" "$v"
	wait_for 5 "new flows on $v again" flows_reach "$v"
	took=$(($(ms) - t0))
	bound=$((AG_RISE * AG_INTERVAL_MS + 1000))
	echo "new flows reached $v again after ${took}ms (bound ${bound}ms)"
	[ "$took" -le "$bound" ] || fail "new flows back on $v: expected within ${bound}ms, took ${took}ms"
	poll_for 2 x grep -q "backend $(topo_addr4 "$v") of $tv: up" "$AGENT_LOG" ||
		fail "agent log: no up line for $v within 2s, got: $(cat "$AGENT_LOG")"

	wait "$UDP_PID" || true
	res=$(cat "$TMP/udp.out")
	bad=$(echo "$res" | grep -vc "^$s 1$" || true)
	echo "UDP stream: $(echo "$res" | grep -c "^$s 1$") datagrams answered by $s, $bad other lines"
	assert_eq "UDP datagrams lost or answered by another backend than $s" 0 "$bad"
	assert_eq "UDP datagrams answered" 50 "$(echo "$res" | grep -c "^$s 1$")"
	echo "--- agent log"
	cat "$AGENT_LOG"
}

# SIGKILL mid-stream: the data plane keeps forwarding, and the restarted agent
# keeps every tracked flow, the configuration and the health (no flap). A
# second agent is refused and names the running one's pid.
test_agent_sigkill_restart_loses_nothing_second_refused() {
	local vip="$VIP4:8080/tcp" i out cfg1 cfg2 n1 n2 res rc=0 be err
	topo_setup 3 2
	xlb_lb vip add "$vip" --check tcp "${AG_CHECK[@]}"
	xlb_lb vip add "$VIP4:80/udp" --check tcp "${AG_CHECK[@]}"
	for i in 1 2 3; do
		xlb_lb backend add "$vip" "$(topo_addr4 "b$i")"
		xlb_lb backend add "$VIP4:80/udp" "$(topo_addr4 "b$i")"
	done
	agent_start
	wait_for 5 "every backend up" all_up
	bg c1 "$TMP/stream.out" "$XLB_TOOLS/streamclient" -d 30 -r 65536 "$VIP4" 8080
	STREAM_PID=$BG_PID
	wait_for 5 "stream greeting" grep -q '^backend ' "$TMP/stream.out"
	be=$(awk '$1 == "backend" { print $2; exit }' "$TMP/stream.out")
	names c2 -u -n 30 -w 500 "$VIP4" 80 >/dev/null || fail "UDP flows before the kill"

	kill -KILL "$AGENT_PID"
	wait "$AGENT_PID" 2>/dev/null || true
	out=$(names c2 -n 20 -w 500 -T 10 "$VIP4" 8080) || fail "new flows with no agent: $out"
	echo "new flows while the agent is dead: $(echo "$out" | tr '\n' ' ')"
	n1=$(xlb_lb conntrack count --json | jq .count)
	cfg1=$(list_config)
	sleep 1

	agent_start
	sleep 2.5	# two conntrack walks and several probe rounds
	n2=$(xlb_lb conntrack count --json | jq .count)
	cfg2=$(list_config)
	echo "tracked flows: $n1 before the restart, $n2 after"
	assert_eq "tracked flows after the restart" "$n1" "$n2"
	[ "$cfg1" = "$cfg2" ] || fail "configuration after the restart: expected $cfg1, got $cfg2"
	all_up || fail "health after the restart: expected every backend up, got $(list_json)"
	! grep -q ": down" "$AGENT_LOG" || fail "restarted agent flapped: $(cat "$AGENT_LOG")"

	err=$(in_ns lb timeout 5 "$XLB" -i "$P-lb" agent --metrics 127.0.0.1:0 2>&1) || rc=$?
	echo "second agent: exit $rc: $err"
	[ "$rc" -ne 0 ] || fail "second agent: expected a refusal, it ran"
	[[ "$err" == "xlb: "*"pid $AGENT_PID"* ]] ||
		fail "second agent: expected \"xlb: ... pid $AGENT_PID ...\", got \"$err\""
	assert_eq "second agent: stderr lines" 1 "$(echo "$err" | wc -l)"
	kill -0 "$AGENT_PID" || fail "the first agent died"

	kill -TERM "$STREAM_PID"
	wait "$STREAM_PID" || rc=$?
	res=$(grep '^result ' "$TMP/stream.out" || true)
	echo "$res"
	[[ "$res" == "result ok backend $be "* ]] || fail "stream: expected \"result ok backend $be ...\", got \"$res\""

	kill -TERM "$AGENT_PID"
	rc=0
	wait "$AGENT_PID" || rc=$?
	assert_eq "agent exit status on SIGTERM" 0 "$rc"
	grep -q "stopped" "$AGENT_LOG" || fail "agent log: no clean stop line"
}

# The VIP's new-flow counter grows by exactly the flows sent, the backends'
# counters add up to it, active flows fall back to 0 once the flows closed
# (the recount), and garbage or slow clients on the socket harm nothing.
test_agent_metrics_match_traffic_and_survive_abuse() {
	local vip="$VIP4:80/tcp" n=40 a b d sum=0 i k
	topo_setup 3 1
	xlb_lb vip add "$vip" --check tcp "${AG_CHECK[@]}"
	for i in 1 2 3; do
		xlb_lb backend add "$vip" "$(topo_addr4 "b$i")"
	done
	agent_start
	wait_for 5 "every backend up" all_up
	a=$(scrape)
	for k in xlb_vip_packets_total xlb_vip_new_flows_total xlb_backend_packets_total \
		 xlb_backend_active_flows xlb_backend_up xlb_backend_probe_rtt_seconds xlb_packets_total; do
		echo "$a" | grep -q "^# TYPE $k " || fail "metrics: no # TYPE line for $k"
		echo "$a" | grep -q "^# HELP $k " || fail "metrics: no # HELP line for $k"
	done
	assert_eq "xlb_backend_up of b1" 1 "$(metric "$a" xlb_backend_up "vip=\"$vip\",backend=\"$(topo_addr4 b1)\"")"

	names c1 -n "$n" -w 1000 "$VIP4" 80 >/dev/null || fail "not every flow answered"
	b=$(scrape)
	d=$(($(metric "$b" xlb_vip_new_flows_total "vip=\"$vip\"") - $(metric "$a" xlb_vip_new_flows_total "vip=\"$vip\"")))
	echo "VIP new flows: +$d for $n connections"
	assert_eq "xlb_vip_new_flows_total increase" "$n" "$d"
	for i in 1 2 3; do
		k="vip=\"$vip\",backend=\"$(topo_addr4 "b$i")\""
		sum=$((sum + $(metric "$b" xlb_backend_new_flows_total "$k") - $(metric "$a" xlb_backend_new_flows_total "$k")))
	done
	assert_eq "sum of xlb_backend_new_flows_total increases" "$n" "$sum"
	# Each connection: SYN, ACK, FIN, ACK at least, client to VIP only (DSR).
	d=$(($(metric "$b" xlb_vip_packets_total "vip=\"$vip\"") - $(metric "$a" xlb_vip_packets_total "vip=\"$vip\"")))
	assert_range "xlb_vip_packets_total increase" $((4 * n)) $((10 * n)) "$d"
	d=$(($(metric "$b" xlb_packets_total 'reason="fwd_tx"') + $(metric "$b" xlb_packets_total 'reason="fwd_redirect"') -
	     $(metric "$a" xlb_packets_total 'reason="fwd_tx"') - $(metric "$a" xlb_packets_total 'reason="fwd_redirect"')))
	assert_range "forwarded packets by reason" $((4 * n)) $((10 * n)) "$d"
	wait_for 3 "active flows back to 0 after the flows closed" \
		bash -c "[ \"\$(curl -sf http://$AG_METRICS/metrics | awk '/^xlb_backend_active_flows/ { s += \$2 } END { print s + 0 }')\" = 0 ]" ||
		fail "active flows: $(scrape | grep '^xlb_backend_active_flows')"

	# Abuse: garbage, a huge header, 20 clients that send nothing, one that stalls mid-request.
	in_ns lb bash -c "printf 'GARBAGE\x00\xff\r\n\r\n' | timeout 3 socat - TCP:$AG_METRICS" >/dev/null 2>&1 || true
	in_ns lb bash -c "head -c 20000 /dev/zero | tr '\0' 'A' | timeout 3 socat - TCP:$AG_METRICS" >/dev/null 2>&1 || true
	for i in $(seq 20); do
		bg lb /dev/null socat -u TCP:$AG_METRICS,connect-timeout=2 EXEC:"sleep 8"
	done
	bg lb /dev/null bash -c "(printf 'GET /metr'; sleep 8) | socat - TCP:$AG_METRICS"
	sleep 0.5
	b=$(scrape) || fail "scrape while slow clients hold connections failed"
	echo "$b" | grep -q "^xlb_vip_new_flows_total{vip=\"$vip\"} " || fail "scrape under abuse: no VIP counter"
	kill -0 "$AGENT_PID" || fail "agent died under abuse: $(cat "$AGENT_LOG")"

	# A weight change made with the CLI: one log line, and the gauge follows.
	xlb_lb backend weight "$vip" "$(topo_addr4 b1)" 3
	wait_for 2 "log line of the weight change" \
		grep -q "backend $(topo_addr4 b1) of $vip: weight 1 -> 3" "$AGENT_LOG"
	assert_eq "xlb_backend_weight of b1" 3 \
		"$(metric "$(scrape)" xlb_backend_weight "vip=\"$vip\",backend=\"$(topo_addr4 b1)\"")"
}

# lc: b1 holds 50 long-lived connections; of the next 50 new flows, after
# b2 and b3 joined, at most 3 reach b1 (power of two choices with a 4-slot
# second choice). Short flows b1 served before are closed and must not count:
# the agent's recount puts b1's active flows at exactly 50.
test_agent_lc_steers_new_flows_off_loaded_backend() {
	local vip="$VIP4:80/tcp" out got
	topo_setup 3 2
	xlb_lb vip add "$vip" --sched lc --check tcp "${AG_CHECK[@]}"
	xlb_lb backend add "$vip" "$(topo_addr4 b1)"
	agent_start
	names c1 -n 20 -w 1000 "$VIP4" 80 >/dev/null || fail "short flows to b1"
	bg c1 "$TMP/hold.out" bash -c "for i in \$(seq 50); do exec {fd}<>/dev/tcp/$VIP4/80 || exit 1; done; echo held; sleep 40"
	wait_for 5 "50 connections held" grep -q held "$TMP/hold.out"
	wait_for 4 "b1's active flows recounted to 50" \
		bash -c "[ \"\$(nsenter --net=/run/netns/$P-lb $XLB -i $P-lb list --json | jq '.vips[0].backends[0].active_flows')\" = 50 ]" ||
		fail "b1 active flows: $(list_json | jq -c '.vips[0].backends')"
	xlb_lb backend add "$vip" "$(topo_addr4 b2)"
	xlb_lb backend add "$vip" "$(topo_addr4 b3)"
	out=$(names c2 -n 50 -w 1000 "$VIP4" 80) || fail "new flows: $out"
	echo "50 new flows with b1 holding 50: $(echo "$out" | tr '\n' ' ')"
	got=$(count_of "$out" b1)
	assert_range "new flows on the loaded b1" 0 3 "$got"
	assert_eq "new flows answered" 50 $(($(count_of "$out" b1) + $(count_of "$out" b2) + $(count_of "$out" b3)))
}

# lrt: b1 answers its HTTP check 50 ms late; once the agent measured it,
# b1 gets clearly fewer new flows (under a tenth of them, its fair share
# being a third) and the others share the rest.
test_agent_lrt_steers_new_flows_off_slow_backend() {
	local port=8081 vip="$VIP4:8081/tcp" i out n=90 rt1 rt2
	[ -x "$XLB_TOOLS/httpslow" ] || fail "$XLB_TOOLS/httpslow not built (make)"
	topo_setup 3 1
	bg b1 "$TMP/hs1.log" "$XLB_TOOLS/httpslow" -n b1 -p "$port" -d 50
	bg b2 "$TMP/hs2.log" "$XLB_TOOLS/httpslow" -n b2 -p "$port"
	bg b3 "$TMP/hs3.log" "$XLB_TOOLS/httpslow" -n b3 -p "$port"
	xlb_lb vip add "$vip" --sched lrt --check http:/health --interval 300ms --timeout 200ms --rise 1
	for i in 1 2 3; do
		xlb_lb backend add "$vip" "$(topo_addr4 "b$i")"
	done
	agent_start
	wait_for 5 "every backend up with a response time" \
		bash -c "[ \"\$(nsenter --net=/run/netns/$P-lb $XLB -i $P-lb list --json | jq '[.vips[0].backends[] | select(.health == \"up\" and .rt_us > 0)] | length')\" = 3 ]"
	rt1=$(list_json | jq '.vips[0].backends[] | select(.addr == "'"$(topo_addr4 b1)"'") | .rt_us')
	rt2=$(list_json | jq '.vips[0].backends[] | select(.addr == "'"$(topo_addr4 b2)"'") | .rt_us')
	echo "probe response times: b1 ${rt1}us, b2 ${rt2}us"
	assert_range "b1 response time (us)" 40000 200000 "$rt1"
	out=$(in_ns c1 "$XLB_TOOLS/nameclient" -n "$n" -w 2000 -T 60 "$VIP4" "$port") || fail "new flows: $out"
	echo "$n new flows: $(echo "$out" | tr '\n' ' ')"
	assert_range "new flows on the slow b1" 0 $((n / 10)) "$(count_of "$out" b1)"
	assert_range "new flows on b2" $((n / 5)) "$n" "$(count_of "$out" b2)"
	assert_range "new flows on b3" $((n / 5)) "$n" "$(count_of "$out" b3)"
}

# HTTP checks: a backend that hangs, resets, answers garbage or 500 is marked
# down, the agent lives on; a VIP whose every backend is down (--all-down
# drop) says so and counts its packets as no-backend drops.
test_agent_http_faults_mark_down_and_all_down_drops() {
	local port=8081 vip="$VIP4:8081/tcp" dead="$VIP4:8082/tcp" i m a b
	[ -x "$XLB_TOOLS/httpslow" ] || fail "$XLB_TOOLS/httpslow not built (make)"
	topo_setup 5 1
	bg b1 /dev/null "$XLB_TOOLS/httpslow" -n b1 -p "$port"
	bg b2 /dev/null "$XLB_TOOLS/httpslow" -n b2 -p "$port" -m hang
	bg b3 /dev/null "$XLB_TOOLS/httpslow" -n b3 -p "$port" -m reset
	bg b4 /dev/null "$XLB_TOOLS/httpslow" -n b4 -p "$port" -m garbage
	bg b5 /dev/null "$XLB_TOOLS/httpslow" -n b5 -p "$port" -m 500
	xlb_lb vip add "$vip" --check http:/ "${AG_CHECK[@]}"
	xlb_lb vip add "$dead" --all-down drop "${AG_CHECK[@]}"	# nobody listens on 8082
	for i in 1 2 3 4 5; do
		xlb_lb backend add "$vip" "$(topo_addr4 "b$i")"
	done
	xlb_lb backend add "$dead" "$(topo_addr4 b1)"
	agent_start
	wait_for 5 "b1 up" health_is "$vip" "$(topo_addr4 b1)" up
	for i in 2 3 4 5; do
		wait_for 5 "b$i down" health_is "$vip" "$(topo_addr4 "b$i")" down
	done
	wait_for 5 "VIP $dead all_down" \
		bash -c "[ \"\$(nsenter --net=/run/netns/$P-lb $XLB -i $P-lb list --json | jq -r '.vips[] | select(.vip == \"$dead\") | .state')\" = all_down ]"
	out=$(names c1 -n 20 -w 1000 "$VIP4" "$port") || fail "flows to the live b1: $out"
	assert_eq "flows answered by b1" 20 "$(count_of "$out" b1)"
	a=$(scrape)
	names c1 -n 5 -w 200 -T 5 "$VIP4" 8082 >/dev/null && fail "flows to an all-down VIP were answered"
	b=$(scrape)
	m=$(($(metric "$b" xlb_packets_total 'reason="drop_no_backend"') - $(metric "$a" xlb_packets_total 'reason="drop_no_backend"')))
	assert_range "drop_no_backend packets for 5 SYNs (and retries)" 5 100 "$m"
	assert_eq "xlb_vip_up of $dead" 0 "$(metric "$b" xlb_vip_up "vip=\"$dead\"")"
	kill -0 "$AGENT_PID" || fail "agent died"
}

# wrr: 120 flows over weights 1:2:3 land within 10 % of the total of their share.
test_agent_wrr_spread_follows_weights() {
	local vip="$VIP4:80/tcp" w=(0 1 2 3) n=120 out i got want tol=12
	topo_setup 3 1
	xlb_lb vip add "$vip" --sched wrr --check tcp "${AG_CHECK[@]}"
	for i in 1 2 3; do
		xlb_lb backend add "$vip" "$(topo_addr4 "b$i")" --weight "${w[$i]}"
	done
	agent_start
	wait_for 5 "every backend up" all_up
	out=$(names c1 -n "$n" -w 1000 "$VIP4" 80) || fail "flows: $out"
	for i in 1 2 3; do
		got=$(count_of "$out" "b$i")
		want=$((n * w[i] / 6))
		echo "b$i weight ${w[$i]}: $got of $n flows (share $want +- $tol)"
		assert_range "wrr flows on b$i (weight ${w[$i]})" $((want - tol)) $((want + tol)) "$got"
	done
}

# agent_bad STATUS NEEDLE ARGS: refused with one "xlb: " line naming NEEDLE, nothing changed.
agent_bad() {
	local want=$1 needle=$2
	shift 2
	expect_rejected "$want" "$needle" list_json xlb_lb "$@"
}

test_agent_bad_check_values_refused() {
	local vip="$VIP4:80/tcp"
	topo_setup 1 1
	xlb_lb vip add "$vip" --check http:/ok --interval 1s --timeout 500ms
	xlb_lb backend add "$vip" "$(topo_addr4 b1)"
	BASE=$(list_json)
	agent_bad 2 "udp" vip set "$vip" --check udp
	agent_bad 2 "http:" vip set "$vip" --check http:
	agent_bad 2 "nopath" vip set "$vip" --check http:nopath
	agent_bad 2 "0" vip set "$vip" --interval 0
	agent_bad 2 "5x" vip set "$vip" --interval 5x
	agent_bad 2 "99h" vip set "$vip" --timeout 99h
	agent_bad 2 "--timeout" vip set "$vip" --timeout 2s
	agent_bad 2 "0" vip set "$vip" --rise 0
	agent_bad 2 "bogus" vip add "$VIP4:81/tcp" --check bogus
	agent_bad 2 "-1s" vip add "$VIP4:81/tcp" --interval -1s
	agent_bad 2 "--metrics" agent --metrics
	agent_bad 2 "--bogus" agent --bogus
}

# Idle expiry: with a 2 s UDP timeout, 20 one-datagram flows are gone within
# a few seconds (and counted as expired), while one flow that sends every
# 0.5 s stays tracked the whole time (the VIP never sees it as new again).
test_agent_conntrack_expires_idle_flows_keeps_live_ones() {
	local vip="$VIP4:80/udp" a b i
	topo_setup 2 2
	xlb_lb conntrack set --udp-timeout 2s
	xlb_lb vip add "$vip" --check tcp "${AG_CHECK[@]}"
	for i in 1 2; do
		xlb_lb backend add "$vip" "$(topo_addr4 "b$i")"
	done
	agent_start
	bg c2 "$TMP/live.out" bash -c "for i in \$(seq 12); do
		$XLB_TOOLS/nameclient -u -s $AG_UDP_SPORT -n 1 -w 300 -T 2 $VIP4 80 || echo 'failed 1'
		sleep 0.5; done"
	LIVE_PID=$BG_PID
	wait_for 3 "first datagram of the live flow" grep -q . "$TMP/live.out"
	# 20 flows of 20 source ports chosen here: ephemeral ones may repeat (one flow, not two).
	for i in $(seq 41001 41020); do
		names c1 -u -s "$i" -n 1 -w 500 "$VIP4" 80 >/dev/null || fail "UDP flow from port $i"
	done
	a=$(scrape)
	assert_eq "VIP new flows after 20 + 1 flows" 21 "$(metric "$a" xlb_vip_new_flows_total "vip=\"$vip\"")"
	wait_for 6 "idle flows expired" bash -c "[ \"\$(nsenter --net=/run/netns/$P-lb $XLB -i $P-lb conntrack count --json | jq .count)\" = 1 ]" ||
		fail "tracked flows: expected 1 (the live one), got $(xlb_lb conntrack count --json)"
	wait "$LIVE_PID" || true
	b=$(scrape)
	assert_range "xlb_conntrack_expired_total" 20 20 "$(awk '$1 == "xlb_conntrack_expired_total" { print $2 }' <<<"$b")"
	assert_eq "VIP new flows (the live flow never re-created)" 21 "$(metric "$b" xlb_vip_new_flows_total "vip=\"$vip\"")"
	assert_eq "live flow datagrams lost" 0 "$(grep -c failed "$TMP/live.out" || true)"
}
