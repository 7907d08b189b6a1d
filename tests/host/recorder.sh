#!/usr/bin/env bash
# Host tests of memwatchd (the recorder) and memwatch-read --db (replay),
# against fixture module files ($MEMWATCH_ROOT), a fake procfs
# ($MEMWATCH_PROCFS) and a fake events file (--events FILE, a regular file
# read like tail -f): exact event rows and losses, replay --at equal to
# what memwatch-read printed live at that moment, events filters and TIME
# forms, schema refusal and upgrade, SIGKILL then integrity_check and a
# second run, retention by age and size, disk full on a small tmpfs; a full
# queue: drops counted (loss, log, /metrics) with --queue-wait 0 and a stalled
# writer, none by default (the reader waits); replay of what was not recorded
# is an error naming it.
set -u
cd "$(dirname "$0")/../.."
. tests/lib.sh

ROOT=$PWD
read=$ROOT/userspace/memwatch-read
mwd=$ROOT/userspace/memwatchd/memwatchd
fx=$ROOT/tests/host/fixtures/tasks
tmp=$(mktemp -d)
mnt=
cleanup() {
	[ -n "${dpid:-}" ] && kill -9 "$dpid" 2>/dev/null
	[ -n "${gpid:-}" ] && kill -9 "$gpid" 2>/dev/null
	[ -n "$mnt" ] && umount "$mnt" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

if ! command -v sqlite3 >/dev/null; then
	t_skip "recorder tests" "sqlite3 not installed (scripts/setup)"
	t_done
fi
q() { sqlite3 "$@" 2>&1; }
mono_ns() { python3 -c 'import time; print(time.monotonic_ns())'; }

# start_mwd DB ARGS...: memwatchd in the background (pid in $dpid, log in $tmp/log)
start_mwd() {
	local db=$1
	shift
	"$mwd" --db "$db" --no-http "$@" 2>"$tmp/log" &
	dpid=$!
}
# stop_mwd: SIGTERM, wait; sets $rc
stop_mwd() {
	kill -TERM "$dpid"
	wait "$dpid"
	rc=$?
	dpid=
}
# wait_for DB SQL VALUE: until the query answers at least VALUE (30 s at most)
wait_for() {
	local i v
	for i in $(seq 300); do
		v=$(sqlite3 "$1" "$2" 2>/dev/null)
		[ -n "$v" ] && [ "$v" -ge "$3" ] 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# ---------------------------------------------------------------- usage
"$mwd" >/dev/null 2>"$tmp/err"
t_eq "$?" 2 "memwatchd without --db: exit 2"
t_eq "$(wc -l <"$tmp/err") $(grep -c -- '--db FILE is required' "$tmp/err") $(sed -n 2p "$tmp/err")" \
	"2 1 Try 'memwatchd --help' for more information." "one line naming the problem, then Try --help" "$(cat "$tmp/err")"
"$mwd" --db x --interval zero 2>"$tmp/err"
t_eq "$?:$(grep -c "bad --interval 'zero'" "$tmp/err")" "2:1" "bad --interval: exit 2, named"
"$mwd" --db x --retain 3parsecs 2>/dev/null
t_eq "$?" 2 "bad --retain: exit 2"
"$read" --events 2>"$tmp/err" >/dev/null
t_eq "$?:$(grep -c 'needs --db' "$tmp/err")" "2:1" "memwatch-read --events without --db: exit 2"

# ---------------------------------------------------------------- events
# 300 mmaps of 8192 and 200 munmaps of 4096 by pid 311 "wl one", then a lost
# line (seq 1001-1005 overwritten), then 100 brk by 312 "other".
now=$(mono_ns)
awk -v now="$now" 'BEGIN {
	print "memwatch-events - version: 1.0"
	print "# seq time_ns kind pid tid key=value... comm=COMM"
	s = 0; t = now - 3600 * 1e9
	for (i = 0; i < 300; i++) printf "%d %.0f mmap 311 311 len=8192 prot=0x3 flags=0x22 anon=1 result=0 comm=wl one\n", ++s, t + s
	for (i = 0; i < 200; i++) printf "%d %.0f munmap 311 311 len=4096 result=0 comm=wl one\n", ++s, t + s
	printf "501 %.0f lost 0 0 count=5 comm=-\n", t + 600e9
	s = 505; t = now - 60 * 1e9
	for (i = 0; i < 100; i++) printf "%d %.0f brk 312 313 delta=4096 result=0 comm=other\n", ++s, t + s
}' >"$tmp/ev"
export MEMWATCH_ROOT=$fx/module MEMWATCH_PROCFS=$fx/procfs
db=$tmp/a.db
start_mwd "$db" --interval 0.2 --events "$tmp/ev"
wait_for "$db" "SELECT count(*) FROM event" 600
wait_for "$db" "SELECT count(*) FROM sample" 3
stop_mwd
t_eq "$rc" 0 "SIGTERM: memwatchd exits 0"
t_eq "$(q "$db" "SELECT kind, pid, tid, comm, count(*), sum(size) FROM event GROUP BY kind ORDER BY kind")" \
"brk|312|313|other|100|409600
mmap|311|311|wl one|300|2457600
munmap|311|311|wl one|200|819200" "every event recorded: kinds, pid, tid, comm with a space, sizes"
t_eq "$(q "$db" "SELECT source, first_seq, count FROM loss")" "ring|501|5" "the lost line is a loss row: first seq 501, count 5"
t_eq "$(q "$db" "SELECT max(seq) - min(seq) + 1 = count(*) + (SELECT sum(count) FROM loss) FROM event")" 1 \
	"books balance: seq span = recorded + lost"
t_eq "$(q "$db" "PRAGMA integrity_check")" ok "integrity_check ok"
t_eq "$(q "$db" "PRAGMA journal_mode")" wal "WAL mode"
grep -q "events recorded" "$tmp/log"
t_check $? "the log ends with the events recorded"

out=$("$read" --db "$db" --events -p 311 --call mmap --csv)
t_eq "$(echo "$out" | head -1)" "time,seq,pid,tid,call,size_bytes,result,comm" "--events --csv header"
t_eq "$(echo "$out" | tail -n +2 | cut -d, -f3,5,6,8 | sort | uniq -c | tr -s ' ')" " 300 311,mmap,8192,wl one" \
	"--events -p 311 --call mmap: the 300 mmap rows of 8192 bytes with pid and comm"
t_eq "$("$read" --db "$db" --events --call munmap,brk --csv | tail -n +2 | wc -l)" 300 "--call munmap,brk: 200 + 100 rows"
t_eq "$("$read" --db "$db" --events -c other --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
e = d["events"]
print(len(e), {x["call"] for x in e}, {x["comm"] for x in e}, sum(x["size_bytes"] for x in e))')" \
	"100 {'brk'} {'other'} 409600" "--events -c other --json: 100 brk rows, numbers as numbers"
# TIME forms: the munmaps are an hour old, the brks a minute.
t_eq "$("$read" --db "$db" --events --from -10m --csv | tail -n +2 | wc -l)" 100 "--from -10m: only the last minute's 100"
t_eq "$("$read" --db "$db" --events --to -30m --csv | tail -n +2 | wc -l)" 500 "--to -30m: the 500 of an hour ago"
t_eq "$("$read" --db "$db" --events --from -2h --to -5m --csv | tail -n +2 | wc -l)" 500 "--from -2h --to -5m"
brk_s=$(q "$db" "SELECT min(time_unix_ns) / 1000000000 FROM event WHERE kind = 'brk'")
t_eq "$("$read" --db "$db" --events --from "$brk_s" --csv | tail -n +2 | wc -l)" 100 "--from epoch seconds"
iso=$(date -u -d "@$((brk_s - 1))" +%Y-%m-%dT%H:%M:%SZ)
t_eq "$("$read" --db "$db" --events --from "$iso" --csv | tail -n +2 | wc -l)" 100 "--from ISO 8601 UTC ($iso)"
iso=$(date -d "@$((brk_s - 1))" +%Y-%m-%dT%H:%M:%S%:z)
t_eq "$("$read" --db "$db" --events --from "$iso" --csv | tail -n +2 | wc -l)" 100 "--from ISO 8601 with offset"
"$read" --db "$db" --events --from yesterday >/dev/null 2>"$tmp/err"
t_eq "$?:$(grep -c "bad --from 'yesterday'" "$tmp/err")" "2:1" "a bad TIME: exit 2, named"
"$read" --db "$db" -t --at 2001-01-01 >/dev/null 2>"$tmp/err"
t_eq "$?:$(grep -c 'no sample at or before' "$tmp/err")" "1:1" "--at before the first sample: exit 1, says so"

# ---------------------------------------------------------------- queue full
# The writer stalled by a write lock another connection holds (BEGIN
# IMMEDIATE), a queue of 100 items and no waiting for room (--queue-wait 0):
# of 5,000 events appended at once most find the queue full. They must be
# counted (loss row 'queue', the log, /metrics) and the books balance:
# recorded + lost = emitted. The lock is let go once the log says it dropped.
printf 'memwatch-events - version: 1.0\n' >"$tmp/qev"
db=$tmp/q.db
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$mwd" --db "$db" --listen 127.0.0.1:$PORT --interval 60 --queue-size 100 --queue-wait 0 \
	--events "$tmp/qev" 2>"$tmp/log" &
dpid=$!
wait_for "$db" "SELECT count(*) FROM sample" 1
python3 - "$db" "$tmp/qlock" <<'PY' &
import os, sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30)
db.execute("BEGIN IMMEDIATE")
open(sys.argv[2] + ".held", "w").close()
for _ in range(600):  # 60 s at most
    if os.path.exists(sys.argv[2] + ".release"):
        break
    time.sleep(0.1)
db.execute("COMMIT")
PY
gpid=$!
for i in $(seq 300); do [ -e "$tmp/qlock.held" ] && break; sleep 0.1; done
awk 'BEGIN { for (s = 1; s <= 5000; s++) printf "%d %d mmap 411 411 len=4096 prot=0x3 flags=0x22 anon=1 result=0 comm=q\n", s, 1000 + s }' >>"$tmp/qev"
for i in $(seq 300); do grep -q "queue full" "$tmp/log" && break; sleep 0.1; done
grep -q "queue full (100 items" "$tmp/log"
t_check $? "queue full: the log says events are dropped and counted"
touch "$tmp/qlock.release"
wait "$gpid"
gpid=
wait_for "$db" "SELECT (SELECT count(*) FROM event) + (SELECT coalesce(sum(count), 0) FROM loss)" 5000
metrics=$(curl -s "http://127.0.0.1:$PORT/metrics")
stop_mwd
t_eq "$rc" 0 "memwatchd exits 0 after dropping"
rec=$(q "$db" "SELECT count(*) FROM event")
qlost=$(q "$db" "SELECT coalesce(sum(count), 0) FROM loss WHERE source = 'queue'")
lost=$(q "$db" "SELECT coalesce(sum(count), 0) FROM loss")
t_check "$([ "$qlost" -gt 0 ] && [ "$rec" -gt 0 ]; echo $?)" "events dropped on the full queue are in table loss as 'queue' ($qlost), the rest recorded ($rec)"
t_eq "$((rec + lost))" 5000 "books balance: recorded + lost = 5000 emitted"
t_eq "$(q "$db" "SELECT count(DISTINCT seq) = count(*) AND min(seq) = 1 AND max(seq) <= 5000 FROM event")" 1 \
	"what was recorded is the events' own rows, each once"
t_eq "$(grep -o '[0-9]* dropped (queue full)' "$tmp/log")" "$qlost dropped (queue full)" "the exit line counts the same drops"
t_eq "$(echo "$metrics" | grep '^memwatch_recording_lost_total{source="queue"}' | awk '{ print $2 }')" "$qlost" \
	"/metrics: memwatch_recording_lost_total{source=\"queue\"} shows them"
t_eq "$(q "$db" "PRAGMA integrity_check")" ok "the file stays valid"

# By default a full queue makes the reader wait for the writer: 5,000 events
# read at once through a queue of 100 items all arrive, nothing dropped.
printf 'memwatch-events - version: 1.0\n' >"$tmp/wev"
db=$tmp/w.db
start_mwd "$db" --interval 60 --queue-size 100 --events "$tmp/wev"
wait_for "$db" "SELECT count(*) FROM sample" 1
awk 'BEGIN { for (s = 1; s <= 5000; s++) printf "%d %d munmap 412 412 len=4096 result=0 comm=w\n", s, 1000 + s }' >>"$tmp/wev"
wait_for "$db" "SELECT (SELECT count(*) FROM event) + (SELECT coalesce(sum(count), 0) FROM loss)" 5000
stop_mwd
t_eq "$rc:$(q "$db" "SELECT count(*), count(DISTINCT seq), min(seq), max(seq), (SELECT count(*) FROM loss) FROM event")" \
	"0:5000|5000|1|5000|0" "a queue of 100 and 5,000 events at once: the reader waits for the writer, all recorded, no loss"
t_eq "$(grep -c 'dropping events' "$tmp/log"):$(grep -c ' 0 dropped (queue full)' "$tmp/log")" 0:1 "nothing logged as dropped; the exit line says 0 dropped"

# ---------------------------------------------------------------- replay --at
# The fixture changes twice while memwatchd samples (each change one rename,
# so a sample sees one state or the other): A (the fixture), B (a process
# gone, one new, one changed), C (back to A's rows but another rss).
live=$tmp/live
mkdir -p "$live/m"
cp "$fx/module/"* "$live/m/"
# mk_state NAME DROP_PID SET_PID SET_RSS [ROW]: the fixture's tasks file without
# DROP_PID, with SET_PID's rss_kb (column 7) set, ROW appended.
mk_state() {
	awk -v drop="$2" -v pid="$3" -v rss="$4" -v add="${5:-}" '
		/^memwatch-|^#|^mem_total_kb/ { print; next }
		$1 == drop { next }
		$1 == pid { $7 = rss }
		{ print }
		END { if (add != "") print add }' "$fx/module/tasks" >"$live/tasks.$1"
}
mk_state A 0 0 0
mk_state B 115 106 27084 "999 1 0 1 3 1000 512 64 4 444 0 176 132 28 512 159 0 5 20 0 0 20 0 0 0 0 7 0 0 0 1 newproc"
mk_state C 0 1 9999
capture() { # STATE: live output of each view in that state; t_before, t_after the switch
	cp "$live/tasks.$1" "$live/m/tasks.new"
	t_before=$(date +%s%N)
	mv "$live/m/tasks.new" "$live/m/tasks"
	t_after=$(date +%s%N)
	for v in t tjson tcsv threads summary; do
		case $v in
		t) args="-t" ;; tjson) args="-t --json" ;; tcsv) args="-t --csv -b" ;;
		threads) args="--threads" ;; summary) args="" ;;
		esac
		# shellcheck disable=SC2086
		MEMWATCH_ROOT=$live/m "$read" $args 2>&1 | sed 's/"time":[0-9.]*,//' >"$live/out.$1.$v"
	done
}
capture A
db=$tmp/b.db
MEMWATCH_ROOT=$live/m start_mwd "$db" --interval 0.1 --full-every 1000 --events /dev/null
wait_for "$db" "SELECT count(*) FROM sample" 3
capture B
t_b=$t_after
wait_for "$db" "SELECT count(*) FROM sample WHERE time_unix_ns > $t_b" 3
capture C
t_c0=$t_before t_c=$t_after
wait_for "$db" "SELECT count(*) FROM sample WHERE time_unix_ns > $t_c" 3
stop_mwd
t_eq "$(q "$db" "SELECT sum(full), count(*) > 6 FROM sample")" "1|1" "one full sample, the others deltas"
t_eq "$(q "$db" "SELECT count(*) FROM task WHERE sample_id > 1 AND gone = 0 AND pid NOT IN (999, 106, 1, 115)")" 0 \
	"deltas hold only the rows that changed"
t_eq "$(q "$db" "SELECT count(*) > 0 FROM task WHERE gone = 1 AND pid = 115")" 1 "a process that went is a gone row"
bad=0 seen=""
while IFS='|' read -r sid st; do
	at=$(python3 -c "print('%d.%09d' % divmod($st, 10**9))")
	for v in t tjson tcsv threads summary; do
		case $v in
		t) args="-t" ;; tjson) args="-t --json" ;; tcsv) args="-t --csv -b" ;;
		threads) args="--threads" ;; summary) args="" ;;
		esac
		# shellcheck disable=SC2086
		"$read" --db "$db" --at "$at" $args 2>&1 | sed 's/"time":[0-9.]*,//' >"$tmp/replay"
		# A sample taken after a switch, before the next, must show that state.
		want=""
		[ "$st" -gt "$t_b" ] && [ "$st" -lt "$t_c0" ] && want=B
		[ "$st" -gt "$t_c" ] && want=C
		match=""
		for s in $want A B C; do cmp -s "$tmp/replay" "$live/out.$s.$v" && match=$s && break; done
		if [ -z "$match" ] || { [ -n "$want" ] && [ "$match" != "$want" ]; }; then
			bad=$((bad + 1))
			[ "$bad" -le 2 ] && diff "$tmp/replay" "$live/out.${want:-A}.$v" | head -5 | sed 's/^/#   /'
		fi
		[ "$v" = t ] && seen="$seen$match"
	done
done < <(q "$db" "SELECT id, time_unix_ns FROM sample ORDER BY id")
t_eq "$bad" 0 "replay --at every sample: -t, --json, --csv, --threads and the summary equal the live output at that moment"
t_eq "$(echo "$seen" | tr -s ABC)" ABC "the replayed moments go A, B, C in order"
at_b=$(q "$db" "SELECT min(time_unix_ns) FROM sample WHERE time_unix_ns > $t_b")
at_b=$(python3 -c "print('%d.%09d' % divmod($at_b, 10**9))")
t_eq "$("$read" --db "$db" --at "$at_b" -t -p 999 --csv -b | tail -1 | cut -d, -f1,7,32)" "999,512,newproc" "-p filter on a row added by a delta"
out=$("$read" --db "$db" --history -p 106 --column rss_kb --csv | tail -n +2 | cut -d, -f2 | uniq | tr '\n' ' ')
t_eq "$out" "17084 27084 17084 " "--history -p 106 --csv: rss_kb steps as recorded (A, B, C)"
"$read" --db "$db" --history -c init --column rss_kb,minflt >"$tmp/chart"
t_eq "$(grep -c '█' "$tmp/chart") $(head -1 "$tmp/chart")" "$(( $(q "$db" "SELECT count(*) FROM sample") * 2 )) RSS" \
	"--history text: a chart line per sample and column"
"$read" --db "$db" --history --column nope >/dev/null 2>&1
t_eq "$?" 2 "--history --column unknown: exit 2"
# The fixture module has no extfrag or allocfail file: not recorded, so no replay.
"$read" --db "$db" --frag-events >"$tmp/out" 2>"$tmp/err"
t_eq "$?:$(wc -c <"$tmp/out"):$(grep -c 'not recorded: no extfrag in the recording' "$tmp/err")" "1:0:1" \
	"--frag-events of a recording whose module had no extfrag: exit 1, says it was not recorded"
"$read" --db "$db" --paf >"$tmp/out" 2>"$tmp/err"
t_eq "$?:$(wc -c <"$tmp/out"):$(grep -c 'not recorded: no allocfail' "$tmp/err")" "1:0:1" \
	"--paf likewise (no empty table)"

# ---------------------------------------------------------------- no module
db=$tmp/c.db
MEMWATCH_ROOT=$tmp/none start_mwd "$db" --interval 0.1
wait_for "$db" "SELECT count(*) FROM sample" 2
stop_mwd
t_eq "$rc:$(grep -c 'events unavailable' "$tmp/log")" "0:1" "without the module: records, logs that events are unavailable"
t_eq "$(q "$db" "SELECT module, events FROM run")" "0|0" "the run says: no module, no events"
live_out=$(MEMWATCH_ROOT=$tmp/none "$read" -t --csv 2>/dev/null)
t_eq "$("$read" --db "$db" -t --csv 2>/dev/null)" "$live_out" "replay of a /proc-only recording equals memwatch-read --no-module"
for f in "" --json; do
	live_out=$(MEMWATCH_ROOT=$tmp/none "$read" $f 2>/dev/null | sed 's/"time":[0-9.]*,//')
	t_eq "$("$read" --db "$db" $f 2>"$tmp/err" | sed 's/"time":[0-9.]*,//')" "$live_out" "summary ${f:-text} of a /proc-only recording equals live, top processes included"
done
t_eq "$(grep -c 'recorded without the module: summary from /proc only' "$tmp/err")" 1 "the replay's note says the recording had no module"
for v in "--frag-events:no frag-events" "--paf:no allocfail" "--events:events not recorded: recorded without the module"; do
	"$read" --db "$db" "${v%%:*}" >"$tmp/out" 2>"$tmp/err"
	t_eq "$?:$(wc -c <"$tmp/out"):$(grep -c "recorded without the module" "$tmp/err"):$(grep -c "${v#*:}" "$tmp/err")" "1:0:1:1" \
		"${v%%:*} of a recording made without the module: exit 1, names what was not recorded and why"
done

# ---------------------------------------------------------------- schema
db=$tmp/a.db
cp "$db" "$tmp/newer.db"
sqlite3 "$tmp/newer.db" "PRAGMA user_version = 99"
sum=$(md5sum <"$tmp/newer.db")
"$mwd" --db "$tmp/newer.db" --no-http 2>"$tmp/err"
t_eq "$?:$(grep -c 'written by a newer memwatchd (schema version 99' "$tmp/err")" "1:1" "a newer schema: refused with a clear message"
t_eq "$(md5sum <"$tmp/newer.db")" "$sum" "... and not written to"
"$read" --db "$tmp/newer.db" -t >/dev/null 2>"$tmp/err"
t_eq "$?:$(grep -c 'schema version 99' "$tmp/err")" "1:1" "memwatch-read refuses it too"
sqlite3 "$tmp/foreign.db" "CREATE TABLE t(a); INSERT INTO t VALUES(1)"
sum=$(md5sum <"$tmp/foreign.db")
"$mwd" --db "$tmp/foreign.db" --no-http 2>"$tmp/err"
t_eq "$?:$(grep -c 'not a memwatch recording' "$tmp/err")" "1:1" "another program's SQLite file: refused"
t_eq "$(md5sum <"$tmp/foreign.db")" "$sum" "... and not written to"
printf 'hello\n' >"$tmp/text.db"
"$mwd" --db "$tmp/text.db" --no-http 2>"$tmp/err"
t_eq "$?:$(grep -c 'not an SQLite database' "$tmp/err"):$(cat "$tmp/text.db")" "1:1:hello" "a text file: refused, untouched"
cp "$db" "$tmp/corrupt.db"
size=$(stat -c %s "$tmp/corrupt.db")
dd if=/dev/urandom of="$tmp/corrupt.db" bs=1024 seek=$((size / 1024 / 2)) count=8 conv=notrunc 2>/dev/null
sum=$(md5sum <"$tmp/corrupt.db")
"$mwd" --db "$tmp/corrupt.db" --no-http 2>"$tmp/err"
t_eq "$?:$(grep -c 'corrupt' "$tmp/err")" "1:1" "a corrupt recording: refused"
t_eq "$(md5sum <"$tmp/corrupt.db")" "$sum" "... and not written to"
# An older schema (version 1: no run.version) is upgraded in place.
cp "$db" "$tmp/old.db"
sqlite3 "$tmp/old.db" "ALTER TABLE run DROP COLUMN version; ALTER TABLE file DROP COLUMN zlib; ALTER TABLE file DROP COLUMN bytes;
	PRAGMA user_version = 1; UPDATE meta SET value = '1' WHERE key = 'schema_version'"
start_mwd "$tmp/old.db" --interval 0.2 --events /dev/null
wait_for "$tmp/old.db" "SELECT count(*) FROM run" 2
stop_mwd
t_eq "$rc:$(grep -c 'upgraded to schema version 3' "$tmp/log")" "0:1" "schema version 1: upgraded, recording goes on"
t_eq "$(q "$tmp/old.db" "PRAGMA user_version; SELECT count(*) FROM event; SELECT version FROM run ORDER BY id")" \
"3
600

1.0" "old data kept, new column filled from then on"

# ---------------------------------------------------------------- SIGKILL
# A generator appends events without pause while memwatchd records; SIGKILL
# at the busiest moment, then the file must be whole and take a second run.
db=$tmp/k.db
: >"$tmp/kev"
( s=0; while [ $s -lt 2000000 ]; do
	awk -v s="$s" 'BEGIN { for (i = 1; i <= 5000; i++) printf "%d %d mmap 77 77 len=4096 prot=0x3 flags=0x22 anon=1 result=0 comm=storm\n", s + i, s + i }' >>"$tmp/kev"
	s=$((s + 5000))
	sleep 0.01
done ) &
gpid=$!
start_mwd "$db" --interval 0.1 --events "$tmp/kev"
wait_for "$db" "SELECT count(*) FROM event" 20000
kill -9 "$dpid"
wait "$dpid" 2>/dev/null
dpid=
kill -9 "$gpid"
wait "$gpid" 2>/dev/null
gpid=
t_eq "$(q "$db" "PRAGMA integrity_check")" ok "after SIGKILL mid-storm: integrity_check ok"
n1=$(q "$db" "SELECT count(*) FROM event")
t_eq "$(q "$db" "SELECT min(seq) = 1 AND max(seq) = count(*) + coalesce((SELECT sum(count) FROM loss), 0) FROM event")" 1 \
	"the $n1 committed events and the counted losses cover seq 1..max: nothing torn"
start_mwd "$db" --interval 0.1 --events /dev/null
wait_for "$db" "SELECT count(*) FROM run" 2
stop_mwd
t_eq "$rc:$(q "$db" "SELECT count(*) FROM run; PRAGMA integrity_check" | tr '\n' ' ')" "0:2 ok " "a second recording on the same file"

# ---------------------------------------------------------------- retention
db=$tmp/r.db
start_mwd "$db" --interval 0.1 --full-every 5 --retain 1s --prune-every 0.2 --events "$tmp/ev"
wait_for "$db" "SELECT max(id) FROM sample" 40
stop_mwd
t_eq "$rc" 0 "--retain 1s: runs"
t_eq "$(q "$db" "SELECT count(*) FROM event")" 0 "events older than 1 s (all of them) pruned"
t_eq "$(q "$db" "SELECT min(id) > 1 AND count(*) < 40 FROM sample")" 1 "old samples pruned while recording"
t_eq "$(q "$db" "SELECT full FROM sample ORDER BY id LIMIT 1")" 1 "the oldest kept sample is a full one"
t_eq "$(q "$db" "SELECT count(*) FROM task WHERE sample_id < (SELECT min(id) FROM sample)")" 0 "no orphan task rows"
"$read" --db "$db" -t >/dev/null 2>&1
t_check $? "the oldest moment left still replays"
db=$tmp/s.db
awk 'BEGIN { for (i = 1; i <= 60000; i++) printf "%d %d mmap 5 5 len=4096 prot=0x3 flags=0x22 anon=1 result=0 comm=filler-%d\n", i, i, i }' >"$tmp/big"
start_mwd "$db" --interval 0.2 --retain 0 --max-db-size 1M --prune-every 0.2 --events "$tmp/big"
wait_for "$db" "SELECT max(id) FROM event" 60000
stop_mwd
bytes=$(stat -c %s "$db")
t_eq "$rc:$([ "$bytes" -le 1048576 ] && echo under)" "0:under" "--max-db-size 1M: the file ends at $bytes bytes"
t_eq "$(q "$db" "SELECT max(seq) = 60000 AND count(*) < 60000 FROM event")" 1 "the newest events kept, the oldest pruned"

# ---------------------------------------------------------------- disk full
mnt=$tmp/tfs
mkdir -p "$mnt"
if mount -t tmpfs -o size=4m tmpfs "$mnt" 2>/dev/null; then
	db=$mnt/d.db
	head -c 2500000 /dev/zero >"$mnt/pad"
	awk 'BEGIN { for (i = 1; i <= 40000; i++) printf "%d %d mmap 6 6 len=4096 prot=0x3 flags=0x22 anon=1 result=0 comm=fill-the-disk-%d\n", i, i, i }' >"$tmp/full"
	start_mwd "$db" --interval 0.2 --retain 0 --events "$tmp/full"
	wait_for "$db" "SELECT count(*) FROM loss WHERE source = 'disk'" 1 ||
		grep -q 'full' "$tmp/log"
	for i in $(seq 100); do grep -q 'database or disk is full' "$tmp/log" && break; sleep 0.1; done
	t_eq "$(grep -c 'database or disk is full' "$tmp/log" | sed 's/^[1-9][0-9]*$/some/')" some "disk full: a clear line in the log"
	kill -0 "$dpid" 2>/dev/null
	t_check $? "memwatchd keeps running"
	# Space returns.
	before=$(q "$db" "SELECT max(id) FROM sample")
	rm -f "$mnt/pad"
	wait_for "$db" "SELECT max(id) FROM sample" $((before + 3))
	t_check $? "writes resume when space returns (new samples)"
	stop_mwd
	t_eq "$rc:$(grep -c 'writing again' "$tmp/log" | sed 's/^[1-9][0-9]*$/yes/')" "0:yes" "the log says writing resumed; exit 0"
	t_eq "$(q "$db" "SELECT count(*) > 0, sum(count) > 0 FROM loss WHERE source IN ('disk', 'samples')")" "1|1" \
		"what could not be written is counted in loss"
	t_eq "$(q "$db" "PRAGMA integrity_check")" ok "the file stays valid"
	umount "$mnt" && mnt=
else
	t_skip "disk full on a small tmpfs" "cannot mount tmpfs here (the VM test covers it)"
fi

t_done
