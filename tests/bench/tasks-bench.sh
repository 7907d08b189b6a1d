# tests/bench/tasks-bench.sh - cost of the tasks feature, in one VM boot.
#
#   scripts/vm-run --icount --smp 1 --mem 1024M --timeout 1500 -- sh tests/bench/tasks-bench.sh [ROUNDS]
#   (--icount: the guest clock counts instructions, so the figures do not
#   move with the host's load; without it, TCG turns every host stall into
#   guest time and single rounds swing by tens of percent)
#   (env: MW_N, FORK_N loop sizes; HOLD processes; READS, READ_ROUNDS)
#
# 1. Module overhead on two loops (tests/progs/tasks_bench): mmap 256 KiB +
#    64 page faults + munmap, and fork + exit + wait. Runs alternate
#    without / with the module loaded (insmod and rmmod each round), so
#    drift of the VM (TCG, shared host) hits both sides alike. Prints each
#    round and the ratio of the summed times (with / without).
# 2. Reading every task with 2,000+ processes alive (tests/progs/tasks_hold):
#    memwatch-read --tasks (text, all rows) against ps -eo pid,rss,vsz and
#    top -b -n1 (procps), alternating, same run; prints the speed-up.
# Numbers land in Documentation/performance.md.
rounds=${1:-5}
P=tests/progs
MW_N=${MW_N:-1500}	# mmap loop iterations per run
FORK_N=${FORK_N:-500}	# fork loop iterations per run
HOLD=${HOLD:-2000}	# processes alive for the read benchmark
READS=${READS:-3}	# reads per tool per round
READ_ROUNDS=${READ_ROUNDS:-3}
LOOPS=${LOOPS-mmap fork}	# LOOPS= skips part 1

ns_of() { awk '{ print $3 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.4f", a / b }'; }
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

echo "# tasks benchmark on $(uname -r), $(nproc) CPUs, rounds $rounds"
rmmod memwatch 2>/dev/null
for loop in $LOOPS; do
	n=$MW_N
	[ $loop = fork ] && n=$FORK_N
	base=0
	mod=0
	: > /tmp/tasks-bench-ratios
	# Warm up: the first runs after boot are up to 2x slower (first touch
	# of free memory), then runs repeat within 1% under --icount.
	for w in 1 2 3; do $P/tasks_bench $loop $n >/dev/null; done
	r=1
	while [ $r -le "$rounds" ]; do
		b=$($P/tasks_bench $loop $n | ns_of)
		insmod module/memwatch.ko || exit 1
		m=$($P/tasks_bench $loop $n | ns_of)
		rmmod memwatch
		echo "round $r $loop x$n: without $b ns, with $m ns, ratio $(ratio $m $b)"
		ratio $m $b >> /tmp/tasks-bench-ratios
		echo >> /tmp/tasks-bench-ratios
		base=$((base + b))
		mod=$((mod + m))
		r=$((r + 1))
	done
	echo "RESULT $loop loop: with/without = $(ratio $mod $base) (sum over $rounds rounds), median of round ratios $(median < /tmp/tasks-bench-ratios)"
done

insmod module/memwatch.ko || exit 1
hd=/tmp/tasks-bench-hold
rm -rf $hd
mkdir -p $hd
$P/tasks_hold $HOLD $hd &
while [ ! -e $hd/ready ]; do sleep 0.2; done
nprocs=$(ls -d /proc/[0-9]* | wc -l)
rows=$(memwatch-read -t --csv | tail -n +2 | wc -l)
echo "# $nprocs processes alive, memwatch-read --tasks shows $rows"
grep -E '^tasks\.(procs_used|procs_dropped|memory_held_bytes)' /proc/memwatch/status
mwt=0
pst=0
topt=0
r=1
while [ $r -le "$READ_ROUNDS" ]; do
	a=$($P/tasks_bench run $READS memwatch-read --tasks | ns_of)
	b=$($P/tasks_bench run $READS /usr/bin/ps -eo pid,rss,vsz | ns_of)
	c=$($P/tasks_bench run $READS /usr/bin/top -b -n1 | ns_of)
	echo "round $r read x$READS: memwatch-read $a ns, ps $b ns, top $c ns"
	mwt=$((mwt + a))
	pst=$((pst + b))
	topt=$((topt + c))
	r=$((r + 1))
done
reads=$((READ_ROUNDS * READS))
echo "RESULT read: memwatch-read $((mwt / reads / 1000)) us, ps $((pst / reads / 1000)) us, top $((topt / reads / 1000)) us per read"
echo "RESULT read: ps/memwatch-read = $(ratio $pst $mwt), top/memwatch-read = $(ratio $topt $mwt)"
# Where the time goes: the module's file alone, and the reader without
# human units (-b) or as CSV.
for v in "cat /proc/memwatch/tasks" "memwatch-read --tasks -b" "memwatch-read --tasks --csv"; do
	# shellcheck disable=SC2086
	a=$($P/tasks_bench run $READS $v | ns_of)
	echo "RESULT read: $v $((a / READS / 1000)) us per read"
done
touch $hd/exit
wait
rmmod memwatch
