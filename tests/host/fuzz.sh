#!/usr/bin/env bash
# tests/host/fuzz.sh - the bounded fuzz run of make check (tests/fuzz/run:
# MW_FUZZ_SECONDS per target, default 15; the kept crash inputs replayed).
exec bash "$(dirname "$0")/../fuzz/run" "$@"
