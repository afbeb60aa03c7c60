# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# `xlb save`, `detach`, `attach`, `restore` gives back the same configuration
# and sends the same flow to the same backend (the table depends only on the
# configuration, and detach forgets every tracked flow).

FLOW_PORT_BASE=41000
FLOWS=24

# Prints "SPORT=BACKEND" for FLOWS fixed flows of PROTO to ADDR PORT from c1.
flow_map() {
	local proto=$1 addr=$2 port=$3 flag=() i out
	[ "$proto" = udp ] && flag=(-u)
	for ((i = 0; i < FLOWS; i++)); do
		out=$(names c1 "${flag[@]}" -s $((FLOW_PORT_BASE + i)) -n 1 -T 5 "$addr" "$port") ||
			fail "$proto flow from port $((FLOW_PORT_BASE + i)): no answer: $out"
		echo -n "$((FLOW_PORT_BASE + i))=${out%% *} "
	done
}

test_save_detach_attach_restore_same_config_and_flows() {
	local conf before after tcp1 udp1 tcp2 udp2 i

	topo_setup 4 1
	xlb_lb vip add "$VIP4:80/tcp"
	for i in 1 2 3 4; do
		xlb_lb backend add "$VIP4:80/tcp" "$(topo_addr4 "b$i")" --weight "$i"
	done
	xlb_lb backend drain "$VIP4:80/tcp" "$(topo_addr4 b4)"
	xlb_lb vip add "[$VIP6]:80/udp" --table-size 1021
	for i in 1 2 3; do
		xlb_lb backend add "[$VIP6]:80/udp" "$(topo_addr6 "b$i")"
	done
	xlb_lb vip add "${TOPO_VIPS4[1]}:0/tcp" --sched sh
	xlb_lb backend add "${TOPO_VIPS4[1]}:0/tcp" "$(topo_addr6 b2)" --weight 7

	before=$(list_config)
	tcp1=$(flow_map tcp "$VIP4" 80)
	udp1=$(flow_map udp "$VIP6" 80)
	echo "tcp flows: $tcp1"
	echo "udp flows: $udp1"
	conf=$TMP/xlb.conf
	xlb_lb save >"$conf"
	echo "saved: $(wc -l <"$conf") lines"
	# One xlb command per line (comments allowed).
	if grep -v '^#' "$conf" | grep -v '^xlb ' | grep -q .; then
		fail "save: expected only \"xlb ...\" lines, got: $(grep -v '^#' "$conf" | grep -v '^xlb ')"
	fi
	grep -q "^xlb backend drain $VIP4:80/tcp $(topo_addr4 b4)\$" "$conf" ||
		fail "save: expected the drain of b4, got: $(cat "$conf")"

	xlb_lb detach "$P-lb"
	[ ! -e "/sys/fs/bpf/xlb/$P-lb" ] || fail "pins of $P-lb left after detach: $(ls "/sys/fs/bpf/xlb/$P-lb")"
	xlb_lb attach "$P-lb"
	xlb_lb restore "$conf"
	after=$(list_config)
	[ "$before" = "$after" ] || fail "configuration after restore: expected $before, got $after"
	tcp2=$(flow_map tcp "$VIP4" 80)
	udp2=$(flow_map udp "$VIP6" 80)
	assert_eq "tcp flow -> backend after restore" "$tcp1" "$tcp2"
	assert_eq "udp flow -> backend after restore" "$udp1" "$udp2"

	# The same from standard input.
	xlb_lb detach "$P-lb"
	xlb_lb attach "$P-lb"
	xlb_lb restore - <"$conf"
	after=$(list_config)
	[ "$before" = "$after" ] || fail "configuration after restore -: expected $before, got $after"
	assert_eq "tcp flow -> backend after restore -" "$tcp1" "$(flow_map tcp "$VIP4" 80)"
}
