# tests/vm/attach.sh - memwatch-leak -p under Yama (the host kernel has no
# Yama; Debian's kernels do): /proc/sys/kernel/yama/ptrace_scope set to 1,
# then 2, against tests/progs/attach_sleeper (dynamically linked: the VM has
# its shared libraries). Scope 1: an unprivileged user attaching to another
# process of its own (not its descendant) is refused, with a message naming
# Yama's ptrace_scope and what to do; root is allowed. Scope 2: the user is
# refused, root is allowed. The scope is put back as it was at the end.
# POSIX sh (busybox ash); run from /mw inside the VM.
. tests/lib.sh

Y=/proc/sys/kernel/yama/ptrace_scope
P=tests/progs/attach_sleeper
MW=userspace/memwatch-leak
if [ ! -w $Y ]; then
	t_skip "memwatch-leak -p under Yama" "no $Y in this kernel"
	t_done
fi
if [ ! -x $P ] || [ ! -x $MW ] || [ ! -f userspace/libmemwatch-leak.so ]; then
	t_skip "memwatch-leak -p under Yama" "not built ($P, $MW, userspace/libmemwatch-leak.so)"
	t_done
fi
old=$(cat $Y)
tmp=/tmp/attach-test.$$
mkdir -p "$tmp"
chmod 777 "$tmp"

# a target of user 1000 ("user"), started by root: not the attacher's child
su user -s /bin/sh -c "exec $P 600" >"$tmp/target.out" 2>&1 &
n=0
while ! grep -q ready "$tmp/target.out" 2>/dev/null && [ $n -lt 100 ]; do
	sleep 0.1; n=$((n + 1))
done
tpid=$(pidof attach_sleeper)
t_eq "$(awk '$1 == "Uid:" { print $2 }' /proc/${tpid:-0}/status 2>/dev/null)" 1000 "the target runs as user 1000 (pid ${tpid:-none})"

# as_user DESC: memwatch-leak -p as user 1000; $out $st
as_user() {
	out=$(su user -s /bin/sh -c "TMPDIR=$tmp /mw/$MW -p $tpid --duration 1" 2>&1)
	st=$?
}
as_root() {
	out=$(TMPDIR=$tmp $MW -p "$tpid" --duration 1 2>&1)
	st=$?
}

for scope in 1 2; do
	echo $scope >$Y
	t_eq "$(cat $Y)" $scope "ptrace_scope set to $scope"
	as_user
	t_diag "scope $scope, user 1000: $out"
	if [ "$st" = 1 ] && echo "$out" | grep -q "Yama ptrace_scope is $scope" &&
		echo "$out" | grep -q "CAP_SYS_PTRACE" && echo "$out" | grep -q "ptrace_scope=0"; then
		t_ok "scope $scope: user 1000 attaching to its own process is refused, the message names Yama ptrace_scope and what to do"
	else
		t_fail "scope $scope: user 1000 is refused, naming Yama ptrace_scope" "exit $st" "$out"
	fi
	as_root
	if [ "$st" = 0 ] && echo "$out" | grep -q "^memwatch-leak: attached" && echo "$out" | grep -q "^memwatch-leak: detached"; then
		t_ok "scope $scope: root (CAP_SYS_PTRACE) attaches and detaches"
	else
		t_fail "scope $scope: root attaches and detaches" "exit $st" "$out"
	fi
done
echo "$old" >$Y
t_eq "$(cat $Y)" "$old" "ptrace_scope back to $old"
kill -0 "$tpid" 2>/dev/null
t_check $? "the target runs on after every attempt"
kill "$tpid" 2>/dev/null
rm -rf "$tmp"
t_done
