# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# The bash completion's live values, in a topology: from inside the
# balancer's namespace it offers the attached interface for -i and detach,
# the configured VIPs where a VIP goes, and the backends of the VIP typed
# (not those of another VIP); on a backend, its decap interface. Outside the
# namespace (the test's own) none of them is offered: pins are machine-wide,
# the interfaces are not.

# COMPREPLY, one a line, of scripts/xlb.bash-completion for WORDS... in
# namespace ROLE ("-" for the test's own).
complete_in() {
	local role=$1
	shift
	# shellcheck disable=SC2016 # expanded by the inner shell
	local run=(bash --norc --noprofile -c 'source "$1"; shift; COMP_WORDS=("$@")
		COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _xlb; printf "%s\n" "${COMPREPLY[@]}" | sort'
		_ "$LIB_TOP/scripts/xlb.bash-completion" "$XLB" "$@")
	if [ "$role" = - ]; then
		"${run[@]}"
	else
		in_ns "$role" "${run[@]}"
	fi
}

test_completion_live_values() {
	local v1 v2 b1 b2 got
	topo_setup 2 1
	v1="$VIP4:80/tcp"
	v2="${TOPO_VIPS4[1]}:8080/tcp"
	b1=$(topo_addr4 b1)
	b2=$(topo_addr4 b2)
	xlb_lb vip add "$v1"
	xlb_lb backend add "$v1" "$b1"
	xlb_lb vip add "$v2"
	xlb_lb backend add "$v2" "$b2"

	assert_eq "xlb -i <TAB> in the balancer" "$P-lb" "$(complete_in lb -i "")"
	assert_eq "xlb detach <TAB>" "$P-lb" "$(complete_in lb detach "")"
	assert_eq "xlb attach $P-<TAB>" "$P-lb" "$(complete_in lb attach "$P-")"
	assert_eq "xlb vip del <TAB>" "$(printf '%s\n' "$v1" "$v2" | sort)" "$(complete_in lb vip del "")"
	assert_eq "xlb backend drain <TAB>" "$(printf '%s\n' "$v1" "$v2" | sort)" \
		"$(complete_in lb -i "$P-lb" backend drain "")"
	assert_eq "xlb backend drain $v1 <TAB>" "$b1" "$(complete_in lb backend drain "$v1" "")"
	assert_eq "xlb backend del $v2 <TAB>" "$b2" "$(complete_in lb backend del "$v2" "")"
	assert_eq "xlb conntrack flush $v2 --backend <TAB>" "$b2" \
		"$(complete_in lb conntrack flush "$v2" --backend "")"
	assert_eq "xlb decap show <TAB> on b1" "$P-b1" "$(complete_in b1 decap show "")"

	# Control: outside the namespaces the same pins give nothing.
	got=$(complete_in - -i "" | grep -x -- "$P-lb" || true)
	assert_eq "xlb -i <TAB> outside the balancer's namespace" "" "$got"
	got=$(complete_in - decap detach "" | grep -x -- "$P-b1" || true)
	assert_eq "xlb decap detach <TAB> outside b1's namespace" "" "$got"
}
