# tests/vm/events.sh - /proc/memwatch/events: a known workload
# (tests/progs/events_calls) yields exactly its rows; exec and exit rows;
# exit's counters agree with the rows and /proc/PID/status; contiguous seq;
# two readers see the same; a storm beyond a small ring gives a lost line
# and the books balance; O_NONBLOCK, short buffers, poll, epoll; root only;
# rmmod with blocked and polling readers; allocfail, compact, extfrag and
# stall events from memwatch_test.ko (as allocfail.sh) and events_hog.
# POSIX sh (busybox ash); run from /mw inside the VM.
. tests/lib.sh

P=tests/progs
MW=/proc/memwatch
tmp=/tmp/events-test.$$
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
# fields FILE PID: the rows of PID without seq, time, pid, tid
fields() { awk -v p="$2" '$4 == p { l = $3; for (i = 6; i <= NF; i++) l = l " " $i; print l }' "$1"; }
# contiguous FILE: "ok", or the first break in seq (lost lines accounted)
contiguous() {
	awk '/^#|^memwatch-events/ { next }
	{ if (have && $1 != next_seq) { print "seq " $1 " after " next_seq - 1; bad = 1; exit }
	  have = 1
	  if ($3 == "lost") { c = $6; sub(/^count=/, "", c); next_seq = $1 + c } else next_seq = $1 + 1 }
	END { if (!bad) print "ok" }' "$1"
}
kv() { # FILE PID KIND KEY: KEY's value in PID's first KIND row
	awk -v p="$2" -v k="$3" -v key="$4" '$4 == p && $3 == k {
		for (i = 6; i <= NF; i++) if (index($i, key "=") == 1) { print substr($i, length(key) + 2); exit } }' "$1"
}

dmesg0=$(dmesg | wc -l)	# only our own kernel messages count below
insmod module/memwatch.ko
t_check $? "insmod memwatch.ko"
[ -e $MW/events ]
t_check $? "$MW/events exists"
t_eq "$(stat -c %a $MW/events)" 400 "mode 0400"
na=$(grep '^probe events ' $MW/status | grep -v ' attached ')
[ -z "$na" ]
t_check $? "the compaction kretprobe attached" "$na"
t_eq "$(st ring_entries)" 16384 "default ring: 16384 entries"
t_eq "$(st memory_held_bytes)" $(( $(st ring_entries) * $(st record_bytes) )) \
	"memory held is the ring: entries x record bytes"
# No reader yet: the awk and cat above exec'd and mapped, but nothing is emitted.
t_eq "$(st emitted):$(st readers)" "0:0" "nothing emitted while nobody has the file open"

su user -c "$P/events_read open" >"$tmp/user" 2>&1
t_eq "$(cat "$tmp/user")" "error 13" "uid 1000 cannot open events (EACCES)"

# --- a known workload, two readers -----------------------------------------
w=$tmp/w; mkdir -p $w $tmp/r1 $tmp/r2
$P/events_read drain $tmp/r1 >"$tmp/ev1" &
r1=$!
$P/events_read drain $tmp/r2 >"$tmp/ev2" &
r2=$!
wait_readers 2
t_check $? "status shows 2 readers"
$P/events_calls $w &
wp=$!
wait_file $w/ready
pid=$(cat $w/ready)
touch $w/go
wait_file $w/done
cat /proc/$pid/status >"$tmp/pstatus"
touch $w/exit
wait $wp
touch $tmp/r1/stop $tmp/r2/stop
wait $r1 $r2

t_eq "$(sed -n 1p "$tmp/ev1")" "memwatch-events - version: 1.0" "version line first"
t_eq "$(sed -n 2p "$tmp/ev1")" "# seq time_ns kind pid tid key=value... comm=COMM" "then the legend"
t_eq "$(grep -c '^memwatch-events' "$tmp/ev1")" 1 "the version line once per open"
# From the workload's first 1 MiB mmap to its exit, the exact calls.
fields "$tmp/ev1" $pid | awk '/^mmap len=1048576 / { on = 1 } on' | sed 's/^exit .*/exit/' >"$tmp/got"
{
	i=0; while [ $i -lt 10 ]; do echo "mmap len=1048576 prot=0x3 flags=0x22 anon=1 result=0 comm=events_calls"; i=$((i + 1)); done
	echo "mmap len=4096 prot=0x1 flags=0x1 anon=0 result=0 comm=events_calls"
	echo "mmap len=0 prot=0x1 flags=0x22 anon=1 result=-22 comm=events_calls"
	i=0; while [ $i -lt 6 ]; do echo "munmap len=1048576 result=0 comm=events_calls"; i=$((i + 1)); done
	echo "munmap len=4096 result=-22 comm=events_calls"
	echo "mremap old_len=1048576 new_len=2097152 flags=0x1 result=0 comm=events_calls"
	echo "mremap old_len=1048576 new_len=2097152 flags=0x1 result=0 comm=events_calls"
	echo "brk delta=1048576 result=0 comm=events_calls"
	echo "brk delta=-1048576 result=0 comm=events_calls"
	echo "exit"
} >"$tmp/want"
cmp -s "$tmp/got" "$tmp/want"
t_check $? "the workload's 12 mmaps, 7 munmaps, 2 mremaps, 2 brks (failed calls with -22) and its exit, in order" \
	"$(diff "$tmp/want" "$tmp/got" | head -20)"
bad=$(awk -v p=$pid '$4 == p && $5 != p' "$tmp/ev1" | head -3)
[ -z "$bad" ]
t_check $? "tid is the pid for the single-threaded workload" "$bad"
t_eq "$(fields "$tmp/ev1" $pid | grep -c '^exec result=0 comm=events_calls$')" 1 "one exec row, result 0, the new comm"
t_eq "$(fields "$tmp/ev1" $pid | grep -c '^exit ')" 1 "one exit row"

# Exit's counters against every row of the pid (from fork, the reader was
# already attached): successful calls, page-rounded bytes.
sums=$(awk -v p=$pid 'function pa(x) { return int((x + 4095) / 4096) * 4096 }
	function v(k,  i) { for (i = 6; i <= NF; i++) if (index($i, k "=") == 1) return substr($i, length(k) + 2) }
	$4 != p || v("result") != 0 { next }
	$3 == "mmap" { mc++; mb += pa(v("len")) }
	$3 == "munmap" { uc++; ub += pa(v("len")) }
	$3 == "mremap" { rc++; g = pa(v("new_len")) - pa(v("old_len")); if (g > 0) rb += g }
	$3 == "brk" { bc++ }
	END { printf "%d %d %d %d %d %d %d", mc, mb / 1024, uc, ub / 1024, rc, rb / 1024, bc }' "$tmp/ev1")
ex=""
for k in mmap_calls mmap_kb munmap_calls munmap_kb mremap_calls mremap_kb brk_calls; do
	ex="$ex $(kv "$tmp/ev1" $pid exit $k)"
done
t_eq "${ex# }" "$sums" "exit's mmap/munmap/mremap calls and KiB and brk calls equal the sums of its rows"
t_eq "$(kv "$tmp/ev1" $pid exit mmap_calls)" 11 "exit: 11 successful mmaps (no mmap before exec)"
hwm=$(awk '$1 == "VmHWM:" { print $2 }' "$tmp/pstatus")
t_near "$(kv "$tmp/ev1" $pid exit hwm_kb)" "$hwm" 64 "exit's hwm_kb is VmHWM of /proc/$pid/status ($hwm KiB, +-64)"
pa=$(kv "$tmp/ev1" $pid exit page_allocs)
[ "$pa" -ge 2560 ]
t_check $? "exit's page_allocs covers the 10 MiB touched (>= 2560)" "got $pa"

t_eq "$(contiguous "$tmp/ev1")" ok "reader 1: seq contiguous"
t_eq "$(grep -c ' lost ' "$tmp/ev1")" 0 "reader 1: nothing lost"
t_eq "$(awk 'NR > 2 && !/^#/ { print $1; exit }' "$tmp/ev1")" 1 "reader 1 starts at seq 1 (the first event since load)"
last1=$(tail -1 "$tmp/ev1" | cut -d' ' -f1)
last2=$(tail -1 "$tmp/ev2" | cut -d' ' -f1)
lo=$last1; [ "$last2" -lt "$lo" ] && lo=$last2
awk -v m=$lo 'NR > 2 && $1 <= m' "$tmp/ev1" >"$tmp/c1"
awk -v m=$lo 'NR > 2 && $1 <= m' "$tmp/ev2" >"$tmp/c2"
cmp -s "$tmp/c1" "$tmp/c2" && [ "$(wc -l <"$tmp/c1")" -eq "$lo" ]
t_check $? "both readers saw the same $lo events, byte for byte" "$(diff "$tmp/c1" "$tmp/c2" | head -5)"

# --- read() and poll() behaviour ---------------------------------------------
t_eq "$($P/events_read nonblock | cut -d' ' -f1)" eagain "O_NONBLOCK: EAGAIN once the ring is drained"
t_eq "$($P/events_read small 10)" einval "a 10-byte buffer: EINVAL (whole lines only)"
s=$($P/events_read small 4096)
case $s in "ok "*) t_ok "a 4096-byte buffer gets whole lines ($s)" ;; *) t_fail "a 4096-byte buffer gets whole lines" "$s" ;; esac
mkdir -p $tmp/p
$P/events_read poll $tmp/p 30000 >"$tmp/poll" &
pp=$!
wait_file $tmp/p/polling
$P/events_storm 1 >/dev/null
wait $pp
t_eq "$(cat "$tmp/poll")" woken "poll() wakes with POLLIN on a new event"
mkdir -p $tmp/e
$P/events_read epoll $tmp/e 30000 >"$tmp/epoll" &
pp=$!
wait_file $tmp/e/polling
$P/events_storm 1 >/dev/null
wait $pp
t_eq "$(cat "$tmp/epoll")" "events 1" "epoll_wait() reports the file readable on a new event"

# --- a reader that keeps up during a storm -----------------------------------
mkdir -p $tmp/k
$P/events_read drain $tmp/k >"$tmp/keep" &
kp=$!
wait_readers 1
$P/events_storm 3000 >"$tmp/storm.out"
sp=$(awk '$3 == "exec" && $NF == "comm=events_storm" { p = $4 } END { print p }' "$tmp/keep")
touch $tmp/k/stop
wait $kp
t_eq "$(awk -v p="$sp" '$4 == p && ($3 == "mmap" || $3 == "munmap")' "$tmp/keep" | wc -l)" 6000 \
	"a storm of 3000 mmap/munmap pairs: 6000 rows"
t_eq "$(contiguous "$tmp/keep")" ok "and seq contiguous, no lost line"

# --- a storm beyond a small ring: lost line, books balance -------------------
rmmod memwatch
t_check $? "rmmod"
for bad in 15 1048577 x; do
	insmod module/memwatch.ko events_ring_entries=$bad 2>/dev/null
	st_bad=$?
	grep -q "^memwatch " /proc/modules && rmmod memwatch
	[ $st_bad != 0 ] && dmesg | tail -5 | grep -q "events_ring_entries=$bad refused: expected an integer from 16 to 1048576"
	t_check $? "events_ring_entries=$bad is refused at insmod, the range in dmesg"
done
insmod module/memwatch.ko events_ring_entries=256
t_check $? "insmod events_ring_entries=256"
t_eq "$(st ring_entries)" 256 "status shows the 256-entry ring"
mkdir -p $tmp/l
$P/events_read lag $tmp/l >"$tmp/lag" &
lp=$!
wait_file $tmp/l/open
$P/events_storm 1000 >/dev/null
touch $tmp/l/go
wait $lp
nlost=$(grep -c ' lost ' "$tmp/lag")
[ "$nlost" -ge 1 ]
t_check $? "the lagging reader got a lost line ($nlost)"
grep ' lost ' "$tmp/lag" | head -1 | grep -Eq '^[0-9]+ [0-9]+ lost 0 0 count=[0-9]+ comm=-$'
t_check $? "lost line format: seq time lost 0 0 count=N comm=-" "$(grep ' lost ' "$tmp/lag" | head -1)"
t_eq "$(contiguous "$tmp/lag")" ok "seq continues after each lost line at seq + count"
books=$(awk '/^memwatch-events|^# seq/ { next }
	/^# emitted / { e = $3; next }
	{ if (!first) first = $1; last = $1
	  if ($3 == "lost") { c = $6; sub(/^count=/, "", c); lost += c; last = $1 + c - 1 } else read++ }
	END { printf "%d %d", e - first + 1, read + lost }' "$tmp/lag")
t_eq "${books% *}" "${books#* }" "books balance: emitted since the reader's first seq = read + lost ($books)"
lost=$(awk '$3 == "lost" { c = $6; sub(/^count=/, "", c); s += c } END { print s + 0 }' "$tmp/lag")
t_eq "$(st lost_by_readers)" "$lost" "status lost_by_readers = the counts told ($lost)"
t_eq "$(awk 'NR == 3 { print $3 }' "$tmp/lag")" lost "its first line after the header is the lost line"
[ "$lost" -ge $((2000 - 256)) ]
t_check $? "at least the 2000 storm events minus the ring's 256 were lost ($lost)"

# --- unload with readers blocked in read(), poll() and epoll_wait() -----------
mkdir -p $tmp/b $tmp/bp $tmp/be
$P/events_read block $tmp/b >"$tmp/block" &
bp=$!
$P/events_read poll $tmp/bp 60000 >"$tmp/bpoll" &
bpp=$!
$P/events_read epoll $tmp/be 5000 >"$tmp/bepoll" &
bep=$!
wait_file $tmp/b/blocked && wait_file $tmp/bp/polling && wait_file $tmp/be/polling
rmmod memwatch
t_check $? "rmmod with readers blocked in read(), poll() and epoll_wait()"
wait $bp $bpp $bep
# 0 from our read(); EIO if it was between two reads when the file went.
case $(cat "$tmp/block") in
eof | "error 5") t_ok "the blocked reader ended at unload ($(cat "$tmp/block"))" ;;
*) t_fail "the blocked reader ended at unload" "$(cat "$tmp/block")" ;;
esac
t_eq "$(cat "$tmp/bpoll")" woken "the poll() waiter woke at unload"
dmesg | grep -q 'memwatch: a poller of events did not wake'
t_eq "$?" 1 "no poller left on the wait queue at unload"

# --- events from the existing pressure workloads ------------------------------
insmod module/memwatch.ko
mkdir -p $tmp/x
$P/events_read drain $tmp/x >"$tmp/press" &
xp=$!
wait_readers 1
if [ -f tests/kmod/memwatch_test.ko ]; then
	# DMA order-10 blocks fail within a few tries (direct compaction is
	# tried first); Normal order-10 blocks for an unmovable allocation
	# come from movable pageblocks: external-fragmentation fallbacks.
	insmod tests/kmod/memwatch_test.ko order=10 tries=64 zone=dma 2>/dev/null
	insmod tests/kmod/memwatch_test.ko order=10 tries=8 zone=normal 2>/dev/null
fi
# Direct reclaim: the hog stops at its first stall event. Without swap
# nothing it touched is reclaimable and its first stall ends in the OOM
# killer (a kernel report); with swap on zram (as reclaim.sh sets up, and
# resets after) reclaim succeeds and the hog sees its stall and stops.
swap=no
for m in zsmalloc lz4_compress lz4hc_compress; do
	[ -f /mw/kmods/$m.ko ] && insmod /mw/kmods/$m.ko 2>/dev/null
done
if [ -e /sys/block/zram0 ] || insmod /mw/kmods/zram.ko num_devices=1 2>/dev/null; then
	echo lzo-rle >/sys/block/zram0/comp_algorithm 2>/dev/null
	echo 256M >/sys/block/zram0/disksize 2>/dev/null && mkswap /dev/zram0 >/dev/null 2>&1 &&
		swapon /dev/zram0 2>/dev/null && swap=yes
fi
if [ $swap = yes ]; then
	avail=$(awk '$1 == "MemAvailable:" { print int($2 / 1024) }' /proc/meminfo)
	$P/events_hog $((avail + 96)) "$tmp/hog.ready" >"$tmp/hog.out" 2>&1 &
	hog=$!
	n=0
	while [ ! -e "$tmp/hog.ready" ] && kill -0 $hog 2>/dev/null && [ $n -lt 900 ]; do sleep 0.1; n=$((n + 1)); done
	kill $hog 2>/dev/null
	wait $hog 2>/dev/null
	swapoff /dev/zram0
	echo 1 >/sys/block/zram0/reset
fi
touch $tmp/x/stop
wait $xp
if [ -f tests/kmod/memwatch_test.ko ]; then
	grep -Eq ' allocfail [0-9]+ [0-9]+ order=10 gfp=0x[0-9a-f]+ node=0 zone=DMA comm=insmod$' "$tmp/press"
	t_check $? "allocfail event: order 10, zone DMA, comm insmod" "$(grep ' allocfail ' "$tmp/press" | head -3)"
	grep -Eq ' compact [0-9]+ [0-9]+ duration_ns=[1-9][0-9]* order=10 result=[a-z_]+ comm=insmod$' "$tmp/press"
	t_check $? "compact event: insmod's order-10 direct compaction, with a duration" "$(grep ' compact ' "$tmp/press" | head -3)"
	grep -Eq ' extfrag [0-9]+ [0-9]+ order=10 fallback_order=10 migratetype=0 fallback_migratetype=[0-9]+ comm=insmod$' "$tmp/press"
	t_check $? "extfrag event: insmod's unmovable order-10 blocks fell back" "$(grep ' extfrag ' "$tmp/press" | head -3)"
else
	t_skip "allocfail, compact, extfrag events" "memwatch_test.ko not built"
fi
if [ $swap = yes ]; then
	grep -Eq " stall $hog $hog duration_ns=[1-9][0-9]* reclaimed_pages=[0-9]+ comm=events_hog$" "$tmp/press"
	t_check $? "stall event: the hog's direct-reclaim stall, with a duration" \
		"$(grep ' stall ' "$tmp/press" | head -3)" "$(cat "$tmp/hog.out")"
	grep -q "^events_hog: $hog stalled after" "$tmp/hog.out"
	t_check $? "the hog saw its own stall in its own reader" "$(cat "$tmp/hog.out")"
else
	t_skip "stall event" "no swap (zram unavailable): a stall would end in the OOM killer"
fi
for k in allocfail compact extfrag stall; do
	n=$(awk -v k=$k '$3 == k' "$tmp/press" | wc -l)
	[ "$n" -le "$(st emitted_$k)" ]
	t_check $? "status emitted_$k ($(st emitted_$k)) covers the $n $k rows read"
done
rmmod memwatch
t_check $? "rmmod"

new=$(dmesg | tail -n +$((dmesg0 + 1)) | grep -E 'BUG:|WARNING:|Oops|Call Trace|memwatch.*(warn|error)' | head -5)
[ -z "$new" ]
t_check $? "no kernel report in dmesg" "$new"
rm -rf "$tmp"
t_done
