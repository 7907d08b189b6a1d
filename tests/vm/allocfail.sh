# tests/vm/allocfail.sh - provoked allocation failures (tests/kmod/
# memwatch_test.ko asks the 16 MiB DMA zone for order-10 blocks with
# __GFP_NORETRY|__GFP_NOWARN until one fails) must appear in
# /proc/memwatch/allocfail with the right order, flags, zone and task, with
# either probe (allocfail_probe=tracepoint, the default, or kretprobe).
. tests/lib.sh
MW=/proc/memwatch
tmp=/tmp/allocfail-test.$$
mkdir -p "$tmp"
af() { awk -v k="$1" '$1 == k { print $2; exit }' $MW/allocfail; }

# check_mode tracepoint|kretprobe: load memwatch with that allocfail probe,
# provoke failures, compare. Both modes must see the same failures.
check_mode() {
	mode=$1
	insmod module/memwatch.ko allocfail_probe=$mode
	t_check $? "$mode: insmod memwatch.ko allocfail_probe=$mode"
	t_eq "$(awk '$1 == "allocfail.probe" { print $2 }' $MW/status)" "$mode" "$mode: status names the probe in use"
	st=$(grep '^probe allocfail ' $MW/status)
	echo "$st" | grep -q ' attached '
	t_check $? "$mode: allocfail probe attached" "$st"
	case $mode in
	tracepoint) echo "$st" | grep -q "tracepoint mm_page_alloc" ;;
	kretprobe) echo "$st" | grep -q "kretprobe __alloc_pages" ;;
	esac
	t_check $? "$mode: status lists that probe" "$st"
	f0=$(af failures); o0=$(awk '/^# by_order/ { on = 1; next } /^#/ { on = 0 } on && $1 == 10 { print $2 }' $MW/allocfail)
	[ -f tests/kmod/memwatch_test.ko ] || { t_skip "$mode: provoked failure" "memwatch_test.ko not built"; rmmod memwatch; return; }
	dmesg -c >/dev/null 2>&1
	insmod tests/kmod/memwatch_test.ko order=10 tries=64 zone=dma 2>/dev/null
	line=$(dmesg | grep 'memwatch_test: allocfail' | tail -1)
	t_diag "$line"
	case $line in *failed=1*) t_ok "$mode: helper saw a failure" ;; *) t_fail "$mode: helper saw a failure" "$line" ;; esac
	kflags=$(echo "$line" | sed -n 's/.*(\(.*\)).*/\1/p')
	kgfp=$(echo "$line" | sed -n 's/.* gfp=\(0x[0-9a-f]*\) .*/\1/p')
	nfail=$(dmesg | grep -c 'memwatch_test: allocfail.*failed=1')
	f1=$(af failures)
	t_eq $((f1 - f0)) "$nfail" "$mode: failures counter grew by the helper's failures"
	o1=$(awk '/^# by_order/ { on = 1; next } /^#/ { on = 0 } on && $1 == 10 { print $2 }' $MW/allocfail)
	t_eq $((o1 - o0)) "$nfail" "$mode: order-10 counter grew as much"
	row=$(awk '/^# failures:/ { on = 1; next } on' $MW/allocfail | tail -1)
	t_diag "$row"
	set -- $row
	# time_ns order gfp gfp_flags node zone free min low high present ctx pid comm
	t_eq "$2" 10 "$mode: ring: order 10"
	t_eq "$3" "$kgfp" "$mode: ring: gfp value as the kernel printed it"
	t_eq "$4" "$kflags" "$mode: ring: gfp names as %pGg prints them"
	case $4 in *__GFP_NORETRY*__GFP_NOWARN*|*__GFP_NOWARN*__GFP_NORETRY*) t_ok "$mode: names include __GFP_NORETRY and __GFP_NOWARN" ;;
		*) t_fail "$mode: names include __GFP_NORETRY and __GFP_NOWARN" "$4" ;; esac
	t_eq "$6" DMA "$mode: ring: preferred zone DMA"
	# The DMA zone that has memory: on a NUMA guest zoneinfo also lists
	# every other node's empty DMA zone, and the zonelist of a node without
	# DMA falls back to the one that has it.
	zdma() { awk -v k="$1" '$1 == "Node" { on = ($4 == "DMA") } on && $1 == "min" { m = $2 }
		on && $1 == "present" && $2 > 0 { pr = $2; mm = m }
		END { print (k == "min" ? mm : pr) }' /proc/zoneinfo; }
	zmin=$(zdma min)
	zpres=$(zdma present)
	t_eq "$8" "$zmin" "$mode: ring: DMA min watermark as /proc/zoneinfo"
	t_eq "${11}" "$zpres" "$mode: ring: DMA present pages as /proc/zoneinfo"
	# At the failure the helper still held its order-10 blocks (it frees
	# them after printing), so DMA's free pages leave room for none of them.
	# (Free pages alone do not tell whether a whole aligned block was free.)
	held=$(echo "$line" | sed -n 's/.* allocated=\([0-9]*\) .*/\1/p')
	[ -n "$held" ] && [ "$7" -le $((${11} - held * 1024)) ]
	t_check $? "$mode: ring: DMA free pages ($7) <= present (${11}) - the ${held:-?} blocks the helper held"
	t_eq "${12}" task "$mode: ring: task context"
	t_eq "${14}" insmod "$mode: ring: comm insmod"
	cls=$(awk '/^# by_class/ { on = 1; next } /^#/ { on = 0 } on && $1 == "kernel" { print $2 }' $MW/allocfail)
	[ "${cls:-0}" -ge "$nfail" ]
	t_check $? "$mode: class 'kernel' counted the failures ($cls)"

	memwatch-read --paf --json >"$tmp/json" 2>"$tmp/err"
	t_check $? "$mode: memwatch-read --paf --json runs" "$(cat "$tmp/err")"
	# node: the allocating CPU's (tracepoint) or the caller's preferred
	# node (kretprobe); on a NUMA guest either may be any online node.
	nodes=$(awk -F, '{ for (i = 1; i <= NF; i++) { n = split($i, r, "-"); for (j = r[1]; j <= r[n]; j++) { printf "%s%d", s, j; s = "|" } } }' /sys/devices/system/node/online 2>/dev/null)
	grep -Eq '"order":10,"gfp":"0x[0-9a-f]*","gfp_flags":"[A-Z_|]*","node":('"${nodes:-0}"'),"zone":"DMA"' "$tmp/json"
	t_check $? "$mode: --paf --json carries the failure" "$(tail -c 400 "$tmp/json")"
	memwatch-read --paf --order 10 -c insmod >"$tmp/txt" 2>&1
	grep -q 'insmod$' "$tmp/txt"
	t_check $? "$mode: --paf --order 10 -c insmod lists it"
	memwatch-read --paf --order 3 >"$tmp/txt" 2>&1
	! grep -q 'insmod$' "$tmp/txt"
	t_check $? "$mode: --paf --order 3 filters it out"

	rmmod memwatch
	t_check $? "$mode: rmmod memwatch"
}

check_mode tracepoint
check_mode kretprobe

# A comm with a newline (exec through a link so named) must not break the
# one-row-per-line format: the row says "in?smod".
if [ -f tests/kmod/memwatch_test.ko ]; then
	insmod module/memwatch.ko
	nl='
'
	ln -sf /bin/busybox "/tmp/in${nl}smod"
	rows0=$(awk '/^# failures:/ { on = 1; next } on' $MW/allocfail | wc -l)
	sh -c 'exec -a insmod "$1" tests/kmod/memwatch_test.ko order=10 tries=64 zone=dma' sh "/tmp/in${nl}smod" 2>/dev/null
	rm -f "/tmp/in${nl}smod"
	last=$(awk '/^# failures:/ { on = 1; next } on' $MW/allocfail | tail -n 1)
	t_eq "$(echo "$last" | awk '{ print $NF }')" "in?smod" "a newline in comm prints as '?'" "$last"
	rows1=$(awk '/^# failures:/ { on = 1; next } on' $MW/allocfail | wc -l)
	bad=$(awk '/^# failures:/ { on = 1; next } on && NF != 14' $MW/allocfail | head -n 3)
	t_eq "$bad" "" "every ring row has its 14 fields ($rows0 -> $rows1 rows)"
	rmmod memwatch
fi

out=$(insmod module/memwatch.ko allocfail_probe=nosuch 2>&1)
[ $? -ne 0 ] && [ ! -e $MW ]
t_check $? "insmod with allocfail_probe=nosuch is refused" "$out"
dmesg | grep -q 'allocfail_probe=nosuch refused: expected tracepoint or kretprobe'
t_check $? "... and dmesg says why" "$(dmesg | tail -n 3)"
grep -q '^memwatch ' /proc/modules && rmmod memwatch
rm -rf "$tmp"
t_done
