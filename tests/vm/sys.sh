# tests/vm/sys.sh - /proc/memwatch/sys against /proc/meminfo and /proc/vmstat
# read at the same moment. POSIX sh (busybox ash); run from /mw in the VM.
. tests/lib.sh
MW=/proc/memwatch
tmp=/tmp/sys-test.$$
mkdir -p "$tmp"

insmod module/memwatch.ko
t_check $? "insmod memwatch.ko"
head -1 $MW/sys | grep -qx 'memwatch-sys - version: 1.0'
t_check $? "sys starts with its version line"
grep -q '^# node *item *pages *kb$' $MW/sys
t_check $? "sys has the node/item legend"

# meminfo, sys, meminfo: the module's figure must lie between the two
# kernel readings, widened by TOL kB. Both read the same global atomics
# (vm_node_stat/vm_zone_stat), so the only difference is what changed
# between the reads; TOL = 1 MiB covers the allocations of the cat/awk
# processes themselves on an otherwise idle VM.
TOL=1024
cat /proc/meminfo >"$tmp/m1"; cat /proc/vmstat >"$tmp/v1"
cat $MW/sys >"$tmp/sys"
cat /proc/meminfo >"$tmp/m2"; cat /proc/vmstat >"$tmp/v2"
mi() { awk -v k="$2:" '$1 == k { print $2 }' "$1"; }
vm() { awk -v k="$2" '$1 == k { print $2 * 4 }' "$1"; }
sysv() { awk -v n="$1" -v i="$2" '$1 == n && $2 == i { print $4 }' "$tmp/sys"; }
check() { # ITEM A B
	v=$(sysv total "$1")
	lo=$2; hi=$3
	[ "$lo" -gt "$hi" ] && { lo=$3; hi=$2; }
	if [ -n "$v" ] && [ "$v" -ge $((lo - TOL)) ] && [ "$v" -le $((hi + TOL)) ]; then
		t_ok "sys total $1 ($v kB) agrees with the kernel ($lo..$hi kB)"
	else
		t_fail "sys total $1 agrees with the kernel" "sys: '$v' kernel: $lo..$hi +- $TOL"
	fi
}
for pair in total:MemTotal free:MemFree available:MemAvailable \
	active_anon:"Active(anon)" inactive_anon:"Inactive(anon)" \
	active_file:"Active(file)" inactive_file:"Inactive(file)" \
	unevictable:Unevictable mlocked:Mlocked dirty:Dirty writeback:Writeback \
	writeback_tmp:WritebackTmp anon_pages:AnonPages mapped:Mapped shmem:Shmem \
	kreclaimable:KReclaimable slab:Slab slab_reclaimable:SReclaimable \
	slab_unreclaimable:SUnreclaim kernel_stack:KernelStack pagetables:PageTables \
	anon_thp:AnonHugePages shmem_thp:ShmemHugePages nfs_unstable:NFS_Unstable \
	bounce:Bounce swapcache:SwapCached; do
	item=${pair%%:*}; key=${pair#*:}
	check "$item" "$(mi "$tmp/m1" "$key")" "$(mi "$tmp/m2" "$key")"
done
for pair in file_pages:nr_file_pages isolated_anon:nr_isolated_anon \
	isolated_file:nr_isolated_file workingset_nodes:workingset_nodes; do
	item=${pair%%:*}; key=${pair#*:}
	check "$item" "$(vm "$tmp/v1" "$key")" "$(vm "$tmp/v2" "$key")"
done

# Per node: node rows add up to the total (one node in the VM, but the sum
# is the rule on any machine). Same tolerance reasoning.
for item in active_anon inactive_file free anon_pages; do
	sum=$(awk -v i="$item" '$1 ~ /^node/ && $2 == i { s += $4 } END { print s + 0 }' "$tmp/sys")
	t_near "$sum" "$(sysv total $item)" $TOL "node rows of $item add up to the total"
done
# pages and kb columns agree (4 KiB pages).
bad=$(awk '/^(total|node)/ && NF == 4 && $3 * 4 != $4' "$tmp/sys")
[ -z "$bad" ]
t_check $? "kb is pages * 4 on every row" "$bad"

# Zones: the same watermarks and free pages as /proc/zoneinfo (min/low/high
# are set at boot, exact; free moves: TOL in pages).
for z in DMA DMA32 Normal; do
	zi=$(awk -v z="$z" '$1 == "Node" && $4 == z { on = 1; next } $1 == "Node" { on = 0 }
		on && $1 == "min" { m = $2 } on && $1 == "low" { l = $2 } on && $1 == "high" { h = $2 }
		on && $1 == "present" { p = $2 } END { print m, l, h, p }' /proc/zoneinfo)
	mz=$(awk -v z="$z" '$2 == z && $1 ~ /^node/ { print $4, $5, $6, $7 }' "$tmp/sys")
	[ -n "$mz" ] || { t_skip "zone $z watermarks" "no zone $z"; continue; }
	t_eq "$mz" "$zi" "zone $z min/low/high/present match /proc/zoneinfo"
done

# The reader: --sys pivot, JSON parses with the same total.
memwatch-read --sys --json >"$tmp/json" 2>"$tmp/err"
t_check $? "memwatch-read --sys --json runs" "$(cat "$tmp/err")"
grep -q '"item":"total","total_pages":[0-9]*,"total_kb":[0-9]*,"node0_pages"' "$tmp/json"
t_check $? "--sys --json has total and node0 columns" "$(head -c 300 "$tmp/json")"
memwatch-read --sys >"$tmp/txt" 2>&1
grep -q '^active_anon ' "$tmp/txt"
t_check $? "memwatch-read --sys text lists items"
memwatch-read --sys --csv --interval 0.2 --count 2 >"$tmp/csv" 2>&1
t_eq "$(grep -c '^time,item,total_pages' "$tmp/csv")" 1 "--sys --csv --interval prints its header once"
memwatch-read >"$tmp/sum" 2>&1
t_check $? "memwatch-read summary runs with the module"
t_near "$(wc -l <"$tmp/sum")" 12 12 "summary fits in 24 lines"

rmmod memwatch
t_check $? "rmmod memwatch"
rm -rf "$tmp"
t_done
