# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# attach --source sets the outer source of the family it names and leaves the
# other family's alone (it used to wipe it, and IPv6 backends then lost their
# tunnels' source). And an upgrade over an older xlb's conntrack layout, or
# over an instance without the VIP index, is refused with nothing changed.

sources_of() {
	xlb_lb save | awk '/^# attached with sources:/ { $1 = $2 = $3 = $4 = ""; print }' | xargs
}

test_attach_source_of_one_family_keeps_the_other() {
	local a4 a6
	topo_setup 1 1
	a4=$(topo_addr4 lb)
	a6=$(topo_addr6 lb)
	assert_eq "sources after attach" "--source $a4 --source $a6" "$(sources_of)"
	xlb_lb attach "$P-lb" --source "$a4" >/dev/null
	assert_eq "sources after --source $a4" "--source $a4 --source $a6" "$(sources_of)"
	xlb_lb attach "$P-lb" --source fd00:200::99 >/dev/null
	assert_eq "sources after --source fd00:200::99" "--source $a4 --source fd00:200::99" "$(sources_of)"
	xlb_lb attach "$P-lb" --source 10.200.0.99 --source "$a6" >/dev/null
	assert_eq "sources after both" "--source 10.200.0.99 --source $a6" "$(sources_of)"
	# Without --source an upgrade keeps what is set.
	xlb_lb attach "$P-lb" >/dev/null
	assert_eq "sources after a plain upgrade" "--source 10.200.0.99 --source $a6" "$(sources_of)"
}

# The pinned state as attach would change it: the pins, and the XDP program on the interface.
attach_state() {
	ls "/sys/fs/bpf/xlb/$P-lb"
	in_ns lb ip -o link show "$P-lb" | grep -o 'xdp[a-z]* .*id [0-9]*'
}

# An instance whose pinned conntrack is an LRU hash (an older xlb's) is
# refused: this program reads a flow table, and would track nothing. The
# control: the same attach over this build's own pins is an upgrade.
test_attach_over_an_older_lru_conntrack_refused_state_kept() {
	local dir
	topo_setup 1 1
	dir=/sys/fs/bpf/xlb/$P-lb
	xlb_lb attach "$P-lb" >/dev/null || fail "upgrade over this build's pins"
	rm "$dir/conntrack"
	bpftool map create "$dir/conntrack" type lru_hash key 40 value 24 entries 1024 \
		name conntrack || fail "pin an LRU conntrack"
	expect_rejected 1 "older xlb" attach_state xlb_lb attach "$P-lb"
	rm "$dir/conntrack"
	xlb_lb attach "$P-lb" >/dev/null || fail "upgrade once the LRU is gone"
	[ -n "$(bpftool map show pinned "$dir/conntrack" | grep -w array)" ] ||
		fail "the upgrade pinned a flow table"
}

# An instance with VIPs but no VIP index was attached by an xlb whose
# program read the vips hash: this program finds VIPs only in the index,
# and would balance nothing until a commit built it, so the upgrade is
# refused with nothing changed. The control: the same attach over this
# build's own pins, index included, is an upgrade.
test_attach_over_an_instance_without_vip_index_refused_state_kept() {
	local dir
	topo_setup 1 1
	dir=/sys/fs/bpf/xlb/$P-lb
	[ -e "$dir/vip_index" ] || fail "attach pinned no VIP index"
	xlb_lb attach "$P-lb" >/dev/null || fail "upgrade over this build's pins"
	rm "$dir/vip_index"
	expect_rejected 1 "older xlb" attach_state xlb_lb attach "$P-lb"
	[ ! -e "$dir/vip_index" ] || fail "the refused attach pinned an index"
}

# The inner map id of the table of the only VIP (its tables entry, little-endian bytes).
only_table_id() {
	local hex
	hex=$(bpftool -j map dump pinned "/sys/fs/bpf/xlb/$P-lb/tables" |
		jq -er '[.[0].value[] | ltrimstr("0x")] | reverse | join("")') || return 1
	echo $((16#$hex))
}

# An older xlb made tables without the tail line a GUE pick reads (one
# line fewer); attaching over such an instance gives every table one and
# keeps its slots. The control: the table swapped in has no tail until then.
test_attach_over_tables_without_a_tail_line_gives_them_one() {
	local dir id n line0 old=/sys/fs/bpf/xlb-test-$P-table
	topo_setup 1 1
	dir=/sys/fs/bpf/xlb/$P-lb
	xlb_lb vip add "$VIP4:80/tcp" >/dev/null || fail "vip add"
	xlb_lb backend add "$VIP4:80/tcp" "$(topo_addr4 b1)" >/dev/null || fail "backend add"
	id=$(only_table_id) || fail "the VIP has no table"
	n=$(bpftool -j map show id "$id" | jq .max_entries)
	line0=$(bpftool -j map lookup id "$id" key 0 0 0 0 | jq -c .value)
	# An older table: the same lines but the tail, line 0 the same.
	bpftool map create "$old" type array key 4 value 64 entries $((n - 1)) \
		name xlb_table flags 0x1400 || fail "create an older table"
	bpftool map update pinned "$old" key 0 0 0 0 value \
		$(jq -r '.[]' <<<"$line0" | tr '\n' ' ') || { rm -f "$old"; fail "write its line 0"; }
	bpftool map update pinned "$dir/tables" key $(bpftool -j map dump pinned "$dir/tables" |
		jq -r '.[0].key[]' | tr '\n' ' ') value pinned "$old"
	rm -f "$old"
	id=$(only_table_id)
	assert_eq "control: the older table has no tail" $((n - 1)) \
		"$(bpftool -j map show id "$id" | jq .max_entries)"
	xlb_lb attach "$P-lb" >/dev/null || fail "upgrade over the older table"
	id=$(only_table_id)
	assert_eq "the table has its tail" "$n" "$(bpftool -j map show id "$id" | jq .max_entries)"
	assert_eq "and its slots" "$line0" "$(bpftool -j map lookup id "$id" key 0 0 0 0 | jq -c .value)"
}

# --conntrack-size is rounded up to a power of two (the flow table's
# buckets need one), and an upgrade keeps the size: one that rounds to the
# attached size is an upgrade, another is refused with nothing changed.
test_attach_conntrack_size_rounded_up_kept_on_upgrade() {
	local dir
	topo_setup 1 1
	dir=/sys/fs/bpf/xlb/$P-lb
	xlb_lb detach "$P-lb" >/dev/null
	xlb_lb attach "$P-lb" --conntrack-size 5000 >/dev/null || fail "attach --conntrack-size 5000"
	assert_eq "entries for 5000" 8192 \
		"$(bpftool -j map show pinned "$dir/conntrack" | jq .max_entries)"
	xlb_lb attach "$P-lb" --conntrack-size 8000 >/dev/null || fail "upgrade with the same size"
	expect_rejected 1 "differs" attach_state xlb_lb attach "$P-lb" --conntrack-size 9000
}
