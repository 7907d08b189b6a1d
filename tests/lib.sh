# tests/lib.sh - TAP helpers for memwatch tests. POSIX sh: works under busybox
# ash (inside the VM) and bash (host tests). Source it: `. tests/lib.sh`.
#
#   t_ok DESC                      ok N - DESC
#   t_fail DESC [DETAIL...]        not ok N - DESC, then each DETAIL line as "# ..."
#   t_skip DESC REASON             ok N - DESC # SKIP REASON
#   t_check STATUS DESC [DETAIL]   ok if STATUS is 0:  cmd; t_check $? "cmd works"
#   t_eq ACTUAL EXPECTED DESC      string equality (shows both on failure)
#   t_near ACTUAL EXPECTED TOL DESC  integers, |ACTUAL - EXPECTED| <= TOL
#   t_diag MSG...                  "# MSG" (diagnostics; not counted)
#   t_done                         prints the plan "1..N"; exits 1 if anything failed
#
# Numbering is per file (per sourcing shell). T_FAILED holds the failure count.
# Inside the VM busybox ash runs its own applets before $PATH; the shims at the
# end make `ps`, `top` and `free` mean procps' /usr/bin versions when present.

T_N=0
T_FAILED=0

t_diag() {
	printf '%s\n' "$*" | sed 's/^/# /'
}

t_ok() {
	T_N=$((T_N + 1))
	printf 'ok %d - %s\n' "$T_N" "$1"
}

t_fail() {
	T_N=$((T_N + 1))
	# TAP: a TODO check that fails is expected to, not a failure of the file
	case $1 in *"# TODO"*) ;; *) T_FAILED=$((T_FAILED + 1)) ;; esac
	printf 'not ok %d - %s\n' "$T_N" "$1"
	shift
	for _t_d in "$@"; do
		[ -n "$_t_d" ] && printf '%s\n' "$_t_d" | sed 's/^/#   /'
	done
	return 0
}

t_skip() {
	T_N=$((T_N + 1))
	printf 'ok %d - %s # SKIP %s\n' "$T_N" "$1" "${2:-}"
}

t_check() {
	_t_st=$1
	_t_desc=$2
	shift 2
	if [ "$_t_st" = 0 ]; then
		t_ok "$_t_desc"
	else
		t_fail "$_t_desc" "exit status $_t_st" "$@"
	fi
}

t_eq() {
	if [ "$1" = "$2" ]; then
		t_ok "$3"
	else
		t_fail "$3" "got:      '$1'" "expected: '$2'"
	fi
}

# integer-ness check without bash
_t_isint() {
	case $1 in
	'' | - | *[!0-9-]* | ?*-*) return 1 ;;
	esac
	return 0
}

t_near() {
	if ! _t_isint "$1" || ! _t_isint "$2" || ! _t_isint "$3"; then
		t_fail "$4" "not integers: actual '$1' expected '$2' tolerance '$3'"
		return 0
	fi
	_t_d=$(($1 - $2))
	[ "$_t_d" -lt 0 ] && _t_d=$((-_t_d))
	if [ "$_t_d" -le "$3" ]; then
		t_ok "$4"
	else
		t_fail "$4" "got:      $1" "expected: $2 +- $3 (off by $_t_d)"
	fi
}

t_done() {
	printf '1..%d\n' "$T_N"
	# tests/vm/run-all.sh tells a finished file from one that died
	[ -n "${MW_T_DONE:-}" ] && : >"$MW_T_DONE"
	[ "$T_FAILED" -eq 0 ] || exit 1
	exit 0
}

# procps instead of busybox applets inside the VM (see above).
if [ -x /usr/bin/ps ] && [ -x /bin/busybox ]; then
	ps() { /usr/bin/ps "$@"; }
	top() { /usr/bin/top "$@"; }
	free() { /usr/bin/free "$@"; }
fi
