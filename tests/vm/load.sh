# tests/vm/load.sh - load/unload memwatch.ko, the status file, and a load/unload
# loop under a concurrent reader + allocation workload. POSIX sh (busybox ash),
# run from /mw inside the VM: sh tests/vm/load.sh
. tests/lib.sh

KO=/mw/module/memwatch.ko
MW=/proc/memwatch
tmp=/tmp/load-test.$$
mkdir -p "$tmp"

loaded() { grep -q '^memwatch ' /proc/modules; }

if [ ! -f "$KO" ]; then
	t_fail "memwatch.ko is in the VM image" "missing $KO: run scripts/build-module $(uname -r)"
	t_done
fi
loaded && rmmod memwatch 2>/dev/null
dmesg | wc -l >"$tmp/dmesg0"

out=$(insmod "$KO" 2>&1)
t_check $? "insmod memwatch.ko" "$out"
loaded
t_check $? "memwatch is listed in /proc/modules"

[ -r $MW/status ]
t_check $? "$MW/status exists"
head -n 1 $MW/status >"$tmp/first" 2>&1
grep -Eqx 'memwatch-status - version: 1\.[0-9]+' "$tmp/first"
t_check $? "status starts with 'memwatch-status - version: 1.N'" "got: $(cat "$tmp/first")"

cat $MW/status >"$tmp/status" 2>&1
t_eq "$(awk '$1 == "kernel_release" { print $2 }' "$tmp/status")" "$(uname -r)" "kernel_release is uname -r"
grep -Eq '^module_version [0-9]+\.[0-9]+\.[0-9]+' "$tmp/status"
t_check $? "status has module_version X.Y.Z"
grep -Eq '^format_version 1\.[0-9]+$' "$tmp/status"
t_check $? "status has format_version 1.N"

probes=$(grep -c '^probe ' "$tmp/status")
[ "$probes" -gt 0 ]
t_check $? "status lists probes" "no 'probe ...' lines"
bad=$(grep '^probe ' "$tmp/status" | awk 'NF < 5 { print }')
[ -z "$bad" ]
t_check $? "every probe line is 'probe FEATURE KIND NAME STATE ...'" "$bad"
grep -Eq '^probe [^ ]+ [^ ]+ [^ ]+ attached( |$)' "$tmp/status"
t_check $? "at least one probe is attached" "$(grep '^probe ' "$tmp/status")"
t_diag "$(grep '^probe ' "$tmp/status" | awk '{ n[$5]++ } END { for (s in n) printf "%s %d  ", s, n[s] }')"

# every file in /proc/memwatch reads without error
for f in $MW/*; do
	[ -f "$f" ] || continue
	case $(ls -l "$f" | cut -c2) in r) ;; *) continue ;; esac
	if [ "${f##*/}" = events ]; then
		# a stream: cat would block; read it until EAGAIN instead
		out=$(tests/progs/events_read nonblock 2>&1)
		case $out in eagain*) t_ok "read $f until EAGAIN" ;; *) t_fail "read $f until EAGAIN" "$out" ;; esac
		continue
	fi
	cat "$f" >/dev/null 2>"$tmp/err"
	t_check $? "cat $f" "$(cat "$tmp/err")"
done

out=$(rmmod memwatch 2>&1)
t_check $? "rmmod memwatch" "$out"
[ ! -e $MW ]
t_check $? "$MW is gone after rmmod"
! loaded
t_check $? "memwatch is no longer in /proc/modules"

out=$(insmod "$KO" 2>&1)
t_check $? "insmod again" "$out"
[ -r $MW/status ]
t_check $? "$MW/status is back"
out=$(rmmod memwatch 2>&1)
t_check $? "rmmod again" "$out"

# --- load/unload loop under a reader + allocation workload -----------------
# reader: cats every /proc/memwatch file (errors while unloaded are expected)
(
	while [ ! -e "$tmp/stop" ]; do
		for f in $MW/*; do cat "$f" >/dev/null 2>&1; done
		cat $MW/status >/dev/null 2>&1
	done
) &
reader=$!
# allocator: memory churn (page allocations, mmap/munmap, reclaim)
if command -v stress-ng >/dev/null 2>&1; then
	stress-ng --vm 1 --vm-bytes 32M --vm-keep --mmap 1 --mmap-bytes 16M -t 600 --quiet >/dev/null 2>&1 &
else
	(while [ ! -e "$tmp/stop" ]; do dd if=/dev/zero bs=1M count=32 2>/dev/null | cat >/dev/null; done) &
fi
alloc=$!

fails=0
i=0
while [ $i -lt 20 ]; do
	i=$((i + 1))
	if ! out=$(insmod "$KO" 2>&1); then
		fails=$((fails + 1)); echo "insmod #$i: $out" >>"$tmp/loop"
	fi
	cat $MW/status >/dev/null 2>&1 || { fails=$((fails + 1)); echo "read status #$i failed" >>"$tmp/loop"; }
	if ! out=$(rmmod memwatch 2>&1); then
		fails=$((fails + 1)); echo "rmmod #$i: $out" >>"$tmp/loop"
	fi
done
touch "$tmp/stop"
kill "$alloc" 2>/dev/null
kill "$reader" 2>/dev/null
wait "$reader" 2>/dev/null
wait "$alloc" 2>/dev/null
t_eq "$fails" 0 "20 load/unload cycles under a reader and memory churn"
[ -f "$tmp/loop" ] && t_diag "$(head -n 10 "$tmp/loop")"
! loaded
t_check $? "memwatch is unloaded after the loop"

n0=$(cat "$tmp/dmesg0")
bad=$(dmesg | tail -n +"$((n0 + 1))" |
	grep -E 'BUG:|WARNING:|Oops|Call Trace|general protection|list_del corruption|refcount_t|memwatch.*(leak|error)')
[ -z "$bad" ]
t_check $? "no kernel warnings during the load tests" "$bad"

rm -rf "$tmp"
t_done
