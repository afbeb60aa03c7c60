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
