# tests/vm/params.sh - every module parameter at its extremes: values out of
# range are refused by insmod with a dmesg line naming the range; values in
# range load, show in status as the effective value, and survive a workload
# that fills and overflows the tables they size, with the dropped counters
# counting exactly what did not fit. No kernel report may appear meanwhile.
# POSIX sh (busybox ash); run from /mw inside the VM.
. tests/lib.sh

MW=/proc/memwatch
P=tests/progs
tmp=/tmp/params-test.$$
mkdir -p "$tmp"
REPORT='invoked oom-killer|Out of memory|BUG:|WARNING:|Oops|Call Trace|general protection|list_del corruption|refcount_t|UBSAN|KASAN|kernel BUG|soft lockup|hard LOCKUP|hung_task|blocked for more than|self-detected stall|rcu.*stall|scheduling while atomic|sleeping function called'

st() { awk -v k="$1" '$1 == k { print $2 }' $MW/status; }
unload() { grep -q '^memwatch ' /proc/modules && rmmod memwatch; }

# no_report CONTEXT: fail if the kernel reported trouble since the last call.
dmesg_seen=$(dmesg | wc -l)
no_report() {
	new=$(dmesg | tail -n +$((dmesg_seen + 1)))
	dmesg_seen=$(dmesg | wc -l)
	bad=$(echo "$new" | grep -E "$REPORT")
	if [ -n "$bad" ]; then
		t_fail "$1: no kernel report" "$(echo "$new" | grep -E -A 20 "$REPORT" | head -n 30)"
	else
		t_ok "$1: no kernel report"
	fi
}

# refuse ARGS... : insmod must fail, leave nothing behind, and dmesg must
# name the first argument as refused.
refuse() {
	dmesg -c >/dev/null 2>&1
	out=$(insmod module/memwatch.ko "$@" 2>&1)
	rc=$?
	[ $rc -ne 0 ] && [ ! -e $MW ] && ! grep -q '^memwatch ' /proc/modules
	t_check $? "insmod $* is refused" "insmod exit $rc: $out"
	dmesg | grep -qF "memwatch: $1 refused: expected"
	t_check $? "... dmesg says '$1 refused' and what it expects" "$(dmesg | tail -n 3)"
	unload
	dmesg_seen=$(dmesg | wc -l)
}

# fill K CONTEXT: K processes at once (tasks_fill), exact accounting of
# what fit and what was dropped, entries all given back afterwards.
fill() {
	"$P/tasks_fill" "$1" >"$tmp/fill" 2>"$tmp/fill.err"
	t_check $? "$2: tasks_fill $1" "$(cat "$tmp/fill.err")"
	set -- "$1" "$2" $(awk '$1 == "before" { print $3, $5, $7, $9, $11 }' "$tmp/fill") \
		$(awk '$1 == "full" { print $3, $5, $7, $9, $11 }' "$tmp/fill") \
		$(awk '$1 == "after" { print $3, $7 }' "$tmp/fill")
	k=$1 ctx=$2
	pu0=$3 pd0=$4 tu0=$5 td0=$6 ed0=$7 pu1=$8 pd1=$9 tu1=${10} td1=${11} ed1=${12}
	pu2=${13} tu2=${14}
	pmax=$(st tasks.procs_max) tmax=$(st tasks.threads_max)
	# Each child took a free entry or was dropped, once.
	pfit=$((pmax - pu0)); [ $pfit -gt "$k" ] && pfit=$k
	tfit=$((tmax - tu0)); [ $tfit -gt "$k" ] && tfit=$k
	t_eq "$((pu1 - pu0)):$((pd1 - pd0))" "$pfit:$((k - pfit))" \
		"$ctx: $k processes in $((pmax - pu0)) free process entries: new used:dropped"
	t_eq "$((tu1 - tu0)):$((td1 - td0))" "$tfit:$((k - tfit))" \
		"$ctx: $k threads in $((tmax - tu0)) free thread entries: new used:dropped"
	[ $((ed1 - ed0)) -ge $((k - tfit)) ]
	t_check $? "$ctx: events_dropped counts at least one event per dropped thread" \
		"events_dropped $ed0 -> $ed1, $((k - tfit)) threads dropped"
	t_eq "$pu2:$tu2" "$pu0:$tu0" "$ctx: entries given back when the $k exit"
}

# load ARGS...: insmod must succeed with every feature enabled.
load() {
	dmesg_seen=$(dmesg | wc -l)
	out=$(insmod module/memwatch.ko "$@" 2>&1)
	t_check $? "insmod $*" "$out"
}

# ---- refused: out of range, not numbers, unknown probe ------------------
for v in 0 1048577 4294967295 4294967296 -1 abc 12x ""; do
	refuse "tasks_max=$v"
done
for v in 0 1048577; do refuse "threads_max=$v"; done
for v in 0 4097; do
	refuse "reclaim_ring_size=$v"
	refuse "allocfail_ring_size=$v"
done
for v in 0 15 1048577; do refuse "frag_extfrag_slots=$v"; done
refuse "frag_extfrag_ring=65537"
refuse "allocfail_probe=nosuch"
refuse "allocfail_probe="
# one bad value among good ones refuses the whole load
refuse "threads_max=0" tasks_max=64 reclaim_ring_size=1

# ---- smallest tables: one entry each, overflowed ------------------------
load tasks_max=1 threads_max=1
t_eq "$(st tasks.enabled):$(st tasks.procs_max):$(st tasks.threads_max)" "1:1:1" \
	"tasks_max=1 threads_max=1: status shows the effective limits"
fill 5 "one-entry pools"
fill 40 "one-entry pools"
no_report "tasks_max=1 threads_max=1"
unload

load tasks_max=1
t_eq "$(st tasks.procs_max):$(st tasks.threads_max)" "1:16384" "tasks_max=1 alone"
fill 20 "tasks_max=1"
no_report "tasks_max=1"
unload

load threads_max=1
t_eq "$(st tasks.procs_max):$(st tasks.threads_max)" "8192:1" "threads_max=1 alone"
fill 20 "threads_max=1"
no_report "threads_max=1"
unload

load tasks_max=3 threads_max=2
fill 30 "tasks_max=3 threads_max=2"
no_report "tasks_max=3 threads_max=2"
unload

# every parameter at its smallest at once, the kretprobe allocfail probe
load tasks_max=1 threads_max=1 reclaim_ring_size=1 allocfail_ring_size=1 \
	frag_extfrag_slots=16 frag_extfrag_ring=0 allocfail_probe=kretprobe
t_eq "$(st reclaim.ring_size):$(st allocfail.ring_size):$(st frag.extfrag_slots):$(st frag.extfrag_ring):$(st allocfail.probe)" \
	"1:1:16:0:kretprobe" "all smallest: status shows the effective values"
bad=$(grep '\.enabled 0' $MW/status)
t_eq "$bad" "" "all smallest: every feature enabled"
fill 12 "all smallest"
# a one-row allocation-failure ring after several failures keeps the last
if [ -f tests/kmod/memwatch_test.ko ]; then
	insmod tests/kmod/memwatch_test.ko order=10 tries=64 zone=dma 2>/dev/null
	grep -q '^memwatch_test ' /proc/modules && rmmod memwatch_test
	cat $MW/allocfail >"$tmp/af"
	nf=$(awk '$1 == "failures" { print $2 }' "$tmp/af")
	rows=$(awk '/^# failures:/ { on = 1; next } /^#/ { on = 0 } on' "$tmp/af" | wc -l)
	[ "${nf:-0}" -ge 1 ] && [ "$rows" = 1 ]
	t_check $? "allocfail_ring_size=1: $nf failures, the ring holds one row" "$(cat "$tmp/af")"
else
	t_skip "allocfail_ring_size=1 ring" "memwatch_test.ko not built"
fi
# extfrag: 16 rows at most, a disabled ring prints no events
# (frag_frag as in frag.sh: anon memory in order-0 holes, then pipe buffers)
free_mb=$(awk '/^MemFree:/ { print int($2 / 1024) }' /proc/meminfo)
anon_mb=$((free_mb - 24)); [ "$anon_mb" -gt 400 ] && anon_mb=400
"$P/frag_frag" "$anon_mb" 24 >"$tmp/ff.out" 2>&1 &
wpid=$!
i=0
while [ $i -lt 120 ] && ! grep -q '^ready' "$tmp/ff.out"; do sleep 1; i=$((i + 1)); done
cat $MW/extfrag >"$tmp/ef"
kill $wpid; wait $wpid
t_diag "extfrag_events $(st frag.extfrag_events) rows $(st frag.extfrag_rows) dropped $(st frag.extfrag_dropped)"
rows=$(awk '/^# processes:/ { on = 1; next } /^#/ { on = 0 } on' "$tmp/ef" | wc -l)
recent=$(awk '/^# recent:/ { on = 1; next } /^#/ { on = 0 } on' "$tmp/ef" | wc -l)
[ "$rows" -le 16 ] && [ "$recent" = 0 ]
t_check $? "frag_extfrag_slots=16 frag_extfrag_ring=0: $rows rows <= 16, no recent events" "$(head -n 20 "$tmp/ef")"
# read_file FILE: cat it; the events stream is read until EAGAIN (cat would block)
read_file() {
	if [ "${1##*/}" = events ]; then
		case $("$P/events_read" nonblock 2>&1) in eagain*) return 0 ;; *) return 1 ;; esac
	fi
	cat "$1" >/dev/null
}
for f in $MW/*; do
	[ -f "$f" ] && [ -r "$f" ] || continue
	read_file "$f"
	t_check $? "all smallest: $(basename "$f") reads"
done
no_report "all smallest"
unload

# ---- largest values --------------------------------------------------------
# 2^20 entries are ~150 MiB a tasks pool, 48 MiB the extfrag table: the
# guest may not have it all. A feature that gets no memory is off and
# says -ENOMEM in status; the load itself never fails, nothing is killed.
# on_or_enomem FEATURE KEYS WANT CONTEXT
on_or_enomem() {
	if [ "$(st "$1.enabled")" = 1 ]; then
		got=
		for key in $2; do got="$got$(st "$1.$key"):"; done
		t_eq "$got" "$3" "$4: $1 on, status shows $2"
		[ "$1" = tasks ] && fill 8 "$4"
	else
		grep -q "^probe $1 .* disabled feature init failed (-12)\$" $MW/status
		t_check $? "$4: $1 off for want of memory, and status says -ENOMEM" "$(grep "^$1\\.\\|^probe $1" $MW/status)"
	fi
}
load tasks_max=1048576
on_or_enomem tasks "procs_max threads_max" "1048576:16384:" "tasks_max=1048576"
no_report "tasks_max=1048576"
unload
load tasks_max=1048576 threads_max=1048576 reclaim_ring_size=4096 allocfail_ring_size=4096 \
	frag_extfrag_slots=1048576 frag_extfrag_ring=65536
t_diag "$(grep -E 'enabled|memory_held' $MW/status)"
on_or_enomem tasks "procs_max threads_max" "1048576:1048576:" "all largest"
on_or_enomem frag "extfrag_slots extfrag_ring" "1048576:65536:" "all largest"
t_eq "$(st reclaim.ring_size):$(st allocfail.ring_size)" "4096:4096" "all largest: status shows the ring sizes"
# At least one big table is really taken, or the test proves nothing about
# them; but a guest with under 8 x 48 MiB of RAM (the debug kernel's, whose
# KASAN shadow and debug pools take their share) refuses frag's by the
# module's own rule, which the kernel log then names.
ram_kb=$(awk '$1 == "MemTotal:" { print $2 }' /proc/meminfo)
if [ "$(st tasks.enabled)" = 1 ] || [ "$(st frag.enabled)" = 1 ]; then
	t_ok "all largest: at least one of the big tables fits in the guest"
elif [ "$ram_kb" -lt $((8 * 49152)) ] && dmesg | grep -q "memwatch: frag: 1048576 extfrag slots need .* over 1/8 of RAM"; then
	t_skip "all largest: at least one of the big tables fits in the guest" \
		"MemTotal $ram_kb kB: both refused, frag by its 1/8-of-RAM rule (in dmesg)"
else
	t_fail "all largest: at least one of the big tables fits in the guest" "MemTotal $ram_kb kB"
fi
for f in $MW/*; do
	[ -f "$f" ] && [ -r "$f" ] || continue
	read_file "$f" 2>"$tmp/err"
	rc=$?
	[ $rc = 0 ] || grep -q 'Cannot allocate memory' "$tmp/err"
	t_check $? "all largest: $(basename "$f") reads (or says ENOMEM)" "$(cat "$tmp/err")"
done
no_report "all largest"
unload
load frag_extfrag_slots=1048576 frag_extfrag_ring=65536
on_or_enomem frag "extfrag_slots extfrag_ring" "1048576:65536:" "frag largest alone"
if [ "$(st frag.enabled)" = 1 ]; then
	cat $MW/extfrag >/dev/null
	t_check $? "frag largest alone: extfrag reads"
else	# refused: no file to read, as status says
	[ ! -e $MW/extfrag ] && [ ! -e $MW/frag ]
	t_check $? "frag largest alone: refused, so neither frag nor extfrag is there (MemTotal $ram_kb kB)"
fi
no_report "frag largest"
unload

# rounding: slots go up to a power of two, and status says so
load frag_extfrag_slots=17
t_eq "$(st frag.extfrag_slots)" 32 "frag_extfrag_slots=17 is rounded up to 32 in status"
unload
load tasks_max=0x10 threads_max=0x10
t_eq "$(st tasks.procs_max):$(st tasks.threads_max)" "16:16" "hexadecimal 0x10 is 16"
fill 20 "tasks_max=16 threads_max=16"
no_report "tasks_max=16 threads_max=16"
unload

# loading and unloading many times with the one-entry pools while processes come and go
i=0 ok=1
while [ $i -lt 20 ]; do
	insmod module/memwatch.ko tasks_max=1 threads_max=1 || { ok=0; break; }
	"$P/tasks_fill" 3 >/dev/null || ok=0
	rmmod memwatch || { ok=0; break; }
	i=$((i + 1))
done
t_eq "$ok:$i" "1:20" "20 load/fill/unload cycles with one-entry pools"
no_report "load/unload cycles"

rm -rf "$tmp"
t_done
