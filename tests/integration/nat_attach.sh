# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# The instance side of full NAT: attach --snat / --snat-ports / --nat-size
# (bad values refused with nothing attached, defaults from the interface's
# addresses, kept across upgrades), attach --peer-of (one program, hence one
# set of maps, on two interfaces; detach of either), conntrack list / count /
# flush of NAT flows, and the agent's expiry of NAT pairs. The NAT flows are
# written into nat_flows by hand (bpftool), two entries a flow as the data
# plane writes them, so each case's idle times are exact.

NAT_MAP_DIR=/sys/fs/bpf/xlb

# A second interface in the balancer's namespace, $P-x, whose veth peer
# $P-xp lives in a namespace of our own ($P-x: topo_down deletes it).
nat_second_iface() {
	ip netns add "$P-x"
	ip -n "$P-lb" link add "$P-x" type veth peer name "$P-xp" netns "$P-x"
	ip -n "$P-lb" addr add 10.201.0.1/24 dev "$P-x"
	ip -n "$P-lb" -6 addr add fd00:201::1/64 dev "$P-x" nodad
	ip -n "$P-lb" link set "$P-x" up
	ip -n "$P-x" link set "$P-xp" up
}

# The program ids XDP runs on IFACE in namespace NS ("" when none).
xdp_prog_of() {
	nsenter --net="/run/netns/$1" bpftool -j net show dev "$2" |
		jq -r '[.[0].xdp[]?.id] | map(tostring) | join(",")'
}

# The snat map entry of instance IFACE as "n4 n6 port_lo port_hi cpu_slice".
snat_entry() {
	bpftool -j map lookup pinned "$NAT_MAP_DIR/$1/snat" key 0 0 0 0 |
		jq -r '.formatted.value | "\(.n4) \(.n6) \(.port_lo) \(.port_hi) \(.cpu_slice)"'
}

nat_max_entries() {
	bpftool -j map show pinned "$NAT_MAP_DIR/$1/nat_flows" | jq .max_entries
}

# The EXIT trap's teardown: the second interface's instance (if a test made
# one) and its pins, which topo_down does not know, then the topology.
nat_down() {
	if [ -e "/run/netns/$1-lb" ]; then
		nsenter --net="/run/netns/$1-lb" timeout "$TOPO_XLB_TIMEOUT" "$XLB" detach "$1-x" \
			>/dev/null 2>&1
	fi
	rm -rf "${NAT_MAP_DIR:?}/$1-x"
	topo_down "$1"
}
LIB_TOPO_DOWN=nat_down

# What bad input must leave alone: the snat entry, the pins, the programs.
nat_state() {
	snat_entry "$P-lb"
	ls "$NAT_MAP_DIR" | grep "^$P-" || true
	xdp_prog_of "$P-lb" "$P-x"
	xdp_prog_of "$P-lb" "$P-lb"
}

# The two nat_flows entries of one flow, as `bpftool map update` arguments
# (one line each, the client's first):
#   nat_pair PROTO CLIENT CPORT VIP VPORT SNAT SPORT BACKEND BPORT \
#            CLIENT_IDLE_S BACKEND_IDLE_S CLIENT_FLAGS BACKEND_FLAGS BACKEND_ID VIP_ID
# An idle time < 0 is a last_seen in the future: idle 0 for as long as a test runs.
nat_pair() {
	python3 - "$@" <<'EOF'
import ipaddress, struct, sys, time
proto, c, cp, v, vp, s, sp, b, bp, cidle, bidle, cfl, bfl, be, vip = sys.argv[1:]
NAT_REPLY = 4
now = time.clock_gettime_ns(time.CLOCK_MONOTONIC)
def addr(x):
    ip = ipaddress.ip_address(x)
    return ip.packed.ljust(16, b'\0'), 4 if ip.version == 4 else 6
def key(src, sport, dst, dport):
    sa, fam = addr(src)
    return sa + addr(dst)[0] + struct.pack('>HH', int(sport), int(dport)) + \
        struct.pack('<BBH', {'tcp': 6, 'udp': 17}[proto], fam, 0)
def val(idle, flags, src, sport, dst, dport):
    last = now - int(float(idle) * 1e9)
    return struct.pack('<IIQII', int(be), int(vip), last, flags, 0) + addr(src)[0] + \
        addr(dst)[0] + struct.pack('>HHI', int(sport), int(dport), 0)
hx = lambda bs: ' '.join('%02x' % x for x in bs)
print('key hex', hx(key(c, cp, v, vp)), 'value hex', hx(val(cidle, int(cfl), s, sp, b, bp)))
print('key hex', hx(key(b, bp, s, sp)), 'value hex',
      hx(val(bidle, int(bfl) | NAT_REPLY, v, vp, c, cp)))
EOF
}

# nat_insert ARGS...: both entries of nat_pair ARGS into the instance's nat_flows.
nat_insert() {
	local line
	nat_pair "$@" >"$TMP/pair"
	while read -r line; do
		# shellcheck disable=SC2086 # bpftool's words
		bpftool map update pinned "$NAT_MAP_DIR/$P-lb/nat_flows" $line
	done <"$TMP/pair"
}

nat_entries() {
	bpftool -j map dump pinned "$NAT_MAP_DIR/$P-lb/nat_flows" | jq length
}

# A VIP with one backend; sets NAT_VIP_ID and NAT_BE_ID (the ids flows name).
nat_vip() {
	xlb_lb vip add "$VIP4:80/tcp" >/dev/null
	xlb_lb backend add "$VIP4:80/tcp" "$(topo_addr4 b1)" >/dev/null
	NAT_VIP_ID=$(list_json | jq '.vips[0].id')
	NAT_BE_ID=$(list_json | jq '.vips[0].backends[0].id')
}

test_nat_attach_refuses_bad_snat_values_and_attaches_nothing() {
	local i many=()
	topo_setup 1 1
	nat_second_iface
	for i in $(seq 9); do
		many+=(--snat "10.9.0.$i")
	done
	for iface in "$P-x" "$P-lb"; do
		expect_rejected 2 "bogus" nat_state xlb_lb attach "$iface" --snat bogus
		expect_rejected 2 "10.9.0.9" nat_state xlb_lb attach "$iface" "${many[@]}"
		expect_rejected 2 "10.9.0.1" nat_state xlb_lb attach "$iface" --snat 10.9.0.1 --snat 10.9.0.1
		expect_rejected 2 "2000-1999" nat_state xlb_lb attach "$iface" --snat-ports 2000-1999
		expect_rejected 2 "0-100" nat_state xlb_lb attach "$iface" --snat-ports 0-100
		expect_rejected 2 "1024-65536" nat_state xlb_lb attach "$iface" --snat-ports 1024-65536
		expect_rejected 2 "1024" nat_state xlb_lb attach "$iface" --snat-ports 1024
		expect_rejected 2 "63" nat_state xlb_lb attach "$iface" --nat-size 63
		expect_rejected 2 "--nat-size" nat_state xlb_lb attach "$iface" --nat-size
	done
	# The control case: the same interface takes good values.
	xlb_lb attach "$P-x" --snat 10.9.0.1 --snat-ports 2000-2001 --nat-size 64 >/dev/null
	assert_eq "snat of $P-x" "1 0 2000 2001 1" "$(snat_entry "$P-x")"
	xlb_lb detach "$P-x" >/dev/null
}

test_nat_attach_fills_snat_from_the_interface_and_keeps_it_on_upgrade() {
	local ncpu slice
	topo_setup 1 1
	nat_second_iface
	ncpu=$(($(cut -d- -f2 /sys/devices/system/cpu/possible) + 1))
	slice=$(((65535 - 1024 + 1) / ncpu))
	assert_eq "snat list" "[\"$(topo_addr4 lb)\",\"$(topo_addr6 lb)\"]" "$(list_json | jq -c .snat)"
	assert_eq "snat entry" "1 1 1024 65535 $slice" "$(snat_entry "$P-lb")"
	assert_eq "list line" "$P-lb  encap ipip  snat $(topo_addr4 lb),$(topo_addr6 lb) ports 1024-65535" \
		"$(xlb_lb list | head -1)"
	assert_eq "nat_flows size" 131072 "$(nat_max_entries "$P-lb")"
	# Only what is asked changes.
	xlb_lb attach "$P-lb" --snat-ports 3000-3999 >/dev/null
	assert_eq "after --snat-ports" "1 1 3000 3999 $((1000 / ncpu))" "$(snat_entry "$P-lb")"
	xlb_lb attach "$P-lb" --snat 10.9.0.1 --snat 10.9.0.2 --snat fd00:9::1 >/dev/null
	assert_eq "after --snat" "2 1 3000 3999 $((1000 / ncpu))" "$(snat_entry "$P-lb")"
	assert_eq "snat list after --snat" '["10.9.0.1","10.9.0.2","fd00:9::1"]' "$(list_json | jq -c .snat)"
	xlb_lb attach "$P-lb" >/dev/null
	assert_eq "after a plain upgrade" "2 1 3000 3999 $((1000 / ncpu))" "$(snat_entry "$P-lb")"
	assert_eq "ports in list --json" "3000 3999" "$(list_json | jq -r '"\(.snat_port_lo) \(.snat_port_hi)"')"
	expect_rejected 1 "--nat-size" nat_state xlb_lb attach "$P-lb" --nat-size 1024
	# A fresh instance on the second interface: its addresses, its size, kept.
	xlb_lb attach "$P-x" --nat-size 256 >/dev/null
	assert_eq "snat of $P-x" '["10.201.0.1","fd00:201::1"]' \
		"$(in_ns lb "$XLB" -i "$P-x" list --json | jq -c .snat)"
	assert_eq "nat_flows size of $P-x" 256 "$(nat_max_entries "$P-x")"
	xlb_lb attach "$P-x" >/dev/null
	assert_eq "nat_flows size of $P-x after an upgrade" 256 "$(nat_max_entries "$P-x")"
	xlb_lb detach "$P-x" >/dev/null
}

test_nat_attach_peer_of_runs_the_instance_program_on_a_second_interface() {
	local lb_prog
	topo_setup 1 1
	nat_second_iface
	assert_eq "programs on $P-x before" "" "$(xdp_prog_of "$P-lb" "$P-x")"
	xlb_lb attach "$P-x" --peer-of "$P-lb" >/dev/null 2>&1
	lb_prog=$(xdp_prog_of "$P-lb" "$P-lb")
	assert_eq "program on $P-x (the instance's)" "$lb_prog" "$(xdp_prog_of "$P-lb" "$P-x")"
	[ -n "$(xdp_prog_of "$P-x" "$P-xp")" ] || fail "no pass program on the veth peer $P-xp"
	assert_eq "peers" "[\"$P-x\"]" "$(list_json | jq -c .peers)"
	[[ "$(xlb_lb list | head -1)" == *"  peers $P-x" ]] || fail "list line: $(xlb_lb list | head -1)"
	[ ! -e "$NAT_MAP_DIR/$P-x" ] || fail "a peer has pins of its own"
	expect_rejected 1 "already has xlb" nat_state xlb_lb attach "$P-x" --peer-of "$P-lb"
	expect_rejected 1 "already has xlb" nat_state xlb_lb attach "$P-x"
	expect_rejected 2 "own peer" nat_state xlb_lb attach "$P-lb" --peer-of "$P-lb"
	expect_rejected 1 "not attached" nat_state xlb_lb attach "$P-lb" --peer-of "$P-x"
	expect_rejected 2 "--mode" nat_state xlb_lb attach "$P-x" --peer-of "$P-lb" --snat 10.9.0.1
	# An upgrade of the instance takes its peer along.
	xlb_lb attach "$P-lb" >/dev/null
	[ "$(xdp_prog_of "$P-lb" "$P-lb")" != "$lb_prog" ] || fail "the upgrade kept program $lb_prog"
	assert_eq "program on $P-x after the upgrade" "$(xdp_prog_of "$P-lb" "$P-lb")" \
		"$(xdp_prog_of "$P-lb" "$P-x")"
	# Detaching the peer removes just that.
	xlb_lb detach "$P-x" >/dev/null
	assert_eq "programs on $P-x after its detach" "" "$(xdp_prog_of "$P-lb" "$P-x")"
	assert_eq "programs on $P-xp after the detach" "" "$(xdp_prog_of "$P-x" "$P-xp")"
	[ -n "$(xdp_prog_of "$P-lb" "$P-lb")" ] || fail "the instance went with its peer"
	assert_eq "peers after the detach" "[]" "$(list_json | jq -c .peers)"
	expect_rejected 1 "not attached" nat_state xlb_lb detach "$P-x"
	# Detaching the instance removes its peers too.
	xlb_lb attach "$P-x" --peer-of "$P-lb" >/dev/null 2>&1
	[ -n "$(xdp_prog_of "$P-lb" "$P-x")" ] || fail "no program on $P-x after the second attach"
	xlb_lb detach "$P-lb" >/dev/null
	assert_eq "programs on $P-x after the instance's detach" "" "$(xdp_prog_of "$P-lb" "$P-x")"
	assert_eq "programs on $P-lb after its detach" "" "$(xdp_prog_of "$P-lb" "$P-lb")"
}

test_nat_attach_conntrack_lists_and_flushes_nat_flows_with_both_tuples() {
	local c4 b4 out
	topo_setup 1 1
	nat_vip
	c4=$(topo_addr4 c1)
	b4=$(topo_addr4 b1)
	nat_insert tcp "$c4" 40000 "$VIP4" 80 "$(topo_addr4 lb)" 1030 "$b4" 8080 -3600 -3600 0 0 \
		"$NAT_BE_ID" "$NAT_VIP_ID"
	nat_insert udp fd00:200::11 40001 fd00:200:100::1 53 fd00:200::2 1031 fd00:200::101 53 \
		-3600 -3600 0 1 "$NAT_BE_ID" "$NAT_VIP_ID"
	assert_eq "nat_flows entries" 4 "$(nat_entries)"
	out=$(xlb_lb conntrack list)
	assert_eq "rows" 2 "$(wc -l <<<"$out")"
	grep -qxF "tcp $c4:40000 -> $VIP4:80 nat $(topo_addr4 lb):1030 -> $b4:8080 backend $b4 idle 0s reply idle 0s" <<<"$out" ||
		fail "tcp row: $out"
	grep -qxF "udp [fd00:200::11]:40001 -> [fd00:200:100::1]:53 nat [fd00:200::2]:1031 -> [fd00:200::101]:53 backend fd00:200::101 idle 0s reply idle 0s closing" <<<"$out" ||
		fail "udp row: $out"
	assert_eq "json" "[\"$c4:40000\",\"$VIP4:80\",\"$(topo_addr4 lb):1030\",\"$b4:8080\",\"$b4\",\"$VIP4:80/tcp\",true,false]" \
		"$(xlb_lb conntrack list --json | jq -c '.[] | select(.proto == "tcp") | [.client, .dst, .nat_src, .nat_dst, .backend, .vip, .nat, .closing]')"
	assert_eq "count --json .nat" 2 "$(xlb_lb conntrack count --json | jq .nat)"
	assert_eq "flush" "flushed 2 flows" "$(xlb_lb conntrack flush)"
	assert_eq "nat_flows entries after the flush" 0 "$(nat_entries)"
	assert_eq "rows after the flush" "" "$(xlb_lb conntrack list)"
}

test_nat_attach_agent_expires_idle_pairs_and_keeps_active_ones() {
	local lb4 b4 c4
	topo_setup 1 1
	nat_vip
	lb4=$(topo_addr4 lb)
	b4=$(topo_addr4 b1)
	c4=$(topo_addr4 c1)
	# TCP 900 s, FIN 120 s, UDP 300 s (the defaults). Client port = case:
	# 1 both halves idle (gone); 2 the backend's half fresh (stays: the
	# control case); 3 the client's half closing, both past FIN (gone: the
	# pair is closing); 4 both 200 s idle, not closing (stays); 5 UDP, both
	# past 300 s (gone); 6 a backend's entry whose client's is gone, idle (gone).
	nat_insert tcp "$c4" 1 "$VIP4" 80 "$lb4" 2001 "$b4" 80 1000 1000 0 0 "$NAT_BE_ID" "$NAT_VIP_ID"
	nat_insert tcp "$c4" 2 "$VIP4" 80 "$lb4" 2002 "$b4" 80 1000 -3600 0 0 "$NAT_BE_ID" "$NAT_VIP_ID"
	nat_insert tcp "$c4" 3 "$VIP4" 80 "$lb4" 2003 "$b4" 80 200 200 1 0 "$NAT_BE_ID" "$NAT_VIP_ID"
	nat_insert tcp "$c4" 4 "$VIP4" 80 "$lb4" 2004 "$b4" 80 200 200 0 0 "$NAT_BE_ID" "$NAT_VIP_ID"
	nat_insert udp "$c4" 5 "$VIP4" 80 "$lb4" 2005 "$b4" 80 400 400 0 0 "$NAT_BE_ID" "$NAT_VIP_ID"
	nat_insert tcp "$c4" 6 "$VIP4" 80 "$lb4" 2006 "$b4" 80 1000 1000 0 0 "$NAT_BE_ID" "$NAT_VIP_ID"
	bpftool map delete pinned "$NAT_MAP_DIR/$P-lb/nat_flows" $(head -1 "$TMP/pair" | cut -d' ' -f1-42)
	assert_eq "entries before the agent" 11 "$(nat_entries)"
	assert_eq "active flows before the agent" 0 "$(list_json | jq '.vips[0].backends[0].active_flows')"
	bg lb "$TMP/agent.log" "$XLB" -i "$P-lb" agent
	wait_for 5 "the idle pairs expired" bash -c "[ \"\$(bpftool -j map dump pinned $NAT_MAP_DIR/$P-lb/nat_flows | jq length)\" = 4 ]"
	assert_eq "flows left (client ports)" "2 4" \
		"$(xlb_lb conntrack list --json | jq -r '[.[] | .client | split(":")[1]] | sort | join(" ")')"
	wait_for 3 "lc's active count of the two live NAT flows" bash -c \
		"[ \"\$(nsenter --net=/run/netns/$P-lb $XLB -i $P-lb list --json | jq '.vips[0].backends[0].active_flows')\" = 2 ]"
	assert_eq "entries after more walks" 4 "$(nat_entries)"
}
