# tests/vm/frag.sh - /proc/memwatch/{nodes,frag,extfrag} against the kernel's
# own files, before and after a fragmenting workload, and memwatch-read
# --frag/--nodes/--frag-events. POSIX sh (busybox ash), run from /mw in the
# VM, best with little RAM: scripts/vm-run --mem 256M -- sh tests/vm/frag.sh
. tests/lib.sh

KO=/mw/module/memwatch.ko
MW=/proc/memwatch
DBG=/sys/kernel/debug/extfrag
TR=/sys/kernel/tracing
PROG=/mw/tests/progs/frag_frag
SNAP=/mw/tests/progs/quiet_snap
tmp=/tmp/frag-test.$$
mkdir -p "$tmp"
wpid=""

cleanup() {
	[ -n "$wpid" ] && kill "$wpid" 2>/dev/null
	[ -w $TR/events/kmem/mm_page_alloc_extfrag/enable ] &&
		echo 0 >$TR/events/kmem/mm_page_alloc_extfrag/enable
}
trap cleanup EXIT

if [ ! -f "$KO" ]; then
	t_fail "memwatch.ko is in the VM image" "missing $KO"
	t_done
fi
grep -q '^memwatch ' /proc/modules && rmmod memwatch
out=$(insmod "$KO" 2>&1)
t_check $? "insmod memwatch.ko" "$out"

# ---- files, headers, modes ----
for f in nodes frag extfrag; do
	first=$(head -n 1 $MW/$f 2>&1)
	t_eq "$first" "memwatch-$f - version: 1.0" "$f starts with its version line"
done
t_eq "$(stat -c %a $MW/nodes)" 444 "nodes is 0444 (cheap public facts)"
t_eq "$(stat -c %a $MW/frag)" 400 "frag is 0400 (walks free lists under zone->lock, like pagetypeinfo)"
t_eq "$(stat -c %a $MW/extfrag)" 400 "extfrag is 0400 (pfns)"
grep -q '^probe frag tracepoint mm_page_alloc_extfrag attached' $MW/status
t_check $? "mm_page_alloc_extfrag probe attached" "$(grep '^probe frag' $MW/status)"
t_diag "$(grep '^probe frag' $MW/status | grep -v attached)"

# ---- nodes: the zones buddyinfo lists, and /proc/zoneinfo's span ----
awk '/^#/ || NR == 1 { next } { print $1, $5, $6 }' $MW/nodes >"$tmp/nodes_m"
awk '{ gsub(",", ""); n[$2] = n[$2] + 1; z[$2] = z[$2] (z[$2] == "" ? "" : ",") $4 }
     END { for (k in n) print k, n[k], z[k] }' /proc/buddyinfo | sort >"$tmp/nodes_b"
t_eq "$(sort "$tmp/nodes_m")" "$(cat "$tmp/nodes_b")" "nodes: nr_zones and zone names match /proc/buddyinfo"
for d in /sys/devices/system/node/node*; do
	[ -d "$d" ] || continue
	n=${d##*node}
	awk '/^#/ || NR == 1 { next } { print $1 }' $MW/nodes | grep -qx "$n"
	t_check $? "node $n of sysfs is listed"
done

# ---- frag vs buddyinfo, pagetypeinfo and debugfs extfrag, same moment ----
nr_orders=$(awk '/^nr_orders / { print $2 }' $MW/frag)
b_orders=$(awk 'NR == 1 { print NF - 4 }' /proc/buddyinfo)
t_eq "$nr_orders" "$b_orders" "nr_orders ($nr_orders) is buddyinfo's column count"
t_eq "$(awk '/^pageblock_order / { print $2 }' $MW/frag)" \
	"$(awk '/^Page block order:/ { print $4; exit }' /proc/pagetypeinfo)" "pageblock_order matches pagetypeinfo"

# Kernel files (as quiet_snap saved them in DIR), normalized to
# "node zone v0 v1 ...".
kern_read() { # DIR
	awk '{ gsub(",", ""); l = $2 " " $4; for (i = 5; i <= NF; i++) l = l " " $i; print l }' \
		"$1/buddyinfo" >"$1/buddy"
	awk '{ gsub(",", ""); gsub(">", "") } $5 == "type" {
		l = $2 " " $4 " " tolower($6); for (i = 7; i <= NF; i++) l = l " " $i; print l }' \
		"$1/pagetypeinfo" >"$1/types"
	if [ -f "$1/unusable_index" ]; then
		awk '{ gsub(",", ""); l = $2 " " $4; for (i = 5; i <= NF; i++) l = l " " $i; print l }' \
			"$1/unusable_index" >"$1/unusable"
		awk '{ gsub(",", ""); l = $2 " " $4; for (i = 5; i <= NF; i++) l = l " " $i; print l }' \
			"$1/extfrag_index" >"$1/extfrag"
	else
		: >"$1/unusable"
		: >"$1/extfrag"
	fi
}

# The module's "orders" section in the same shapes.
mod_split() { # FRAGFILE DIR
	awk -v dir="$2" '
	/^# orders:/ { s = 1; for (i = 3; i <= NF; i++) col[$i] = i - 2; next }
	/^#/ { s = 0 }
	s {
		k = $1 " " $2
		if (!(k in seen)) { seen[k] = 1; keys[n++] = k }
		b[k] = b[k] " " $col["free_blocks"]
		u[k] = u[k] " " $col["unusable_index"]
		e[k] = e[k] " " $col["extfrag_index"]
		split("unmovable movable reclaimable highatomic cma isolate", t, " ")
		for (j = 1; j <= 6; j++) ty[k " " t[j]] = ty[k " " t[j]] " " $col[t[j]]
	}
	END {
		for (i = 0; i < n; i++) {
			k = keys[i]
			print k b[k] > (dir "/buddy")
			print k u[k] > (dir "/unusable")
			print k e[k] > (dir "/extfrag")
			for (j = 1; j <= 6; j++) print k " " t[j] ty[k " " t[j]] > (dir "/types")
		}
	}' "$1"
}

# The kernel's files and the module's frag read back to back, until the
# kernel files read before and after the module's agree (nothing moved
# meanwhile, so the module saw the same state); up to 50 tries.
quiet_snapshot() { # TAG
	mkdir -p "$tmp/$1/k" "$tmp/$1/m"
	_kf="/proc/buddyinfo /proc/pagetypeinfo"
	[ -r $DBG/unusable_index ] && _kf="$_kf $DBG/unusable_index $DBG/extfrag_index"
	# shellcheck disable=SC2086
	_out=$($SNAP 50 "$tmp/$1/k" $_kf -- $MW/frag $MW/status)
	_rc=$?
	t_diag "$1: $_out"
	kern_read "$tmp/$1/k"
	mod_split "$tmp/$1/k/frag" "$tmp/$1/m"
	return $_rc
}

compare_all() { # TAG
	quiet_snapshot "$1"
	t_check $? "$1: found a quiet moment (kernel files unchanged around the module read)"
	k=$tmp/$1/k m=$tmp/$1/m
	t_eq "$(cat $m/buddy)" "$(cat $k/buddy)" "$1: free blocks per order per zone = /proc/buddyinfo"
	missing=$(grep -Fvx -f $m/types $k/types)
	t_check $([ -z "$missing" ]; echo $?) "$1: free blocks per migrate type = /proc/pagetypeinfo" \
		"pagetypeinfo lines not in the module's:" "$missing"
	# Types the kernel lacks (no pagetypeinfo line) print 0 in the module.
	extra=$(grep -Fvx -f $k/types $m/types | awk '{ for (i = 4; i <= NF; i++) if ($i != 0) { print; next } }')
	t_eq "$extra" "" "$1: types this kernel lacks are all 0"
	if [ -s $k/unusable ]; then
		t_eq "$(cat $m/unusable)" "$(cat $k/unusable)" "$1: unusable_index = debugfs extfrag/unusable_index"
		t_eq "$(cat $m/extfrag)" "$(cat $k/extfrag)" "$1: extfrag_index = debugfs extfrag/extfrag_index"
	else
		t_skip "$1: unusable_index = debugfs" "no $DBG"
		t_skip "$1: extfrag_index = debugfs" "no $DBG"
	fi
	t_diag "$1 unusable_index:" "$(cat $m/unusable)"
}

compare_all before

# ---- the fragmenting workload, with ftrace as the oracle ----
[ -d $TR/events ] || mount -t tracefs nodev $TR 2>/dev/null
tracing=0
if [ -w $TR/events/kmem/mm_page_alloc_extfrag/enable ]; then
	echo 0 >$TR/tracing_on
	echo 16384 >$TR/buffer_size_kb
	: >$TR/trace
	echo 1 >$TR/events/kmem/mm_page_alloc_extfrag/enable
	echo 1 >$TR/tracing_on
	tracing=1
fi

ev0=$(awk '/^extfrag_events / { print $2 }' $MW/frag)
free_mb=$(awk '/^MemFree:/ { print int($2 / 1024) }' /proc/meminfo)
# Anon fills all but 24M (above the watermarks of a 256M VM), half of it is
# then freed in order-0 holes; 24M of pipe buffers (unmovable) must then
# fall back into movable blocks.
anon_mb=$((free_mb - 24))
[ "$anon_mb" -gt 400 ] && anon_mb=400
t_diag "MemFree ${free_mb}M: frag_frag $anon_mb 24"
$PROG "$anon_mb" 24 >"$tmp/ff.out" 2>&1 &
wpid=$!
i=0
while [ $i -lt 120 ] && ! grep -q '^ready' "$tmp/ff.out"; do
	sleep 1
	i=$((i + 1))
done
grep -q '^ready' "$tmp/ff.out"
t_check $? "frag_frag became ready" "$(cat "$tmp/ff.out")"
# The module's file first: reading the trace allocates too, and its
# fallbacks would push frag_frag's events out of the recent ring.
[ "$tracing" = 1 ] && echo 0 >$TR/tracing_on
cat $MW/extfrag >"$tmp/extfrag"
if [ "$tracing" = 1 ]; then
	echo 0 >$TR/events/kmem/mm_page_alloc_extfrag/enable
	cat $TR/trace >"$tmp/trace"
fi

ev1=$(awk '/^extfrag_events / { print $2 }' $MW/frag)
t_check $([ "$ev1" -gt "$ev0" ]; echo $?) "extfrag_events rose ($ev0 -> $ev1)"
m_count=$(awk -v p=$wpid '/^# processes:/ { s = 1; next } /^#/ { s = 0 }
	s && $1 == p { n += $7 } END { print n + 0 }' "$tmp/extfrag")
m_frag=$(awk -v p=$wpid '/^# processes:/ { s = 1; next } /^#/ { s = 0 }
	s && $1 == p && $6 == 1 { n += $7 } END { print n + 0 }' "$tmp/extfrag")
t_check $([ "$m_count" -gt 0 ]; echo $?) "frag_frag (pid $wpid) has extfrag events in the module ($m_count, fragmenting $m_frag)"
t_eq "$(awk -v p=$wpid '/^# processes:/ { s = 1; next } /^#/ { s = 0 } s && $1 == p { print $NF }' "$tmp/extfrag" | sort -u)" \
	frag_frag "its rows carry comm frag_frag"
t_diag "$(awk -v p=$wpid '/^# processes:/ { s = 1; print; next } /^#/ { s = 0 } s && $1 == p' "$tmp/extfrag")"
if [ "$tracing" = 1 ]; then
	overrun=$(cat $TR/per_cpu/cpu*/stats 2>/dev/null | awk '/^overrun:/ { n += $2 } END { print n + 0 }')
	t_count=$(grep -Ec "frag_frag-$wpid +\[" "$tmp/trace")
	t_frag=$(grep -E "frag_frag-$wpid +\[" "$tmp/trace" | grep -c 'fragmenting=1')
	if [ "$overrun" = 0 ]; then
		# Same tracepoint, same events: equal, except events the trace
		# charges to us from an interrupt on our CPU (module: pid 0).
		irq=$(awk '/^irq_events / { print $2 }' "$tmp/extfrag")
		t_near "$m_count" "$t_count" "$irq" "module count for frag_frag = ftrace's kmem:mm_page_alloc_extfrag lines (+-irq_events $irq)"
		t_near "$m_frag" "$t_frag" "$irq" "fragmenting count = ftrace's fragmenting=1 lines"
	else
		t_skip "module count = ftrace's" "trace buffer overran ($overrun)"
		t_skip "fragmenting count = ftrace's" "trace buffer overran ($overrun)"
	fi
else
	t_skip "module count = ftrace's" "no tracefs"
	t_skip "fragmenting count = ftrace's" "no tracefs"
fi
# The ring keeps the newest events: frag_frag's, or, when later events
# (other processes) pushed them out, a full ring of events all newer than
# frag_frag's last one.
rec=$(awk -v p=$wpid '/^# recent:/ { s = 1; next } /^#/ { s = 0 } s && $2 == p' "$tmp/extfrag" | wc -l)
ring_n=$(awk '/^# recent:/ { s = 1; next } /^#/ { s = 0 } s' "$tmp/extfrag" | wc -l)
ring_oldest=$(awk '/^# recent:/ { s = 1; next } /^#/ { s = 0 } s { print $1; exit }' "$tmp/extfrag")
ff_last=$(awk -v p=$wpid '/^# processes:/ { s = 1; next } /^#/ { s = 0 }
	s && $1 == p && $8 > m { m = $8 } END { print m + 0 }' "$tmp/extfrag")
ring_size=$(awk '/^ring_size / { print $2 }' "$tmp/extfrag")
if [ "$rec" -gt 0 ]; then
	t_ok "the recent-events ring holds frag_frag's events ($rec)"
else
	[ "$ring_n" = "${ring_size:-256}" ] && [ "${ring_oldest:-0}" -gt "$ff_last" ]
	t_check $? "the recent-events ring holds frag_frag's events, or only newer ones" \
		"ring: $ring_n rows, oldest $ring_oldest ns; frag_frag's last event $ff_last ns"
fi

compare_all after

# ---- memwatch-read ----
memwatch-read --frag >"$tmp/r.txt" 2>"$tmp/r.err"
t_check $? "memwatch-read --frag" "$(cat "$tmp/r.err")"
grep -q '^Node 0, zone DMA32' "$tmp/r.txt"
t_check $? "text view has a DMA32 table"
w=$(awk '{ if (length($0) > w) w = length($0) } END { print w }' "$tmp/r.txt")
t_check $([ "$w" -le 80 ]; echo $?) "text view fits 80 columns (widest line $w)"

memwatch-read --frag --csv >"$tmp/r.csv" 2>"$tmp/r.err"
t_check $? "memwatch-read --frag --csv"
t_eq "$(head -n 1 "$tmp/r.csv")" \
	"node,zone,order,free_blocks,free_pages,suitable_blocks,unusable_index,extfrag_index,unmovable,movable,reclaimable,highatomic,cma,isolate,mt_capped" \
	"CSV header"
nz=$(awk '/^# zones:/ { s = 1; next } /^#/ { s = 0 } s' $MW/frag | wc -l)
t_eq "$(awk -F, 'NR > 1 && NF == 15' "$tmp/r.csv" | wc -l)" "$((nz * nr_orders))" "CSV has zones x orders rows of 15 fields"
memwatch-read --frag --zone dma32 --order 3 --csv >"$tmp/r1.csv"
# one row per node that has a DMA32 zone (two on the NUMA guest)
t_eq "$(awk -F, 'NR > 1 { print $1, $2, $3 }' "$tmp/r1.csv")" \
	"$(awk '$4 == "DMA32" { sub(",", "", $2); print $2, "DMA32 3" }' /proc/buddyinfo)" \
	"--zone dma32 --order 3 gives that row of each node with DMA32"
memwatch-read --frag --zone nosuch >/dev/null 2>"$tmp/r.err"
t_eq "$?" 1 "--zone nosuch exits 1"
grep -q "no zone 'nosuch'" "$tmp/r.err"
t_check $? "... naming the zone" "$(cat "$tmp/r.err")"
memwatch-read --frag --interval 1 --count 2 --csv >"$tmp/r2.csv" 2>/dev/null
t_eq "$(head -n 1 "$tmp/r2.csv" | cut -d, -f1-3)" "time,node,zone" "--interval CSV leads with time"
t_eq "$(awk 'NR > 1' "$tmp/r2.csv" | wc -l)" "$((2 * nz * nr_orders))" "--interval 1 --count 2 gives two samples"

# Reader with and without the module on one quiet snapshot: same buddy
# figures, the module's from frag, the reader's own from buddyinfo.
quiet_snapshot reader >/dev/null
t_check $? "reader: found a quiet moment"
snapdir=$tmp/reader/k
MEMWATCH_ROOT=$snapdir MEMWATCH_PROCFS=$snapdir memwatch-read --frag --csv | cut -d, -f1-8 >"$tmp/a.csv"
MEMWATCH_ROOT=$snapdir MEMWATCH_PROCFS=$snapdir memwatch-read --frag --csv --no-module 2>/dev/null |
	cut -d, -f1-8 >"$tmp/b.csv"
t_check $([ -s "$tmp/a.csv" ]; echo $?) "reader's view of the snapshot is not empty"
t_eq "$(cat "$tmp/b.csv")" "$(cat "$tmp/a.csv")" "--no-module (buddyinfo) = module, blocks and both indices"
memwatch-read --frag --csv --no-module 2>/dev/null | awk -F, 'NR > 1 { print $11 }' | sort -u >"$tmp/recl"
t_check $([ "$(grep -c -- - "$tmp/recl")" = 0 ]; echo $?) "--no-module as root fills per-type columns from pagetypeinfo"

t_eq "$(memwatch-read --nodes --csv --no-module 2>/dev/null)" "$(memwatch-read --nodes --csv)" \
	"--nodes: /proc/zoneinfo spans = module's"

memwatch-read --frag-events -p $wpid --csv >"$tmp/e.csv" 2>"$tmp/e.err"
t_check $? "memwatch-read --frag-events -p PID --csv" "$(cat "$tmp/e.err")"
t_eq "$(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "count") c = i } NR > 1 { n += $c } END { print n + 0 }' "$tmp/e.csv")" \
	"$(awk -v p=$wpid '/^# processes:/ { s = 1; next } /^#/ { s = 0 } s && $1 == p { n += $7 } END { print n + 0 }' $MW/extfrag)" \
	"--frag-events sums the module's rows for the pid"
memwatch-read --frag-events >"$tmp/e.txt" 2>&1
t_check $? "memwatch-read --frag-events (text)" "$(head -n 5 "$tmp/e.txt")"
if command -v python3 >/dev/null 2>&1; then
	memwatch-read --frag --json | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["orders"]'
	t_check $? "--frag --json parses"
else
	t_skip "--frag --json parses" "no python3 in the VM (tests/host/frag.sh parses it)"
fi

kill "$wpid" 2>/dev/null
wait "$wpid" 2>/dev/null
wpid=""
rmmod memwatch
t_check $? "rmmod memwatch"
t_done
