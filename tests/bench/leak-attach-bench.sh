#!/usr/bin/env bash
# tests/bench/leak-attach-bench.sh - memwatch-leak -p: the target's slowdown
# while attached, against memwatch-leak starting the program and against
# valgrind memcheck, plus attach and detach times. Host only.
#
#   make -C userspace/leak && bash tests/bench/leak-attach-bench.sh [ROUNDS]
#   (env: BENCH_N rounds of the allocation loop, default 1500)
#
# tests/leak/bench_attach waits for SIGUSR1, then times its own
# allocation-bound loop (bench_malloc's), so start-up and the attach are
# not in the loop's figure. Rows: bare (nothing attached), attached
# (memwatch-leak -p attached before SIGUSR1), started (memwatch-leak --
# bench_attach), valgrind. Medians over ROUNDS runs, ratios to bare.
# attach_s/detach_s: as memwatch-leak -p reports them (stop every thread,
# dlopen, GOT rewrite / last report, hooks inert).
set -u
cd "$(dirname "$0")/../.."
rounds=${1:-3}
BENCH_N=${BENCH_N:-1500}
mw=${MEMWATCH_LEAK:-userspace/leak/build/memwatch-leak}
[ -x "$mw" ] || mw=userspace/memwatch-leak
T=tests/leak/bench_attach
[ -x "$mw" ] && [ -x $T ] || { echo "leak-attach-bench: build first: make -C userspace/leak" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

wait_for() {	# FILE PATTERN
	for _ in $(seq 600); do
		grep -q "$2" "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	echo "leak-attach-bench: timed out waiting for '$2' in $1" >&2
	return 1
}

# run TOOL: prints "loop_seconds attach_s detach_s"
run() {
	local out=$tmp/out err=$tmp/err tpid mpid pid
	: >"$out"
	: >"$err"
	case $1 in
	bare) $T "$BENCH_N" >"$out" & tpid=$! ;;
	started) "$mw" -o "$tmp/mw.txt" -- $T "$BENCH_N" >"$out" 2>"$err" & tpid=$! ;;
	valgrind) valgrind -q --leak-check=full --log-file="$tmp/vg.txt" $T "$BENCH_N" >"$out" & tpid=$! ;;
	attached) $T "$BENCH_N" >"$out" & tpid=$! ;;
	esac
	wait_for "$out" '^ready' || return
	pid=$(awk '/^ready/ { print $2 }' "$out")
	if [ "$1" = attached ]; then
		"$mw" -p "$pid" -o "$tmp/mw.txt" 2>"$err" &
		mpid=$!
		wait_for "$err" '^memwatch-leak: attached' || return
	fi
	kill -USR1 "$pid"
	wait_for "$out" '^loop' || return
	if [ "$1" = attached ]; then
		kill -INT $mpid
		wait $mpid
	fi
	kill -USR1 "$pid"
	wait $tpid
	local a d
	a=$(sed -n 's/^memwatch-leak: attached to process [0-9]* in \([0-9.]*\) s$/\1/p' "$err")
	d=$(sed -n 's/^memwatch-leak: detached from process [0-9]* in \([0-9.]*\) s$/\1/p' "$err")
	echo "$(awk '/^loop/ { print $2 }' "$out") ${a:-NA} ${d:-NA}"
	rm -f "$tmp"/mw.txt "$tmp"/vg.txt
}

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

tools="bare attached started"
command -v valgrind >/dev/null && tools="$tools valgrind"
echo "# memwatch-leak -p benchmark: $(uname -r), $(nproc) CPUs, rounds $rounds, bench_attach $BENCH_N, $(date -u +%F)"
for t in $tools; do : >"$tmp/s.$t"; : >"$tmp/a.$t"; : >"$tmp/d.$t"; done
for _ in $(seq "$rounds"); do
	for t in $tools; do
		read -r s a d < <(run "$t")
		echo "$s" >>"$tmp/s.$t"
		[ "$a" != NA ] && echo "$a" >>"$tmp/a.$t"
		[ "$d" != NA ] && echo "$d" >>"$tmp/d.$t"
	done
done
printf '%-10s %9s %8s %9s %9s\n' tool loop_s ratio attach_s detach_s
bs=$(median <"$tmp/s.bare")
for t in $tools; do
	s=$(median <"$tmp/s.$t")
	a=NA d=NA
	[ -s "$tmp/a.$t" ] && a=$(median <"$tmp/a.$t")
	[ -s "$tmp/d.$t" ] && d=$(median <"$tmp/d.$t")
	printf '%-10s %9.3f %8s %9s %9s\n' "$t" "$s" \
		"$(awk -v a="$s" -v b="$bs" 'BEGIN { printf "%.2fx", (b > 0 ? a / b : 0) }')" "$a" "$d"
done
