# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# The VIP address filter (struct xlb_vip_filter) through the CLI: every
# commit leaves it armed with one bit per VIP address, and an upgrade-attach
# over pins from an xlb without it (the map created empty) fills it before a
# packet could be ruled out, and its nat word is on while a NAT VIP exists.
# tests/unit/xdp_balance_test.c and xdp_nat_test.c show the data plane
# obeys it (a cleared bit hides the VIP; nat off hides NAT answers).

FILTER_DIR=/sys/fs/bpf/xlb

# "ARMED NAT BITS": the instance's filter flags and how many bits are set.
filter_state() {
	local bytes b i=0 armed=0 nat=0 bits=0
	bytes=$(bpftool -j map dump pinned "$FILTER_DIR/$P-lb/vip_filter" |
		jq -r '.[0].value | join(" ")') || return 1
	for b in $bytes; do
		b=$((b))
		if [ "$i" -lt 4 ]; then
			armed=$((armed | b << (8 * i)))
		elif [ "$i" -lt 8 ]; then
			nat=$((nat | b << (8 * (i - 4))))
		elif [ "$i" -ge 8 ]; then
			while [ "$b" -gt 0 ]; do
				bits=$((bits + (b & 1)))
				b=$((b >> 1))
			done
		fi
		i=$((i + 1))
	done
	echo "$armed $nat $bits"
}

test_vip_filter_follows_vips_and_an_upgrade_attach() {
	topo_setup 1 1
	assert_eq "attached, no VIP" "1 0 0" "$(filter_state)"
	xlb_lb vip add "$VIP4:80/tcp"
	xlb_lb backend add "$VIP4:80/tcp" "$(topo_addr4 b1)"
	vip_ready c1 "$VIP4" 80
	assert_eq "one VIP" "1 0 1" "$(filter_state)"
	xlb_lb vip add "$VIP4:53/udp"
	assert_eq "a second VIP on the same address: the same bit" "1 0 1" "$(filter_state)"
	xlb_lb vip add "[$VIP6]:80/tcp"
	assert_eq "an IPv6 VIP" "1 0 2" "$(filter_state)"
	# A NAT VIP: packets for no VIP may be NAT answers while one exists.
	xlb_lb vip add "$VIP4:81/tcp" --forward nat
	assert_eq "a NAT VIP" "1 1 2" "$(filter_state)"
	xlb_lb vip del "$VIP4:81/tcp"
	assert_eq "no NAT VIP left" "1 0 2" "$(filter_state)"
	xlb_lb vip del "[$VIP6]:80/tcp"
	assert_eq "a deleted VIP forgotten by its own commit" "1 0 1" "$(filter_state)"
	xlb_lb vip del "$VIP4:53/udp"
	assert_eq "its address's other VIP still there" "1 0 1" "$(filter_state)"
	# Pins of an xlb without the filter: the upgrade creates it, its commit fills it.
	rm "$FILTER_DIR/$P-lb/vip_filter"
	xlb_lb attach "$P-lb" >/dev/null
	assert_eq "after an upgrade that created it" "1 0 1" "$(filter_state)"
	names c1 -n 20 -T 20 "$VIP4" 80 >/dev/null || fail "the VIP stopped answering after the upgrade"
}
