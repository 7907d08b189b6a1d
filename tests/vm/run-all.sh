# tests/vm/run-all.sh [NAME...] - run the VM test files (inside the VM, from /mw).
# POSIX sh (busybox ash). Usually started by tests/run through
#   scripts/vm-run -- sh tests/vm/run-all.sh [load tasks ...]
#
# Runs every tests/vm/*.sh except itself (or only the NAMEs given, with or
# without .sh), in name order, each in its own session under a per-file timeout
# (MW_VM_FILE_TIMEOUT seconds, default 600). Prints "# file: NAME" before each
# file's TAP. A file that dies before t_done or times out gets a
# "not ok - NAME crashed/timed out" line. Leftover processes of a file are
# killed (those of its session, and any other process that was not there
# before the first file: a file's own setsid children too, which would
# otherwise run on into the next file and its verdicts) and memwatch (and
# memwatch_test) unloaded between files. At the end:
# "ok/not ok - no kernel warnings or oopses": the kernel reports
# (scripts/vm-kernel-reports.sh) in what dmesg gained during the tests; on a
# kmemleak kernel also "ok/not ok - kmemleak: no unreferenced object".
cd /mw 2>/dev/null || cd "$(dirname "$0")/../.." || exit 1

FILE_TIMEOUT=${MW_VM_FILE_TIMEOUT:-600}
TMPD=/tmp/run-all.$$
mkdir -p "$TMPD"
KREPORTS=/mw/scripts/vm-kernel-reports.sh
[ -f "$KREPORTS" ] || KREPORTS=scripts/vm-kernel-reports.sh

# what the log held before the tests is not theirs: later lines only
T_BEGIN=$(cut -d' ' -f1 /proc/uptime)
# kmemleak (the debug kernel): forget what boot left, check at the end
KML=/sys/kernel/debug/kmemleak
if [ -w $KML ]; then
	echo scan >$KML 2>/dev/null
	echo clear >$KML 2>/dev/null
fi

# files to run
if [ $# -gt 0 ]; then
	files=
	for n in "$@"; do
		n=${n%.sh}
		n=${n##*/}
		if [ -f "tests/vm/$n.sh" ]; then
			files="$files tests/vm/$n.sh"
		else
			echo "# file: $n.sh"
			echo "not ok - $n: no such VM test file tests/vm/$n.sh"
		fi
	done
else
	files=$(ls tests/vm/*.sh 2>/dev/null | LC_ALL=C sort)
fi

# kill_session SID: kill every process left in that session
kill_session() {
	for _pid in $(cat /proc/[0-9]*/stat 2>/dev/null |
		awk -v s="$1" '{ p = $1; sub(/.*\) /, ""); if ($4 == s) print p }'); do
		kill "-$2" "$_pid" 2>/dev/null
	done
}

# live user processes, "pid session comm" (kernel threads are children
# of kthreadd, pid 2; a zombie is only waiting for its parent)
user_procs() {
	cat /proc/[0-9]*/stat 2>/dev/null | awk '{
		p = $1; c = $0; sub(/^[0-9]+ \(/, "", c); sub(/\) [A-Za-z] .*/, "", c)
		sub(/.*\) /, ""); if (p != 2 && $2 != 2 && $1 != "Z") print p, $4, c }'
}
# what was running before the first file (init, vm-run's shell, this one)
user_procs | awk '{ print $1 }' >"$TMPD/base-pids"
# this shell's session: its own pipelines; every file runs in a session of
# its own (setsid), and so does whatever the file leaves behind
MY_SID=$(awk '{ sub(/.*\) /, ""); print $4 }' /proc/$$/stat)

# sweep_leftovers NAME: kill every user process that is neither in the
# baseline nor in this shell's session, until none is left: SIGTERM
# twice, then SIGKILL, up to 5 s
sweep_leftovers() {
	_said=
	for _try in 1 2 3 4 5 6 7 8 9 10; do
		user_procs | awk -v sid="$MY_SID" 'NR == FNR { base[$1] = 1; next }
			!($1 in base) && $2 != sid' "$TMPD/base-pids" - >"$TMPD/left"
		[ -s "$TMPD/left" ] || return 0
		# busybox timeout's watchdog (a child of the file's timeout) lives
		# on for up to a second after the file: ours, not the file's
		_names=$(awk '$3 != "timeout" { printf "%s%s (%s)", (n++ ? ", " : ""), $1, $3 }' "$TMPD/left")
		if [ -z "$_said" ] && [ -n "$_names" ]; then
			echo "# note: $1 left processes behind: $_names; killing them"
			_said=1
		fi
		_sig=KILL
		[ "$_try" -le 2 ] && _sig=TERM
		for _p in $(awk '{ print $1 }' "$TMPD/left"); do kill -$_sig "$_p" 2>/dev/null; done
		sleep 0.5 2>/dev/null || sleep 1
	done
	echo "# warning: after $1, still alive after SIGKILL: $(awk '{ printf "%s (%s) ", $1, $3 }' "$TMPD/left")"
}

unload_modules() {
	for _m in memwatch_test memwatch; do
		if grep -q "^$_m " /proc/modules 2>/dev/null; then
			echo "# note: $1 left $_m loaded; unloading it"
			rmmod "$_m" 2>/dev/null || echo "# warning: rmmod $_m failed: $(rmmod "$_m" 2>&1)"
		fi
	done
}

for f in $files; do
	name=${f##*/}
	case $name in run-all.sh | lib.sh) continue ;; esac
	echo "# file: $name"
	done_mark=$TMPD/done.$name
	rm -f "$done_mark"
	t0=$(cut -d. -f1 /proc/uptime)
	MW_T_DONE=$done_mark timeout -s TERM "$FILE_TIMEOUT" setsid sh "$f" </dev/null 2>&1 &
	sid=$!
	wait $sid
	rc=$?
	t1=$(cut -d. -f1 /proc/uptime)
	kill_session "$sid" TERM
	sleep 0.2 2>/dev/null || sleep 1
	kill_session "$sid" KILL
	el=$((t1 - t0))
	if [ ! -e "$done_mark" ]; then
		if [ "$rc" -ge 128 ] && [ "$el" -ge "$FILE_TIMEOUT" ]; then
			echo "not ok - $name timed out after ${FILE_TIMEOUT}s"
		elif [ "$rc" -ge 128 ]; then
			echo "not ok - $name crashed (killed by signal $((rc - 128)))"
		else
			echo "not ok - $name crashed (exit $rc before t_done)"
		fi
	fi
	echo "# $name: exit $rc in ${el}s"
	sweep_leftovers "$name"
	unload_modules "$name"
done

echo "# file: run-all.sh"
# printk's "[  seconds]" stamps count from boot, as /proc/uptime does
dmesg 2>/dev/null | awk -v t0="$T_BEGIN" '
	match($0, /^\[ *[0-9]+\.[0-9]+\]/) {
		t = substr($0, RSTART + 1, RLENGTH - 2) + 0
		if (t < t0 - 1) next
	}
	{ print }' >"$TMPD/dmesg-new"
if sh "$KREPORTS" "$TMPD/dmesg-new" >"$TMPD/reports"; then
	echo "ok - no kernel warnings or oopses"
else
	echo "not ok - no kernel warnings or oopses"
	head -n 120 "$TMPD/reports" | sed 's/^/#   /'
fi
if [ -w $KML ]; then
	# an object is reported once unreferenced for 5 s, over two scans
	sleep 6
	echo scan >$KML 2>/dev/null
	echo scan >$KML 2>/dev/null
	cat $KML >"$TMPD/kmemleak" 2>/dev/null
	if grep -q 'unreferenced object' "$TMPD/kmemleak"; then
		echo "not ok - kmemleak: no unreferenced object after the tests"
		head -n 80 "$TMPD/kmemleak" | sed 's/^/#   /'
	else
		echo "ok - kmemleak: no unreferenced object after the tests"
	fi
fi
rm -rf "$TMPD"
exit 0
