#!/usr/bin/env bash
# tests/bench/cluster-bench.sh [TARGETS...] - what memwatch hosts cost a
# Prometheus server, on loopback (host only, no VM):
#
#   tests/bench/cluster-bench.sh            # runs 0, 10 and 50 targets
#   MW_BENCH_WINDOW=60 tests/bench/cluster-bench.sh 0 50
#
# Each target is a memwatchd-serve on its own 127.0.0.1 port over a fixture
# host: the tasks fixture plus 200 processes under 80 command names, the frag
# fixture (2 zones x 11 orders), --metrics-top 10. One host: series per
# scrape, bytes per scrape (plain and gzip, as Prometheus asks), scrape time.
# Then, for each target count, a fresh Prometheus (1 s scrapes, storage in a
# temp dir) runs a warm-up, then a window in which its CPU time (utime+stime),
# RSS, head series and appended samples are measured; the run with 0 targets
# is the baseline of the same run. Prints per-series memory and per-sample
# CPU over the baseline and extrapolates 1,000 hosts at a 15 s interval.
# Figures land in Documentation/performance.md.
cd "$(dirname "$0")/../.." || exit 1
make -C userspace/memwatchd memwatchd-serve >/dev/null 2>&1 || { echo "cluster-bench: memwatchd-serve does not build" >&2; exit 1; }
command -v prometheus >/dev/null || { echo "cluster-bench: prometheus missing (bash scripts/setup)" >&2; exit 1; }
exec python3 tests/cluster/cluster_bench.py "$@"
