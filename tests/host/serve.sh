#!/usr/bin/env bash
# serve.sh - memwatchd's HTTP side on loopback against fixtures: API JSON
# equals the module files, /proc answers without the module, events/SSE/
# memorylogs, /metrics through promtool with grouping and bounds, bad input,
# slow clients and 1,000 connections (tests/serve/serve_test.py).
cd "$(dirname "$0")/../.." || exit 1
if ! out=$(make -C userspace/memwatchd memwatchd-serve 2>&1); then
	echo "not ok 1 - memwatchd-serve builds"
	printf '%s\n' "$out" | tail -n 20 | sed 's/^/#   /'
	echo "1..1"
	exit 1
fi
exec python3 tests/serve/serve_test.py
