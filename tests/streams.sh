# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Many long-lived TCP streams at once, for the tests that change the balancer's
# state under open connections (second chance, floods, soak). Sourced by a test
# file after tests/lib.sh. Each stream is a build/tools/streamclient from a
# client namespace; it prints "backend NAME" when greeted and ends with
#   result ok|fail backend NAME sent N acked N reset 0|1 [error WHY]
#
#   streams_start N ADDR PORT [RATE]   N streams, alternating c1 and c2; waits
#                                      (10 s at most) until every one is greeted
#   streams_backend I                  the backend that greeted stream I
#   streams_ended                      how many streams have ended already
#   streams_stop                       SIGTERM to all, wait for their results
#   streams_report                     one line per stream that did not survive,
#                                      and "streams: N of M intact" last
#   streams_intact                     the number of intact streams (after stop)
# A stream is intact when its result is ok (no reset, no error, acked == sent)
# on the backend that greeted it, and that backend logged a clean end of
# exactly the bytes sent.

STREAMS_MAX_S=60	# upper bound of every stream; tests stop them much earlier
STREAMS_PIDS=()
STREAMS_N=0

streams_start() {
	local n=$1 addr=$2 port=$3 rate=${4:-65536} i role
	STREAMS_N=$n
	for ((i = 0; i < n; i++)); do
		role=c$((i % 2 + 1))
		bg "$role" "$TMP/stream.$i" "$XLB_TOOLS/streamclient" -d "$STREAMS_MAX_S" \
			-r "$rate" "$addr" "$port"
		STREAMS_PIDS[i]=$BG_PID
	done
	wait_for 10 "greeting of all $n streams" _streams_greeted
}

_streams_greeted() {
	local i
	for ((i = 0; i < STREAMS_N; i++)); do
		grep -q '^backend ' "$TMP/stream.$i" 2>/dev/null || return 1
	done
}

streams_backend() {
	awk '$1 == "backend" { print $2; exit }' "$TMP/stream.$1"
}

streams_ended() {
	grep -l '^result ' "$TMP"/stream.* 2>/dev/null | wc -l
}

streams_stop() {
	local i
	for ((i = 0; i < STREAMS_N; i++)); do
		kill -TERM "${STREAMS_PIDS[i]}" 2>/dev/null || true
	done
	for ((i = 0; i < STREAMS_N; i++)); do
		wait "${STREAMS_PIDS[i]}" 2>/dev/null || true
	done
}

# Why stream I is not intact, or nothing.
_streams_broken() {
	local i=$1 res be sent
	be=$(streams_backend "$i")
	res=$(grep '^result ' "$TMP/stream.$i" || true)
	[ -n "$res" ] || { echo "no result"; return; }
	[ "$(echo "$res" | awk '{ print $2 }')" = ok ] || { echo "$res"; return; }
	[ "$(echo "$res" | awk '{ print $4 }')" = "$be" ] || { echo "moved from $be: $res"; return; }
	sent=$(echo "$res" | awk '{ print $6 }')
	grep -q "bytes $sent end eof" "$TOPO_RUN_BASE/$P/$be.log" ||
		echo "backend $be did not log a clean end of $sent bytes: $res"
}

streams_report() {
	local i why ok=0
	for ((i = 0; i < STREAMS_N; i++)); do
		why=$(_streams_broken "$i")
		if [ -z "$why" ]; then
			ok=$((ok + 1))
		else
			echo "stream $i (from $(streams_backend "$i")): $why"
		fi
	done
	echo "streams: $ok of $STREAMS_N intact"
}

streams_intact() {
	streams_report | awk '$1 == "streams:" { print $2 }'
}
