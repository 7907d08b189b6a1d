# suspects-replay.sh - memwatch-read --suspects --samples on series recorded
# in the VM (tests/vm/suspects.sh prints them, --save-samples format, when a
# verdict is wrong). Each fixture in tests/host/fixtures/suspects/ says what
# it must give ("# expect suspects: PID..." and "# expect anomalies: PID...")
# and why. fixed-*: runs the earlier rules got wrong (each fails with them:
# MW_READ=an older build); kept-*: runs on a loaded host they got right that
# the current rules must keep right (the leaker within 21 samples, a slow
# burst, a jittery churner). Then a --save-samples round trip on a live run
# from /proc, and the errors of --samples.
# MW_READ=PATH runs another memwatch-read (an older build, to see a fixture fail).
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh

R=${MW_READ:-userspace/memwatch-read}
FIX=tests/host/fixtures/suspects
TMP=$(mktemp -d)
trap 'kill ${LEAK:-} 2>/dev/null; rm -rf "$TMP"' EXIT

# pids flagged in a --json report: suspects or anomalies, sorted, unique
pids_of() {
	python3 -c 'import json,sys
d=json.load(open(sys.argv[1]))
print(" ".join(str(p) for p in sorted({r["pid"] for r in d[sys.argv[2]]})))' "$1" "$2"
}

for f in "$FIX"/*.samples; do
	name=$(basename "$f" .samples)
	why=$(sed -n 's/^# why: //p' "$f")
	want_sus=$(sed -n 's/^# expect suspects: *//p' "$f")
	want_ano=$(sed -n 's/^# expect anomalies: *//p' "$f")
	want_n=$(sed -n 's/^samples //p' "$f")
	"$R" --suspects --samples "$f" --json >"$TMP/$name.json" 2>"$TMP/err"
	st=$?
	if [ $st != 0 ]; then
		t_fail "$name: memwatch-read --suspects --samples" "exit $st" "$(cat "$TMP/err")"
		continue
	fi
	grep -q "\"samples\":$want_n," "$TMP/$name.json"
	t_check $? "$name: $want_n samples analysed, as recorded" "$(grep -o '"analysis".*' "$TMP/$name.json")"
	t_eq "$(pids_of "$TMP/$name.json" suspects)" "$want_sus" "$name: suspects are $want_sus ($why)"
	t_eq "$(pids_of "$TMP/$name.json" anomalies)" "$want_ano" "$name: anomalies are $want_ano"
done

# Round trip: what --save-samples wrote gives the same verdicts again.
make -s -C tests/progs >/dev/null 2>&1
tests/progs/suspects_work leak >/dev/null 2>&1 &
LEAK=$!
"$R" --suspects --no-module --window 4 --interval 0.25 --json \
	--save-samples "$TMP/live.samples" >"$TMP/live.json" 2>"$TMP/err"
t_check $? "live from /proc, --save-samples" "$(cat "$TMP/err")"
"$R" --suspects --samples "$TMP/live.samples" --json >"$TMP/replay.json" 2>"$TMP/err"
t_check $? "--samples of that file" "$(cat "$TMP/err")"
same=$(python3 -c 'import json,sys
a, b = (json.load(open(f)) for f in sys.argv[1:3])
keep = lambda d: (d["suspects"], d["anomalies"], d["analysis"]["samples"], d["analysis"]["source"])
print("same" if keep(a) == keep(b) else "differ: %r vs %r" % (keep(a), keep(b)))' "$TMP/live.json" "$TMP/replay.json")
t_eq "$same" "same" "the replay gives the live run's suspects, anomalies, samples and source"
grep -q "\"pid\":$LEAK," "$TMP/replay.json"
t_check $? "... and the leaker (pid $LEAK) is among the suspects"
kill $LEAK 2>/dev/null
wait $LEAK 2>/dev/null

# Errors
"$R" --suspects --samples "$TMP/none" >/dev/null 2>"$TMP/err"
t_eq "$? $(grep -c 'No such file' "$TMP/err")" "1 1" "--samples of a missing file: exit 1, says so"
printf 'pid comm\n1 init\n' >"$TMP/bad"
"$R" --suspects --samples "$TMP/bad" >/dev/null 2>"$TMP/err"
t_eq "$? $(grep -c 'not a --save-samples file' "$TMP/err")" "1 1" "--samples of another file: exit 1, says what it wants"
sed "/^columns /q" "$TMP/live.samples" >"$TMP/short"
printf '1.0\t7\tx\t1\t2\n' >>"$TMP/short"
"$R" --suspects --samples "$TMP/short" >/dev/null 2>"$TMP/err"
t_eq "$? $(grep -c 'line .*: too few columns' "$TMP/err")" "1 1" "a row with too few columns: exit 1, names the line" "$(cat "$TMP/err")"
"$R" --suspects --samples "$TMP/live.samples" --window 10 >/dev/null 2>"$TMP/err"
t_eq "$? $(grep -c "^Try 'memwatch-read --help'" "$TMP/err")" "2 1" "--samples with --window: usage error (exit 2)"
"$R" --suspects --samples "$TMP/live.samples" --save-samples "$TMP/x" >/dev/null 2>"$TMP/err"
t_eq "$? $(grep -c "^Try 'memwatch-read --help'" "$TMP/err")" "2 1" "--samples with --save-samples: usage error (exit 2)"
t_done
