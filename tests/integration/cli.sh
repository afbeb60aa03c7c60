# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# Bad input: every rejected command exits non-zero (2 for bad usage, 1 for a
# failed operation), prints one line "xlb: ..." naming the bad thing, and
# leaves `xlb list --json` exactly as it was.

# expect_bad STATUS NEEDLE ARGS...: xlb ARGS in the balancer namespace must
# exit STATUS ("1|2" allows either) with one stderr line starting "xlb: " and
# containing NEEDLE, and change nothing. BAD_MODE=nonroot runs xlb as nobody,
# BAD_MODE=nobpffs without bpffs (in a private mount namespace, so the
# machine's bpffs stays).
expect_bad() {
	local want=$1 needle=$2 rc=0 err after
	shift 2
	err=$(bad_run "$@" 2>&1 >/dev/null) || rc=$?
	echo "xlb $*: exit $rc: $err"
	[[ "|$want|" == *"|$rc|"* ]] || fail "xlb $*: exit status: expected $want, got $rc"
	assert_eq "xlb $*: stderr lines" 1 "$(printf '%s\n' "$err" | wc -l)"
	[[ "$err" == "xlb: "* ]] || fail "xlb $*: message: expected \"xlb: ...\", got \"$err\""
	[[ "${err,,}" == *"${needle,,}"* ]] || fail "xlb $*: message: expected it to name \"$needle\", got \"$err\""
	after=$(list_json)
	[ "$after" = "$BASE" ] || fail "xlb $*: list --json changed: expected $BASE, got $after"
}

bad_run() {
	[ "$1" = -i ] || set -- -i "$P-lb" "$@"
	set -- timeout "$TOPO_XLB_TIMEOUT" "$XLB" "$@"
	case ${BAD_MODE:-} in
	nonroot)
		# The binary from a directory nobody can reach: the checkout may
		# live under a private (0700) directory, which would make this
		# measure the directory's mode instead of xlb's refusal.
		shift 3
		in_ns lb setpriv --reuid=65534 --regid=65534 --clear-groups \
			timeout "$TOPO_XLB_TIMEOUT" "$NONROOT_XLB" "$@" ;;
	nobpffs)
		# shellcheck disable=SC2016
		in_ns lb unshare --mount --propagation private \
			sh -c 'umount /sys/fs/bpf && exec "$0" "$@"' "$@" ;;
	*)
		in_ns lb "$@" ;;
	esac
}

# NONROOT_XLB: a copy of build/xlb that an unprivileged user can execute, in
# a scratch directory of this test (removed by the cleanup trap).
nonroot_setup() {
	local d
	d=$(scratch_dir) || fail "no scratch directory"
	SCRATCH_DIRS+=("$d")
	install -m 0755 "$XLB" "$d/xlb"
	NONROOT_XLB=$d/xlb
}

cli_setup() {
	topo_setup 3 1
	V4="$VIP4:80/tcp"
	V6="[$VIP6]:80/tcp"
	B1=$(topo_addr4 b1)
	B2=$(topo_addr4 b2)
	xlb_lb vip add "$V4"
	xlb_lb backend add "$V4" "$B1" --weight 5
	xlb_lb vip add "$V6"
	xlb_lb backend add "$V6" "$(topo_addr6 b1)"
	BASE=$(list_json)
}

test_cli_rejects_malformed_input() {
	cli_setup
	expect_bad 2 "10.200.100.300" vip add 10.200.100.300:80/tcp
	expect_bad 2 "99999" vip add "$VIP4:99999/tcp"
	expect_bad 2 "-1" vip add "$VIP4:-1/tcp"
	expect_bad 2 "10.200.100.2/tcp" vip add 10.200.100.2/tcp
	expect_bad 2 "sctp" vip add "$VIP4:81/sctp"
	expect_bad 2 "fd00:200:100::2:80/tcp" vip add fd00:200:100::2:80/tcp
	expect_bad 2 "maglevv" vip add "$VIP4:81/tcp" --sched maglevv
	expect_bad 2 "10.200.0" backend add "$V4" 10.200.0
	expect_bad 2 "10.200.0.999" backend add "$V4" 10.200.0.999
	expect_bad 2 "weight" backend add "$V4" "$B2" --weight 0
	expect_bad 2 "weight" backend add "$V4" "$B2" --weight 1001
	expect_bad 2 "weight" backend add "$V4" "$B2" --weight x
	expect_bad 2 "weight" backend weight "$V4" "$B1" 0
	expect_bad 2 "weight" backend weight "$V4" "$B1" 1001
	expect_bad 2 "frob" vip frob "$V4"
	expect_bad 2 "frob" frob
}

test_cli_rejects_unknown_and_duplicate_objects() {
	cli_setup
	expect_bad 1 "$V4" vip add "$V4"
	expect_bad 1 "$B1" backend add "$V4" "$B1"
	expect_bad 1 "$B1" backend add "$V4" "$B1" --weight 2
	expect_bad 1 "${TOPO_VIPS4[6]}" vip del "${TOPO_VIPS4[6]}:80/tcp"
	expect_bad 1 "${TOPO_VIPS4[6]}" backend add "${TOPO_VIPS4[6]}:80/tcp" "$B2"
	expect_bad 1 "$VIP4:81/tcp" vip del "$VIP4:81/tcp"
	expect_bad 1 "$VIP4:80/udp" backend add "$VIP4:80/udp" "$B2"
	expect_bad 1 "$B2" backend del "$V4" "$B2"
	expect_bad 1 "$B2" backend drain "$V4" "$B2"
	expect_bad 1 "$B2" backend undrain "$V4" "$B2"
	expect_bad 1 "$B2" backend weight "$V4" "$B2" 3
}

test_cli_rejects_family_mismatch() {
	cli_setup
	# An IPv6 VIP cannot be carried to an IPv4 backend (4-in-6 is the other way).
	expect_bad "1|2" "$B2" backend add "$V6" "$B2"
	expect_bad "1|2" "$B2" backend add "[$VIP6]:80/tcp" "$B2" --weight 3
	# The allowed direction really is allowed.
	xlb_lb backend add "$V4" "$(topo_addr6 b2)"
}

test_cli_rejects_missing_instance_and_non_root() {
	cli_setup
	expect_bad 1 "lo" -i lo vip add "${TOPO_VIPS4[2]}:80/tcp"
	expect_bad 1 "lo" -i lo list
	expect_bad 1 "$P-nosuch" detach "$P-nosuch"
	expect_bad 1 "$P-nosuch" attach "$P-nosuch"
	expect_bad "1|2" "$P-nosuch" decap detach "$P-nosuch"
	nonroot_setup
	BAD_MODE=nonroot
	expect_bad 1 "root" vip add "${TOPO_VIPS4[2]}:80/tcp"
	expect_bad 1 "root" backend add "$V4" "$B2"
	expect_bad 1 "root" list
	BAD_MODE=nobpffs
	expect_bad 1 "bpffs" vip add "${TOPO_VIPS4[2]}:80/tcp"
	expect_bad 1 "bpffs" list
	BAD_MODE=
}

# `restore` applies a file as one change: a bad line anywhere leaves the
# configuration as it was, even the good lines before it.
test_cli_restore_bad_file_changes_nothing() {
	local f
	cli_setup
	f=$TMP/bad-syntax.conf
	printf 'xlb vip add %s:80/tcp\nxlb backend add %s:80/tcp %s\nxlb vip add %s:80/sctp\n' \
		"${TOPO_VIPS4[4]}" "${TOPO_VIPS4[4]}" "$B2" "${TOPO_VIPS4[5]}" >"$f"
	expect_bad "1|2" "sctp" restore "$f"
	f=$TMP/bad-state.conf
	# The file is the whole configuration: the same backend twice in it is an error.
	printf 'xlb vip add %s:80/tcp\nxlb backend add %s:80/tcp %s\nxlb backend add %s:80/tcp %s\n' \
		"${TOPO_VIPS4[4]}" "${TOPO_VIPS4[4]}" "$B2" "${TOPO_VIPS4[4]}" "$B2" >"$f"
	expect_bad 1 "$B2" restore "$f"
	# A backend of a VIP the file does not add: on a fresh instance that VIP is
	# unknown, and it must be here too (the file is the whole configuration).
	f=$TMP/undeclared.conf
	printf 'xlb vip add %s:80/tcp\nxlb backend add %s %s\n' "${TOPO_VIPS4[4]}" "$V4" "$B2" >"$f"
	expect_bad 1 "$V4" restore "$f"
	expect_bad 1 "$TMP/nosuch.conf" restore "$TMP/nosuch.conf"
}

# Concurrent invocations are serialised: CONCURRENT parallel `backend add`
# all land, each exactly once, and the VIP's table uses all of them.
CONCURRENT=24

test_cli_concurrent_adds_all_applied() {
	local i pids=() rc=0 got
	cli_setup
	for ((i = 1; i <= CONCURRENT; i++)); do
		xlb_lb backend add "$V4" "10.200.1.$i" &
		pids+=($!)
	done
	for i in "${pids[@]}"; do
		wait "$i" || rc=$?
	done
	assert_eq "exit status of the slowest of $CONCURRENT parallel adds" 0 "$rc"
	got=$(list_json | jq --arg v "$V4" '[.vips[] | select(.vip == $v) | .backends[].addr] | length')
	assert_eq "backends of $V4 after $CONCURRENT parallel adds" $((CONCURRENT + 1)) "$got"
	got=$(list_json | jq --arg v "$V4" '[.vips[] | select(.vip == $v) | .backends[].addr] | unique | length')
	assert_eq "distinct backends of $V4" $((CONCURRENT + 1)) "$got"
}

# Health-check defaults: a TCP VIP is checked by TCP connect, a UDP VIP not
# at all (a UDP service need not listen on TCP); both can be set explicitly.
test_cli_vip_default_checks() {
	local got
	topo_setup 1 1
	xlb_lb vip add "$VIP4:53/udp"
	xlb_lb vip add "$VIP4:80/tcp"
	xlb_lb vip add "$VIP4:54/udp" --check tcp
	got=$(xlb_lb list --json | jq -r '[.vips[] | "\(.vip)=\(.check.type)"] | sort | join(" ")')
	assert_eq "default checks" "$VIP4:53/udp=none $VIP4:54/udp=tcp $VIP4:80/tcp=tcp" "$got"
}
