#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The demo behind `make demo` (run after deps and build): builds a namespace
# topology (scripts/topo.sh) with one client, the balancer and three backends,
# puts xlb on the balancer, balances a few hundred real TCP connections over
# weights 1:1:2, drains the backend of a long-lived connection live and shows
# new connections avoiding it while that connection carries on, and prints
# `xlb stats`. Everything it creates is removed on exit, also
# on failure or Ctrl-C.
set -euo pipefail

TOPO_TOP=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/topo.sh
source "$TOPO_TOP/scripts/topo.sh"

P=xdemo$(($$ % 10000))
CONNS=300
VIP="$TOPO_VIP4:80/tcp"
STREAM_PID=
STREAM_OUT=

cleanup() {
	set +e
	trap - EXIT INT TERM HUP PIPE
	[ -n "$STREAM_PID" ] && kill "$STREAM_PID" 2>/dev/null
	[ -n "$STREAM_OUT" ] && rm -f "$STREAM_OUT"
	echo
	echo "== cleaning up ($P-*)"
	topo_down "$P"
}

die() {
	echo "demo: $*" >&2
	exit 1
}

# Shows an xlb command as an operator would type it, then runs it on the balancer.
x() {
	echo "# xlb $*"
	topo_xlb "$P" "$@"
}

# CONNS connections from the client; one bar per backend.
spread() {
	local out n b
	out=$(topo_in "$P" c1 "$XLB_TOOLS/nameclient" -n "$CONNS" -T 60 "$TOPO_VIP4" 80) ||
		echo "(some connections got no answer)"
	for b in b1 b2 b3; do
		n=$(echo "$out" | awk -v b="$b" '$1 == b { print $2 }')
		n=${n:-0}
		printf '  %s (%s)  %4d  %s\n' "$b" "$(topo_addr4 "$b")" "$n" \
			"$(head -c $((n / 4)) /dev/zero | tr '\0' '#')"
	done
	echo "$out" | awk '$1 == "failed" { print "  no answer: " $2 }'
}

[ "$(id -u)" = 0 ] || die "run as root (namespaces, XDP)"
[ -x "$XLB" ] || die "$XLB is missing: run make"

trap cleanup EXIT
trap 'exit 130' INT TERM HUP PIPE

echo "== topology $P: client c1, balancer lb, backends b1 b2 b3 on one bridge"
topo_up "$P" 3 1 || die "topology could not be built"
topo_xlb_attach "$P" | sed 's/^/  /' || die "xlb could not be attached"
echo "  client $(topo_addr4 c1) routes $TOPO_VIP_NET4 via the balancer $(topo_addr4 lb);"
echo "  each backend has the VIP on lo, runs xlb decap (tunnels accepted --from the"
echo "  balancer's addresses only), and answers with its name"

echo
echo "== a VIP with three backends, weights 1:1:2"
x vip add "$VIP"
x backend add "$VIP" "$(topo_addr4 b1)" --weight 1
x backend add "$VIP" "$(topo_addr4 b2)" --weight 1
x backend add "$VIP" "$(topo_addr4 b3)" --weight 2
x list

# The first flow may race the neighbour entries: wait (bounded) for one answer.
for i in $(seq 1 50); do
	topo_in "$P" c1 "$XLB_TOOLS/nameclient" -n 1 -w 200 -T 1 "$TOPO_VIP4" 80 >/dev/null && break
	[ "$i" -lt 50 ] || die "the VIP does not answer"
	sleep 0.1
done

echo
echo "== $CONNS TCP connections from the client to $TOPO_VIP4:80"
spread

echo
echo "== a long-lived connection (a steady byte stream from the client)"
STREAM_OUT=$(mktemp /tmp/xlb-demo-stream.XXXXXX)
nsenter --net="/run/netns/$P-c1" "$XLB_TOOLS/streamclient" -d 30 "$TOPO_VIP4" 80 >"$STREAM_OUT" 2>&1 &
STREAM_PID=$!
for i in $(seq 1 50); do
	grep -q '^backend ' "$STREAM_OUT" && break
	[ "$i" -lt 50 ] || die "the stream got no answer: $(cat "$STREAM_OUT")"
	sleep 0.1
done
D=$(awk '$1 == "backend" { print $2 }' "$STREAM_OUT")
echo "  it is served by $D"

echo
echo "== drain $D live: its tracked flow stays, new connections go elsewhere"
x backend drain "$VIP" "$(topo_addr4 "$D")"
echo
echo "== $CONNS more connections"
spread
sleep 1
kill -TERM "$STREAM_PID"
wait "$STREAM_PID" || true
echo "  the stream, stopped now: $(grep '^result ' "$STREAM_OUT" || cat "$STREAM_OUT")"

echo
echo "== undrain $D"
x backend undrain "$VIP" "$(topo_addr4 "$D")"
spread

echo
x stats

echo
echo "== the decap program on b1: every packet it saw, by outcome"
topo_in "$P" b1 "$XLB" decap stats "$P-b1"
