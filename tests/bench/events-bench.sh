# tests/bench/events-bench.sh - cost of /proc/memwatch/events, in one VM boot.
#
#   scripts/vm-run --icount --smp 1 --mem 1024M --timeout 2400 -- sh tests/bench/events-bench.sh [ROUNDS]
#   scripts/vm-run --icount --smp 2 --mem 1024M --timeout 2400 -- sh -c 'LOOPS= sh tests/bench/events-bench.sh'
#   (env: MW_N mmap loop iterations; STORM_N storm pairs; LOOPS= skips part 1,
#   STORM= skips part 2)
#
# 1. The mmap loop of tasks-bench.sh (tests/progs/tasks_bench mmap: mmap
#    256 KiB, 64 page faults, munmap) without the module, with it and a
#    reader draining the stream to /dev/null, and with it and no reader.
#    Runs alternate within each round (insmod/rmmod each time), so drift
#    hits all three alike. Prints each round and the ratios of the sums.
#    On one CPU (--smp 1) the reader's own work is part of the loop's time.
# 2. Drain rate: one process storms mmap/munmap of one page (2 events per
#    pair, tests/progs/events_storm) while one reader (dd, 64 KiB reads)
#    copies the stream to a file; prints the storm's event rate and what the
#    reader lost. Needs a second CPU for the reader (--smp 2).
# Numbers land in Documentation/performance.md.
rounds=${1:-5}
P=tests/progs
MW_N=${MW_N:-1500}
STORM_N=${STORM_N:-50000}
LOOPS=${LOOPS-mmap}
STORM=${STORM-storm}

ns_of() { awk '{ print $3 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.4f", a / b }'; }
st() { awk -v k="events.$1" '$1 == k { print $2 }' /proc/memwatch/status; }

echo "# events benchmark on $(uname -r), $(nproc) CPUs, rounds $rounds"
rmmod memwatch 2>/dev/null
for loop in $LOOPS; do
	base=0 rd=0 nord=0
	for w in 1 2 3; do $P/tasks_bench $loop $MW_N >/dev/null; done
	r=1
	while [ $r -le "$rounds" ]; do
		b=$($P/tasks_bench $loop $MW_N | ns_of)
		insmod module/memwatch.ko || exit 1
		dd if=/proc/memwatch/events of=/dev/null bs=64k 2>/dev/null &
		reader=$!
		while [ "$(st readers)" != 1 ]; do sleep 0.1; done
		e0=$(st emitted)
		m=$($P/tasks_bench $loop $MW_N | ns_of)
		e1=$(st emitted)
		lost=$(st lost_by_readers)
		kill $reader; wait $reader 2>/dev/null
		n=$($P/tasks_bench $loop $MW_N | ns_of)
		rmmod memwatch
		echo "round $r $loop x$MW_N: without $b ns, with reader $m ns ($((e1 - e0)) events, lost $lost), no reader $n ns; ratios $(ratio $m $b) $(ratio $n $b)"
		base=$((base + b)) rd=$((rd + m)) nord=$((nord + n))
		r=$((r + 1))
	done
	echo "RESULT $loop loop: with reader / without module = $(ratio $rd $base), module without reader / without module = $(ratio $nord $base) (sums over $rounds rounds)"
done

for s in $STORM; do
	insmod module/memwatch.ko || exit 1
	dd if=/proc/memwatch/events of=/tmp/events-bench.out bs=64k 2>/dev/null &
	reader=$!
	while [ "$(st readers)" != 1 ]; do sleep 0.1; done
	e0=$(st emitted)
	t=$($P/events_storm "$STORM_N" | ns_of)
	e1=$(st emitted)
	# Let the reader catch up, then stop it.
	n=0
	while [ $n -lt 100 ]; do
		last=$(tail -c 600 /tmp/events-bench.out | tail -n 1 | cut -d' ' -f1)
		[ "$last" -ge "$e1" ] 2>/dev/null && break
		sleep 0.1; n=$((n + 1))
	done
	kill $reader; wait $reader 2>/dev/null
	lost=$(st lost_by_readers)
	lines=$(grep -c ' lost ' /tmp/events-bench.out)
	ev=$((e1 - e0))
	echo "RESULT storm: $STORM_N mmap/munmap pairs, $ev events in $t ns: $(awk -v e=$ev -v t=$t 'BEGIN { printf "%d", e / (t / 1e9) }') events/s; reader lost $lost events ($lines lost lines), ring $(st ring_entries)"
	rmmod memwatch
	rm -f /tmp/events-bench.out
done
