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

# The module and the kernel's files read the same global atomics
# (vm_node_stat/vm_zone_stat), so they differ only by what changed between
# the reads. /proc/meminfo and every node's meminfo are read just before and
# just after the module's sys, back to back by one process, until both reads
# agree (tests/progs/quiet_snap, up to 50 tries): nothing moved meanwhile, so
# the module saw the same state and its figures are exact (TOL 0), whatever
# else runs and however many CPUs fold their per-cpu counters.
# /proc/vmstat's allocation counters move with every allocation anywhere, so
# it never reads the same twice: its items (file_pages, isolated_*,
# workingset_nodes) lie between a read before and one after, widened by
# VMSTAT_TOL = 1 MiB for the quiet_snap process's own allocations.
VMSTAT_TOL=1024
NODES=$(cd /sys/devices/system/node && ls -d node[0-9]* | sed 's/node//')
mkdir -p "$tmp/lnk" "$tmp/q"
kfiles=/proc/meminfo
for n in $NODES; do
	# quiet_snap saves each file under its base name: one per node
	ln -s /sys/devices/system/node/node$n/meminfo "$tmp/lnk/node$n-meminfo"
	kfiles="$kfiles $tmp/lnk/node$n-meminfo"
done
cat /proc/vmstat >"$tmp/v1"
# shellcheck disable=SC2086
quiet=$(tests/progs/quiet_snap 50 "$tmp/q" $kfiles -- $MW/sys 2>&1)
t_check $? "a quiet moment: meminfo and node meminfo unchanged around the module's read" "$quiet"
t_diag "$quiet"
cat /proc/vmstat >"$tmp/v2"
cp "$tmp/q/sys" "$tmp/sys"
cp "$tmp/q/meminfo" "$tmp/m1"; cp "$tmp/q/meminfo" "$tmp/m2"
for n in $NODES; do
	cp "$tmp/q/node$n-meminfo" "$tmp/n1.$n"; cp "$tmp/q/node$n-meminfo" "$tmp/n2.$n"
done
TOL=0
mi() { awk -v k="$2:" '$1 == k { print $2 }' "$1"; }
vm() { awk -v k="$2" '$1 == k { print $2 * 4 }' "$1"; }
sysv() { awk -v n="$1" -v i="$2" '$1 == n && $2 == i { print $4 }' "$tmp/sys"; }
check() { # ITEM A B [ROW]: ROW (default total) of sys within A..B +- TOL
	row=${4:-total}
	v=$(sysv "$row" "$1")
	lo=$2; hi=$3
	if [ -z "$lo" ] && [ -z "$hi" ]; then
		# A kernel without the feature has no line (RT kernels: no THP,
		# no AnonHugePages); the module keeps the row and prints 0.
		t_eq "$v" 0 "sys $row $1 is 0: the kernel shows no such line"
		return
	fi
	[ "$lo" -gt "$hi" ] && { lo=$3; hi=$2; }
	if [ -n "$v" ] && [ "$v" -ge $((lo - TOL)) ] && [ "$v" -le $((hi + TOL)) ]; then
		t_ok "sys $row $1 ($v kB) agrees with the kernel ($lo..$hi kB)"
	else
		t_fail "sys $row $1 agrees with the kernel" "sys: '$v' kernel: $lo..$hi +- $TOL"
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
	TOL=$VMSTAT_TOL
	check "$item" "$(vm "$tmp/v1" "$key")" "$(vm "$tmp/v2" "$key")"
	TOL=0
done

# Per node: node rows add up to the total (one node in the VM, but the sum
# is the rule on any machine): exact, the module's read was quiet.
for item in active_anon inactive_file free anon_pages; do
	sum=$(awk -v i="$item" '$1 ~ /^node/ && $2 == i { s += $4 } END { print s + 0 }' "$tmp/sys")
	t_near "$sum" "$(sysv total $item)" $TOL "node rows of $item add up to the total"
done
# Per node: each node row against that node's meminfo in sysfs.
nmi() { awk -v k="$2:" '$3 == k { print $4 }' "$1"; }
for n in $NODES; do
	for pair in total:MemTotal free:MemFree active_anon:"Active(anon)" \
		inactive_anon:"Inactive(anon)" active_file:"Active(file)" \
		inactive_file:"Inactive(file)" unevictable:Unevictable mlocked:Mlocked \
		dirty:Dirty writeback:Writeback writeback_tmp:WritebackTmp \
		file_pages:FilePages mapped:Mapped anon_pages:AnonPages shmem:Shmem \
		kernel_stack:KernelStack pagetables:PageTables kreclaimable:KReclaimable \
		slab:Slab slab_reclaimable:SReclaimable slab_unreclaimable:SUnreclaim \
		anon_thp:AnonHugePages shmem_thp:ShmemHugePages bounce:Bounce; do
		item=${pair%%:*}; key=${pair#*:}
		check "$item" "$(nmi "$tmp/n1.$n" "$key")" "$(nmi "$tmp/n2.$n" "$key")" node$n
	done
done
# pages and kb columns agree (4 KiB pages).
bad=$(awk '/^(total|node)/ && NF == 4 && $3 * 4 != $4' "$tmp/sys")
[ -z "$bad" ]
t_check $? "kb is pages * 4 on every row" "$bad"

# Zones: per node, the same watermarks and present pages as /proc/zoneinfo
# for every zone with memory (zoneinfo also lists each node's empty zones);
# min/low/high are set at boot: exact.
awk '$1 == "Node" { n = $2; sub(",", "", n); z = $4; next }
	z != "" && $1 == "min" { m = $2 } z != "" && $1 == "low" { l = $2 }
	z != "" && $1 == "high" { h = $2 }
	z != "" && $1 == "present" { if ($2 > 0) print "node" n, z, m, l, h, $2; z = "" }' \
	/proc/zoneinfo | sort >"$tmp/zi"
awk '/^# zones:/ { on = 1; next } /^#/ { on = 0 } on { print $1, $2, $4, $5, $6, $7 }' \
	"$tmp/sys" | sort >"$tmp/mz"
t_eq "$(cat "$tmp/mz")" "$(cat "$tmp/zi")" \
	"zones: node, zone, min/low/high/present match /proc/zoneinfo ($(wc -l <"$tmp/zi") zones)"

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
