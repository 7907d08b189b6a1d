#!/usr/bin/env bash
# cluster.sh - the cluster view on a real Prometheus (issue 13): Debian's
# prometheus on loopback scraping memwatchd in the VM (with memwatch.ko, via
# vm-run --hostfwd) and on the host over fixtures and /proc; memwatch-read
# --cluster against the instances' own API, a stopped host shown down, the
# rule files through promtool and Prometheus, the cluster page in chromium
# (tests/cluster/cluster_test.py). MW_CLUSTER_KERNEL=6.12 boots the other kernel.
cd "$(dirname "$0")/../.." || exit 1
LOGS=build/test-logs
mkdir -p "$LOGS"
fail_build() {
	echo "not ok 1 - $1 builds"
	sed 's/^/#   /' "$2" | tail -n 20
	echo "1..1"
	exit 1
}
make -C userspace memwatch-read >"$LOGS/cluster-build.log" 2>&1 || fail_build memwatch-read "$LOGS/cluster-build.log"
make -C userspace/memwatchd memwatchd-serve >>"$LOGS/cluster-build.log" 2>&1 || fail_build memwatchd-serve "$LOGS/cluster-build.log"
make -C tests/progs >>"$LOGS/cluster-build.log" 2>&1 || fail_build tests/progs "$LOGS/cluster-build.log"
scripts/build-module "${MW_CLUSTER_KERNEL:-6.1}" >>"$LOGS/cluster-build.log" 2>&1 ||
	fail_build "memwatch.ko for ${MW_CLUSTER_KERNEL:-6.1}" "$LOGS/cluster-build.log"
exec python3 tests/cluster/cluster_test.py
