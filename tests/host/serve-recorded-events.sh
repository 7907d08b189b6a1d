# serve-recorded-events.sh - /api/v1/events and /api/v1/memorylogs read the
# recording when memwatchd-serve has one (--db): a recording written here
# with the sqlite3 CLI (schema.sql) holding known events of two runs, then
# since/pid/call/limit, last_seq, newest-first memorylogs, source; and
# without --db the live ring (an events fixture file) says source "module".
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh

TMP=$(mktemp -d)
trap 'kill ${SRV:-} 2>/dev/null; wait 2>/dev/null; rm -rf "$TMP"' EXIT
SERVE=userspace/memwatchd/memwatchd-serve

if ! command -v sqlite3 >/dev/null; then
	t_skip "events from a recording" "no sqlite3 CLI (scripts/setup installs it)"
	t_done
fi
out=$(make -s -C userspace/memwatchd memwatchd-serve 2>&1)
t_check $? "memwatchd-serve builds" "$out"

# Two runs; seq restarts in run 2. Events (id: kind pid size):
#  1 mmap 10 4096   2 brk 10 +8192   3 munmap 10 4096   4 mmap 20 1048576
#  5 (run 2, seq 1) mmap 10 2097152  6 exit 20  7 mmap 30 3145728 (failed, -12)
# wall time of id N: 1764547200 s + N * 1.5 s
{ cat userspace/memwatchd/schema.sql
  cat <<'EOF'
BEGIN;
INSERT INTO run VALUES (1, 1764547200000000000, 1764547100000000000, 'test', '6.1', 1, 1, 1000, 'test');
INSERT INTO run VALUES (2, 1764547206000000000, 1764547100000000000, 'test', '6.1', 1, 1, 1000, 'test');
INSERT INTO event VALUES (1, 1, 11, 100001500000000, 1764547201500000000, 'mmap', 10, 10, 4096, 0, 'len=4096 prot=0x3 flags=0x22 anon=1 result=0', 'ten');
INSERT INTO event VALUES (2, 1, 12, 100003000000000, 1764547203000000000, 'brk', 10, 10, 8192, 0, 'delta=8192 result=0', 'ten');
INSERT INTO event VALUES (3, 1, 13, 100004500000000, 1764547204500000000, 'munmap', 10, 11, 4096, 0, 'len=4096 result=0', 'ten');
INSERT INTO event VALUES (4, 1, 14, 100006000000000, 1764547206000000000, 'mmap', 20, 20, 1048576, 0, 'len=1048576 prot=0x3 flags=0x22 anon=1 result=0', 'twenty two');
INSERT INTO event VALUES (5, 2, 1, 100007500000000, 1764547207500000000, 'mmap', 10, 10, 2097152, 0, 'len=2097152 prot=0x1 flags=0x2 anon=0 result=0', 'ten');
INSERT INTO event VALUES (6, 2, 2, 100009000000000, 1764547209000000000, 'exit', 20, 20, NULL, NULL, 'code=0', 'twenty two');
INSERT INTO event VALUES (7, 2, 3, 100010500000000, 1764547210500000000, 'mmap', 30, 30, 3145728, -12, 'len=3145728 prot=0x3 flags=0x22 anon=1 result=-12', 'thirty');
COMMIT;
EOF
} | sqlite3 "$TMP/rec.db" 2>"$TMP/err"
t_check $? "a recording of 7 known events in two runs (sqlite3 CLI)" "$(cat "$TMP/err")"

start_serve() {
	PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	URL=http://127.0.0.1:$PORT
	"$@" --listen 127.0.0.1:$PORT 2>"$TMP/srv.err" & SRV=$!
	for _ in $(seq 200); do
		curl -s -o /dev/null "$URL/api/v1/config" && return 0
		sleep 0.05
	done
	return 1
}
# jq-like one-liners: python over the response
q() {
	curl -s "$URL/api/v1/$1" | python3 -c "import json,sys; d=json.load(sys.stdin); print($2)" 2>&1
}

mkdir -p "$TMP/root"
MEMWATCH_ROOT=$TMP/root start_serve $SERVE --db "$TMP/rec.db" --suspects-interval 60
t_check $? "memwatchd-serve --db answers" "$(cat "$TMP/srv.err")"

t_eq "$(q events 'd["source"], d["last_seq"], [e["id"] for e in d["events"]]')" \
	"recording 7 [1, 2, 3, 4, 5, 6, 7]" "events: from the recording, every run, oldest first, last_seq 7"
t_eq "$(q 'events?limit=2' '[(e["id"], e["seq"], e["kind"]) for e in d["events"]], d["last_seq"]')" \
	"[(6, 2, 'exit'), (7, 3, 'mmap')] 7" "events?limit=2: the newest two, with their module seq"
t_eq "$(q 'events?since=2&limit=2' '[e["id"] for e in d["events"]], d["last_seq"]')" \
	"[3, 4] 4" "events?since=2&limit=2: ids 3 and 4; last_seq 4 continues from there"
t_eq "$(q 'events?since=4' '[e["id"] for e in d["events"]], d["last_seq"]')" \
	"[5, 6, 7] 7" "events?since=4: the rest, across the run boundary"
t_eq "$(q 'events?since=7' 'd["events"], d["last_seq"]')" "[] 7" "events?since=7: nothing new"
t_eq "$(q 'events?pid=10&call=mmap' '[e["id"] for e in d["events"]]')" "[1, 5]" "events?pid=10&call=mmap: ids 1 and 5"
t_eq "$(q 'events?since=0&pid=20' '[(e["id"], e["kind"], e["comm"]) for e in d["events"]]')" \
	"[(4, 'mmap', 'twenty two'), (6, 'exit', 'twenty two')]" "events?pid=20: its mmap and exit, comm with a space"
t_eq "$(q 'events?call=mmap&limit=1' 'sorted(d["events"][0].items())')" \
	"[('anon', 1), ('comm', 'thirty'), ('flags', '0x22'), ('id', 7), ('kind', 'mmap'), ('len', 3145728), ('pid', 30), ('prot', '0x3'), ('result', -12), ('seq', 3), ('tid', 30), ('time_ns', 100010500000000)]" \
	"an event's fields as the live stream gives them (+ id)"

t_eq "$(q memorylogs '[(m["seq"], m["call_type"], m["pid"]) for m in d]')" \
	"[(3, 'mmap', 30), (1, 'mmap', 10), (14, 'mmap', 20), (13, 'munmap', 10), (11, 'mmap', 10)]" \
	"memorylogs: the recorded mmap/munmap calls, newest first (no brk, no exit)"
t_eq "$(q 'memorylogs?limit=2' '[(m["process_name"], m["memory_size"], m["memory_size_mb"], m["timestamp"], m["result"], m["source"]) for m in d]')" \
	"[('thirty', 3145728, 3.0, '2025-12-01T00:00:10.500Z', -12, 'recording'), ('ten', 2097152, 2.0, '2025-12-01T00:00:07.500Z', 0, 'recording')]" \
	"memorylogs?limit=2: name, bytes, MB, the recorded wall time, result, source"
total=$(awk '/^MemTotal:/ { printf "%.0f", $2 * 1024 }' /proc/meminfo)
want=$(python3 -c "print(round(3145728 * 100 / $total, 2))")
t_eq "$(q 'memorylogs?limit=1' 'd[0]["memory_size_per"]')" "$want" "memory_size_per: 3 MiB of MemTotal ($total bytes)"
t_eq "$(curl -s -o /dev/null -w '%{http_code}' "$URL/api/v1/events?since=x")" 400 "events?since=x: 400 with a recording too"
t_eq "$(curl -s -o /dev/null -w '%{http_code}' "$URL/api/v1/memorylogs?limit=0")" 400 "memorylogs?limit=0: 400"
kill $SRV; wait $SRV 2>/dev/null; SRV=

# no recording: the live ring (a fixture file standing for /proc/memwatch/events)
cat >"$TMP/root/events" <<'EOF'
memwatch-events 1.0
101 5000001000 mmap 412 413 len=8192 prot=0x3 flags=0x22 anon=1 result=0 comm=live one
102 5000002000 munmap 412 412 len=8192 result=0 comm=live one
EOF
MEMWATCH_ROOT=$TMP/root start_serve $SERVE --suspects-interval 60
t_check $? "memwatchd-serve without --db answers" "$(cat "$TMP/srv.err")"
t_eq "$(q events 'd["source"], d["last_seq"], [e["seq"] for e in d["events"]]')" \
	"module 102 [101, 102]" "no recording: events from the live ring, source module"
t_eq "$(q memorylogs '[(m["seq"], m["source"]) for m in d]')" \
	"[(102, 'module'), (101, 'module')]" "no recording: memorylogs from the ring, newest first, source module"
kill $SRV; wait $SRV 2>/dev/null; SRV=
t_done
