#!/usr/bin/env bash
# Host tests of memwatch-read --tasks / --threads: parsing the module's files
# (fixtures captured from a 6.1 VM, plus hand-made rows with spaces in
# comm), sorting, top N, filters, JSON and CSV parsed back, and the /proc
# fallback against a fake procfs ($MEMWATCH_PROCFS).
set -u
cd "$(dirname "$0")/../.."
. tests/lib.sh

read=userspace/memwatch-read
fx=tests/host/fixtures/tasks
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export MEMWATCH_ROOT=$fx/module MEMWATCH_PROCFS=$fx/procfs

# py SCRIPT FILE: runs a python check; prints "fine" or the failure.
py() {
	python3 -c "$1" "$2" 2>&1 | tail -3
}

# --- from the module's files ----------------------------------------------
$read -t --csv >"$tmp/csv" 2>"$tmp/err"
t_eq "$?" 0 "--tasks --csv reads the module's file"
out=$(py '
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
assert len(rows) == 7, len(rows)
assert len(rows[0]) == 32, list(rows[0])
assert list(rows[0])[-1] == "comm"
by = {r["pid"]: r for r in rows}
assert by["4242"]["comm"] == "my worker 1", by["4242"]
assert by["106"]["mmap_calls"] == "100" and by["106"]["munmap_kb"] == "40960"
assert [r["pid"] for r in rows[:2]] == ["4242", "106"], "default sort: rss down"
print("fine")' "$tmp/csv")
t_eq "$out" fine "CSV parses back: 7 rows, 32 columns, comm with spaces, default sort by rss"
t_eq "$(wc -c <"$tmp/err")" 0 "nothing on stderr with the module"

out=$($read -t -s mmap_calls -n 2 --csv | cut -d, -f1 | tr '\n' ' ')
t_eq "$out" "pid 4242 107 " "-s mmap_calls -n 2: the two biggest mappers (107: 2 threads, 102 calls)"
out=$($read -t -s mmap -n 1 --csv | tail -1 | cut -d, -f1)
t_eq "$out" 4242 "-s mmap resolves to mmap_kb"
out=$($read -t -s -pid -n 3 --csv | tail -n +2 | cut -d, -f1 | tr '\n' ' ')
t_eq "$out" "1 103 106 " "-s -pid sorts ascending"
out=$($read -t -s comm -n 1 --csv | tail -1 | awk -F, '{print $NF}')
t_eq "$out" tasks_threads "-s comm sorts text descending"
out=$($read -t -s stall -n 1 --csv | tail -1 | cut -d, -f1)
t_eq "$out" 4242 "-s stall resolves to stall_ns"

$read -t -p 106 --json >"$tmp/json"
out=$(py '
import json, sys
doc = json.load(open(sys.argv[1]))
assert doc["memwatch"] == "tasks", doc
assert doc["info"]["source"] == "module", doc["info"]
rows = doc["tasks"]
assert len(rows) == 1, rows
r = rows[0]
assert r["pid"] == 106 and r["mmap_calls"] == 100 and r["mremap_kb"] == 3072, r
assert r["comm"] == "tasks_mmap" and r["pte_kb"] == 80, r
print("fine")' "$tmp/json")
t_eq "$out" fine "-p 106 --json: one object with exact numbers and every column"

out=$($read -t -c "my worker 2" --csv | tail -n +2 | cut -d, -f1)
t_eq "$out" 4243 "-c 'my worker 2': exact command match with spaces"
n=$($read -t -c tasks --csv | tail -n +2 | wc -l)
t_eq "$n" 0 "-c matches whole commands only"

$read -t -n 3 >"$tmp/text"
t_eq "$(wc -l <"$tmp/text")" 4 "-n 3: a header and 3 rows"
head -1 "$tmp/text" | grep -q 'RSS_ANON' && ! head -1 "$tmp/text" | grep -q 'PTE'
t_check $? "text shows the compact columns (RSS_ANON, no PTE)"
grep -q ' 200M ' "$tmp/text"
t_check $? "human units by default (204800 KiB -> 200M)" "$(sed -n 2p "$tmp/text")"
$read -t -n 1 -b | grep -q ' 204800 '
t_check $? "-b prints exact KiB"
$read -t -s pte -n 1 | head -1 | grep -q 'PTE'
t_check $? "the sort column is shown even outside the compact set"

$read -t -s nosuch >/dev/null 2>"$tmp/err"
t_eq "$?" 1 "unknown sort key exits 1"
grep -q "unknown sort key 'nosuch'; columns: pid ppid" "$tmp/err"
t_check $? "and lists the columns" "$(cat "$tmp/err")"
$read -t -p 99999 >/dev/null 2>"$tmp/err"
t_eq "$?" 1 "-p of a missing process exits 1"
grep -qx "memwatch-read: no process 99999" "$tmp/err"
t_check $? "and says 'no process 99999'"

$read -t -n 2 -i 0.1 --count 2 --json >"$tmp/jsonl"
out=$(py '
import json, sys
docs = [json.loads(l) for l in open(sys.argv[1])]
assert len(docs) == 2, len(docs)
assert all(len(d["tasks"]) == 2 for d in docs)
print("fine")' "$tmp/jsonl")
t_eq "$out" fine "--interval --count 2 --json: two JSON Lines documents"
$read -t -n 2 -i 0.1 --count 2 --csv >"$tmp/csvi"
out=$(py '
import csv, sys
rows = list(csv.reader(open(sys.argv[1])))
assert rows[0][0] == "time" and rows[0][1] == "pid", rows[0]
assert len(rows) == 5, len(rows)
print("fine")' "$tmp/csvi")
t_eq "$out" fine "--interval --csv: header once, a time column, 2 x 2 rows"

# Threads: the fixture is a regular file, so the reader filters itself.
cp -r "$fx/module" "$tmp/mod"
$read --threads 107 --csv >"$tmp/csv" 2>"$tmp/err"
t_eq "$?" 0 "--threads 107 reads"
out=$(cut -d, -f1 "$tmp/csv" | tail -n +2 | sort -n | tr '\n' ' ')
t_eq "$out" "107 109 110 " "--threads 107: the 3 threads of process 107"
diff -r "$fx/module" "$tmp/mod" >/dev/null
t_check $? "the reader never writes into a file outside /proc"
out=$($read --threads -s mmap_calls -n 2 --csv | tail -n +2 | cut -d, -f1 | tr '\n' ' ')
t_eq "$out" "106 110 " "--threads -s mmap_calls: per-thread counters"
out=$($read --threads -s pid -p 107 -n 1 --csv | tail -1 | cut -d, -f1)
t_eq "$out" 110 "--threads: -s pid means tid"
$read --threads --json -p 107 >"$tmp/json"
out=$(py '
import json, sys
doc = json.load(open(sys.argv[1]))
t = {r["tid"]: r for r in doc["threads"]}
assert t[109]["mmap_calls"] == 30 and t[110]["mmap_calls"] == 70, t
assert all(r["tgid"] == 107 for r in t.values())
print("fine")' "$tmp/json")
t_eq "$out" fine "--threads --json: thread A 30 mmaps, thread B 70"

# --- without the module: /proc ----------------------------------------------
export MEMWATCH_ROOT=$fx/none
$read -t --csv >"$tmp/csv" 2>"$tmp/err"
t_eq "$?" 0 "--tasks without the module exits 0"
grep -q "module not loaded .* processes from /proc only; event columns unavailable" "$tmp/err"
t_check $? "one note on stderr names what is missing"
out=$(py '
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
by = {r["pid"]: r for r in rows}
assert sorted(by) == ["1", "300", "400"], sorted(by)
r = by["300"]
assert r["comm"] == "my (odd) prog", r["comm"]
assert r["rss_kb"] == "250000" and r["rss_anon_kb"] == "240000" and r["swap_kb"] == "512", r
assert r["share_pm"] == "250" and r["fds"] == "3" and r["threads"] == "2", r
assert r["minflt"] == "90000" and r["majflt"] == "40" and r["ppid"] == "1", r
assert r["uid"] == "1000" and r["pte_kb"] == "48" and r["hwm_kb"] == "250010", r
assert r["mmap_calls"] == "-" and r["stall_ns"] == "-", r
assert rows[0]["pid"] == "300", "sorted by rss"
print("fine")' "$tmp/csv")
t_eq "$out" fine "/proc fallback: sampled columns from status and stat, events '-', kernel threads skipped"
$read -t --json >"$tmp/json" 2>/dev/null
out=$(py '
import json, sys
doc = json.load(open(sys.argv[1]))
assert doc["info"]["source"] == "proc"
r = [x for x in doc["tasks"] if x["pid"] == 300][0]
assert r["mmap_calls"] == "-" and r["rss_kb"] == 250000, r
print("fine")' "$tmp/json")
t_eq "$out" fine "/proc fallback JSON: unavailable columns are the string '-'"
out=$($read -t -s mmap_calls --csv 2>/dev/null | tail -n +2 | wc -l)
t_eq "$out" 3 "sorting on an unavailable column keeps every row"
n=$($read --threads 300 --csv 2>/dev/null | tail -n +2 | cut -d, -f1 | sort -n | tr '\n' ' ')
t_eq "$n" "300 301 " "/proc fallback --threads 300: its two threads"
n=$($read --threads --csv 2>/dev/null | tail -n +2 | wc -l)
t_eq "$n" 4 "/proc fallback --threads: every user thread (kthreads skipped)"
MEMWATCH_ROOT=$fx/module $read -t --no-module --json 2>"$tmp/err" | grep -q '"source":"proc"'
t_check $? "--no-module reads /proc even with the module"
grep -q -- "--no-module: processes from /proc only" "$tmp/err"
t_check $? "--no-module says so on stderr"
$read -t -p 99999 >/dev/null 2>"$tmp/err"
t_eq "$?" 1 "/proc fallback: -p of a missing process exits 1"

# --- cell formatting in the text view, "-" cells ---------------------------
# A copy of the fixture with edge values: 1023 KiB and exactly 1 GiB of rss,
# 1500 ns stalled, 0.5 % share, an fd count the reader may not see ("-").
mkdir -p "$tmp/edge"
cp $fx/module/status $fx/module/threads "$tmp/edge/"
awk '$1 == 4243 { $5 = "-"; $7 = 1023; $29 = 1500; $31 = 5 }
     $1 == 4242 { $7 = 1048576 } { print }' $fx/module/tasks >"$tmp/edge/tasks"
MEMWATCH_ROOT=$tmp/edge $read -t >"$tmp/text"
cell() { # PID COLUMN: the text view's cell
	awk -v p="$1" -v c="$2" 'NR == 1 { for (i = 1; i <= NF; i++) idx[$i] = i; next }
		$1 == p { print $(idx[c]) }' "$tmp/text"
}
t_eq "$(cell 4243 RSS)" 1023K "1023 KiB prints 1023K"
t_eq "$(cell 4242 RSS)" 1.0G "1048576 KiB prints 1.0G"
t_eq "$(cell 4243 STALL)" 1.5us "1500 ns prints 1.5us"
t_eq "$(cell 4243 SHARE%)" 0.5 "share_pm 5 prints 0.5 (%)"
t_eq "$(cell 106 STALL)" 0ns "0 ns prints 0ns"
t_eq "$(awk 'NR == 1 { e = index($0, "RSS_ANON") + 7 }
	NR > 1 && (substr($0, e, 1) == " " || substr($0, e + 1, 1) != " ") { bad++ } END { print bad + 0 }' "$tmp/text")" 0 \
	"numbers are right-aligned under their header (RSS_ANON ends in the same column on every row)"
MEMWATCH_ROOT=$tmp/edge $read -t -p 4243 --json >"$tmp/json"
out=$(py '
import json, sys
r = json.load(open(sys.argv[1]))["tasks"][0]
assert r["fds"] == "-", r["fds"]
assert r["rss_kb"] == 1023 and r["stall_ns"] == 1500, r
print("fine")' "$tmp/json")
t_eq "$out" fine "JSON: a '-' cell is the string \"-\", numbers stay numbers"
out=$(MEMWATCH_ROOT=$tmp/edge $read -t -s fds --csv | tail -1 | cut -d, -f1)
t_eq "$out" 4243 "-s fds puts the '-' row last"

t_done
