# tests/vm/tasks.sh - /proc/memwatch/tasks and threads against known
# workloads (tests/progs/tasks_*) and the kernel's own /proc/PID/status.
# POSIX sh (busybox ash); run from /mw inside the VM.
. tests/lib.sh

P=tests/progs
MW=/proc/memwatch
tmp=/tmp/tasks-test.$$
mkdir -p "$tmp"

# tasks_col FILE KEYCOL KEYVAL COL: COL of the row whose KEYCOL is KEYVAL,
# columns found by name in the "# ..." legend.
tasks_col() {
	awk -v kc="$2" -v kv="$3" -v col="$4" '
	/^# / { for (i = 2; i <= NF; i++) idx[$i] = i - 1; have = 1; next }
	have && $(idx[kc]) == kv { print $(idx[col]); exit }' "$1"
}
status_val() { awk -v k="tasks.$1" '$1 == k { print $2 }' $MW/status; }
held_bytes() { awk '$1 == "tasks.memory_held_bytes" { print $2 }' $MW/status; }
proc_kb() { awk -v k="$2:" '$1 == k { print $2 }' "$1"; }
wait_file() {
	n=0
	while [ ! -e "$1" ] && [ $n -lt 600 ]; do sleep 0.1; n=$((n + 1)); done
	[ -e "$1" ]
}
# delta NAME BEFORE AFTER KEY COL: counter increase between two reads.
delta() { echo $(( $(tasks_col "$3" pid "$4" "$5") - $(tasks_col "$2" pid "$4" "$5") )); }

dmesg0=$(dmesg | wc -l)	# only our own kernel messages count below
insmod module/memwatch.ko
t_check $? "insmod memwatch.ko"
for f in tasks threads threads_pid; do
	[ -r $MW/$f ]
	t_check $? "$MW/$f exists"
done
unavail=$(grep '^probe tasks ' $MW/status | grep -v ' attached ')
[ -z "$unavail" ]
t_check $? "every tasks probe attached" "$unavail"
head -1 $MW/tasks | grep -qx 'memwatch-tasks - version: 1.0'
t_check $? "tasks starts with its version line"

procs0=$(status_val procs_used)
threads0=$(status_val threads_used)
held0=$(held_bytes)
t_diag "baseline: procs_used $procs0 threads_used $threads0 held $held0"

# --- a known sequence of calls: exact counts and bytes -------------------
wd=$tmp/mmap; mkdir -p $wd
$P/tasks_mmap $wd &
wait_file $wd/ready
pid=$(cat $wd/ready)
cat $MW/tasks > $tmp/t0
touch $wd/go
wait_file $wd/done
cat $MW/tasks > $tmp/t1
t_eq "$(delta x $tmp/t0 $tmp/t1 $pid mmap_calls)" 100 "100 mmaps counted"
t_eq "$(delta x $tmp/t0 $tmp/t1 $pid mmap_kb)" 102400 "100 x 1 MiB mapped"
t_eq "$(delta x $tmp/t0 $tmp/t1 $pid munmap_calls)" 40 "40 munmaps counted"
t_eq "$(delta x $tmp/t0 $tmp/t1 $pid munmap_kb)" 40960 "40 x 1 MiB unmapped"
t_eq "$(delta x $tmp/t0 $tmp/t1 $pid mremap_calls)" 3 "3 mremaps counted"
t_eq "$(delta x $tmp/t0 $tmp/t1 $pid mremap_kb)" 3072 "3 mremaps grew 1 MiB each"
t_eq "$(delta x $tmp/t0 $tmp/t1 $pid brk_calls)" 2 "2 brk calls counted"
t_eq "$(delta x $tmp/t0 $tmp/t1 $pid brk_kb)" 2048 "brk grew 2 MiB"
pa=$(delta x $tmp/t0 $tmp/t1 $pid page_allocs)
# 16 MiB touched = 4096 pages, plus page tables; never fewer.
[ "$pa" -ge 4096 ] && [ "$pa" -lt 8192 ]
t_check $? "page_allocs covers the 16 MiB touched (4096..8191 pages)" "got $pa"
mm=$(tasks_col $tmp/t1 pid $pid mmap_kb)
um=$(tasks_col $tmp/t1 pid $pid munmap_kb)
t_eq "$(tasks_col $tmp/t1 pid $pid mapped_net_kb)" $((mm - um)) "mapped_net_kb is mmap_kb - munmap_kb"
ppid=$(tasks_col $tmp/t1 pid $pid ppid)
t_eq "$ppid" "$$" "ppid is the test shell"
t_eq "$(tasks_col $tmp/t1 pid $pid comm)" tasks_mmap "comm"

# --- sampled columns against /proc/PID/status, same moment ---------------
# The workload is parked in a 5 ms access() poll that neither maps nor
# faults, so both files read the same mm counters. Its memory lines of
# /proc/PID/status are read just before and just after the module's tasks,
# until both agree (reclaim may move a page meanwhile; the readers' own
# processes do not touch its counters): then the module read the same
# counters, exactly. (Not the whole file: its context-switch counts move
# with every poll.)
try=0
while :; do
	try=$((try + 1))
	grep -E '^(Vm|Rss|Threads)' /proc/$pid/status > $tmp/s
	cat $MW/tasks > $tmp/t2
	grep -E '^(Vm|Rss|Threads)' /proc/$pid/status > $tmp/s2
	cmp -s $tmp/s $tmp/s2 && break
	[ $try -ge 50 ] && break
	sleep 0.2
done
cmp -s $tmp/s $tmp/s2
t_check $? "a quiet moment: memory lines of /proc/$pid/status unchanged around the module's read ($try tries)"
for pair in vsz_kb:VmSize rss_kb:VmRSS rss_anon_kb:RssAnon rss_file_kb:RssFile \
	    rss_shmem_kb:RssShmem swap_kb:VmSwap data_kb:VmData stack_kb:VmStk \
	    pte_kb:VmPTE hwm_kb:VmHWM; do
	col=${pair%%:*}
	key=${pair#*:}
	t_eq "$(tasks_col $tmp/t2 pid $pid $col)" "$(proc_kb $tmp/s $key)" "$col = $key of /proc/$pid/status"
done
t_eq "$(tasks_col $tmp/t2 pid $pid threads)" "$(proc_kb $tmp/s Threads)" "threads agrees with /proc"
ra=$(tasks_col $tmp/t2 pid $pid rss_anon_kb)
[ "$ra" -ge 16384 ]
t_check $? "rss_anon holds the 16 MiB touched" "got $ra KiB"
total=$(awk '$1 == "MemTotal:" { print $2 }' /proc/meminfo)
rss=$(tasks_col $tmp/t2 pid $pid rss_kb)
t_near "$(tasks_col $tmp/t2 pid $pid share_pm)" $((rss * 1000 / total)) 1 "share_pm is rss per mille of MemTotal"

# --- the reader, against the module ---------------------------------------
out=$(memwatch-read -t -s mmap_calls -n 1 --csv | tail -1 | cut -d, -f1)
t_eq "$out" "$pid" "memwatch-read -t -s mmap_calls -n 1: the workload comes first"
n=$(memwatch-read -t -c tasks_mmap --csv | tail -n +2 | wc -l)
t_eq "$n" 1 "memwatch-read -c tasks_mmap: one row"
v=$(memwatch-read -t -p $pid -b --csv | awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i } NR == 2 { print $c["munmap_kb"] }')
t_eq "$v" "$(tasks_col $tmp/t2 pid $pid munmap_kb)" "memwatch-read -p PID --csv: exact munmap_kb"
memwatch-read -t -p 999999 >/dev/null 2>$tmp/err
t_eq "$?" 1 "memwatch-read -p of a missing pid exits 1"
grep -q 'no process 999999' $tmp/err
t_check $? "and says no process 999999"
n=$(memwatch-read -t -i 0.2 --count 3 -n 2 | grep -c '^ *PID')
t_eq "$n" 3 "--interval 0.2 --count 3 prints 3 samples"
touch $wd/exit
wait

# --- two threads: per-thread attribution ----------------------------------
wd=$tmp/thr; mkdir -p $wd
$P/tasks_threads $wd &
wait_file $wd/ready
pid=$(cat $wd/ready)
touch $wd/go
wait_file $wd/tid_a
wait_file $wd/tid_b
ta=$(cat $wd/tid_a)
tb=$(cat $wd/tid_b)
cat $MW/threads > $tmp/th
t_eq "$(tasks_col $tmp/th tid $ta mmap_calls)" 30 "thread A: 30 mmaps"
t_eq "$(tasks_col $tmp/th tid $tb mmap_calls)" 70 "thread B: 70 mmaps"
t_eq "$(tasks_col $tmp/th tid $ta mmap_kb)" 1920 "thread A: 30 x 64 KiB"
t_eq "$(tasks_col $tmp/th tid $tb mmap_kb)" 4480 "thread B: 70 x 64 KiB"
t_eq "$(tasks_col $tmp/th tid $ta tgid)" "$pid" "thread A's tgid"
cat $MW/tasks > $tmp/t3
pm=$(tasks_col $tmp/t3 pid $pid mmap_calls)
[ "$pm" -ge 100 ]
t_check $? "the process row counts both threads (>= 100 mmaps)" "got $pm"
# Filters: threads_pid for every reader, a write on the open file for one.
echo $pid > $MW/threads_pid
t_check $? "write a pid to threads_pid"
n=$(awk '!/^#/ && NF > 10' $MW/threads | wc -l)
other=$(awk -v p=$pid '!/^#/ && NF > 10 && $2 != p' $MW/threads | wc -l)
t_eq "$n:$other" "3:0" "threads_pid filter: the 3 threads of the process, nothing else"
echo 0 > $MW/threads_pid
n=$(memwatch-read --threads $pid --csv | tail -n +2 | wc -l)
t_eq "$n" 3 "memwatch-read --threads PID: 3 threads"
t_eq "$(cat $MW/threads_pid)" 0 "the reader's own filter left threads_pid alone"
echo abc > $MW/threads_pid 2>/dev/null
t_eq "$?" 1 "threads_pid rejects 'abc'"
echo 999999 > $MW/threads_pid 2>/dev/null
t_eq "$?" 1 "threads_pid rejects a pid with no process"
echo -5 > $MW/threads_pid 2>/dev/null
t_eq "$?" 1 "threads_pid rejects a negative pid"
touch $wd/exit
wait

# --- fds only where /proc/PID/fd would show them -------------------------
# As root: pid 1's count is /proc/1/fd's. As uid 1000: root's processes
# show "-", the reader's own shell a number.
t_eq "$(tasks_col $MW/tasks pid 1 fds)" "$(ls /proc/1/fd | wc -l)" "root sees pid 1's fds = ls /proc/1/fd"
su user -c 'cat /proc/memwatch/tasks > /tmp/tasks-as-user; echo $$ > /tmp/tasks-as-user.pid'
t_check $? "uid 1000 (user) can read tasks"
t_eq "$(tasks_col /tmp/tasks-as-user pid 1 fds)" "-" "uid 1000 sees '-' for pid 1's fds"
upid=$(cat /tmp/tasks-as-user.pid)
t_eq "$(tasks_col /tmp/tasks-as-user pid "$upid" uid)" 1000 "uid 1000 sees its own shell (uid 1000)"
ufds=$(tasks_col /tmp/tasks-as-user pid "$upid" fds)
case $ufds in ''|*[!0-9]*) t_fail "... with a number of fds" "$ufds" ;; *) t_ok "... with a number of fds ($ufds)" ;; esac
nroot=$(awk '/^# / { for (i = 2; i <= NF; i++) idx[$i] = i - 1; h = 1; next }
	h && $(idx["uid"]) == 0 && $(idx["fds"]) != "-" { n++ } END { print n + 0 }' /tmp/tasks-as-user)
t_eq "$nroot" 0 "uid 1000 sees no fd count of any root process"
rm -f /tmp/tasks-as-user /tmp/tasks-as-user.pid

# --- 2,000 short-lived processes leave nothing behind ---------------------
$P/tasks_fork 2000 > $tmp/fork
t_eq "$(cat $tmp/fork)" "forked 2000" "2000 short-lived processes ran"
$P/tasks_fork 200 3 > $tmp/fork
t_eq "$(cat $tmp/fork)" "forked 200" "200 processes of 4 threads ran"
t_eq "$(status_val procs_used)" "$procs0" "no process entry left after exit (procs_used back to baseline)"
t_eq "$(status_val threads_used)" "$threads0" "no thread entry left after exit (threads_used back to baseline)"
t_eq "$(held_bytes)" "$held0" "tasks memory back to baseline"
peak=$(status_val procs_peak)
[ "$peak" -gt "$procs0" ]
t_check $? "the entries were used meanwhile (procs_peak $peak > $procs0)"
t_eq "$(status_val procs_dropped)" 0 "nothing dropped with the default limits"
rmmod memwatch
t_check $? "rmmod memwatch"

# --- a small table: overflow counted, existing entries keep counting ------
insmod module/memwatch.ko tasks_max=8 threads_max=8
t_check $? "insmod tasks_max=8 threads_max=8"
procs0=$(status_val procs_used)
wd=$tmp/small; mkdir -p $wd
$P/tasks_mmap $wd &
wait_file $wd/ready
pid=$(cat $wd/ready)
cat $MW/tasks > $tmp/t0
# 30 processes alive at once cannot all fit in 8 entries. tasks_fill reads
# the counters itself before and while its 30 children live, and nothing
# else runs meanwhile (this shell waits for it), so each child either took
# a free entry or was counted once as dropped: exact, whatever the timing.
$P/tasks_fill 30 > $tmp/fill
t_check $? "tasks_fill 30"
fill_val() { awk -v r="$1" -v k="$2" '$1 == r { for (i = 2; i < NF; i += 2) if ($i == k) print $(i + 1) }' $tmp/fill; }
for kind in procs threads; do
	u0=$(fill_val before ${kind}_used) u1=$(fill_val full ${kind}_used)
	d0=$(fill_val before ${kind}_dropped) d1=$(fill_val full ${kind}_dropped)
	fit=$((8 - u0)); [ $fit -gt 30 ] && fit=30
	t_eq "$((u1 - u0)):$((d1 - d0)):$u1" "$fit:$((30 - fit)):8" \
		"each of 30 new processes took one of the $((8 - u0)) free $kind entries or was dropped once (new used:dropped:used)"
	t_eq "$(fill_val after ${kind}_used)" "$u0" "$kind entries given back when the 30 exit"
done
[ "$(fill_val full events_dropped)" -gt "$(fill_val before events_dropped)" ]
t_check $? "events of the dropped threads counted in events_dropped"
# The same overflow with processes that stay, while one with an entry works.
hd=$tmp/hold; mkdir -p $hd
$P/tasks_hold 30 $hd &
wait_file $hd/ready
pd=$(status_val procs_dropped)
td=$(status_val threads_dropped)
[ "$pd" -gt 0 ] && [ "$td" -gt 0 ] && [ "$(status_val events_dropped)" -gt 0 ]
t_check $? "overflow counted: procs_dropped $pd threads_dropped $td"
[ "$(status_val procs_used)" -le 8 ] && [ "$(status_val threads_used)" -le 8 ]
t_check $? "used entries stay within the limits"
touch $wd/go
wait_file $wd/done
cat $MW/tasks > $tmp/t1
t_eq "$(delta x $tmp/t0 $tmp/t1 $pid mmap_calls)" 100 "a process with an entry keeps counting while others are dropped"
rows=$(grep -vc '^#' $MW/tasks)
[ "$rows" -gt 32 ]
t_check $? "tasks still lists every process ($rows lines)"
touch $hd/exit $wd/exit
wait
t_eq "$(status_val procs_used)" "$procs0" "entries given back after the overflow"
rmmod memwatch
t_check $? "rmmod after overflow"

bad=$(dmesg | tail -n +$((dmesg0 + 1)) | grep -E 'BUG|WARNING|Oops|general protection|memwatch.*leak')
[ -z "$bad" ]
t_check $? "no kernel warnings" "$bad"
rm -rf "$tmp"
t_done
