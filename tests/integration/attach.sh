# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# attach --source sets the outer source of the family it names and leaves the
# other family's alone (it used to wipe it, and IPv6 backends then lost their
# tunnels' source).

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
