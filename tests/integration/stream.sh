# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# A long-lived TCP flow through live configuration changes and a program
# upgrade: it must keep its backend, see no reset and lose no byte, while new
# flows follow the new configuration.

STREAM_MAX_S=60		# upper bound of a stream; the tests stop it much earlier
STREAM_PORT=8080
STREAM_RATE=262144	# bytes/s the client sends

# Starts a stream from c1 to VIP4:STREAM_PORT; sets STREAM_PID, STREAM_OUT and
# STREAM_BE (the backend that greeted it).
stream_start() {
	STREAM_OUT=$TMP/stream.out
	bg c1 "$STREAM_OUT" "$XLB_TOOLS/streamclient" -d "$STREAM_MAX_S" -r "$STREAM_RATE" \
		"$VIP4" "$STREAM_PORT"
	STREAM_PID=$BG_PID
	STREAM_T0=$SECONDS
	wait_for 5 "stream greeting" grep -q '^backend ' "$STREAM_OUT"
	STREAM_BE=$(awk '$1 == "backend" { print $2; exit }' "$STREAM_OUT")
	echo "stream is on $STREAM_BE"
}

# Stops the stream and checks it ended on STREAM_BE, intact, and that the
# backend's own count matches.
stream_check() {
	local rc=0 res sent min
	kill -TERM "$STREAM_PID"
	wait "$STREAM_PID" || rc=$?
	res=$(grep '^result ' "$STREAM_OUT" || true)
	echo "$res"
	[ -n "$res" ] || fail "stream client gave no result: $(cat "$STREAM_OUT")"
	assert_eq "stream backend" "$STREAM_BE" "$(echo "$res" | awk '{ print $4 }')"
	assert_eq "stream reset" 0 "$(echo "$res" | awk '{ print $10 }')"
	sent=$(echo "$res" | awk '{ print $6 }')
	assert_eq "bytes the backend acknowledged" "$sent" "$(echo "$res" | awk '{ print $8 }')"
	# It kept moving: at least half of what the rate allows (a stall of
	# seconds, e.g. retransmissions into a black hole, would fall short).
	min=$(((SECONDS - STREAM_T0 - 1) * STREAM_RATE / 2))
	[ "$sent" -ge "$min" ] || fail "stream sent: expected at least $min bytes, got $sent"
	assert_eq "stream client status" 0 "$rc"
	# The backend's log line, written when it saw the end of the stream.
	grep -q "bytes $sent end eof" "$TOPO_RUN_BASE/$P/$STREAM_BE.log" ||
		fail "backend $STREAM_BE did not log a clean end of $sent bytes"
}

# Checks the stream is still moving: its backend's byte count grows.
stream_alive() {
	local log="$TOPO_RUN_BASE/$P/$STREAM_BE.log" n
	n=$(grep -c "^open " "$log" || true)
	kill -USR1 "$(cat "$TOPO_RUN_BASE/$P/$STREAM_BE.pid")"
	if ! poll_for 3 "stream open on $STREAM_BE" stream_dumped "$log" "$n"; then
		fail "stream not open on $STREAM_BE any more; client: $(cat "$STREAM_OUT");" \
			"server: $(tail -3 "$log")"
	fi
}

stream_dumped() {
	[ "$(grep -c '^open ' "$1")" -gt "$2" ]
}

test_stream_survives_add_drain_weight_delete() {
	local vip="$VIP4:$STREAM_PORT/tcp" out x others=() b i

	topo_setup 4 2
	xlb_lb vip add "$vip"
	xlb_lb backend add "$vip" "$(topo_addr4 b1)"
	xlb_lb backend add "$vip" "$(topo_addr4 b2)"
	stream_start
	x=$STREAM_BE
	for b in b1 b2 b3; do [ "$b" != "$x" ] && others+=("$b"); done

	xlb_lb backend add "$vip" "$(topo_addr4 b3)"
	xlb_lb backend add "$vip" "$(topo_addr4 b4)" --weight 2
	sleep 1
	stream_alive

	xlb_lb backend drain "$vip" "$(topo_addr4 "$x")"
	out=$(names c2 -n 100 -T 30 "$VIP4" "$STREAM_PORT") || fail "flows during drain: $out"
	echo "new flows with $x drained: $(echo "$out" | tr '\n' ' ')"
	assert_eq "new flows on drained $x" 0 "$(count_of "$out" "$x")"

	xlb_lb backend weight "$vip" "$(topo_addr4 "${others[0]}")" 3
	xlb_lb backend del "$vip" "$(topo_addr4 "${others[1]}")"
	sleep 1
	stream_alive
	out=$(names c2 -n 100 -T 30 "$VIP4" "$STREAM_PORT") || fail "flows after delete: $out"
	echo "new flows after deleting ${others[1]}: $(echo "$out" | tr '\n' ' ')"
	assert_eq "new flows on deleted ${others[1]}" 0 "$(count_of "$out" "${others[1]}")"
	assert_eq "new flows on drained $x" 0 "$(count_of "$out" "$x")"

	xlb_lb backend undrain "$vip" "$(topo_addr4 "$x")"
	out=$(names c2 -n 100 -T 30 "$VIP4" "$STREAM_PORT") || fail "flows after undrain: $out"
	echo "new flows after undrain of $x: $(echo "$out" | tr '\n' ' ')"
	[ "$(count_of "$out" "$x")" -gt 0 ] || fail "new flows on undrained $x: expected > 0, got 0"
	sleep 1
	stream_check
}

# `xlb attach` on the attached interface (a program upgrade) keeps the
# configuration and every tracked flow.
test_attach_again_keeps_stream_and_config() {
	local vip="$VIP4:$STREAM_PORT/tcp" before after out i

	topo_setup 3 2
	xlb_lb vip add "$vip"
	for i in 1 2 3; do
		xlb_lb backend add "$vip" "$(topo_addr4 "b$i")"
	done
	stream_start
	before=$(list_config)
	sleep 1
	xlb_lb attach "$P-lb" || fail "xlb attach on the attached $P-lb failed"
	after=$(list_config)
	[ "$before" = "$after" ] || fail "configuration changed by attach: expected $before, got $after"
	sleep 1
	stream_alive
	out=$(names c2 -n 60 -T 30 "$VIP4" "$STREAM_PORT") || fail "new flows after attach: $out"
	echo "new flows after attach: $(echo "$out" | tr '\n' ' ')"
	assert_eq "backends answering after attach" 3 "$(echo "$out" | wc -l)"
	stream_check
}
