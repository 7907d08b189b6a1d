# suspects.sh - memwatch-read --suspects on a recording made here with the
# sqlite3 CLI (schema of userspace/memwatchd/schema.sql, rows stored the way
# memwatchd stores them: full samples every 20, otherwise only changed rows),
# then live from /proc on tests/progs/suspects_work, then its errors.
# MW_KEEP=1 copies the files (recordings, outputs) to /tmp/sus-keep at exit.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh

R=userspace/memwatch-read
TMP=$(mktemp -d)
trap 'kill $LEAK $FLAT ${MWD_PID:-} 2>/dev/null; [ -n "${MW_KEEP:-}" ] && cp -r "$TMP" /tmp/sus-keep; rm -rf "$TMP"' EXIT
DB=$TMP/rec.db

if ! command -v sqlite3 >/dev/null; then
	t_skip "suspects on a recording" "no sqlite3 CLI (scripts/setup installs it)"
	t_done
fi

# 60 samples 5 s apart from T0. Processes (KiB):
#  100 leak    rss_anon 20000 + 300/sample (60 KiB/s), brk_kb the same
#  200 saw     30000 + 2000 * (i % 6): grows 25 s, frees
#  300 flat    50000 (rows only in full samples)
#  400 step    40000, 60000 from sample 25
#  500 churn   60000 +- 8000 at random, 2000 mmap calls and 128 MiB a sample
#  600 burst   quiet, then 5000 mmap calls (320 MiB) a sample from sample 50
#  700 young   starts at sample 45 and grows (start-up, not a leak)
#  800 gone    grows until it exits at sample 30
#  900 late    flat until sample 20, then + 400/sample (80 KiB/s)
# 1000 gcleak  a sawtooth (4000 KiB every 5 samples, freed) whose floor rises 60/sample
T0=1764547200000000000
# mawk prints integers through 32 bits: times are written as seconds + "000000000"
awk -v t0s=1764547200 'BEGIN {
	srand(7);
	print "BEGIN;";
	print "INSERT INTO meta VALUES (\"magic\", \"memwatch-recording\"), (\"schema_version\", \"2\");";
	print "INSERT INTO run VALUES (1, " t0s "000000000, " t0s "000000000, \"test\", \"6.1\", 1, 0, 5000, \"test\");";
	c5 = 0; k5 = 0; c6 = 0; k6 = 0;
	for (i = 0; i < 60; i++) {
		full = (i % 20 == 0);
		printf "INSERT INTO sample VALUES (%d, 1, %d000000000, %d000000000, %d, 1);\n", i + 1, t0s + 5 * i, 5 * i, full;
		if (i == 1)
			printf "INSERT INTO file (sample_id, name, text) VALUES (%d, \"proc/meminfo\", \"MemTotal: 2000000 kB\nMemAvailable:    1000000 kB\n\");\n", i + 1;
		c5 += 2000; k5 += 131072;
		if (i >= 50) { c6 += 5000; k6 += 320000 }
		row(i, 100, "leak", 20000 + 300 * i, 0, i * 10, i, 300 * i);
		row(i, 200, "saw", 30000 + 2000 * (i % 6), 2000 * (i % 6), i * 20, 20 * i, 0);
		if (full) row(i, 300, "flat", 50000, 8192, 10, 10, 0);
		if (i == 0 || i == 25 || full) row(i, 400, "step", i < 25 ? 40000 : 60000, i < 25 ? 4096 : 24576, 100, 2, 0);
		row(i, 500, "churn", 60000 + int(16000 * rand()) - 8000, 20000 + int(8000 * rand()), i * 50000, c5, 0, k5);
		row(i, 600, "burst", 10000, 1000, i * 10 + c6 * 1, c6 + i, 0, k6 + i);
		if (i >= 45) row(i, 700, "young", 1000 + 3000 * (i - 45), 3000 * (i - 45), i, i, 0);
		if (i < 30) row(i, 800, "gone", 5000 + 500 * i, 0, i, i, 0);
		if (i == 30) printf "INSERT INTO task (sample_id, pid, gone) VALUES (%d, 800, 1);\n", i + 1;
		row(i, 900, "late", 30000 + (i > 20 ? 400 * (i - 20) : 0), 0, i, i, 0);
		row(i, 1000, "gcleak", 30000 + 60 * i + 1000 * (i % 5), 0, i, i, 0);
	}
	print "COMMIT;";
}
function row(i, pid, comm, anon, net, pages, calls, brk, mkb) {
	printf "INSERT INTO task (sample_id, pid, ppid, rss_kb, rss_anon_kb, mapped_net_kb, brk_kb, page_allocs, mmap_calls, mmap_kb, brk_calls, comm) VALUES (%d, %d, 1, %d, %d, %d, %d, %d, %d, %d, %d, \"%s\");\n", i + 1, pid, anon + 1000, anon, net, brk, pages, calls, mkb + 0, 0, comm;
}' >"$TMP/rows.sql"
{ cat userspace/memwatchd/schema.sql
  echo "PRAGMA application_id = 1297563988; PRAGMA user_version = 2;"
  cat "$TMP/rows.sql"; } | sqlite3 "$DB" 2>"$TMP/err"
t_check $? "a recording of nine processes, 60 samples (sqlite3 CLI)" "$(cat "$TMP/err")"

$R --suspects --db "$DB" --csv >"$TMP/csv" 2>"$TMP/err"
t_check $? "--suspects --db --csv runs" "$(cat "$TMP/err")"
leaks=$(awk -F, '$1 == "leak" { print $2 }' "$TMP/csv" | sort -nu | tr '\n' ' ')
t_eq "$leaks" "100 900 1000 " "only the steady leaker, the late leaker and the leak under a sawtooth are suspects (not saw, flat, step, churn, burst, young, gone)"
line=$(awk -F, '$1 == "leak" && $2 == 1000' "$TMP/csv")
# 12 troughs rising 60 KiB per 5 s: 43200 KiB/h
t_eq "$(echo "$line" | awk -F, '{ printf "%d %s", $5 / 100 + 0.5, $12 }')" "432 troughs" \
	"gcleak: found in its troughs, 43200 KiB/h (to 100 KiB/h)" "$line"
line=$(awk -F, '$1 == "leak" && $2 == 100 && $4 == "rss_anon_kb"' "$TMP/csv")
set -- $(echo "$line" | awk -F, '{ printf "%d %d %d", $5, $6 / 1e9, $8 / 1e9 }')
# 300 KiB per 5 s = 216000 KiB/h; MemAvailable 1000000 KiB / 60 KiB/s = 16667 s
t_near "${1:-x}" 216000 100 "leaker's rss_anon growth: 216000 KiB/h" "$line"
t_near "${2:-x}" 295 0 "leaker's trend held over the whole window (295 s)"
t_near "${3:-x}" 16667 2 "time to exhaustion: MemAvailable / slope = 16667 s"
t_eq "$(awk -F, '$1 == "leak" && $2 == 100 { print $4 }' "$TMP/csv" | sort | tr '\n' ' ')" \
	"brk_kb rss_anon_kb " "leaker flagged on rss_anon_kb and brk_kb (mapped_net_kb flat)"
held=$(awk -F, '$1 == "leak" && $2 == 900 && $4 == "rss_anon_kb" { printf "%d", $6 / 1e9 }' "$TMP/csv")
# the rise starts after sample 20 (t = 100 s); the last sample is at 295 s
t_near "${held:-x}" 195 10 "late onset: held 195 s +- 10 (the rise starts at 100 s of 295)"
p=$(awk -F, '$1 == "leak" && $2 == 100 && $4 == "rss_anon_kb" { print ($7 < 1e-10) }' "$TMP/csv")
t_eq "$p" 1 "leaker's p-value below 1e-10"
t_eq "$(awk -F, '$1 == "alloc" { print $2 }' "$TMP/csv" | sort -nu | tr '\n' ' ')" "600 " \
	"only the burst is an allocation-rate anomaly (not the steady churner)"
# "now" is the last fifth: samples 47..59 (60 s), 10 of them with 5000 calls, + 1 a sample
t_eq "$(awk -F, '$1 == "alloc" && $2 == 600 && $4 == "call_rate" { print $5 }' "$TMP/csv")" "833.5" \
	"burst's call rate over the recent fifth: 50012 calls in 60 s"

$R --suspects --db "$DB" --json >"$TMP/json" 2>"$TMP/err"
out=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); a=d["analysis"][0] if isinstance(d["analysis"], list) else d["analysis"]; print(a["samples"], a["processes"], a["mem_available_kb"], len(d["suspects"]), len(d["anomalies"]))' "$TMP/json" 2>&1)
t_eq "$out" "60 10 1000000 4 2" "JSON: 60 samples, 10 processes, MemAvailable, 4 suspect rows, 2 anomaly rows (calls, KiB; its pages stay under the floor)"

$R --suspects --db "$DB" --window 100s --csv >"$TMP/csv" 2>"$TMP/err"
t_eq "$(awk -F, '$1 == "leak" { print $2 }' "$TMP/csv" | sort -nu | tr '\n' ' ')" "100 700 900 " \
	"--window 100s (the last 21 samples): the leakers, and young, which grew through 70 s of those 100; gcleak's 4 troughs are too few"
$R --suspects --db "$DB" --to $(((T0 + 145000000000) / 1000000000)) --csv >"$TMP/csv" 2>"$TMP/err"
t_eq "$(awk -F, '$1 == "leak" { print $2 }' "$TMP/csv" | sort -nu | tr '\n' ' ')" "100 800 " \
	"--to at 145 s: the leaker and gone (still there); 900 had not held long enough"
$R --suspects --db "$DB" --to $(((T0 + 150000000000) / 1000000000)) --csv >"$TMP/csv" 2>"$TMP/err"
t_eq "$(awk -F, '$1 == "leak" { print $2 }' "$TMP/csv" | sort -nu | tr '\n' ' ')" "100 " \
	"--to at 150 s: gone has exited (its gone row), so it is not leaking now"

$R --suspects --db "$DB" --window 20s >"$TMP/out" 2>"$TMP/err"
st=$?
t_eq "$st $(grep -c 'needs at least 8' "$TMP/err")" "1 1" "--window 20s: 5 samples, exit 1 saying 8 are needed" "$(cat "$TMP/err")"
$R --suspects --db "$DB" -p 100 --csv >"$TMP/csv" 2>&1
t_eq "$(awk -F, 'NR > 1 { print $2 }' "$TMP/csv" | sort -u | tr '\n' ' ')" "100 " "-p 100 reports only pid 100"

# live, from /proc: a leaker and a flat process, 17 samples in 4 s
make -s -C tests/progs suspects_work >/dev/null 2>&1
tests/progs/suspects_work leak >"$TMP/leak.out" & LEAK=$!
tests/progs/suspects_work flat >"$TMP/flat.out" & FLAT=$!
for _ in 1 2 3 4 5 6 7 8 9 10; do
	[ -s "$TMP/leak.out" ] && [ -s "$TMP/flat.out" ] && break
	sleep 0.1
done
# memwatchd records the same 4 s (from /proc too), for --db on a real recording
MWD=userspace/memwatchd/memwatchd
if [ -x $MWD ]; then
	MEMWATCH_ROOT=$TMP/none $MWD --db "$TMP/live.db" --interval 0.25 --full-every 5 \
		--no-http --events "$TMP/none/events" 2>"$TMP/mwd.err" &
	MWD_PID=$!
fi
MEMWATCH_ROOT=$TMP/none $R --suspects --window 4 --interval 0.25 -c suspects_work --csv \
	>"$TMP/csv" 2>"$TMP/err"
t_check $? "live from /proc (no module): --window 4 --interval 0.25" "$(cat "$TMP/err")"
t_eq "$(awk -F, '$1 == "leak" { print $2 "/" $4 }' "$TMP/csv" | sort -u | tr '\n' ' ')" "$LEAK/rss_anon_kb " \
	"live: the leaker's rss_anon_kb flagged within 17 samples, the flat one not"
grep -q "from /proc only" "$TMP/err"
t_check $? "live without the module says it answers from /proc"
if [ -n "${MWD_PID:-}" ]; then
	# a loaded host slows memwatchd's sampling: wait for 12 samples, not for a time
	for _ in $(seq 300); do
		[ "$(sqlite3 "$TMP/live.db" 'SELECT count(*) FROM sample' 2>/dev/null || echo 0)" -ge 12 ] && break
		sleep 0.1
	done
	kill -TERM $MWD_PID
	wait $MWD_PID
	t_check $? "memwatchd recorded the same seconds and stopped cleanly" "$(cat "$TMP/mwd.err")"
	$R --suspects --db "$TMP/live.db" -c suspects_work --csv >"$TMP/csv" 2>"$TMP/err"
	got=$(awk -F, '$1 == "leak" { print $2 "/" $4 }' "$TMP/csv" | sort -u | tr '\n' ' ')
	if [ "$got" = "$LEAK/rss_anon_kb " ]; then
		t_ok "memwatchd's recording of it (12+ samples): the same verdict through --db"
	else
		t_fail "memwatchd's recording of it (12+ samples): the same verdict through --db" \
			"got: '$got' expected: '$LEAK/rss_anon_kb '" "$(cat "$TMP/err")"
	fi
	# memwatchd stores file texts zlib-compressed (schema 3): MemAvailable still read
	ex=$(awk -F, -v p="$LEAK" '$1 == "leak" && $2 == p && $4 == "rss_anon_kb" { print ($8 ~ /^[0-9]+$/) }' "$TMP/csv")
	t_eq "$ex" 1 "memwatchd's recording: time to exhaustion known (MemAvailable from its compressed meminfo)"
else
	t_skip "memwatchd records the same seconds" "userspace/memwatchd/memwatchd not built"
	t_skip "memwatchd's recording: the same verdict" "no memwatchd"
fi
kill $LEAK $FLAT 2>/dev/null
wait 2>/dev/null

# errors
$R --suspects --window 5x >/dev/null 2>"$TMP/err"
t_eq "$? $(wc -l <"$TMP/err") $(grep -c "^memwatch-read: bad --window '5x'" "$TMP/err") $(grep -c "^Try 'memwatch-read --help'" "$TMP/err")" \
	"2 2 1 1" "bad --window: one line and Try --help, exit 2" "$(cat "$TMP/err")"
$R --suspects --window 2 --interval 1 >/dev/null 2>"$TMP/err"
t_eq "$? $(grep -c 'gives 3 samples; the trend test needs 8' "$TMP/err")" "2 1" "window too short for the interval: exit 2, says how many"
$R --suspects --from -1h >/dev/null 2>"$TMP/err"
t_eq "$? $(grep -c -- '--from needs --db' "$TMP/err")" "2 1" "--from without --db: exit 2"
echo hello >"$TMP/not.db"
$R --suspects --db "$TMP/not.db" >/dev/null 2>"$TMP/err"
t_eq "$? $(grep -c 'not a memwatch recording' "$TMP/err")" "1 1" "--db on a text file: exit 1, not a recording"
MEMWATCH_ROOT=$TMP/none MEMWATCH_PROCFS=$TMP/none $R --suspects --window 1 --interval 0.1 >/dev/null 2>"$TMP/err"
t_eq "$? $(grep -c "no process data" "$TMP/err")" "1 1" "no module and no /proc: exit 1 with a message" "$(cat "$TMP/err")"
t_diag "$(cat "$TMP/err")"

t_done
