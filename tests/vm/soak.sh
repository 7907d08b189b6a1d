# tests/vm/soak.sh - insmod/rmmod cycles of memwatch.ko under a storm, with
# the kernel's memory back to its baseline after every unload. POSIX sh
# (busybox ash), run inside the VM from /mw (tests/vm/run-all.sh runs it).
#
#   MW_SOAK_CYCLES=N     cycles (default 15: the short soak of make check;
#                        make soak runs 1000)
#   MW_SOAK_SECONDS=S    stop after S seconds even if cycles remain (0: no
#                        limit; default 150, so a loaded host cannot push
#                        make check's short soak past run-all's 300 s per
#                        file); the debug lane bounds its soak so
#   MW_SOAK_PARAMS=".."  module parameters for every insmod (default none)
#
# The storm, running through every cycle (its own session, frozen with
# SIGSTOP only while memory is measured):
#   stress-ng fork, mmap, mremap, madvise and pthread workers (nice 19), and
#   bursts of a vm worker redirtying 3/4 of MemAvailable with zram swap
#   (5 s on, 5 s off: memory pressure, reclaim, refaults); compaction through /proc/sys/vm/compact_memory every 2 s;
#   two readers of every file under /proc/memwatch (cat, and memwatch-read
#   views, one of them as the unprivileged user); a writer of garbage to
#   every writable file there (threads, threads_pid, and whatever is added).
# Each cycle: insmod, one read of status and a round of garbage writes,
# rmmod. Checked:
#   - every insmod and rmmod succeeds, and /proc/memwatch is gone after rmmod
#   - the module's fixed tables (status *.memory_held_bytes but the tasks
#     snapshot) are the same on every load: nothing grows across loads
#   - the first load's memory shows in the figure below (the check can fail)
#   - after every unload, with the storm frozen, SUnreclaim + VmallocUsed +
#     Percpu from /proc/meminfo (on the debug kernel VmallocUsed + Percpu:
#     kmemleak finds slab leaks there) is within SOAK_TOL_KB (4 MiB) of the baseline
#     taken the same way before the first load: a leak of a page per cycle
#     fails within 1,000 cycles, a leaked table within a few
#   - kmemleak (debug kernel) reports no new unreferenced object after the
#     last unload (two scans); the kernel log itself is checked by run-all.sh
. tests/lib.sh

KO=/mw/module/memwatch.ko
MW=/proc/memwatch
KML=/sys/kernel/debug/kmemleak
CYCLES=${MW_SOAK_CYCLES:-15}
SECONDS_MAX=${MW_SOAK_SECONDS:-150}
PARAMS=${MW_SOAK_PARAMS:-}
SOAK_TOL_KB=4096
tmp=/tmp/soak.$$

uptime_s() { cut -d. -f1 /proc/uptime; }
loaded() { grep -q '^memwatch ' /proc/modules; }
# Kernel memory the module could leave behind, in kB: slab, vmalloc and
# percpu. With kmemleak there (the debug kernel) slab objects are kmemleak's
# to find: KASAN's quarantine holds freed objects for a while and moves
# SUnreclaim by megabytes, so the figure is vmalloc and percpu alone.
KMEM_ITEMS="SUnreclaim: VmallocUsed: Percpu:"
[ -e $KML ] && KMEM_ITEMS="VmallocUsed: Percpu:"
kmem_kb() {
	awk -v items=" $KMEM_ITEMS " 'index(items, " " $1 " ") { s += $2 }
		END { print s + 0 }' /proc/meminfo
}

# ---------------------------------------------------------------- storm
# One session: this script again, as "--storm DIR", starts every worker.
if [ "${1:-}" = --storm ]; then
	dir=$2
	# into the storm's cgroup (if any) before the first worker starts
	[ -n "${3:-}" ] && echo $$ >"$3/cgroup.procs"
	vmkb=$(awk '$1 == "MemAvailable:" { print int($2 * 3 / 4) }' /proc/meminfo)
	# Niced: on 2 emulated CPUs an un-niced storm makes a cycle 40x
	# slower (14 s); the storm still runs whenever the cycle waits (RCU
	# grace periods, text patching), which is when probes come and go.
	nice -n 19 stress-ng --fork 1 --mmap 1 --mmap-bytes 8M --mremap 1 --mremap-bytes 8M \
		--madvise 1 --pthread 1 --pthread-max 8 -t 0 --quiet >/dev/null 2>&1 &
	# memory pressure in bursts (reclaim into zram swap, then refault): a
	# hog redirtying 3/4 of memory all the time keeps kswapd on a CPU
	(while :; do
		nice -n 19 stress-ng --vm 1 --vm-bytes "${vmkb}K" --vm-keep -t 5 --quiet >/dev/null 2>&1
		sleep 5
	done) &
	renice -n 10 -p $$ >/dev/null 2>&1
	# compaction
	(while :; do echo 1 >/proc/sys/vm/compact_memory 2>/dev/null; sleep 2; done) &
	# reader 1: every file, raw
	(while :; do
		for f in $MW/*; do cat "$f" >/dev/null 2>&1; done
		[ -e $MW ] || sleep 0.05 2>/dev/null
	done) &
	# reader 2: the reader's views, root and the unprivileged user in turn
	(while :; do
		for v in "" --tasks --threads --frag --nodes --sys --reclaim --allocfail --status; do
			memwatch-read $v >/dev/null 2>&1
			su user -c "memwatch-read $v --json" >/dev/null 2>&1
		done
	done) &
	# writer: garbage to every file with a write bit (listed by the main
	# loop at the first load, in $dir/writable)
	(while :; do
		for f in $(cat "$dir/writable" 2>/dev/null); do
			for g in "" 0 -1 1 4294967296 99999999999999999999 abc "1 2" \
				"$$" "-$$" "0x10" "$(printf '\001\377')"; do
				printf '%s\n' "$g" >"$f" 2>/dev/null
			done
			head -c 300 /dev/urandom >"$f" 2>/dev/null
			head -c 5000 /dev/zero | tr '\0' 7 >"$f" 2>/dev/null
		done
		[ -e $MW ] || sleep 0.05 2>/dev/null
		[ -s "$dir/writable" ] || sleep 0.2 2>/dev/null
	done) &
	echo started >"$dir/storm-up"
	wait
	exit 0
fi

mkdir -p "$tmp"
if [ ! -f "$KO" ]; then
	t_fail "memwatch.ko is in the VM image" "missing $KO: run scripts/build-module"
	t_done
fi
loaded && rmmod memwatch 2>/dev/null
case $CYCLES in '' | *[!0-9]*) t_fail "MW_SOAK_CYCLES is a number" "got '$CYCLES'"; t_done ;; esac

# zram swap, as tests/vm/reclaim.sh sets it up (built in on the debug kernel)
for m in lz4_compress lz4hc_compress zsmalloc; do
	[ -f /mw/kmods/$m.ko ] && insmod /mw/kmods/$m.ko 2>/dev/null
done
swap=no zram=no
if [ -e /sys/block/zram0 ] || insmod /mw/kmods/zram.ko num_devices=1 2>/dev/null; then
	zram=yes
	# a file run before this one may have left the device set up (a
	# disksize cannot be set twice): make it new
	swapoff /dev/zram0 2>/dev/null
	echo 1 >/sys/block/zram0/reset 2>/dev/null
	echo lzo-rle >/sys/block/zram0/comp_algorithm 2>/dev/null
	echo 256M >/sys/block/zram0/disksize 2>/dev/null && mkswap /dev/zram0 >/dev/null 2>&1 &&
		swapon /dev/zram0 2>/dev/null && swap=yes
fi
t_diag "swap on zram: $swap; cycles $CYCLES, time limit ${SECONDS_MAX}s, params '${PARAMS}'"

kmemleak=no
if [ -w $KML ]; then
	# what is reported from boot on is not ours: scan, then forget it
	echo scan >$KML 2>/dev/null
	echo clear >$KML 2>/dev/null
	kmemleak=yes
fi

# The storm runs in a cgroup (v2) of its own where the kernel has one:
# freezing it is one write, which also catches a child forked meanwhile;
# SIGSTOP to each process costs a walk of /proc twice a cycle (0.3 s of a
# 3.8 s cycle under TCG) and misses a child forked during the walk.
CG=/sys/fs/cgroup/mw-soak
[ -f /sys/fs/cgroup/cgroup.controllers ] || mount -t cgroup2 cgroup2 /sys/fs/cgroup 2>/dev/null
rmdir $CG 2>/dev/null
mkdir $CG 2>/dev/null && [ -f $CG/cgroup.freeze ] || CG=
if [ -n "$CG" ]; then how="the cgroup freezer ($CG)"; else how="SIGSTOP to each process"; fi
t_diag "the storm is frozen for each measurement by $how"

setsid sh tests/vm/soak.sh --storm "$tmp" $CG </dev/null >/dev/null 2>&1 &
storm=$!
# run-all.sh's timeout kills this session, not the storm's: take it along
trap 'storm_thaw; storm_signal KILL; exit 143' TERM INT
n=0
while [ ! -e "$tmp/storm-up" ] && [ $n -lt 100 ]; do sleep 0.1 2>/dev/null || sleep 1; n=$((n + 1)); done
sleep 2
storm_pids() {
	cat /proc/[0-9]*/stat 2>/dev/null | awk -v s="$storm" '{ p = $1; sub(/.*\) /, ""); if ($4 == s) print p }'
}
# its processes that still run (a zombie only waits to be reaped)
storm_live() {
	cat /proc/[0-9]*/stat 2>/dev/null | awk -v s="$storm" '{ p = $1; sub(/.*\) /, ""); if ($4 == s && $1 != "Z") print p }'
}
storm_signal() { # SIG: every process of the storm's session
	for _p in $(storm_pids); do kill -s "$1" "$_p" 2>/dev/null; done
}
freeze_slow=0
# Stop every process of the storm. With the freezer: wait (up to 10 s) until
# the kernel says every task is frozen, so none is still inside an
# allocation when memory is measured.
storm_freeze() {
	if [ -z "$CG" ]; then
		storm_signal STOP
		return
	fi
	echo 1 >$CG/cgroup.freeze
	_n=0
	while [ $_n -lt 1000 ]; do
		while read -r _k _v; do
			[ "$_k" = frozen ] && [ "$_v" = 1 ] && return
		done <$CG/cgroup.events
		sleep 0.01 2>/dev/null || sleep 1
		_n=$((_n + 1))
	done
	freeze_slow=$((freeze_slow + 1))
}
storm_thaw() {
	if [ -n "$CG" ]; then echo 0 >$CG/cgroup.freeze; else storm_signal CONT; fi
}
# kmem=: with the storm frozen and caches dropped, what the kernel holds
quiet_kmem() {
	storm_freeze
	echo 3 >/proc/sys/vm/drop_caches
	kmem=$(kmem_kb)
}

quiet_kmem
base=$kmem
storm_thaw
t_diag "baseline $KMEM_ITEMS ${base} kB; storm: $(storm_pids | wc -l) processes"

fails=0 memfails=0 tablefails=0 i=0 worst=0 held_max=0
tables0=
t0=$(uptime_s)
while [ "$i" -lt "$CYCLES" ]; do
	if [ "$SECONDS_MAX" -gt 0 ] && [ $(($(uptime_s) - t0)) -ge "$SECONDS_MAX" ]; then
		break
	fi
	i=$((i + 1))
	# shellcheck disable=SC2086
	if ! out=$(insmod "$KO" $PARAMS 2>&1); then
		fails=$((fails + 1)); echo "cycle $i: insmod: $out" >>"$tmp/log"
		continue
	fi
	if cat $MW/status >"$tmp/status" 2>/dev/null; then
		# fixed tables: every feature's memory_held_bytes but tasks' (its
		# snapshots come and go with readers), events' without its open
		# readers (the storm's readers of the events file hold one each:
		# the debug kernel, slow to read, was caught with one 3 times in
		# 60 cycles) (one awk: each process costs under TCG) "HELD TABLES"
		tables=$(awk '$1 == "memory_held_bytes" { h = $2 }
			$1 == "events.readers" { r = $2 } $1 == "events.reader_bytes" { rb = $2 }
			$1 ~ /\.memory_held_bytes$/ && $1 != "tasks.memory_held_bytes" { k[++n] = $1; v[n] = $2 }
			END {
				for (i = 1; i <= n; i++) {
					if (k[i] == "events.memory_held_bytes") v[i] -= r * rb
					t = t k[i] "=" v[i] " "
				}
				print h + 0, t
			}' "$tmp/status")
		held=${tables%% *}
		tables=${tables#* }
		[ "${held:-0}" -gt "$held_max" ] && held_max=$held
		if [ -z "$tables0" ]; then
			tables0=$tables
			held0=$held
			# the files with a write bit, for the storm's writer
			for f in $MW/*; do
				case $(ls -l "$f" | cut -c3) in w) echo "$f" ;; esac
			done >"$tmp/writable"
			t_diag "writable files: $(tr '\n' ' ' <"$tmp/writable")"
			# The check below can fail only if the module's own memory
			# shows in the figure: measure it loaded, once.
			quiet_kmem
			loaded_kb=$kmem
			storm_thaw
		elif [ "$tables" != "$tables0" ]; then
			tablefails=$((tablefails + 1))
			echo "cycle $i: tables '$tables' (first load: '$tables0')" >>"$tmp/log"
		fi
	else
		fails=$((fails + 1)); echo "cycle $i: cannot read $MW/status" >>"$tmp/log"
	fi
	for f in $(cat "$tmp/writable" 2>/dev/null); do
		printf 'garbage\n' >"$f" 2>/dev/null
	done
	tries=0
	until out=$(rmmod memwatch 2>&1); do
		tries=$((tries + 1))
		if [ $tries -ge 20 ]; then
			fails=$((fails + 1)); echo "cycle $i: rmmod: $out" >>"$tmp/log"
			break
		fi
		sleep 0.1 2>/dev/null || sleep 1
	done
	if [ -e $MW ]; then
		fails=$((fails + 1)); echo "cycle $i: $MW still there after rmmod" >>"$tmp/log"
	fi
	quiet_kmem
	now=$kmem
	storm_thaw
	d=$((now - base))
	[ $d -lt 0 ] && d=$((-d))
	[ $d -gt "$worst" ] && worst=$d
	if [ $d -gt $SOAK_TOL_KB ]; then
		memfails=$((memfails + 1))
		echo "cycle $i: kernel memory ${now} kB after unload, baseline ${base} kB" >>"$tmp/log"
	fi
	# progress of a long soak (make soak), for whoever watches its log
	[ $((i % 100)) -eq 0 ] && t_diag "cycle $i at $(($(uptime_s) - t0)) s: worst $worst kB, $fails failed cycles"
done
t1=$(uptime_s)
storm_thaw
storm_signal TERM
sleep 1
# a storm process forked after a listing escapes that round's signal: list
# and kill again until the session is empty (up to 10 s)
n=0
while [ -n "$(storm_live)" ] && [ $n -lt 20 ]; do
	storm_signal KILL
	sleep 0.5 2>/dev/null || sleep 1
	n=$((n + 1))
done
left=$(storm_live | tr '\n' ' ')
wait "$storm" 2>/dev/null
[ -n "$CG" ] && rmdir $CG 2>/dev/null

t_diag "$i cycles in $((t1 - t0)) s; module memory_held_bytes up to $held_max; fixed tables: $tables0"
t_diag "kernel memory after unload: worst $worst kB from the baseline (tolerance $SOAK_TOL_KB kB)"
[ "$freeze_slow" -gt 0 ] && t_diag "$freeze_slow measurements taken with the storm not frozen after 10 s"
[ -f "$tmp/log" ] && t_diag "$(head -n 20 "$tmp/log")"
[ "$i" -gt 0 ]
t_check $? "at least one cycle ran"
# held: the module's memory_held_bytes at that first load
seen=$(( ${loaded_kb:-0} - base ))
t_diag "loaded (first cycle): ${loaded_kb:-?} kB, ${seen} kB above the baseline; module says $held0 bytes"
if [ -e $KML ]; then	# kmemleak: slab is left out of KMEM_ITEMS, and so is what the module kmallocs
	t_skip "the loaded module's memory shows in that figure (at least half its memory_held_bytes)" \
		"a kmemleak kernel: SUnreclaim is not measured, and the module's kmalloc'd part with it"
else
	[ $((seen * 1024)) -ge $((${held0:-1} / 2)) ]
	t_check $? "the loaded module's memory shows in that figure (at least half its memory_held_bytes)"
fi
t_eq "$fails" 0 "$i insmod/rmmod cycles under the storm succeed (/proc/memwatch gone after each)"
t_eq "$tablefails" 0 "the module's fixed tables are the same size on every load"
t_eq "$memfails" 0 "kernel memory ($KMEM_ITEMS) within $SOAK_TOL_KB kB of the baseline after each unload"
! loaded
t_check $? "memwatch is unloaded at the end"
t_eq "$left" "" "the storm is gone (no process of its session left to run into the next test)"
# the storm's memory pressure reclaims into zram swap: without it the soak
# is weaker, so a kernel with zram must give it
if [ $zram = yes ]; then
	t_eq "$swap" yes "the storm had swap on zram"
else
	t_skip "the storm had swap on zram" "no zram in this kernel"
fi

if [ $kmemleak = yes ]; then
	# kmemleak reports an object unreferenced for 5 s, in two scans
	sleep 6
	echo scan >$KML 2>/dev/null
	echo scan >$KML 2>/dev/null
	cat $KML >"$tmp/kmemleak" 2>/dev/null
	nleak=$(grep -c 'unreferenced object' "$tmp/kmemleak")
	t_eq "$nleak" 0 "kmemleak: no unreferenced object after the soak"
	[ "$nleak" = 0 ] || head -n 60 "$tmp/kmemleak" | sed 's/^/#   /'
else
	t_skip "kmemleak: no unreferenced object after the soak" "no $KML (not a kmemleak kernel)"
fi
if [ "$swap" = yes ]; then
	swapoff /dev/zram0 2>/dev/null
	echo 1 >/sys/block/zram0/reset 2>/dev/null
fi
rm -rf "$tmp"
t_done
