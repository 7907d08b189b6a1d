#!/usr/bin/env bash
# Host tests of memwatch-read's option checking: a usage error is one line
# naming the problem plus "Try ... --help", exit 2, nothing on stdout; an
# option the chosen view cannot honour is such an error naming the view; a
# pid that does not exist is an error, exit 1.
set -u
cd "$(dirname "$0")/../.."
. tests/lib.sh

read=userspace/memwatch-read
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# No module, no /proc: every check here is decided before anything is read.
export MEMWATCH_ROOT=$tmp/none MEMWATCH_PROCFS=$tmp/none

# usage_error DESC WANT ARGS...: exit 2, stdout empty, stderr two lines:
# "memwatch-read: ...WANT..." and the --help pointer.
usage_error() {
	local desc=$1 want=$2
	shift 2
	$read "$@" >"$tmp/out" 2>"$tmp/err"
	local rc=$?
	local first second lines
	first=$(sed -n 1p "$tmp/err") second=$(sed -n 2p "$tmp/err")
	lines=$(wc -l <"$tmp/err")
	if [[ $rc == 2 && ! -s $tmp/out && $lines == 2 && $first == "memwatch-read: "*"$want"* &&
		$second == "Try 'memwatch-read --help' for more information." ]]; then
		t_ok "$desc"
	else
		t_fail "$desc" "memwatch-read $* -> exit $rc, stdout $(wc -c <"$tmp/out") bytes, stderr:" \
			"$(cat "$tmp/err")" "want exit 2, no stdout, 2 lines on stderr, the first with: $want"
	fi
}

# The two the issue saw: options the summary view cannot honour.
usage_error "summary -p 999999 is an error naming the summary view" \
	"--pid does not apply to the summary view" -p 999999
usage_error "summary -s nosuchcol is an error naming the summary view" \
	"--sort does not apply to the summary view" -s nosuchcol

usage_error "a bad flag is one line naming it" "unknown option '--no-such-flag'" --no-such-flag
usage_error "a missing argument names the option" "option '--sort' needs an argument" -t --sort
usage_error "a bad short option in a group is named alone" "unknown option '-Z'" -tZ
usage_error "a stray argument is named" "unexpected argument 'extra'" -t extra
usage_error "two views" "choose one view" -t --frag
usage_error "--count without --interval" "--count needs --interval" -t --count 3
for bad in "-n 0" "-n x" "-p -3" "-p 0" "-i 0" "--count abc" "--order 99" "--color maybe"; do
	# shellcheck disable=SC2086
	usage_error "bad value '$bad'" "bad " -t $bad
done

# Every view against every row option: honoured ones pass the check (the
# view may still fail for want of a module: exit 1, never "does not apply").
declare -A honours=(
	[summary]="" [--tasks]="sort top pid comm" [--threads]="sort top pid comm"
	[--frag]="zone order" [--nodes]="" [--frag-events]="sort top pid comm"
	[--sys]="" [--reclaim]="top" [--allocfail]="top pid comm order" [--status]=""
)
declare -A optargs=([sort]="--sort pid" [top]="--top 3" [pid]="--pid 1" [comm]="--comm sh"
	[zone]="--zone DMA32" [order]="--order 2")
for view in summary --tasks --threads --frag --nodes --frag-events --sys --reclaim --allocfail --status; do
	viewarg=$view
	[[ $view == summary ]] && viewarg=
	for opt in sort top pid comm zone order; do
		# shellcheck disable=SC2086
		if [[ " ${honours[$view]} " == *" $opt "* ]]; then
			timeout 10 $read $viewarg ${optargs[$opt]} >/dev/null 2>"$tmp/err"
			rc=$?
			! grep -q 'does not apply' "$tmp/err" && [[ $rc != 2 ]]
			t_check $? "$view honours --$opt" "exit $rc: $(cat "$tmp/err")"
		else
			usage_error "$view refuses --$opt, naming the view" \
				"--$opt does not apply to the $view view" $viewarg ${optargs[$opt]}
		fi
	done
done

# A pid that does not exist: a clear error, exit 1 (fixtures as the module).
fx=tests/host/fixtures/tasks
MEMWATCH_ROOT=$fx/module MEMWATCH_PROCFS=$fx/procfs $read -t -p 999999 >"$tmp/out" 2>"$tmp/err"
t_eq "$?" 1 "-t -p 999999 exits 1"
grep -q 'no process 999999' "$tmp/err"
t_check $? "... saying no process 999999" "$(cat "$tmp/err")"
MEMWATCH_ROOT=$fx/module MEMWATCH_PROCFS=$fx/procfs $read --threads 999999 >"$tmp/out" 2>"$tmp/err"
t_eq "$?" 1 "--threads 999999 exits 1"
grep -q 'no process 999999' "$tmp/err"
t_check $? "... saying no process 999999" "$(cat "$tmp/err")"

# History views: a pid gone now may still have recorded rows (shown, exit 0);
# a pid that neither exists nor has rows is an error, exit 1.
ff=tests/host/fixtures/frag/vm-6.1
MEMWATCH_ROOT=$ff/module MEMWATCH_PROCFS=$ff/procfs $read --frag-events -p 107 --csv >"$tmp/out" 2>"$tmp/err"
t_eq "$?:$(grep -c ',frag_frag' "$tmp/out")" "0:$(awk '/^# processes/ { on = 1; next } /^#/ { on = 0 } on && $1 == 107' $ff/module/extfrag | wc -l)" \
	"--frag-events -p 107 (exited, recorded): its rows, exit 0"
MEMWATCH_ROOT=$ff/module MEMWATCH_PROCFS=$ff/procfs $read --frag-events -p 999999 >"$tmp/out" 2>"$tmp/err"
t_eq "$?" 1 "--frag-events -p 999999 exits 1"
grep -q 'no process 999999, and no extfrag events recorded for it' "$tmp/err"
t_check $? "... saying so" "$(cat "$tmp/err")"
mkdir -p "$tmp/af"
cp $ff/module/status "$tmp/af/"
cat >"$tmp/af/allocfail" <<'AF'
memwatch-allocfail - version: 1.0
now_ns 2000000000
failures 1
failures_nowarn 1
failures_order_too_big 0
ring_size 64
# by_order: order failures
10 1
# failures: time_ns order gfp gfp_flags node zone free_pages min_pages low_pages high_pages present_pages ctx pid comm
    1000000000    10    0x12cc1 GFP_KERNEL|GFP_DMA    0 DMA            1754        23        28         33          3998 task        4242 insmod
AF
MEMWATCH_ROOT=$tmp/af MEMWATCH_PROCFS=$ff/procfs $read --allocfail -p 4242 --csv >"$tmp/out" 2>"$tmp/err"
t_eq "$?:$(grep -c '4242,insmod' "$tmp/out")" "0:1" "--allocfail -p 4242 (exited, recorded): its failure, exit 0"
MEMWATCH_ROOT=$tmp/af MEMWATCH_PROCFS=$ff/procfs $read --allocfail -p 999999 >"$tmp/out" 2>"$tmp/err"
t_eq "$?" 1 "--allocfail -p 999999 exits 1"
grep -q 'no process 999999, and no failure recorded for it' "$tmp/err"
t_check $? "... saying so" "$(cat "$tmp/err")"
t_done
