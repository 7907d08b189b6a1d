# tests/vm/recorder.sh - memwatchd recording the real /proc/memwatch/events:
# the known workload (tests/progs/events_calls) gives exactly its mmap and
# munmap rows with pid and comm, in the file and in memwatch-read --db
# --events; a storm with the recorder attached keeps seq contiguous (no
# loss); a storm beyond a 256-entry ring while the recorder is stopped
# reports the loss and the books balance; SIGKILL during a storm, then
# integrity_check and a second recording; disk full on a small tmpfs.
# POSIX sh (busybox ash); run from /mw inside the VM.
. tests/lib.sh

P=tests/progs
MW=/proc/memwatch
tmp=/tmp/recorder-test.$$
mkdir -p "$tmp"

st() { awk -v k="events.$1" '$1 == k { print $2 }' $MW/status; }
wait_file() {
	n=0
	while [ ! -e "$1" ] && [ $n -lt 600 ]; do sleep 0.1; n=$((n + 1)); done
	[ -e "$1" ]
}
wait_readers() { # N: until status shows N readers
	n=0
	while [ "$(st readers)" != "$1" ] && [ $n -lt 300 ]; do sleep 0.1; n=$((n + 1)); done
	[ "$(st readers)" = "$1" ]
}
q() { sqlite3 "$@" 2>&1; }
wait_for() { # DB SQL VALUE: until the query answers at least VALUE (120 s at most)
	n=0
	while [ $n -lt 1200 ]; do
		v=$(sqlite3 "$1" "$2" 2>/dev/null)
		[ -n "$v" ] && [ "$v" -ge "$3" ] 2>/dev/null && return 0
		sleep 0.1
		n=$((n + 1))
	done
	return 1
}
start_mwd() { # DB ARGS...
	db_=$1
	shift
	memwatchd --db "$db_" --no-http "$@" 2>>"$tmp/log" &
	dp=$!
}
stop_mwd() {
	kill -TERM $dp
	wait $dp
	rc=$?
}

insmod module/memwatch.ko
t_check $? "insmod memwatch.ko"

# --- the known workload ------------------------------------------------------
db=$tmp/a.db
start_mwd $db --interval 1
wait_readers 1
t_check $? "memwatchd has the events file open"
w=$tmp/w
mkdir -p $w
$P/events_calls $w &
wp=$!
wait_file $w/ready
pid=$(cat $w/ready)
touch $w/go
wait_file $w/done
touch $w/exit
wait $wp
wait_for $db "SELECT count(*) FROM event WHERE pid = $pid AND kind = 'exit'" 1
t_check $? "the workload's exit is in the recording"
{
	i=0; while [ $i -lt 10 ]; do echo "mmap,1048576,0,events_calls"; i=$((i + 1)); done
	echo "mmap,4096,0,events_calls"
	echo "mmap,0,-22,events_calls"
	i=0; while [ $i -lt 6 ]; do echo "munmap,1048576,0,events_calls"; i=$((i + 1)); done
	echo "munmap,4096,-22,events_calls"
} >"$tmp/want"
q $db "SELECT kind, size, result, comm FROM event WHERE pid = $pid AND tid = $pid
       AND kind IN ('mmap', 'munmap') AND id >= (SELECT min(id) FROM event
       WHERE pid = $pid AND kind = 'mmap' AND size = 1048576) ORDER BY id" | tr '|' , >"$tmp/got.db"
cmp -s "$tmp/got.db" "$tmp/want"
t_check $? "the file holds its 12 mmaps and 7 munmaps, sizes, results, pid and comm, in order" \
	"$(diff "$tmp/want" "$tmp/got.db" | head -10)"
memwatch-read --db $db --events -p $pid --call mmap,munmap --csv >"$tmp/csv"
t_eq "$(head -1 "$tmp/csv")" "time,seq,pid,tid,call,size_bytes,result,comm" "memwatch-read --db --events --csv"
awk -F, -v p=$pid 'NR > 1 && $3 == p && $4 == p { print $5 "," $6 "," $7 "," $8 }' "$tmp/csv" |
	awk '/^mmap,1048576,/ { on = 1 } on' >"$tmp/got.read"
cmp -s "$tmp/got.read" "$tmp/want"
t_check $? "memwatch-read --db --events -p PID --call mmap,munmap: the same rows" \
	"$(diff "$tmp/want" "$tmp/got.read" | head -10)"
t_eq "$(memwatch-read --db $db --events -p $pid --call exec --csv | tail -n +2 | cut -d, -f5,8)" \
	"exec,events_calls" "its exec row, with the new comm"

# --- a storm with the recorder attached: no loss, seq contiguous ----------------
$P/events_storm 5000 >"$tmp/storm"
e1=$(st emitted)
wait_for $db "SELECT max(seq) FROM event" "$e1"
t_check $? "the recording reaches the storm's last seq ($e1)"
sp=$(q $db "SELECT pid FROM event WHERE kind = 'exec' AND comm = 'events_storm' ORDER BY id DESC LIMIT 1")
t_eq "$(q $db "SELECT kind, count(*), sum(size) FROM event WHERE pid = $sp AND kind IN ('mmap', 'munmap') GROUP BY kind")" \
"mmap|5000|20480000
munmap|5000|20480000" "the storm's 5000 mmap and 5000 munmap rows"
t_eq "$(q $db "SELECT min(seq) = 1 AND max(seq) = count(*) FROM event")" 1 "seq 1..$e1 contiguous in the file"
t_eq "$(q $db "SELECT count(*) FROM loss")" 0 "no loss recorded"
ns=$(awk '{ print $3 }' "$tmp/storm")
t_diag "storm: 10000 events in $((ns / 1000000)) ms ($((10000 * 1000000 / (ns / 1000))) events/s under TCG) recorded without loss"
stop_mwd
t_eq "$rc" 0 "SIGTERM: exit 0"
t_eq "$(q $db "PRAGMA integrity_check")" ok "integrity_check ok"
memwatch-read --db $db -t --csv >"$tmp/tasks.csv" 2>/dev/null
grep -q ",memwatchd$" "$tmp/tasks.csv"
t_check $? "replay of the latest sample lists memwatchd itself"

# --- SIGKILL during a storm, then a second recording ----------------------------
db=$tmp/k.db
start_mwd $db --interval 0.5
wait_readers 1
$P/events_storm 200000 >/dev/null &
spid=$!
wait_for $db "SELECT count(*) FROM event WHERE kind = 'munmap'" 3000
kill -9 $dp
wait $dp 2>/dev/null
kill $spid 2>/dev/null
wait $spid 2>/dev/null
t_eq "$(q $db "PRAGMA integrity_check")" ok "SIGKILL mid-storm: integrity_check ok"
# A queue drop is counted at the next commit, so the committed count may run
# ahead of the gaps below the last committed seq, never behind.
t_eq "$(q $db "SELECT min(seq) = 1 AND count(DISTINCT seq) = count(*) AND
	max(seq) <= count(*) + coalesce((SELECT sum(count) FROM loss), 0) FROM event")" 1 \
	"the committed events are distinct, and every gap in seq 1..max is counted" \
	"$(q $db "SELECT count(*), max(seq) FROM event; SELECT source, sum(count) FROM loss GROUP BY source")"
start_mwd $db --interval 0.5
wait_for $db "SELECT count(*) FROM sample WHERE run_id = 2" 2
stop_mwd
t_eq "$rc:$(q $db "SELECT count(*) FROM run; PRAGMA integrity_check" | tr '\n' ' ')" "0:2 ok " \
	"a second recording on the same file"

# --- a storm beyond a 256-entry ring while the recorder is stopped -------------
rmmod memwatch
insmod module/memwatch.ko events_ring_entries=256
t_check $? "insmod events_ring_entries=256"
db=$tmp/l.db
start_mwd $db --interval 1
wait_readers 1
wait_for $db "SELECT count(*) FROM sample" 1
kill -STOP $dp
$P/events_storm 1000 >/dev/null
kill -CONT $dp
wait_for $db "SELECT count(*) FROM loss WHERE source = 'ring'" 1
t_check $? "the recorder read a lost line"
sleep 1
stop_mwd
t_eq "$rc" 0 "exit 0"
t_eq "$(q $db "SELECT max(seq) - min(seq) + 1 = count(*) + (SELECT sum(count) FROM loss) FROM event")" 1 \
	"books balance: emitted up to the last recorded seq = recorded + lost"
t_eq "$(q $db "SELECT sum(count) FROM loss WHERE source = 'ring'")" "$(st lost_by_readers)" \
	"the recorded ring losses = the module's lost_by_readers"
t_eq "$(q $db "SELECT sum(count) >= 2000 - 256 FROM loss")" 1 "at least the storm minus the ring was lost"

# --- disk full on a small tmpfs --------------------------------------------------
mnt=$tmp/tfs
mkdir -p $mnt
if mount -t tmpfs -o size=2m tmpfs $mnt; then
	head -c 1200000 /dev/zero >$mnt/pad
	db=$mnt/d.db
	: >"$tmp/log"
	start_mwd $db --interval 0.5 --retain 0
	wait_readers 1
	$P/events_storm 6000 >/dev/null
	n=0
	while ! grep -q 'database or disk is full' "$tmp/log" && [ $n -lt 600 ]; do sleep 0.1; n=$((n + 1)); done
	grep -q 'database or disk is full' "$tmp/log"
	t_check $? "disk full: a clear line in the log" "$(tail -3 "$tmp/log")"
	kill -0 $dp
	t_check $? "memwatchd keeps running"
	before=$(q $db "SELECT max(id) FROM sample")
	rm -f $mnt/pad
	wait_for $db "SELECT max(id) FROM sample" $((before + 3))
	t_check $? "samples are written again once space returns"
	stop_mwd
	t_eq "$rc:$(grep -c 'writing again' "$tmp/log" | sed 's/^[1-9][0-9]*$/yes/')" "0:yes" "the log says so; exit 0"
	t_eq "$(q $db "SELECT sum(count) > 0 FROM loss WHERE source IN ('disk', 'samples')")" 1 "the loss is counted"
	t_eq "$(q $db "PRAGMA integrity_check")" ok "the file stays valid"
	umount $mnt
else
	t_fail "mount a 2 MiB tmpfs for the disk-full test"
fi

rmmod memwatch
t_check $? "rmmod"
rm -rf "$tmp"
t_done
