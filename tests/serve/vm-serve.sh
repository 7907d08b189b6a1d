#!/usr/bin/env bash
# tests/serve/vm-serve.sh [KERNEL] - memwatchd in the VM with the module,
# reached from the host through a QEMU user-network forward bound to
# 127.0.0.1 (scripts/vm-run --hostfwd): the guest checks its API against
# /proc/memwatch (tests/vm/serve.sh --hold); the host, meanwhile, checks
# /metrics with promtool, the API's figures, and the dashboard in chromium
# (screenshot build/test-logs/dashboard-vm-KERNEL.png); then it connects to
# the guest's hold port to end the run. TAP; `make check` runs it per kernel
# after the VM tests (tests/run), or by hand: bash tests/serve/vm-serve.sh 6.1
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh
K=${1:-6.1}
LOGS=$PWD/build/test-logs
mkdir -p "$LOGS"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
HP=$(free_port)
DP=$(free_port)
while [ "$DP" = "$HP" ]; do DP=$(free_port); done
URL=http://127.0.0.1:$HP
OUT=$LOGS/vm-serve-$K.log

scripts/build-module "$K" >"$LOGS/vm-serve-build-$K.log" 2>&1 ||
	{ t_fail "scripts/build-module $K" "$(tail -5 "$LOGS/vm-serve-build-$K.log")"; t_done; }
MW_VM_QUIET=1 scripts/vm-run --kernel "$K" --timeout 900 --hostfwd "$HP:7391" --hostfwd "$DP:7392" \
	--console-log "$LOGS/console-vm-serve-$K.log" -- sh tests/vm/serve.sh --hold 7392 >"$OUT" 2>&1 &
VM=$!
finish() {
	# end the guest's hold, then wait for the VM
	python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 5).close()' "$DP" 2>/dev/null
	wait "$VM"
}

ready=0
for _ in $(seq 900); do
	grep -q '^# serve: ready' "$OUT" && { ready=1; break; }
	kill -0 "$VM" 2>/dev/null || break
	sleep 1
done
if ((ready == 0)); then
	t_fail "the VM's memwatchd is ready" "$(tail -n 20 "$OUT")"
	kill "$VM" 2>/dev/null; wait "$VM"
	t_done
fi
t_ok "memwatchd in the VM ($K) is ready; host 127.0.0.1:$HP forwards to it"

code=$(curl -s --max-time 60 -o "$LOGS/vm-serve-metrics-$K.txt" -w '%{http_code} %{content_type}' "$URL/metrics")
t_eq "$code" "200 text/plain; version=0.0.4; charset=utf-8" "/metrics through the forward"
out=$(promtool check metrics <"$LOGS/vm-serve-metrics-$K.txt" 2>&1)
t_check $? "promtool check metrics on the VM's /metrics" "$out"
grep -q '^memwatch_module_loaded 1$' "$LOGS/vm-serve-metrics-$K.txt"
t_check $? "/metrics says the module is loaded"
# the guest's idle process: the host sees the same row the guest compared
child=$(sed -n 's/^# serve: ready on 7391; child \([0-9]*\) hold.*/\1/p' "$OUT")
curl -s --max-time 60 "$URL/api/v1/tasks" >"$LOGS/vm-serve-tasks-$K.json"
out=$(python3 - "$LOGS/vm-serve-tasks-$K.json" "$child" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
rows = [r for r in j["rows"] if str(r["pid"]) == sys.argv[2]]
assert j["source"] == "module", j["source"]
assert rows and rows[0]["comm"] == "tasks_hold", rows
assert all(isinstance(r["mmap_calls"], int) for r in j["rows"])
print("%d rows, pid %s rss_kb %s" % (len(j["rows"]), sys.argv[2], rows[0]["rss_kb"]))
PY
)
t_check $? "/api/v1/tasks through the forward: module figures, the guest's tasks_hold ($out)" "$out"
while IFS= read -r line; do
	case $line in
	"ok - "*) t_ok "browser: ${line#ok - }" ;;
	"not ok - "*) t_fail "browser: ${line#not ok - }" ;;
	"#"*) printf '%s\n' "$line" ;;
	esac
done < <(cd userspace/memwatchd/web && MW_TAP_BARE=1 timeout 180 node browser-test.mjs \
	"$URL/" "$LOGS/dashboard-vm-$K.png" 2>&1)

finish
rc=$?
# the guest's own TAP, renumbered into ours
while IFS= read -r line; do
	case $line in
	"ok "*) t_ok "guest: ${line#ok [0-9]* - }" ;;
	"not ok "*) t_fail "guest: ${line#not ok [0-9]* - }" ;;
	esac
done <"$OUT"
t_eq "$rc" 0 "the VM run ended cleanly (vm-run exit; log build/test-logs/vm-serve-$K.log)"
t_done
