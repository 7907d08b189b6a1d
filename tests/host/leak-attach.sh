#!/usr/bin/env bash
# Host tests of memwatch-leak -p (attach to a running process, watch,
# detach): tests/leak/attach_target leaks one block per tick at
# LEAK:timer and logs one byte per block, while two threads churn and one
# spins in malloc/free of large blocks. Block-count bounds come from that
# log: at least the blocks logged between "attached" and the detach request,
# at most those logged while memwatch-leak ran. The target must keep running
# after each detach and pass its own consistency check (every block,
# allocated before, while or after attached, freed with its contents
# checked) at the end; one of the attaches must have stopped a thread
# inside glibc's allocator (memwatch-leak says which). tests/leak/attach_cxx
# (libstdc++ loaded, std containers churning on two threads) and
# tests/leak/attach_fnptr (its own pointers to the real malloc/free/realloc,
# taken before the attach, mixed with the hooked ones) are attached and
# detached the same way; after each detach the executable's GOT entries of
# the allocation functions (read from /proc/PID/mem at the offsets its ELF
# gives) are what they were before the attach. Then the refusals: already
# traced, another user, no such process, a static binary, an allocator in
# the executable, bad usage.
set -u
cd "$(dirname "$0")/../.."
. tests/lib.sh

L=tests/leak
mw=${MEMWATCH_LEAK:-}
if [ -z "$mw" ]; then
	mw=userspace/leak/build/memwatch-leak
	[ -x "$mw" ] || mw=userspace/memwatch-leak
fi
tmp=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

if [ ! -x "$mw" ] || [ ! -x $L/attach_target ]; then
	t_skip "memwatch-leak -p" "not built (make -C userspace/leak)"
	t_done
fi
if ! grep -q '^TracerPid:' /proc/self/status; then
	t_skip "memwatch-leak -p" "no /proc/PID/status"
	t_done
fi
t_diag "testing $mw"
line=$(grep -n '/\* LEAK:timer \*/' $L/attach_target.c | head -1 | cut -d: -f1)

# blocks the report doc (JSON, last report of FILE) lists at SRC:$line
# (SRC: attach_target.c unless given)
cat >"$tmp/count.py" <<'PY'
import json, sys
docs = [json.loads(l) for l in open(sys.argv[1]) if l.strip().startswith('{')]
kind = sys.argv[3]
src = '/' + (sys.argv[4] if len(sys.argv) > 4 else 'attach_target.c')
docs = [d for d in docs if d['kind'] == kind]
if not docs:
    print('none'); sys.exit()
n = 0
for l in docs[-1]['leaks']:
    s = l['stack']
    if s and (s[0].get('file') or '').endswith(src) and s[0].get('line') == int(sys.argv[2]):
        n += l['blocks']
print(n)
PY
# the GOT entries of the allocation functions in process PID's executable
# EXE, "name@offset=value" per line: offsets from the ELF (readelf -r),
# values from /proc/PID/mem at the executable's load address
cat >"$tmp/got.py" <<'PY'
import os, subprocess, sys
pid, exe = sys.argv[1], os.path.realpath(sys.argv[2])
names = {'malloc', 'free', 'calloc', 'realloc', 'reallocarray', 'posix_memalign', 'aligned_alloc',
         'memalign', 'valloc', 'malloc_usable_size', 'dlopen', 'dlclose', '_Znwm', '_Znam',
         '_ZdlPv', '_ZdaPv', '_ZdlPvm', '_ZdaPvm'}
slots = []
for line in subprocess.run(['readelf', '-rW', exe], capture_output=True, text=True).stdout.splitlines():
    f = line.split()
    if len(f) >= 5 and f[2] in ('R_X86_64_JUMP_SLOT', 'R_X86_64_GLOB_DAT') and f[4].split('@')[0] in names:
        slots.append((f[4].split('@')[0], int(f[0], 16)))
base = None
for l in open('/proc/%s/maps' % pid):
    p = l.split()
    if len(p) >= 6 and p[5] == exe and int(p[2], 16) == 0:
        base = int(p[0].split('-')[0], 16)
        break
with open('/proc/%s/mem' % pid, 'rb') as mem:
    for name, off in sorted(slots):
        mem.seek(base + off)
        print('%s@%x=%x' % (name, off, int.from_bytes(mem.read(8), 'little')))
PY
logsize() { stat -c %s "$1"; }

# wait_for FILE PATTERN: up to 20 s for PATTERN in FILE
wait_for() {
	local i
	for i in $(seq 200); do
		grep -q "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# wait_grow LOG FROM N: until LOG holds N more bytes than FROM (20 s at most)
wait_grow() {
	local i
	for i in $(seq 400); do
		[ "$(logsize "$1")" -ge $(($2 + $3)) ] && return 0
		sleep 0.05
	done
	return 1
}

start_target() {	# LOG -> $tpid
	$L/attach_target "$1" 600 >"$1.out" &
	tpid=$!
	pids+=("$tpid")
	wait_for "$1.out" '^ready'
}

# attach_once LOG TAG [OPTS...]: attach, let N leaks happen, detach with
# SIGINT; sets lo hi (bounds) got (blocks reported) rc (memwatch-leak's)
attach_once() {
	local log=$1 tag=$2
	shift 2
	local before a b
	before=$(logsize "$log")
	"$mw" -p "$tpid" -j -o "$tmp/$tag.json" "$@" 2>"$tmp/$tag.err" &
	local mpid=$!
	if ! wait_for "$tmp/$tag.err" '^memwatch-leak: attached'; then
		wait $mpid
		rc=$?
		lo=1 hi=0 got=none
		return
	fi
	a=$(logsize "$log")
	wait_grow "$log" "$a" "${grow:-20}"
	b=$(logsize "$log")
	kill -INT $mpid
	wait $mpid
	rc=$?
	lo=$((b - a))
	hi=$(($(logsize "$log") - before))
	got=$(python3 "$tmp/count.py" "$tmp/$tag.json" "$line" detach)
}

in_bounds() {	# DESC
	if [ "$rc" = 0 ] && [ "$got" != none ] && [ "$got" -ge "$lo" ] && [ "$got" -le "$hi" ]; then
		t_ok "$1"
	else
		t_fail "$1" "memwatch-leak exit $rc; $got blocks at attach_target.c:$line, expected $lo..$hi" \
			"$(cat "$tmp"/*.err 2>/dev/null | tail -5)"
	fi
}

# --- attach, watch (interval reports), detach --------------------------
log=$tmp/a.log
start_target "$log"
attach_once "$log" first -i 1
in_bounds "attach + detach: the timer leak's line with a block count from the target's own log ($lo..$hi, got $got)"
grep -q '"kind":"interval"' "$tmp/first.json" || true
n_int=$(grep -c '"kind":"interval"' "$tmp/first.json")
# at least one interval report only if the watch lasted over a second of the reporter's clock
t_diag "interval reports while attached: $n_int"
grep -q "detached from process $tpid" "$tmp/first.err"
t_check $? "detach is reported with its time" "$(cat "$tmp/first.err")"
t_diag "$(grep -h 'attached\|detached' "$tmp/first.err")"
s=$(logsize "$log")
wait_grow "$log" "$s" 10
t_check $? "the target keeps running after detach (its timer keeps leaking)"
frames=$(python3 - "$tmp/first.json" <<'PY'
import json, sys
d = [json.loads(l) for l in open(sys.argv[1]) if l.startswith('{')][-1]
for l in d['leaks']:
    if l['stack'] and l['stack'][0].get('function') == 'timer_leak':
        print(' '.join(f.get('function') or '?' for f in l['stack'])); break
PY
)
case $frames in
"timer_leak main"*) t_ok "the leak's stack is timer_leak <- main ($frames)" ;;
*) t_fail "the leak's stack is timer_leak <- main" "got: $frames" ;;
esac

# --- --fds: descriptors opened while attached and still open -------------
fdline=$(grep -n '/\* LEAK:fd \*/' $L/attach_target.c | head -1 | cut -d: -f1)
f0=$(logsize "$log.fd")
"$mw" -p "$tpid" --fds -j -o "$tmp/fds.json" 2>"$tmp/fds.err" &
mpid=$!
wait_for "$tmp/fds.err" '^memwatch-leak: attached'
fa=$(logsize "$log.fd")
wait_grow "$log.fd" "$fa" 2
fb=$(logsize "$log.fd")
kill -INT $mpid
wait $mpid
rc=$?
f1=$(logsize "$log.fd")
read -r nfd nother < <(python3 - "$tmp/fds.json" "$fdline" <<'PY'
import json, sys
d = [json.loads(l) for l in open(sys.argv[1]) if l.startswith('{')][-1]
ours = [f for f in d['fds'] if f['stack'] and f['stack'][0].get('line') == int(sys.argv[2])]
print(len(ours), len(d['fds']) - len(ours))
PY
)
lo=$((fb - fa)) hi=$((f1 - f0))
if [ "$rc" = 0 ] && [ "${nfd:-x}" -ge "$lo" ] 2>/dev/null && [ "$nfd" -le "$hi" ] && [ "$nother" = 0 ]; then
	t_ok "--fds: descriptors opened at LEAK:fd while attached ($nfd, bounds $lo..$hi), none from before"
else
	t_fail "--fds: descriptors opened at LEAK:fd while attached" "rc $rc, $nfd at the line (expected $lo..$hi), $nother others"
fi

# --- twenty attach/detach cycles in a row ---------------------------
bad=0
detail=
inside=
for i in $(seq 20); do
	grow=2 attach_once "$log" "cycle$i"
	[ -n "$inside" ] || inside=$(grep -o 'inside the allocator then: thread [0-9]* in [a-z_]*' "$tmp/cycle$i.err")
	if ! [ "$rc" = 0 ] || [ "$got" = none ] || [ "$got" -lt "$lo" ] || [ "$got" -gt "$hi" ]; then
		bad=$((bad + 1))
		detail="cycle $i: rc $rc, $got blocks, expected $lo..$hi"
	fi
	kill -0 "$tpid" 2>/dev/null || { bad=$((bad + 100)); detail="target gone after cycle $i"; break; }
done
t_eq "$bad" 0 "20 attach/detach cycles: each reports only its own blocks, within its bounds ($detail)"
# the spinning thread is in malloc or free nearly all the time: an attach
# that finds none there ten more times in a row means the check is broken
for i in $(seq 10); do
	[ -n "$inside" ] && break
	grow=2 attach_once "$log" "inside$i"
	inside=$(grep -o 'inside the allocator then: thread [0-9]* in [a-z_]*' "$tmp/inside$i.err")
done
itid=$(echo "$inside" | awk '{print $6}')
if [ -n "$inside" ] && [ -d "/proc/$tpid/task/$itid" ]; then
	t_ok "an attach stopped a thread of the target inside glibc's allocator, and went on ($inside)"
else
	t_fail "an attach stopped a thread of the target inside glibc's allocator" "none said so in 20+ attaches, or not a thread of it: $inside"
fi

# --- the target ends cleanly -------------------------------------------
kill -TERM "$tpid"
wait "$tpid"
st=$?
t_eq "$st $(tail -1 "$log.out")" "0 consistent" "the target's own consistency check passes at exit (blocks from before, while and after attached all freed)"

# --- exiting while attached -------------------------------------------
log=$tmp/b.log
$L/attach_target "$log" 600 >"$log.out" &
tpid=$!
pids+=("$tpid")
wait_for "$log.out" '^ready'
"$mw" -p "$tpid" -j -o "$tmp/exit.json" 2>"$tmp/exit.err" &
mpid=$!
wait_for "$tmp/exit.err" '^memwatch-leak: attached'
s=$(logsize "$log")
wait_grow "$log" "$s" 10
kill -TERM "$tpid"
wait "$tpid"
st=$?
wait $mpid
mrc=$?
got=$(python3 "$tmp/count.py" "$tmp/exit.json" "$line" detach)
t_eq "$st $mrc $(grep -c 'process .* exited' "$tmp/exit.err")" "0 0 1" "the target exits while attached: its last report is written, memwatch-leak ends with it"
if [ "$got" != none ] && [ "$got" -ge 10 ]; then t_ok "exit while attached: the report holds the timer leaks ($got)"; else t_fail "exit while attached: the report holds the timer leaks" "got $got"; fi

# --- C++: libstdc++ loaded, containers churning on two threads ----------
# (the library's TLS must fit next to libstdc++'s in glibc's static TLS)
cxxline=$(grep -n '/\* LEAK:cxx \*/' $L/attach_cxx.cpp | head -1 | cut -d: -f1)
log=$tmp/cxx.log
$L/attach_cxx "$log" 600 >"$log.out" &
tpid=$!
pids+=("$tpid")
wait_for "$log.out" '^ready'
wait_grow "$log" 0 5
got0=$(python3 "$tmp/got.py" "$tpid" $L/attach_cxx)
attach_once "$log" cxx
got=$(python3 "$tmp/count.py" "$tmp/cxx.json" "$cxxline" detach attach_cxx.cpp)
in_bounds "C++ target: attach + detach, the operator new leak's line with a block count from its log ($lo..$hi, got $got)"
got1=$(python3 "$tmp/got.py" "$tpid" $L/attach_cxx)
if [ -n "$got0" ] && [ "$got0" = "$got1" ]; then
	t_ok "C++ target: after detach its GOT entries are what they were before the attach ($(echo $got0 | wc -w) entries)"
else
	t_fail "C++ target: after detach its GOT entries are what they were before the attach" "$(diff <(echo "$got0") <(echo "$got1"))"
fi
s=$(logsize "$log")
wait_grow "$log" "$s" 10
kill -TERM "$tpid"
wait "$tpid"
st=$?
t_eq "$st $(tail -1 "$log.out")" "0 consistent" "C++ target: runs on after detach and its own consistency check passes at exit"

# --- pointers to the real malloc/free taken before the attach -----------
fpline=$(grep -n '/\* LEAK:fnptr \*/' $L/attach_fnptr.c | head -1 | cut -d: -f1)
mixline=$(grep -n '/\* MIX:alloc \*/' $L/attach_fnptr.c | head -1 | cut -d: -f1)
burst=$(sed -n 's/^#define BURST \([0-9]*\)$/\1/p' $L/attach_fnptr.c)
log=$tmp/fp.log
$L/attach_fnptr "$log" 600 >"$log.out" 2>&1 &
tpid=$!
pids+=("$tpid")
wait_for "$log.out" '^ready'
wait_grow "$log" 0 5
got0=$(python3 "$tmp/got.py" "$tpid" $L/attach_fnptr)
"$mw" -p "$tpid" -j -o "$tmp/fpmid.json" 2>"$tmp/fpmid.err" &
mpid=$!
wait_for "$tmp/fpmid.err" '^memwatch-leak: attached'
gotmid=$(python3 "$tmp/got.py" "$tpid" $L/attach_fnptr)
kill -INT $mpid
wait $mpid
attach_once "$log" fp
got=$(python3 "$tmp/count.py" "$tmp/fp.json" "$fpline" detach attach_fnptr.c)
in_bounds "saved pointers: attach + detach, the leak's line with a block count from the log ($lo..$hi, got $got)"
mix=$(python3 "$tmp/count.py" "$tmp/fp.json" "$mixline" detach attach_fnptr.c)
# blocks of ours freed through the saved free() leave stale entries: the
# report must drop them (at most one burst is really allocated at detach)
if [ "$mix" != none ] && [ "$mix" -le "$burst" ]; then
	t_ok "saved pointers: blocks freed through the saved free() are not reported as outstanding ($mix listed, at most $burst live at once)"
else
	t_fail "saved pointers: blocks freed through the saved free() are not reported" "$mix listed at attach_fnptr.c:$mixline, at most $burst live"
fi
got1=$(python3 "$tmp/got.py" "$tpid" $L/attach_fnptr)
if [ -n "$got0" ] && [ "$got0" = "$got1" ] && [ "$gotmid" != "$got0" ]; then
	t_ok "saved pointers: GOT entries rewritten while attached, after detach what they were before ($(echo $got0 | wc -w) entries)"
else
	t_fail "saved pointers: GOT entries rewritten while attached, restored at detach" \
		"before: $got0" "attached: $gotmid" "after: $got1"
fi
s=$(logsize "$log")
wait_grow "$log" "$s" 10
kill -TERM "$tpid"
wait "$tpid"
st=$?
t_eq "$st $(tail -1 "$log.out")" "0 consistent" "saved pointers: no crash, the target runs on after detach and its consistency check passes at exit"

# --- refusals ----------------------------------------------------------
$L/static_sleep 60 &
sp=$!
pids+=("$sp")
$L/own_malloc 60 &
op=$!
pids+=("$op")
$L/tracer $L/static_sleep 60 >"$tmp/traced.pid" &
pids+=($!)
wait_for "$tmp/traced.pid" '[0-9]'
trp=$(cat "$tmp/traced.pid")
pids+=("$trp")
sleep 0.2

refuse() {	# DESC PATTERN CMD...
	local desc=$1 pat=$2
	shift 2
	local out st
	out=$("$@" 2>&1)
	st=$?
	if [ "$st" = 1 ] && printf '%s' "$out" | grep -q "$pat"; then
		t_ok "$desc"
	else
		t_fail "$desc" "exit $st" "$out"
	fi
}
refuse "already traced: refused, naming the tracer" "already traced by process" "$mw" -p "$trp" --duration 1
if id nobody >/dev/null 2>&1 && command -v setpriv >/dev/null && [ "$(id -u)" = 0 ]; then
	refuse "another user's process without CAP_SYS_PTRACE: refused, saying why" "ptrace not permitted (it runs as uid 0" \
		setpriv --reuid=nobody --regid=nogroup --clear-groups "$mw" -p "$sp" --duration 1
else
	t_skip "another user's process" "needs root, setpriv and user nobody"
fi
refuse "no such process" "no such process: 4194303" "$mw" -p 4194303 --duration 1
refuse "a static binary is refused" "statically linked" "$mw" -p "$sp" --duration 1
refuse "an allocator linked into the executable is refused" "malloc is defined in the executable" "$mw" -p "$op" --duration 1
kill -0 "$op" 2>/dev/null
t_check $? "the refused own-allocator process keeps running"

usage() {	# DESC ARGS...
	local desc=$1
	shift
	local out st
	out=$("$mw" "$@" 2>&1 >/dev/null)
	st=$?
	if [ "$st" = 2 ] && [ "$(printf '%s\n' "$out" | head -1 | grep -c memwatch-leak:)" = 1 ]; then
		t_ok "$desc"
	else
		t_fail "$desc" "exit $st" "$out"
	fi
}
usage "usage: -p with a program" -p 1 true
usage "usage: -p not a number" -p abc
usage "usage: --duration without -p" --duration 5 true
usage "usage: -p with --follow-fork" -p 1 -f

t_done
