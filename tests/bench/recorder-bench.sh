# tests/bench/recorder-bench.sh - what memwatchd costs and stores.
#
#   bash tests/bench/recorder-bench.sh host        # on the host (native): parts 1-3
#   scripts/vm-run --icount --smp 2 --mem 1024M --timeout 1500 -- sh tests/bench/recorder-bench.sh vm
#                                                  # in the VM: part 3
#   scripts/vm-run --icount --smp 1 --mem 2048M --timeout 3000 -- sh tests/bench/recorder-bench.sh drain
#                                                  # in the VM: part 4 (DRAIN_N, DRAIN_RING)
#
# 1. (host) Recorder throughput: memwatchd records EV_N mmap/munmap lines
#    appended at once to its --events file, then SIGTERM; events/s from the
#    append to memwatchd's exit (every event committed, the WAL
#    checkpointed), CPU seconds of memwatchd (utime + stime) per 10,000
#    events, bytes per event (file size / events). From the module: the
#    VM part (drain).
# 2. (host) Bytes per sample and a day's file at the default interval: HOLD
#    processes alive (tests/progs/tasks_hold, 2,000 by default), memwatchd
#    samples SAMPLES times at --interval 0.2 with the default --full-every
#    60, without events; bytes per sample = file growth / samples; a day =
#    17,280 samples at 5 s.
# 3. (vm) The mmap loop of tasks-bench (tests/progs/tasks_bench mmap) with
#    the module loaded and nobody reading events, against the same with
#    memwatchd recording (events on, every call written); alternate rounds,
#    ratio of summed times; and the storm rate the recorder kept with no
#    loss (seq contiguous in the file).
# Numbers land in Documentation/performance.md.
mode=${1:-host}
EV_N=${EV_N:-1000000}
HOLD=${HOLD:-2000}
SAMPLES=${SAMPLES:-120}
ROUNDS=${ROUNDS:-5}
MW_N=${MW_N:-1500}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.4f", a / b }'; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
now_ns() { date +%s%N; }

if [ "$mode" = host ]; then
	cd "$(dirname "$0")/../.." || exit 1
	mwd=$PWD/userspace/memwatchd/memwatchd
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	echo "# recorder benchmark on the host: $(nproc) CPUs, $(uname -r)"

	# --- 1. throughput ---------------------------------------------------
	# The whole stream appended at once, then SIGTERM: memwatchd reads to
	# the end (a full queue makes the reader wait, --queue-wait), commits
	# and exits; events/s = events / (append to exit).
	awk -v n="$EV_N" 'BEGIN {
		for (i = 1; i <= n; i += 2) {
			printf "%d %d mmap %d %d len=262144 prot=0x3 flags=0x22 anon=1 result=0 comm=tasks_bench\n", i, i * 1000, 1000 + i % 97, 1000 + i % 97
			printf "%d %d munmap %d %d len=262144 result=0 comm=tasks_bench\n", i + 1, i * 1000 + 500, 1000 + i % 97, 1000 + i % 97
		}
	}' >"$tmp/stream"
	echo "memwatch-events - version: 1.0" >"$tmp/ev"
	db=$tmp/t.db
	MEMWATCH_ROOT=$tmp/none "$mwd" --db "$db" --no-http --interval 5 --events "$tmp/ev" 2>"$tmp/log" &
	pid=$!
	while [ "$(sqlite3 "$db" 'SELECT count(*) FROM run' 2>/dev/null || echo 0)" -lt 1 ]; do sleep 0.05; done
	ticks0=$(cpu_ticks $pid)
	t0=$(now_ns)
	cat "$tmp/stream" >>"$tmp/ev"
	ticks=$(( $(cpu_ticks $pid) - ticks0 ))
	kill -TERM $pid
	while [ -d /proc/$pid ] && [ "$(awk '{ print $3 }' /proc/$pid/stat 2>/dev/null)" != Z ]; do
		ticks=$(( $(cpu_ticks $pid 2>/dev/null || echo $((ticks + ticks0))) - ticks0 ))
		sleep 0.01
	done
	t1=$(now_ns)
	wait $pid
	n_rec=$(sqlite3 "$db" 'SELECT count(*) FROM event')
	gaps=$(sqlite3 "$db" 'SELECT max(seq) - min(seq) + 1 - count(*) FROM event')
	hz=$(getconf CLK_TCK)
	lost=$(sqlite3 "$db" 'SELECT coalesce(sum(count), 0) FROM loss')
	bytes=$(stat -c %s "$db")
	echo "RESULT throughput: $EV_N events in $(( (t1 - t0) / 1000000 )) ms = $(( EV_N * 1000 / ((t1 - t0) / 1000000) )) events/s from append to committed and exited; recorded $n_rec, seq gaps $gaps, lost $lost"
	echo "RESULT cpu: $(awk -v t="$ticks" -v hz="$hz" -v n="$EV_N" 'BEGIN { printf "%.3f", t / hz / n * 10000 }') CPU-seconds per 10,000 events (= share of one CPU at 10,000 events/s)"
	echo "RESULT bytes per event: $(( bytes / EV_N )) (file $bytes bytes for $EV_N events, indexes included)"
	# The peer: the sqlite3 shell importing the same rows (already parsed,
	# as CSV) into the same schema and indexes, one transaction, WAL and
	# synchronous=NORMAL as memwatchd: the floor of SQLite itself here.
	awk -v rid=1 '{ args = ""; for (i = 6; i < NF; i++) if ($i !~ /^len=/) args = args (args ? " " : "") $i
		sub(/^len=/, "", $6); printf "%d,%d,%d,%d,%s,%d,%d,%d,0,%s,tasks_bench\n", rid, $1, $2, $2, $3, $4, $5, $6, args }' \
		"$tmp/stream" >"$tmp/rows.csv"
	sqlite3 "$tmp/peer.db" "PRAGMA journal_mode=WAL;" >/dev/null
	sqlite3 "$tmp/peer.db" <userspace/memwatchd/schema.sql
	p0=$(now_ns)
	sqlite3 "$tmp/peer.db" "PRAGMA synchronous=NORMAL; PRAGMA cache_size=-16384;" \
		"CREATE TEMP TABLE r(run_id,seq,time_ns,time_unix_ns,kind,pid,tid,size,result,args,comm);" \
		".import --csv $tmp/rows.csv r" \
		"INSERT INTO event(run_id,seq,time_ns,time_unix_ns,kind,pid,tid,size,result,args,comm) SELECT * FROM r;"
	p1=$(now_ns)
	peer_n=$(sqlite3 "$tmp/peer.db" 'SELECT count(*) FROM event')
	echo "RESULT peer: sqlite3 shell imports the same $peer_n rows (CSV, same schema and indexes) in $(( (p1 - p0) / 1000000 )) ms = $(( peer_n * 1000 / ((p1 - p0) / 1000000) )) rows/s; memwatchd / sqlite3 = $(ratio $(( EV_N * 1000 / ((t1 - t0) / 1000000) )) $(( peer_n * 1000 / ((p1 - p0) / 1000000) )))"

	# --- 2. bytes per sample with HOLD processes -------------------------
	make -s -C tests/progs tasks_hold >/dev/null 2>&1
	mkdir -p "$tmp/hold"
	tests/progs/tasks_hold "$HOLD" "$tmp/hold" >/dev/null &
	hp=$!
	while [ ! -e "$tmp/hold/ready" ]; do sleep 0.1; done
	nproc_now=$(ls -d /proc/[0-9]* | wc -l)
	db=$tmp/s.db
	"$mwd" --db "$db" --no-http --interval 0.2 --events /dev/null 2>"$tmp/log" &
	pid=$!
	while [ "$(sqlite3 "$db" 'SELECT count(*) FROM sample' 2>/dev/null || echo 0)" -lt 1 ]; do sleep 0.05; done
	sleep 1
	b0=$(sqlite3 "$db" 'PRAGMA page_count' ); s0=$(sqlite3 "$db" 'SELECT count(*) FROM sample')
	while [ "$(sqlite3 "$db" 'SELECT count(*) FROM sample')" -lt $((s0 + SAMPLES)) ]; do sleep 0.2; done
	kill -TERM $pid
	wait $pid
	touch "$tmp/hold/exit"
	wait $hp
	s1=$(sqlite3 "$db" 'SELECT count(*) FROM sample')
	b1=$(sqlite3 "$db" 'PRAGMA page_count')
	psz=$(sqlite3 "$db" 'PRAGMA page_size')
	full=$(sqlite3 "$db" 'SELECT sum(full) FROM sample')
	per=$(( (b1 - b0) * psz / (s1 - s0) ))
	echo "RESULT bytes per sample: $per with $nproc_now processes ($((s1 - s0)) samples, $full full in the file)"
	echo "RESULT a day at --interval 5: $(( per * 17280 / 1024 / 1024 )) MiB (17,280 samples; events extra)"
	sqlite3 "$db" "SELECT 'rows per sample: task ' || (SELECT count(*) FROM task) / $s1 || ', file ' || (SELECT count(*) FROM file) / $s1 || ', counter ' || (SELECT count(*) FROM counter) / $s1"
	exit 0
fi

# ----------------------------------------------------------------- drain
# 4. (vm) The recorder's drain rate from the module: the ring holds
#    DRAIN_RING events (module parameter events_ring_entries), memwatchd
#    has the file open but is stopped (SIGSTOP) while events_storm makes
#    DRAIN_N events; then SIGCONT and SIGTERM: memwatchd reads the ring to
#    its end, commits and exits. Rate = events / (SIGCONT to exit), guest
#    clock; every seq of the storm must be in the file and the loss table
#    and the module's lost count must be 0 (emitted = recorded + lost).
if [ "$mode" = drain ]; then
	P=tests/progs
	DRAIN_N=${DRAIN_N:-1000000}
	DRAIN_RING=${DRAIN_RING:-1048576}
	tmp=/tmp/recorder-drain
	rm -rf $tmp
	mkdir -p $tmp
	rmmod memwatch 2>/dev/null
	insmod module/memwatch.ko events_ring_entries="$DRAIN_RING" || exit 1
	stv() { awk -v k="$1" '$1 == k { print $2 }' /proc/memwatch/status; }
	echo "# recorder drain in the VM on $(uname -r), $(nproc) CPUs: ring $(stv events.ring_entries) entries of $(stv events.record_bytes) bytes"
	memwatchd --db $tmp/d.db --no-http --interval 5 2>$tmp/log &
	dp=$!
	while [ "$(stv events.readers)" != 1 ]; do sleep 0.1; done
	while [ "$(sqlite3 $tmp/d.db 'SELECT count(*) FROM run' 2>/dev/null || echo 0)" -lt 1 ]; do sleep 0.1; done
	sleep 1
	kill -STOP $dp
	s0=$(stv events.emitted)
	ns=$($P/events_storm $((DRAIN_N / 2)) | awk '{ print $3 }')
	s1=$(stv events.emitted)
	# busybox date has no %N: /proc/uptime's centiseconds, ample for seconds of drain
	up_ms() { awk '{ printf "%d", $1 * 1000 }' /proc/uptime; }
	t0=$(up_ms)
	kill -CONT $dp
	kill -TERM $dp
	wait $dp
	t1=$(up_ms)
	n=$((s1 - s0))
	rec=$(sqlite3 $tmp/d.db "SELECT count(*) FROM event WHERE seq > $s0 AND seq <= $s1")
	lost=$(sqlite3 $tmp/d.db "SELECT coalesce(sum(count), 0) FROM loss")
	told=$(stv events.lost_by_readers)
	ms=$((t1 - t0))
	[ "$ms" -gt 0 ] || ms=1
	echo "storm: $n events in $((ns / 1000000)) ms (guest clock) into the ring, memwatchd stopped"
	echo "RESULT drain: $n events from the module ring into the committed file in $ms ms = $(( n * 1000 / ms )) events/s (guest clock); recorded $rec, lost in file $lost, module lost_by_readers ${told:-?}, emitted - recorded - lost = $((n - rec - lost))"
	ls -l $tmp/d.db | awk '{ print "file bytes " $5 }'
	tail -2 $tmp/log
	rm -rf $tmp
	rmmod memwatch
	exit 0
fi

# ------------------------------------------------------------------- vm
P=tests/progs
tmp=/tmp/recorder-bench
mkdir -p $tmp
echo "# recorder benchmark in the VM on $(uname -r), $(nproc) CPUs, rounds $ROUNDS"
rmmod memwatch 2>/dev/null
insmod module/memwatch.ko || exit 1
for w in 1 2 3; do $P/tasks_bench mmap "$MW_N" >/dev/null; done
base=0 rec=0 r=1
while [ $r -le "$ROUNDS" ]; do
	b=$($P/tasks_bench mmap "$MW_N" | awk '{ print $3 }')
	rm -f $tmp/r.db*
	memwatchd --db $tmp/r.db --no-http --interval 5 2>/dev/null &
	dp=$!
	while [ "$(awk '$1 == "events.readers" { print $2 }' /proc/memwatch/status)" != 1 ]; do sleep 0.1; done
	m=$($P/tasks_bench mmap "$MW_N" | awk '{ print $3 }')
	kill -TERM $dp
	wait $dp
	echo "round $r mmap x$MW_N: module only $b ns, with memwatchd recording $m ns, ratio $(ratio $m $b)"
	base=$((base + b))
	rec=$((rec + m))
	r=$((r + 1))
done
echo "RESULT mmap loop with memwatchd recording / module without a reader = $(ratio $rec $base) (sum over $ROUNDS rounds)"
rm -f $tmp/s.db*
memwatchd --db $tmp/s.db --no-http --interval 5 2>/dev/null &
dp=$!
while [ "$(awk '$1 == "events.readers" { print $2 }' /proc/memwatch/status)" != 1 ]; do sleep 0.1; done
for n in 2000 10000 40000; do
	s0=$(awk '$1 == "events.emitted" { print $2 }' /proc/memwatch/status)
	ns=$($P/events_storm $n | awk '{ print $3 }')
	s1=$(awk '$1 == "events.emitted" { print $2 }' /proc/memwatch/status)
	while [ "$(sqlite3 $tmp/s.db 'SELECT coalesce(max(seq), 0) FROM event' 2>/dev/null || echo 0)" -lt "$s1" ]; do sleep 0.2; done
	gaps=$(sqlite3 $tmp/s.db "SELECT $s1 - $s0 + 1 - count(*) FROM event WHERE seq BETWEEN $s0 AND $s1")
	echo "RESULT storm $((2 * n)) events at $((2 * n * 1000 / (ns / 1000000))) events/s (guest clock): missing from the file $gaps"
done
kill -TERM $dp
wait $dp
rmmod memwatch
