# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# The CLI of GUE and stateless VIPs: attach --encap/--gue-port, vip
# --conntrack/--chain-window. Bad input exits non-zero (2 for bad usage, 1 for
# a refused operation) with one line "xlb: ..." naming the bad thing and leaves
# `xlb list --json` exactly as it was; good input round-trips through list,
# save and restore, and an upgrade-attach keeps the encapsulation unless told.

# gue_bad STATUS NEEDLE ARGS...: as cli.sh's expect_bad.
gue_bad() {
	local want=$1 needle=$2
	shift 2
	expect_rejected "$want" "$needle" list_json xlb_lb "$@"
}

gue_setup() {
	topo_setup 1 1
	V4="$VIP4:80/tcp"
	V5="${TOPO_VIPS4[1]}:80/tcp"
	xlb_lb vip add "$V4"
	xlb_lb backend add "$V4" "$(topo_addr4 b1)"
	BASE=$(list_json)
}

json_of() {
	list_json | jq -r "$1"
}

test_gue_cli_rejects_bad_encap_and_port() {
	gue_setup
	assert_eq "default encap" ipip "$(json_of .encap)"
	gue_bad 2 "vxlan" attach "$P-lb" --encap vxlan
	gue_bad 2 "--encap" attach "$P-lb" --encap
	gue_bad 2 "--gue-port" attach "$P-lb" --encap gue --gue-port 0
	gue_bad 2 "70000" attach "$P-lb" --encap gue --gue-port 70000
	gue_bad 2 "x" attach "$P-lb" --encap gue --gue-port x
	gue_bad 2 "--encap gue" attach "$P-lb" --encap ipip --gue-port 7000
	# Without --encap on an IPIP instance, a port makes no sense either.
	gue_bad "1|2" "--encap gue" attach "$P-lb" --gue-port 7000
}

test_gue_cli_rejects_bad_vip_options() {
	gue_setup
	# The control case: the instance is IPIP, so a stateless VIP is refused.
	gue_bad 1 "--encap gue" vip add "$V5" --conntrack off
	gue_bad 1 "--encap gue" vip set "$V4" --conntrack off
	gue_bad 2 "maybe" vip add "$V5" --conntrack maybe
	gue_bad 2 "10x" vip add "$V5" --chain-window 10x
	gue_bad 2 "-1" vip set "$V4" --chain-window -1
	gue_bad 2 "1.5s" vip set "$V4" --chain-window 1.5s
	gue_bad 2 "3601s" vip set "$V4" --chain-window 3601s
	gue_bad 2 "--chain-window" vip set "$V4" --chain-window

	xlb_lb attach "$P-lb" --encap gue
	BASE=$(list_json)
	assert_eq "encap after --encap gue" gue "$(json_of .encap)"
	gue_bad 2 "wrr" vip add "$V5" --sched wrr --conntrack off
	gue_bad 2 "lc" vip set "$V4" --conntrack off --sched lc
	xlb_lb vip set "$V4" --conntrack off
	BASE=$(list_json)
	# Changing the scheduler of a stateless VIP is held to the same rule.
	gue_bad 2 "lrt" vip set "$V4" --sched lrt
	gue_bad 2 "wrr" vip set "$V4" --sched wrr
	# IPIP has no hop list: it cannot serve the stateless VIP.
	gue_bad 1 "$V4" attach "$P-lb" --encap ipip
	assert_eq "encap after the refused switch" gue "$(json_of .encap)"
}

test_gue_cli_list_save_restore_round_trip() {
	local conf before after
	gue_setup
	xlb_lb attach "$P-lb" --encap gue --gue-port 7000
	assert_eq "encap" gue "$(json_of .encap)"
	assert_eq "gue_port" 7000 "$(json_of .gue_port)"
	xlb_lb vip set "$V4" --conntrack off --chain-window 30s
	xlb_lb vip add "$V5" --sched sh --chain-window 0
	assert_eq "$V4 conntrack" false "$(json_of ".vips[] | select(.vip == \"$V4\") | .conntrack")"
	assert_eq "$V4 chain window" 30 "$(json_of ".vips[] | select(.vip == \"$V4\") | .chain_window_s")"
	assert_eq "$V5 conntrack" true "$(json_of ".vips[] | select(.vip == \"$V5\") | .conntrack")"
	assert_eq "$V5 chain window" 0 "$(json_of ".vips[] | select(.vip == \"$V5\") | .chain_window_s")"
	xlb_lb list | grep -q "encap gue port 7000" || fail "list: no \"encap gue port 7000\": $(xlb_lb list)"
	xlb_lb list | grep -q "conntrack off  chain 30s" ||
		fail "list: no \"conntrack off  chain 30s\": $(xlb_lb list)"

	# An upgrade without --encap keeps the instance's choice.
	xlb_lb attach "$P-lb"
	assert_eq "encap after a plain upgrade" gue "$(json_of .encap)"
	assert_eq "gue_port after a plain upgrade" 7000 "$(json_of .gue_port)"

	conf=$TMP/gue.conf
	before=$(list_config)
	xlb_lb save >"$conf"
	grep -qx "# attached with: --encap gue --gue-port 7000" "$conf" ||
		fail "save: no encap comment line: $(cat "$conf")"
	grep -q "^xlb vip add $V4 .*--conntrack off --chain-window 30s" "$conf" ||
		fail "save: $V4 line: $(cat "$conf")"
	xlb_lb vip del "$V4"
	xlb_lb vip set "$V5" --chain-window 240s
	xlb_lb restore "$conf"
	after=$(list_config)
	assert_eq "configuration after restore" "$before" "$after"

	# Switching back to IPIP once no VIP is stateless; the maps stay.
	xlb_lb vip set "$V4" --conntrack on
	xlb_lb attach "$P-lb" --encap ipip
	assert_eq "encap after --encap ipip" ipip "$(json_of .encap)"
	assert_eq "VIPs kept across the switch" 2 "$(json_of '.vips | length')"
	xlb_lb save | grep -qx "# attached with: --encap ipip" || fail "save: no ipip comment line"
}

# The $2 slots of VIP id $1's table as "owner prev changed_s" lines (struct xlb_slot).
table_slots() {
	local inner
	inner=$(in_ns lb bpftool -j map lookup pinned "/sys/fs/bpf/xlb/$P-lb/tables" \
		key $(($1 & 255)) $(($1 >> 8 & 255)) 0 0 | python3 -c '
import json, sys
print(int.from_bytes(bytes(int(x, 16) for x in json.load(sys.stdin)["value"]), "little"))')
	# 64-byte lines (struct xlb_table_line): 16 owners a line, then 8 (prev, changed) a line.
	in_ns lb bpftool -j map dump id "$inner" | python3 -c '
import json, sys
n = int(sys.argv[1])
lines = [bytes(int(x, 16) for x in e["value"]) for e in json.load(sys.stdin)]
u32 = lambda b, o: int.from_bytes(b[o:o + 4], "little")
owners = (n + 15) // 16
for i in range(n):
    p = lines[owners + i // 8]
    print(u32(lines[i // 16], 4 * (i % 16)), u32(p, 8 * (i % 8)), u32(p, 8 * (i % 8) + 4))' "$2"
}

# The control plane keeps each slot's previous owner across table rebuilds:
# set where the owner changes (with the time), kept where it does not, and
# never a deleted backend.
test_gue_cli_table_keeps_previous_owners() {
	local vt="${TOPO_VIPS4[2]}:80/tcp" id b1 b2 none=4294967295 now slots
	gue_setup
	xlb_lb vip add "$vt" --table-size 7
	xlb_lb backend add "$vt" "$(topo_addr4 b1)"
	id=$(json_of ".vips[] | select(.vip == \"$vt\") | .id")
	b1=$(json_of ".vips[] | select(.vip == \"$vt\") | .backends[0].id")
	slots=$(table_slots "$id" 7)
	echo "one backend: $slots"
	assert_eq "slots owned by b1 with no prev" 7 "$(grep -c "^$b1 $none " <<<"$slots")"

	xlb_lb backend add "$vt" 10.200.1.1
	b2=$(json_of ".vips[] | select(.vip == \"$vt\") | .backends[] | select(.addr == \"10.200.1.1\") | .id")
	now=$(cut -d. -f1 /proc/uptime)
	slots=$(table_slots "$id" 7)
	echo "two backends: $slots"
	# slots b2 took remember b1; the rest still have no prev
	assert_eq "slots b2 took, prev b1" "$(grep -c "^$b2 " <<<"$slots")" \
		"$(grep -c "^$b2 $b1 " <<<"$slots")"
	assert_range "slots b2 took" 1 6 "$(grep -c "^$b2 " <<<"$slots")"
	assert_eq "slots b1 kept, no prev" "$(grep -c "^$b1 " <<<"$slots")" \
		"$(grep -c "^$b1 $none 0" <<<"$slots")"
	while read -r _ prev changed; do
		[ "$prev" = "$none" ] && continue
		assert_range "change time (monotonic s)" $((now - 5)) $((now + 1)) "$changed"
	done <<<"$slots"

	# drained b2: its slots go back to b1 and remember b2 (drained still serves its flows)
	xlb_lb backend drain "$vt" 10.200.1.1
	slots=$(table_slots "$id" 7)
	echo "b2 drained: $slots"
	assert_eq "every slot b1's" 7 "$(grep -c "^$b1 " <<<"$slots")"
	assert_range "slots remembering b2" 1 6 "$(grep -c "^$b1 $b2 " <<<"$slots")"
	# deleted b2: no slot may name it any more
	xlb_lb backend del "$vt" 10.200.1.1
	slots=$(table_slots "$id" 7)
	echo "b2 deleted: $slots"
	assert_eq "slots naming the deleted b2" 0 "$(grep -c " $b2 " <<<"$slots")"
}
