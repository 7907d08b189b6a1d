#!/usr/bin/env bash
# serve-fuzz.sh - 20,000 random requests (garbage methods, paths, headers,
# query strings, broken HTTP; tests/serve/fuzz.py) on 127.0.0.1 against
# memwatchd-serve built with -fsanitize=address,undefined: it answers
# throughout, never with a 5xx other than 503, stops cleanly on SIGTERM, and
# AddressSanitizer, UBSan and LeakSanitizer report nothing.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh
LOGS=$PWD/build/test-logs
mkdir -p "$LOGS"
BIN=userspace/memwatchd/memwatchd-serve-asan
COUNT=${MW_FUZZ_COUNT:-20000}

if ! out=$(make -C userspace/memwatchd memwatchd-serve-asan 2>&1); then
	t_fail "memwatchd-serve builds with ASan/UBSan" "$(printf '%s\n' "$out" | tail -n 15)"
	t_done
fi
t_ok "memwatchd-serve builds with -fsanitize=address,undefined"

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
# module files with an events file, so every route has something to read
cp -r tests/host/fixtures/frag/vm-6.1/module "$TMP/module"
cp tests/host/fixtures/tasks/module/tasks tests/host/fixtures/tasks/module/threads "$TMP/module/"
printf '%s\n' 'memwatch-events - version: 1.0' '# seq time_ns kind pid tid key=value... comm=COMM' \
	'7 5000 mmap 311 311 len=8192 prot=0x3 flags=0x22 anon=1 result=0 comm=a b' \
	'8 6000 munmap 311 311 len=8192 result=0 comm=a b' >"$TMP/module/events"

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
LOG=$LOGS/serve-fuzz-asan.log
ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=99 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:exitcode=98 \
MEMWATCH_ROOT=$TMP/module MEMWATCH_PROCFS=tests/host/fixtures/tasks/procfs \
	"$BIN" --listen "127.0.0.1:$PORT" 2>"$LOG" &
PID=$!
# up as soon as it answers; a loaded host may take a while (an ASan build),
# so the bound is generous and only a server that died stops the wait early
for _ in $(seq 600); do
	curl -sf -o /dev/null "http://127.0.0.1:$PORT/api/v1/config" && break
	kill -0 "$PID" 2>/dev/null || break
	sleep 0.1
done

res=$(python3 tests/serve/fuzz.py "$PORT" "$COUNT" 1 2>&1)
t_check $? "fuzz: $res" "only 503 (no such file) and 505 (bad HTTP version) may be 5xx; something must be answered"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/api/v1/tasks")
t_eq "$code" 200 "still serving after $COUNT random requests"
kill -TERM "$PID"
wait "$PID"
rc=$?
t_eq "$rc" 0 "SIGTERM: clean exit (99: ASan or LeakSanitizer, 98: UBSan report)"
if grep -qE 'AddressSanitizer|LeakSanitizer|runtime error|SUMMARY' "$LOG"; then
	t_fail "no sanitizer report (log: build/test-logs/serve-fuzz-asan.log)" "$(grep -m5 -E 'ERROR|runtime error|SUMMARY' "$LOG")"
else
	t_ok "no sanitizer report, no leak"
fi
t_done
