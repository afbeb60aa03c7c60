# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash disable=SC2034 # variables for the test files
#
# Helpers of the integration tests (tests/integration/*.sh). tests/run.sh sources
# this file, then one test file, then runs one test_* function in a subshell with
# `set -e`: exit 0 is a pass, 77 a skip, anything else a failure.
#
# A test calls `topo_setup [BACKENDS] [CLIENTS]` first: it builds the namespace
# topology of scripts/topo.sh under a prefix unique to this test process,
# attaches xlb to the balancer and xlb decap to every backend, and sets an EXIT
# trap that always tears everything down again (background jobs, xlb programs,
# namespaces, pins), whether the test passes, fails or is interrupted.
#
#   xlb_lb ARGS...            run build/xlb in the balancer's namespace
#   in_ns ROLE CMD...         run CMD in namespace ROLE (c1, b2, lb, ...)
#   names ROLE ARGS...        nameclient from ROLE; prints "NAME COUNT" lines
#   count_of "$out" NAME      the count of NAME in such output (0 if absent)
#   vip_ready ROLE [-u] ADDR PORT   waits (5 s at most) until one flow is answered
#   bg ROLE FILE CMD...       start CMD in ROLE in the background, output to FILE;
#                             sets BG_PID; cleanup kills it
#   fail MSG / skip MSG       end the test
#   assert_eq WHAT EXPECTED GOT          "WHAT: expected X, got Y"
#   assert_range WHAT LOW HIGH GOT
#   expect_rejected STATUS NEEDLE STATE CMD...
#                             CMD must exit STATUS ("1|2": either) with one stderr
#                             line "xlb: ..." naming NEEDLE (any case), and the
#                             output of STATE (a command) must not change
#   wait_for SECONDS DESCRIPTION CMD...  polls CMD every 0.1 s, fails after SECONDS
#   poll_for SECONDS DESCRIPTION CMD...  the same, but returns 1 instead of failing
#   scratch_dir                          prints a new directory every user can enter
#                                        (0755); add it to SCRATCH_DIRS (in the test's
#                                        own shell) and the cleanup trap removes it
#   list_json / list_config              `xlb list --json`, raw / without counters,
#                                        ids and health, sorted (configuration only)

LIB_TOP=${LIB_TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
# shellcheck source=scripts/topo.sh
source "$LIB_TOP/scripts/topo.sh"

# One topology per test subshell: the prefix carries this process's pid.
P=${XLB_TEST_PREFIX:-xi$((BASHPID % 1000000))}
VIP4=$TOPO_VIP4
VIP6=$TOPO_VIP6
TMP=
BG_PIDS=()
SCRATCH_DIRS=()

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

skip() {
	echo "SKIP: $*" >&2
	exit 77
}

assert_eq() {
	[ "$2" = "$3" ] || fail "$1: expected $2, got $3"
}

assert_range() {
	local what=$1 low=$2 high=$3 got=$4
	if [ "$got" -lt "$low" ] || [ "$got" -gt "$high" ]; then
		fail "$what: expected $low..$high, got $got"
	fi
}

expect_rejected() {
	local want=$1 needle=$2 state=$3 rc=0 err before after
	shift 3
	before=$("$state")
	err=$("$@" 2>&1 >/dev/null) || rc=$?
	echo "$*: exit $rc: $err"
	[[ "|$want|" == *"|$rc|"* ]] || fail "$*: exit status: expected $want, got $rc"
	assert_eq "$*: stderr lines" 1 "$(printf '%s\n' "$err" | wc -l)"
	[[ "$err" == "xlb: "* ]] || fail "$*: message: expected \"xlb: ...\", got \"$err\""
	[[ "${err,,}" == *"${needle,,}"* ]] ||
		fail "$*: message: expected it to name \"$needle\", got \"$err\""
	after=$("$state")
	[ "$after" = "$before" ] || fail "$*: $state changed: expected $before, got $after"
}

wait_for() {
	poll_for "$@" || fail "$2: not within $1s"
}

poll_for() {
	local secs=$1 end
	shift 2
	end=$((SECONDS + secs))
	until "$@" >/dev/null 2>&1; do
		[ $SECONDS -lt $end ] || return 1
		sleep 0.1
	done
}

xlb_lb() {
	topo_xlb "$P" "$@"
}

in_ns() {
	local role=$1
	shift
	topo_in "$P" "$role" "$@"
}

names() {
	local role=$1
	shift
	in_ns "$role" "$XLB_TOOLS/nameclient" "$@"
}

count_of() {
	echo "$1" | awk -v n="$2" '$1 == n { c = $2 } END { print c + 0 }'
}

vip_ready() {
	local role=$1
	shift
	wait_for 5 "first answer from ${*: -2:1} port ${*: -1}" names "$role" -n 1 -w 500 -T 1 "$@"
}

bg() {
	local role=$1 out=$2
	shift 2
	# nsenter execs CMD: $! is CMD itself, so signals reach it.
	nsenter --net="/run/netns/$P-$role" "$@" >"$out" 2>&1 &
	BG_PID=$!
	BG_PIDS+=("$BG_PID")
}

scratch_dir() {
	local d
	d=$(mktemp -d /tmp/xlb-scratch.XXXXXX) || return 1
	chmod 0755 "$d"
	echo "$d"
}

list_json() {
	xlb_lb list --json
}

# The configuration part of `xlb list --json`: counters, ids (an implementation
# detail of slot allocation) and agent-driven health left out, lists sorted.
list_config() {
	xlb_lb list --json | jq -S '.vips |= (map(del(.id) | .backends |=
		(map(del(.id, .active_flows, .health, .last_probe, .rt_us)) | sort_by(.addr)))
		| sort_by(.vip))'
}

# The EXIT trap of every test: background jobs, the topology (LIB_TOPO_DOWN, default
# topo_down; scripts/cluster.sh's tests set cluster_down), the temporary files.
lib_cleanup() {
	local pid d
	set +e
	for pid in "${BG_PIDS[@]}"; do
		kill "$pid" 2>/dev/null
	done
	for pid in "${BG_PIDS[@]}"; do
		wait "$pid" 2>/dev/null
	done
	"${LIB_TOPO_DOWN:-topo_down}" "$P"
	# The instances' lock and pid files: a prefix is recycled with its pid.
	rm -f /run/xlb/"$P"-* /run/xlb/decap-"$P"-* /run/xlb/*-"$P"-*
	[ -n "$TMP" ] && rm -rf "$TMP"
	for d in "${SCRATCH_DIRS[@]}"; do
		rm -rf "$d"
	done
}

topo_setup() {
	[ "$(id -u)" = 0 ] || skip "needs root (namespaces, XDP)"
	command -v jq >/dev/null || skip "needs jq"
	[ -x "$XLB" ] || fail "$XLB not built (make)"
	trap lib_cleanup EXIT
	trap 'exit 130' INT TERM HUP PIPE
	TMP=$(mktemp -d /tmp/xlb-test.XXXXXX)
	topo_up "$P" "${1:-3}" "${2:-2}" || fail "topology $P could not be built"
	topo_xlb_attach "$P" || fail "xlb could not be attached in topology $P"
}
