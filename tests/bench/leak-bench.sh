#!/usr/bin/env bash
# tests/bench/leak-bench.sh - cost of memwatch-leak against valgrind memcheck
# and heaptrack, on the host (no VM, no module needed).
#
#   make -C userspace/leak && bash tests/bench/leak-bench.sh [ROUNDS]
#   (env: BENCH_N rounds of tests/leak/bench_malloc; SORT_LINES; PY_N;
#    MWL_BASE=path of another build's memwatch-leak front-end: an extra row,
#    mwl-base, run alternately with the others, for A/B work on the library)
#
# Workloads:
#   synthetic  tests/leak/bench_malloc: a window of 4096 blocks of 16-255
#              bytes, half freed and reallocated per round (malloc-bound)
#   sort       GNU sort on SORT_LINES generated lines
#   python3    /usr/bin/python3 building and serialising PY_N dicts
# Each tool runs every workload ROUNDS times, alternating with the bare
# program; the table gives the median wall time, its ratio to the bare
# program's, and peak RSS ("Maximum resident set size" from /usr/bin/time -v,
# the largest process of the run, so the tool's own processes count).
# Numbers land in Documentation/performance.md (## memwatch-leak).
set -u
cd "$(dirname "$0")/../.."
rounds=${1:-3}
BENCH_N=${BENCH_N:-1500}
SORT_LINES=${SORT_LINES:-300000}
PY_N=${PY_N:-100000}

mw=${MEMWATCH_LEAK:-userspace/leak/build/memwatch-leak}
[ -x "$mw" ] || mw=userspace/memwatch-leak
[ -x "$mw" ] && [ -x tests/leak/bench_malloc ] ||
	{ echo "leak-bench: build first: make -C userspace/leak" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "leak-bench: needs /usr/bin/time (apt-get install time)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat >"$tmp/bench.py" <<'PY'
import json, sys
rows = [{'a': i, 'b': str(i), 'c': [i, i * 2]} for i in range(int(sys.argv[1]))]
print(len(json.dumps(rows)))
PY
seq 1 "$SORT_LINES" | awk '{ srand($1); print int(rand() * 1e9) " line " $1 }' >"$tmp/sort.in"

# mwl-libunwind: memwatch-leak unwinding every stack with libunwind, the
# cost of the stacks without unwind.c's rule cache
tools="bare memwatch-leak mwl-libunwind"
if [ -n "${MWL_BASE:-}" ]; then
	[ -x "$MWL_BASE" ] || { echo "leak-bench: MWL_BASE=$MWL_BASE is not executable" >&2; exit 1; }
	tools="$tools mwl-base"
fi
command -v valgrind >/dev/null && tools="$tools valgrind"
command -v heaptrack >/dev/null && tools="$tools heaptrack"

# wrap TOOL: the command prefix running a program under TOOL
wrap() {
	case $1 in
	bare) ;;
	memwatch-leak) echo "$mw -o $tmp/mw.%p.txt" ;;
	mwl-libunwind) echo "env MEMWATCH_LEAK_UNWIND=libunwind $mw -o $tmp/mw.%p.txt" ;;
	mwl-base) echo "$MWL_BASE -o $tmp/mw.%p.txt" ;;
	valgrind) echo "valgrind -q --leak-check=full --log-file=$tmp/vg.%p.txt" ;;
	heaptrack) echo "heaptrack -o $tmp/ht" ;;
	esac
}

workload() {
	case $1 in
	synthetic) echo "tests/leak/bench_malloc $BENCH_N" ;;
	sort) echo "sort -n $tmp/sort.in -o $tmp/sort.out" ;;
	python3) echo "/usr/bin/python3 $tmp/bench.py $PY_N" ;;
	esac
}

# measure TOOL WORKLOAD: prints "seconds maxrss_kb"
measure() {
	local cmd
	cmd="$(wrap "$1") $(workload "$2")"
	echo "NA NA" >"$tmp/time"
	eval "/usr/bin/time -f '%e %M' -o $tmp/time $cmd" >/dev/null 2>"$tmp/err" ||
		{ echo "leak-bench: '$cmd' failed:" >&2; tail -3 "$tmp/err" >&2; }
	rm -f "$tmp"/ht.* "$tmp"/mw.* "$tmp"/vg.*
	tail -1 "$tmp/time"
}

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

echo "# memwatch-leak benchmark: $(uname -r), $(nproc) CPUs, rounds $rounds, $(date -u +%F)"
echo "# synthetic: bench_malloc $BENCH_N; sort: $SORT_LINES lines; python3: $PY_N dicts"
printf '%-10s %-14s %9s %8s %10s %8s\n' workload tool seconds ratio maxrss_kb rss_x
for w in synthetic sort python3; do
	for t in $tools; do
		: >"$tmp/s.$t"
		: >"$tmp/m.$t"
	done
	for _ in $(seq "$rounds"); do
		for t in $tools; do
			read -r s m < <(measure "$t" "$w")
			echo "$s" >>"$tmp/s.$t"
			echo "$m" >>"$tmp/m.$t"
		done
	done
	bs=$(median <"$tmp/s.bare")
	bm=$(median <"$tmp/m.bare")
	for t in $tools; do
		s=$(median <"$tmp/s.$t")
		m=$(median <"$tmp/m.$t")
		printf '%-10s %-14s %9.2f %8s %10s %8s\n' "$w" "$t" "$s" \
			"$(awk -v a="$s" -v b="$bs" 'BEGIN { printf "%.1fx", (b > 0 ? a / b : 0) }')" "$m" \
			"$(awk -v a="$m" -v b="$bm" 'BEGIN { printf "%.1fx", (b > 0 ? a / b : 0) }')"
	done
done
