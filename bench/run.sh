#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Runs every benchmark of issues 6 and 9 once (`make bench`; QUICK=1 for the short
# run) and writes the raw results to bench/results/*.json, which
# bench/report turns into docs/BENCHMARKS.md. Expects the build of `make
# bench-build` in $BUILD. A section that fails writes {"error": ...} and the
# others still run; the exit status says whether any failed. Everything it
# creates (namespaces xlbb-*, pins of xlbb-b, xlbbe-* and xlbbn-*) goes on exit.
set -uo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP" || exit 1
BUILD=${BUILD:-build}
QUICK=${QUICK:-}
XLB=${XLB:-$TOP/$BUILD/xlb}
XLB_TOOLS=${XLB_TOOLS:-$TOP/$BUILD/tools}
BENCH_BIN=$TOP/$BUILD/bench
BENCH_DIR=$TOP/bench
RESULTS=$TOP/bench/results
# Katran's builds for the side-by-side figures (next to the repository, as in CI);
# where they are absent, pktcost and liverate write null ("not measured").
KATRAN_DIR=${KATRAN_DIR:-$TOP/../shared/peers/katran}

# shellcheck source=../scripts/topo.sh
source "$TOP/scripts/topo.sh"
source "$BENCH_DIR/lib.sh"
source "$BENCH_DIR/netns.sh"
source "$BENCH_DIR/cplane.sh"
source "$BENCH_DIR/e2e.sh"
source "$BENCH_DIR/nat.sh"

if [ -n "$QUICK" ] && [ "$QUICK" != 0 ]; then
	QUICK=1
	PKT_ARGS=(--quick)
	CP_REPS=1
	E2E_REPS=1
	E2E_DUR=1
	NAT_REPS=1
	SYNC_FLOWS=10000
else
	QUICK=0
	PKT_ARGS=()
	CP_REPS=5
	E2E_REPS=5
	E2E_DUR=3
	NAT_REPS=3
	SYNC_FLOWS=50000
fi

cleanup() {
	trap - EXIT INT TERM
	cp_detach
	bench_ns_down
	e2e_down >/dev/null 2>&1
	nat_down >/dev/null 2>&1
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

[ "$(id -u)" = 0 ] || { bench_log "run as root (namespaces, XDP)"; exit 1; }
for b in "$XLB" "$BENCH_BIN/pktcost" "$BENCH_BIN/liverate" "$BENCH_BIN/second" "$BENCH_BIN/cpbench" "$BENCH_BIN/httpd"; do
	[ -x "$b" ] || { bench_log "$b is missing: make bench-build"; exit 1; }
done
mkdir -p "$RESULTS"
failed=0
declare -A took

# section NAME CMD...: runs CMD (which writes $RESULTS/NAME.json), timed.
section() {
	local name=$1 t0 err
	shift
	t0=$(date +%s)
	bench_log "== $name"
	if ! "$@"; then
		failed=1
		err="$name failed; see the log of make bench"
		bench_log "$err"
		printf '{"error":"%s"}\n' "$err" >"$RESULTS/$name.json"
	fi
	took[$name]=$(($(date +%s) - t0))
}

# bench/NAME in the data-plane namespace, its JSON into bench/results/NAME.json.
run_in_bench_ns() {
	local name=$1 rc
	bench_ns_up || return 1
	bench_ns_run "$BENCH_BIN/$name" "${PKT_ARGS[@]}" --katran "$KATRAN_DIR" \
		>"$RESULTS/$name.json.tmp" &&
		mv "$RESULTS/$name.json.tmp" "$RESULTS/$name.json"
	rc=$?
	bench_ns_down
	return $rc
}

run_cplane() {
	bench_ns_up || return 1
	bench_cplane "$CP_REPS" "$RESULTS/cplane.json"
	local rc=$?
	cp_detach
	bench_ns_down
	return $rc
}

# Session sync on a two-instance tier (bench/sync.sh): events, full copy, latency.
run_sync() {
	SYNC_JSON=$RESULTS/sync.json.tmp "$BENCH_DIR/sync.sh" "$SYNC_FLOWS" >&2 &&
		mv "$RESULTS/sync.json.tmp" "$RESULTS/sync.json"
}

run_e2e() {
	bench_e2e "$E2E_REPS" "$E2E_DUR" "$RESULTS/e2e.json"
}

# Full NAT end to end (bench/nat.sh): xlb --forward nat, nftables, HAProxy, the ceiling.
run_nat() {
	bench_nat "$NAT_REPS" "$E2E_DUR" "$RESULTS/nat.json.tmp" &&
		mv "$RESULTS/nat.json.tmp" "$RESULTS/nat.json"
}

# The sha256 of a Katran object as a JSON string, or null where it is absent.
katran_sum() {
	local f=$KATRAN_DIR/$1
	if [ -r "$f" ]; then
		printf '"%s"' "$(sha256sum "$f" | cut -d' ' -f1)"
	else
		printf null
	fi
}

t_start=$(date +%s)
section pktcost run_in_bench_ns pktcost
section second run_in_bench_ns second
section liverate run_in_bench_ns liverate
section cplane run_cplane
section sync run_sync
section e2e run_e2e
section nat run_nat

{
	printf '{"quick":%s,"date":"%s","kernel":"%s","cpus":%s,' "$([ $QUICK = 1 ] && echo true || echo false)" \
		"$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$(uname -r)" "$(nproc)"
	printf '"cpu_model":"%s","commit":"%s",' \
		"$(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo | tr -d '"')" \
		"$(git rev-parse --short HEAD 2>/dev/null)"
	printf '"versions":{"iperf3":"%s","wrk":"%s","haproxy":"%s","nft":"%s"},' \
		"$(dpkg-query -W -f='${Version}' iperf3 2>/dev/null)" "$(dpkg-query -W -f='${Version}' wrk 2>/dev/null)" \
		"$(dpkg-query -W -f='${Version}' haproxy 2>/dev/null)" "$(dpkg-query -W -f='${Version}' nftables 2>/dev/null)"
	printf '"katran":{"dir":"%s","every_flow":%s,"as_shipped":%s},' "$KATRAN_DIR" \
		"$(katran_sum katran_balancer_noflood.bpf.o)" "$(katran_sum katran_balancer.bpf.o)"
	printf '"seconds":{"pktcost":%s,"second":%s,"liverate":%s,"cplane":%s,"e2e":%s,"nat":%s,"total":%s}}\n' \
		"${took[pktcost]}" "${took[second]}" "${took[liverate]}" "${took[cplane]}" "${took[e2e]}" \
		"${took[nat]}" $(($(date +%s) - t_start))
} >"$RESULTS/meta.json"
bench_log "done in $(($(date +%s) - t_start)) s; results in bench/results/"
exit $failed
