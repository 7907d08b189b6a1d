# scripts/vm-kernel-reports.sh [LOG...] - find the kernel's own reports of
# trouble in a kernel log (a VM's console log, or dmesg on stdin) and print
# each one with its context. POSIX sh + awk: runs on the host (tests/run
# scans every VM console with it) and in the VM (/mw/scripts, run-all.sh).
#
#   sh scripts/vm-kernel-reports.sh build/test-logs/console-6.1.0-57-amd64.log
#   dmesg | sh /mw/scripts/vm-kernel-reports.sh
#
# A report starts at a line naming one of: BUG (KASAN, KFENCE, sleeping
# function called from invalid context, soft lockup, bad page ...), WARNING
# (WARN_ON, lockdep's possible deadlocks, suspicious RCU usage), UBSAN,
# Oops, general protection fault, kernel BUG, Kernel panic, ODEBUG,
# list_add/list_del corruption, refcount_t, kmemleak's unreferenced object
# (when its report is printed; kmemleak's own "N new suspected memory leaks"
# also counts boot's objects: tests/vm/run-all.sh and soak.sh clear those
# and read /sys/kernel/debug/kmemleak themselves), a hung task. It runs to "---[ end trace" or to 40 lines. Output: for each
# report "kernel report: FIRST LINE" and then its lines indented by "  | ".
# Exit status: 0 none, 1 some (the count on the last line), 2 unreadable log.
#
# MW_KREPORT_IGNORE (an awk regular expression) drops reports whose first line
# matches it, for a known kernel bug that is not memwatch's; empty by default.
# MW_KREPORT_SINCE (an awk regular expression): reports printed before the
# first line matching it are listed as "kernel report before ...: " and do
# not count (tests/run: before memwatch was first loaded, they cannot be
# memwatch's); empty by default: every report counts.

awk -v ignore="${MW_KREPORT_IGNORE:-}" -v since="${MW_KREPORT_SINCE:-}" '
function start_of_report(l) {
	return l ~ /(^|[] ])BUG: / ||
	    l ~ /(^|[] ])WARNING: / ||
	    l ~ /(^|[] ])UBSAN: / ||
	    l ~ /(^|[] ])ODEBUG: / ||
	    l ~ /kernel BUG at / ||
	    l ~ /(^|[] ])Oops: / || l ~ /(^|[] ])Oops[ #]/ ||
	    l ~ /general protection fault/ ||
	    l ~ /Kernel panic - / ||
	    l ~ /list_(add|del) corruption/ ||
	    l ~ /refcount_t: / ||
	    l ~ /unreferenced object 0x/ ||
	    l ~ /INFO: task .* blocked for more than/ ||
	    l ~ /possible (circular|recursive) locking|possible .*deadlock/ ||
	    l ~ /suspicious RCU usage/ ||
	    l ~ /sleeping function called from invalid context/
}
function flush() {
	if (n > 0) {
		if (ignore == "" || head !~ ignore) {
			if (early)
				printf "kernel report before the first line matching /%s/ (not counted): %s\n", since, head
			else
				printf "kernel report: %s\n", head
			for (i = 1; i <= n; i++)
				printf "  | %s\n", buf[i]
			if (early)
				before++
			else
				reports++
		}
		n = 0
	}
}
{
	sub(/\r$/, "")
	if (since != "" && !seen_since && $0 ~ since) {
		flush()
		seen_since = 1
	}
	if (n > 0) {
		# the body of the current report (lockdep and KASAN reports hold
		# lines that would start a new one: keep them in this report)
		if (n < 40) {
			buf[++n] = $0
			if ($0 ~ /---\[ end (trace|Kernel panic)/)
				flush()
			next
		}
		flush()
	}
	if (start_of_report($0)) {
		early = since != "" && !seen_since
		head = $0
		sub(/^\[ *[0-9.]+\] /, "", head)
		n = 1
		buf[1] = $0
	}
}
END {
	flush()
	if (before)
		printf "%d kernel report(s) before /%s/, not counted\n", before, since
	if (reports) {
		printf "%d kernel report(s)\n", reports
		exit 1
	}
	exit 0
}' "$@"
