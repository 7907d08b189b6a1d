#!/usr/bin/env bash
# Host tests of memwatch-leak (userspace/memleak/): the programs in
# tests/memleak/ leak known amounts at lines marked with comments such as
# /* LEAK-1 */; each report must name that file:line and byte count, the exit
# status must pass through, and valgrind memcheck on the same program must
# find the same definitely and indirectly lost totals.
# Run from anywhere after: make -C userspace/memleak && make -C tests/memleak
set -u
cd "$(dirname "$0")/../.."
. tests/lib.sh

ml=${MEMWATCH_LEAK:-userspace/memwatch-leak}	# env: test another build
P=tests/memleak
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if [ ! -x $ml ] || [ ! -f userspace/libmemwatch-leak.so ] || [ ! -x $P/leak_workspace ]; then
	t_skip "memwatch-leak tests" "not built: make -C userspace/memleak && make -C tests/memleak"
	printf '1..%d\n' "$T_N"
	exit 0
fi
# userspace/ is shared with another build (the older userspace/leak/ writes
# the same two names): say so, and test memleak's own copies meanwhile.
if [ -z "${MEMWATCH_LEAK:-}" ] && [ -x userspace/memleak/memwatch-leak ]; then
	if cmp -s $ml userspace/memleak/memwatch-leak &&
		cmp -s userspace/libmemwatch-leak.so userspace/memleak/libmemwatch-leak.so; then
		t_ok "userspace/ holds the build of userspace/memleak"
	else
		t_fail "userspace/ holds the build of userspace/memleak" \
			"userspace/memwatch-leak or libmemwatch-leak.so comes from another build" \
			"(userspace/leak/?); testing userspace/memleak/memwatch-leak instead"
		ml=userspace/memleak/memwatch-leak
	fi
fi
have_vg=0
command -v valgrind >/dev/null && have_vg=1

# line MARKER FILE: the line number of the marker comment in the source
line() { grep -n -- "$1" "$P/$2" | head -1 | cut -d: -f1; }

# run PROG [ARGS]: report in $tmp/PROG.rep, stdout in $tmp/PROG.out, status in $rc
run() {
	local p=$1
	shift
	$ml "$@" -o "$tmp/$p.rep" -- "$P/$p" >"$tmp/$p.out" 2>"$tmp/$p.err"
	rc=$?
}

# summary REPORT CLASS: "BYTES BLOCKS" from the LEAK SUMMARY line
summary() {
	sed -n "s/^ *$2: \([0-9]*\) bytes in \([0-9]*\) blocks$/\1 \2/p" "$1"
}

# vg_summary PROG CLASS: the same from valgrind memcheck (0 0 if no leak)
vg_summary() {
	local v
	v=$(sed -n "s/^==[0-9]*== *$2: \([0-9,]*\) bytes in \([0-9,]*\) blocks$/\1 \2/p" \
		"$tmp/$1.vg" | tr -d ,)
	echo "${v:-0 0}"
}

# group REPORT HEADER FRAME0: a group "HEADER at:" whose frame #0 is FRAME0
group() {
	awk -v h="$2 at:" -v f="  #0 $3" '
		want && $0 == f { found = 1 }
		{ want = ($0 == h) }
		END { exit !found }' "$1"
}

# check_prog PROG: status 0 expected unless $2; valgrind totals agree
vg_agree() {
	local p=$1 d
	if [ $have_vg = 0 ]; then
		t_skip "$p: valgrind agrees" "valgrind not installed"
		return
	fi
	valgrind --leak-check=full --error-exitcode=0 "$P/$p" >/dev/null 2>"$tmp/$p.vg"
	for d in "definitely lost" "indirectly lost"; do
		t_eq "$(summary "$tmp/$p.rep" "$d")" "$(vg_summary "$p" "$d")" \
			"$p: $d matches valgrind memcheck"
	done
}

# --- 1. leaked temporary workspace; exit status 3 passes through ----------
run leak_workspace
t_eq "$rc" 3 "leak_workspace: exit status 3 passes through"
t_eq "$(summary "$tmp/leak_workspace.rep" "definitely lost")" "1000 1" \
	"leak_workspace: definitely lost 1000 bytes in 1 block"
group "$tmp/leak_workspace.rep" "1000 bytes in 1 blocks definitely lost" \
	"checksum (leak_workspace.c:$(line LEAK-1 leak_workspace.c))"
t_check $? "leak_workspace: report names checksum at the LEAK-1 line" "$(cat "$tmp/leak_workspace.rep")"
vg_agree leak_workspace

# --- 2. destructor forgets a data member ----------------------------------
run leak_member
t_eq "$rc" 0 "leak_member: exit status 0"
t_eq "$(summary "$tmp/leak_member.rep" "definitely lost")" "512 2" \
	"leak_member: definitely lost 512 bytes in 2 blocks"
n=$(grep -c "^  #0 Buffer::Buffer() (leak_member.cc:$(line LEAK-2 leak_member.cc))$" "$tmp/leak_member.rep")
t_eq "$n" 2 "leak_member: both groups start at Buffer::Buffer() on the LEAK-2 line"
vg_agree leak_member

# --- 3. static data member re-allocated per instance ----------------------
run leak_static -r
group "$tmp/leak_static.rep" "256 bytes in 2 blocks definitely lost" \
	"Counter::Counter() (leak_static.cc:$(line LEAK-3 leak_static.cc))"
t_check $? "leak_static: 256 bytes in 2 blocks lost at the LEAK-3 line" "$(cat "$tmp/leak_static.rep")"
t_eq "$(summary "$tmp/leak_static.rep" "still reachable")" "128 1" \
	"leak_static: the last array is still reachable through the static member"
group "$tmp/leak_static.rep" "128 bytes in 1 blocks still reachable" \
	"Counter::Counter() (leak_static.cc:$(line LEAK-3 leak_static.cc))"
t_check $? "leak_static: --show-reachable lists it"
vg_agree leak_static

# --- 4. global pointer reassigned ----------------------------------------
run leak_global
group "$tmp/leak_global.rep" "256 bytes in 4 blocks definitely lost" \
	"load (leak_global.c:$(line LEAK-4 leak_global.c))"
t_check $? "leak_global: 256 bytes in 4 blocks lost at the LEAK-4 line" "$(cat "$tmp/leak_global.rep")"
t_eq "$(grep -c 'still reachable at:' "$tmp/leak_global.rep")" 0 \
	"leak_global: still reachable not listed without --show-reachable"
t_eq "$(summary "$tmp/leak_global.rep" "still reachable")" "64 1" \
	"leak_global: the current block counts as still reachable"
vg_agree leak_global

# --- 5. mismatched deallocation -------------------------------------------
run mismatch
t_eq "$(grep -c '^Mismatched free() / delete / delete \[\]$' "$tmp/mismatch.rep")" 3 \
	"mismatch: three mismatched deallocations reported"
awk -v a="     #0 main (mismatch.cc:$(line ALLOC-5 mismatch.cc))" \
    -v f="     #0 main (mismatch.cc:$(line FREE-5 mismatch.cc))" '
	/^   delete of .*allocated with new\[\]\) at:$/ { s = 1; next }
	s == 1 && $0 == f { s = 2; next }
	s == 2 && /^   allocated with new\[\] at:$/ { s = 3; next }
	s == 3 && $0 == a { ok = 1 }
	END { exit !ok }' "$tmp/mismatch.rep"
t_check $? "mismatch: new[] released by delete, with both stacks at the marked lines" \
	"$(cat "$tmp/mismatch.rep")"
grep -q "free() of .*allocated with new)" "$tmp/mismatch.rep" &&
	grep -q "delete of .*allocated with malloc)" "$tmp/mismatch.rep"
t_check $? "mismatch: new freed by free() and malloc freed by delete"
if [ $have_vg = 1 ]; then
	valgrind --error-exitcode=0 "$P/mismatch" >/dev/null 2>"$tmp/mismatch.vg"
	t_eq "$(grep -c 'Mismatched free() / delete / delete \[\]' "$tmp/mismatch.vg")" 3 \
		"mismatch: valgrind also finds three (the program is right)"
else
	t_skip "mismatch: valgrind also finds three (the program is right)" "valgrind not installed"
fi

# --- realloc chain, lost trees and cycles, threads -------------------------
run realloc_chain
group "$tmp/realloc_chain.rep" "1000 bytes in 1 blocks definitely lost" \
	"grow (realloc_chain.c:$(line LEAK-REALLOC realloc_chain.c))"
t_check $? "realloc_chain: the last realloc's 1000 bytes, at its line" "$(cat "$tmp/realloc_chain.rep")"
t_eq "$(grep -c 'lost at:' "$tmp/realloc_chain.rep")" 1 "realloc_chain: earlier links of the chain are not reported"
vg_agree realloc_chain

run leak_tree
t_eq "$(summary "$tmp/leak_tree.rep" "definitely lost") / $(summary "$tmp/leak_tree.rep" "indirectly lost")" \
	"56 2 / 112 3" "leak_tree: 56 bytes definitely, 112 indirectly lost (tree + cycle)"
group "$tmp/leak_tree.rep" "24 bytes in 1 blocks definitely lost" \
	"build (leak_tree.c:$(line LEAK-ROOT leak_tree.c))" &&
	group "$tmp/leak_tree.rep" "40 bytes in 1 blocks indirectly lost" \
		"build (leak_tree.c:$(line LEAK-CHILD leak_tree.c))"
t_check $? "leak_tree: root definitely lost, its child indirectly lost, at their lines"
vg_agree leak_tree

run leak_thread
group "$tmp/leak_thread.rep" "1332 bytes in 4 blocks definitely lost" \
	"worker (leak_thread.c:$(line LEAK-THREAD leak_thread.c))"
t_check $? "leak_thread: 4 x 333 bytes attributed to the thread function's line" \
	"$(cat "$tmp/leak_thread.rep")"
t_eq "$(grep -c 'lost at:' "$tmp/leak_thread.rep")" 1 "leak_thread: nothing else reported (no churn, no thread bookkeeping)"
vg_agree leak_thread

# the per-thread unwind cache must not change a single frame
for p in leak_member leak_thread leak_tree; do
	run $p --exact-stacks
	mv "$tmp/$p.rep" "$tmp/$p.exact"
	run $p
	# an empty pair of reports must not pass: count the groups too
	n=$(grep -c 'lost at:' "$tmp/$p.exact")
	t_eq "$([ "$n" -gt 0 ] && echo "$n")/$(grep -v '^==' "$tmp/$p.rep" | sort | md5sum)" \
		"$n/$(grep -v '^==' "$tmp/$p.exact" | sort | md5sum)" \
		"$p: same report with --exact-stacks (no unwind cache)"
done

# fork from a multi-threaded program: no deadlock, one report per process
mkdir "$tmp/fork"
timeout 120 $ml -o "$tmp/fork/rep.%p" -- $P/fork_leak >/dev/null 2>&1
t_eq "$?/$(ls "$tmp/fork" | wc -l)" "0/21" "fork_leak: 20 forks with a thread churning malloc: no deadlock, 21 reports"
t_eq "$(cat "$tmp"/fork/rep.* | grep -c "^  #0 main (fork_leak.c:$(line LEAK-PARENT fork_leak.c))$")" 1 \
	"fork_leak: the parent's 77 bytes at the LEAK-PARENT line"
t_eq "$(grep -h 'still reachable:' "$tmp"/fork/rep.* | grep -c ' 55 bytes in 1 blocks')" 20 \
	"fork_leak: each child tracks its own block (held by main's frame at exit(): reachable)"

# --- clean programs ---------------------------------------------------------
run clean_c
t_eq "$rc/$(cat "$tmp/clean_c.out")" "0/hello" "clean_c: status and stdout untouched"
t_eq "$(grep -c 'lost at:' "$tmp/clean_c.rep")$(summary "$tmp/clean_c.rep" "definitely lost")" \
	"00 0" "clean_c: no leak reported (every C allocator entry point)"
vg_agree clean_c
run clean_cxx
t_eq "$rc/$(cat "$tmp/clean_cxx.out")" "0/200" "clean_cxx: status and stdout untouched"
t_eq "$(grep -c 'lost at:' "$tmp/clean_cxx.rep")$(summary "$tmp/clean_cxx.rep" "definitely lost")" \
	"00 0" "clean_cxx: no leak reported (containers, aligned and nothrow new)"
t_eq "$(grep -c '^Mismatched' "$tmp/clean_cxx.rep")" 0 "clean_cxx: no mismatch reported"
vg_agree clean_cxx

# --- file descriptors --------------------------------------------------------
run fds
t_eq "$(grep -c 'still open, opened at:' "$tmp/fds.rep")" 1 "fds: exactly one descriptor reported"
awk -v f="  #0 main (fds.c:$(line FD-LEAK fds.c))" '
	/^file descriptor [0-9]+ still open, opened at:$/ { w = 1; next }
	w && $0 == f { ok = 1 } { w = 0 } END { exit !ok }' "$tmp/fds.rep"
t_check $? "fds: the pipe's read end, opened at the FD-LEAK line" "$(cat "$tmp/fds.rep")"
run fds --no-fds
t_eq "$(grep -c 'still open' "$tmp/fds.rep")" 0 "fds: --no-fds reports none"

# --- JSON, output, status, usage -------------------------------------------
run leak_tree --json
out=$(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["memwatch"] == "leak" and d["version"] == 1, d
s = d["summary"]
assert (s["definitely_lost"]["bytes"], s["indirectly_lost"]["bytes"]) == (56, 112), s
k = sorted((l["class"], l["bytes"]) for l in d["leaks"])
assert k == [("definitely_lost", 24), ("definitely_lost", 32), ("indirectly_lost", 32),
	("indirectly_lost", 40), ("indirectly_lost", 40)], k
f = [l for l in d["leaks"] if l["bytes"] == 24][0]["stack"][0]
assert f["function"] == "build" and f["file"].endswith("leak_tree.c") and f["line"] == int(sys.argv[2]), f
print("fine")' "$tmp/leak_tree.rep" "$(line LEAK-ROOT leak_tree.c)" 2>&1 | tail -3)
t_eq "$out" fine "--json: parses; summary, classes and frames as in the text report"
run mismatch --json
out=$(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
m = d["mismatches"]
assert len(m) == 3 and d["summary"]["mismatched"] == 3, m
assert m[0]["allocated_with"] == "new[]" and m[0]["freed_with"] == "delete", m[0]
print("fine")' "$tmp/mismatch.rep" 2>&1 | tail -3)
t_eq "$out" fine "--json: mismatches in the document"

(cd "$tmp" && "$OLDPWD/$ml" -o 'rep.%p' -- "$OLDPWD/$P/leak_workspace" 2>"$tmp/ws.err" >/dev/null)
f=$(ls "$tmp"/rep.* 2>/dev/null)
t_check $([ -n "$f" ] && grep -q 'LEAK SUMMARY' $f && echo 0 || echo 1) \
	"-o FILE.%p: relative path, pid substituted" "$f"
t_eq "$(wc -c <"$tmp/ws.err")" 0 "-o: nothing on stderr"
$ml -- $P/leak_workspace >/dev/null 2>"$tmp/ws.stderr"
t_check $(grep -q '1000 bytes in 1 blocks definitely lost at:' "$tmp/ws.stderr"; echo $?) \
	"default output is stderr"
run killed
t_eq "$rc" 143 "killed: death by SIGTERM becomes 128 + 15"
$ml >/dev/null 2>"$tmp/usage.err"
t_eq "$?/$(grep -c '^Usage:' "$tmp/usage.err")" "2/1" "no program: usage on stderr, exit 2"
$ml --bogus -- true >/dev/null 2>&1
t_eq "$?" 2 "unknown option: exit 2"
t_eq "$($ml --help 2>/dev/null | grep -c '^Usage:')/$?" "1/0" "--help: usage on stdout, exit 0"
$ml -- $P/does-not-exist 2>/dev/null
t_eq "$?" 127 "missing program: exit 127"
t_eq "$($ml --lib /nonexistent.so -- true 2>&1 >/dev/null | grep -c nonexistent)" 1 \
	"--lib: a missing library is named"

# --- a real program, no debug info -----------------------------------------
seq 20000 | shuf --random-source=/dev/zero >"$tmp/nums"
$ml -- sort -n "$tmp/nums" >"$tmp/sorted" 2>"$tmp/sort.rep"
t_eq "$?/$(sha1sum <"$tmp/sorted")" "0/$(sort -n "$tmp/nums" | sha1sum)" "sort under memwatch-leak: same output, status 0"
t_check $(grep -q 'LEAK SUMMARY' "$tmp/sort.rep"; echo $?) "sort: report on stderr although sort closes stderr at exit"
out=$($ml -o "$tmp/py.rep" -- python3 -c 'import json; print(len(json.dumps(list(range(10000)))))')
t_eq "$out/$(grep -c 'LEAK SUMMARY' "$tmp/py.rep")" "58890/1" "python3 runs under memwatch-leak, report written"

printf '1..%d\n' "$T_N"
printf '# %d passed, %d failed\n' "$((T_N - T_FAILED))" "$T_FAILED"
exit 0
