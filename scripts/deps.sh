#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Installs what xlb needs to build and test (and, with --bench, to benchmark) on a
# Debian 12 machine, and mounts bpffs. Idempotent; quiet when everything is there.
set -euo pipefail

build_pkgs=(clang llvm gcc make pkg-config libbpf-dev libxdp-dev libelf-dev zlib1g-dev bpftool
	    libmicrohttpd-dev libcurl4-openssl-dev libmnl-dev)
test_pkgs=(xdp-tools iproute2 ethtool socat curl procps util-linux jq openssl bird2 tcpdump)
test_pkgs+=(debhelper dpkg-dev fakeroot build-essential) # tests/integration/package.sh
test_pkgs+=(iperf3)		# tests/integration/nat.sh: a bulk stream down for path MTU
test_pkgs+=(nftables)		# tests/integration/backup.sh, down_policy.sh: a backend made unreachable
build_pkgs+=(libssl-dev)	# libcrypto: session sync's HMAC-SHA256
bench_pkgs=(iperf3 wrk haproxy nftables gnuplot-nox)

pkgs=("${build_pkgs[@]}" "${test_pkgs[@]}")
[ "${1:-}" = "--bench" ] && pkgs+=("${bench_pkgs[@]}")

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "deps: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! mountpoint -q /sys/fs/bpf; then
	mount -t bpf bpf /sys/fs/bpf
fi
