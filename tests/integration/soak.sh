# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# Soak: 20 long-lived TCP streams while 1,000 live changes run — backends
# added, reweighted, drained, undrained and deleted, the program upgraded in
# place, the agent SIGKILLed and restarted. Every byte of every stream must
# arrive, on the backend that greeted it, with no reset. Bounded: the changes
# must be done within SOAK_MAX_S.

# shellcheck source=tests/streams.sh
source "$LIB_TOP/tests/streams.sh"

SOAK_CHANGES=1000
SOAK_MAX_S=150
SOAK_PORT=8080

soak_agent_start() {
	bg lb "$TMP/agent.$1.log" "$XLB" agent -i "$P-lb" --metrics 127.0.0.1:0
	SOAK_AGENT=$BG_PID
}

# The changes of one cycle: ten commands, each valid in the state the ones
# before it leave (b4 and b5 come and go; b1..b3 carry the streams).
soak_cycle() {
	local vip=$1 w=$(($2 % 5 + 1))
	xlb_lb backend add "$vip" "$B4" &&
	xlb_lb backend weight "$vip" "$B4" "$w" &&
	xlb_lb backend drain "$vip" "$B1" &&
	xlb_lb backend undrain "$vip" "$B1" &&
	xlb_lb backend add "$vip" "$B5" --weight "$w" &&
	xlb_lb backend weight "$vip" "$B2" "$w" &&
	xlb_lb backend drain "$vip" "$B5" &&
	xlb_lb backend del "$vip" "$B4" &&
	xlb_lb backend del "$vip" "$B5" &&
	xlb_lb backend weight "$vip" "$B3" "$w"
}

test_soak_streams_survive_1000_live_changes() {
	local vip="$VIP4:$SOAK_PORT/tcp" n=0 cycle=0 t0 out
	topo_setup 5 2
	B1=$(topo_addr4 b1) B2=$(topo_addr4 b2) B3=$(topo_addr4 b3)
	B4=$(topo_addr4 b4) B5=$(topo_addr4 b5)
	xlb_lb vip add "$vip" --check tcp --interval 500ms --timeout 300ms
	for b in "$B1" "$B2" "$B3"; do xlb_lb backend add "$vip" "$b"; done
	soak_agent_start 0
	STREAMS_MAX_S=$((SOAK_MAX_S + 30))
	streams_start 20 "$VIP4" "$SOAK_PORT" 32768
	t0=$SECONDS
	while [ "$n" -lt "$SOAK_CHANGES" ]; do
		[ $((SECONDS - t0)) -lt "$SOAK_MAX_S" ] ||
			fail "only $n of $SOAK_CHANGES changes within ${SOAK_MAX_S}s"
		soak_cycle "$vip" "$cycle" || fail "change failed in cycle $cycle"
		n=$((n + 10))
		cycle=$((cycle + 1))
		if [ $((cycle % 25)) = 0 ]; then
			xlb_lb attach "$P-lb" >/dev/null || fail "upgrade attach in cycle $cycle"
			n=$((n + 1))
		fi
		if [ $((cycle % 33)) = 0 ]; then
			kill -KILL "$SOAK_AGENT"
			wait "$SOAK_AGENT" 2>/dev/null || true
			soak_agent_start "$cycle"
			n=$((n + 1))
		fi
		[ "$(streams_ended)" = 0 ] || break
	done
	echo "$n changes in $((SECONDS - t0)) s; streams ended early: $(streams_ended)"
	out=$(names c2 -n 30 -T 30 "$VIP4" "$SOAK_PORT") || fail "new flows after the soak: $out"
	echo "new flows after the soak: $(echo "$out" | tr '\n' ' ')"
	streams_stop
	streams_report
	assert_eq "intact streams" 20 "$(streams_intact)"
	[ "$n" -ge "$SOAK_CHANGES" ] || fail "a stream ended during the soak, after $n changes"
}
