#!/usr/bin/env bash
# tests/bench/suspects-bench.sh - cost of memwatch-read --suspects --db on a
# large recording, on the host (no VM needed):
#
#   bash tests/bench/suspects-bench.sh [PROCS] [SAMPLES] [ROUNDS]
#
# Writes a recording of PROCS processes (default 500) over SAMPLES samples
# (default 1440: two hours at 5 s) the way memwatchd stores it (full sample
# every 60, otherwise only changed rows; a third of the processes grow, a
# third swing, a third stay flat). Then, alternating, ROUNDS (default 3)
# times each: the peer, sqlite3 reading the same task rows in the same order
# (the I/O and SQL floor), and memwatch-read --suspects --db (rebuild every
# sample, bucket to 240 points, test 4 series per process, anomalies).
# Prints the medians and their ratio. Figures: Documentation/performance.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
procs=${1:-500} samples=${2:-1440} rounds=${3:-3}
R=userspace/memwatch-read
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

awk -v np="$procs" -v ns="$samples" -v t0s=1764547200 'BEGIN {
	srand(3);
	print "BEGIN;";
	print "INSERT INTO run VALUES (1, " t0s "000000000, 0, \"bench\", \"6.1\", 1, 0, 5000, \"bench\");";
	for (i = 0; i < ns; i++) {
		full = (i % 60 == 0);
		printf "INSERT INTO sample VALUES (%d, 1, %d000000000, %d000000000, %d, 1);\n", i + 1, t0s + 5 * i, 5 * i, full;
		for (p = 1; p <= np; p++) {
			kind = p % 3;
			if (kind == 2 && !full) continue;	# flat: unchanged rows are not stored
			anon = 20000 + (kind == 0 ? 50 * i : kind == 1 ? int(4000 * rand()) : 0);
			printf "INSERT INTO task (sample_id, pid, rss_anon_kb, mapped_net_kb, brk_kb, page_allocs, mmap_calls, mmap_kb, brk_calls, comm) VALUES (%d, %d, %d, %d, %d, %d, %d, %d, %d, \"p%d\");\n", i + 1, p, anon, anon / 2, anon / 4, 10 * i * p, i * (p % 7), 64 * i * (p % 7), i, p;
		}
	}
	print "COMMIT;";
}' >"$TMP/rows.sql"
{ cat userspace/memwatchd/schema.sql
  echo "PRAGMA application_id = 1297563988; PRAGMA user_version = 2;"
  cat "$TMP/rows.sql"; } | sqlite3 "$TMP/rec.db"
rows=$(sqlite3 "$TMP/rec.db" "SELECT count(*) FROM task")
echo "# recording: $procs processes, $samples samples, $rows task rows, $(du -k "$TMP/rec.db" | cut -f1) KiB"

now() { date +%s%N; }
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
: >"$TMP/peer"; : >"$TMP/sus"
for r in $(seq "$rounds"); do
	a=$(now)
	sqlite3 "$TMP/rec.db" "SELECT s.id, s.time_unix_ns, s.full, t.pid, t.gone, t.rss_anon_kb,
		t.mapped_net_kb, t.brk_kb, t.page_allocs, t.mmap_calls, t.mmap_kb, t.brk_calls, t.comm
		FROM sample s LEFT JOIN task t ON t.sample_id = s.id ORDER BY s.id, t.pid" >/dev/null
	b=$(now)
	$R --suspects --db "$TMP/rec.db" --csv >"$TMP/out"
	c=$(now)
	echo $(( (b - a) / 1000000 )) >>"$TMP/peer"
	echo $(( (c - b) / 1000000 )) >>"$TMP/sus"
	echo "# round $r: sqlite3 $(( (b - a) / 1000000 )) ms, --suspects $(( (c - b) / 1000000 )) ms"
done
leaks=$(awk -F, '$1 == "leak" { print $2 }' "$TMP/out" | sort -u | wc -l)
peer=$(median <"$TMP/peer") sus=$(median <"$TMP/sus")
echo "suspects found: $leaks processes (the growing third: $(( procs / 3 )))"
echo "median: sqlite3 query $peer ms, memwatch-read --suspects --db $sus ms, ratio $(awk -v a="$sus" -v b="$peer" 'BEGIN { printf "%.2f", a / b }')"
