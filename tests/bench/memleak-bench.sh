#!/usr/bin/env bash
# tests/bench/memleak-bench.sh - cost of memwatch-leak against valgrind
# memcheck and heaptrack, same run, on the host:
#
#   make -C userspace/memleak && make -C tests/memleak
#   bash tests/bench/memleak-bench.sh [ROUNDS]      (env: N, SORT_MB)
#
# Workloads: tests/memleak/bench_alloc N (malloc/calloc/free churn, the worst
# case: nothing but allocator calls), sort -n on a generated SORT_MB file
# (coreutils, a real Debian program), and python3 building and dumping a
# large dict (allocation-heavy interpreter). Each tool runs ROUNDS times per
# workload, the tools in turn within a round; the median wall time (and the
# peak RSS of that run, from /usr/bin/time -f %M) is printed, with the ratio
# to the bare run.
# Figures land in Documentation/performance.md.
set -u
cd "$(dirname "$0")/../.."
rounds=${1:-3}
N=${N:-3000000}
SORT_MB=${SORT_MB:-20}
ml=${MEMWATCH_LEAK:-userspace/memwatch-leak}	# env: test another build
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# userspace/ is shared with another build (userspace/leak/ writes the same
# names): measure memleak's own copies if those were overwritten
if [ -z "${MEMWATCH_LEAK:-}" ] && [ -x userspace/memleak/memwatch-leak ] &&
	! cmp -s userspace/libmemwatch-leak.so userspace/memleak/libmemwatch-leak.so; then
	echo "# userspace/libmemwatch-leak.so is another build: using userspace/memleak/'s"
	ml=userspace/memleak/memwatch-leak
fi
[ -x /usr/bin/time ] || { echo "need /usr/bin/time: apt-get install -y time" >&2; exit 1; }
[ -x $ml ] && [ -x tests/memleak/bench_alloc ] || {
	echo "build first: make -C userspace/memleak && make -C tests/memleak" >&2
	exit 1
}

# a reproducible SORT_MB file of random numbers
python3 -c '
import random, sys
random.seed(1)
n = int(sys.argv[1]) * 1024 * 1024
out, size = [], 0
while size < n:
	s = "%d\n" % random.getrandbits(40)
	out.append(s); size += len(s)
open(sys.argv[2], "w").write("".join(out))' "$SORT_MB" "$tmp/nums"

py='d = {str(i): [i, str(i) * 3, {"k": i}] for i in range(300000)}
import json; s = json.dumps(d); print(len(s))'

# run TOOL CMD...: prints "seconds peak_kb" for one run
run() {
	local tool=$1
	shift
	case $tool in
	bare) set -- "$@" ;;
	memwatch-leak) set -- $ml -o "$tmp/ml.rep" -- "$@" ;;
	valgrind) set -- valgrind --leak-check=full --log-file="$tmp/vg.log" "$@" ;;
	heaptrack) set -- heaptrack -o "$tmp/ht" "$@" ;;
	esac
	/usr/bin/time -f '%e %M' -o "$tmp/time" "$@" >/dev/null 2>"$tmp/err" </dev/null
	rm -f "$tmp"/ht*
	cat "$tmp/time"
}

median() { sort -n | awk '{ v[NR] = $0 } END { print v[int((NR + 1) / 2)] }'; }

tools="bare memwatch-leak"
command -v valgrind >/dev/null && tools="$tools valgrind"
command -v heaptrack >/dev/null && tools="$tools heaptrack"

echo "# memwatch-leak benchmark: $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg), rounds $rounds"
echo "# tools run in turn within each round, so drift of a shared machine hits all alike"
printf '%-28s %-14s %9s %8s %10s\n' workload tool wall_s ratio peak_rss_kb
for w in alloc sort python; do
	case $w in
	alloc) cmd=(tests/memleak/bench_alloc "$N"); label="bench_alloc $N" ;;
	sort) cmd=(sort -n --parallel=1 -S 64M "$tmp/nums"); label="sort -n ${SORT_MB}MB" ;;
	python) cmd=(/usr/bin/python3 -c "$py"); label="python3.11 dict+json" ;;
	esac
	for tool in $tools; do : >"$tmp/runs.$tool"; done
	for r in $(seq "$rounds"); do
		for tool in $tools; do
			run $tool "${cmd[@]}" >>"$tmp/runs.$tool"
		done
	done
	base=
	for tool in $tools; do
		m=$(median <"$tmp/runs.$tool")
		s=${m% *}
		[ -z "$base" ] && base=$s
		printf '%-28s %-14s %9s %8s %10s\n' "$label" $tool "$s" \
			"$(awk -v a="$s" -v b="$base" 'BEGIN { printf "%.2fx", (b > 0 ? a / b : 0) }')" "${m#* }"
	done
done
