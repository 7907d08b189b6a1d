#!/usr/bin/env bash
# dashboard.sh - memwatch's dashboard in a real browser: Debian's chromium,
# headless, driven by playwright-core (npm, pinned by the committed
# userspace/memwatchd/web/package-lock.json), against memwatchd-serve on
# 127.0.0.1: with module files (a fixture of 15 processes, so the pie has
# "others") and without the module (this host's /proc). Table rows and pie
# slices must match the API's JSON. Screenshots: build/test-logs/dashboard-*.png
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh
ROOT=$PWD
LOGS=$ROOT/build/test-logs
mkdir -p "$LOGS"
WEB=userspace/memwatchd/web

if ! out=$(make -C userspace/memwatchd memwatchd-serve 2>&1); then
	t_fail "memwatchd-serve builds (npm ci of $WEB, then C)" "$(printf '%s\n' "$out" | tail -n 15)"
	t_done
fi
t_ok "memwatchd-serve builds with the dashboard embedded"
if [ ! -x /usr/bin/chromium ]; then
	t_skip "dashboard in chromium" "/usr/bin/chromium missing (bash scripts/setup installs it)"
	t_done
fi

TMP=$(mktemp -d)
PID=
cleanup() {
	[ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT

# 15 processes with known mmap figures, over the tasks fixture's module files
cp -r tests/host/fixtures/tasks/module "$TMP/module"
python3 - "$TMP/module/tasks" <<'PY'
import sys
path = sys.argv[1]
lines = open(path).read().splitlines()
head, rows = lines[:3], lines[3:]
cols = head[2][2:].split()
for i in range(12):
    r = {c: "0" for c in cols}
    r.update(pid=str(2000 + i), ppid="1", comm="worker %d" % (i % 4),
             rss_kb=str(1000 + 37 * i), mmap_kb=str(4096 * (i + 1)),
             mmap_calls=str(i + 1), mapped_net_kb=str(4096 * (i + 1)), fds="-")
    rows.append(" ".join(r[c] for c in cols))
open(path, "w").write("\n".join(head + rows) + "\n")
PY

start() { # ROOT PROCFS
	PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	MEMWATCH_ROOT=$1 MEMWATCH_PROCFS=$2 userspace/memwatchd/memwatchd-serve \
		--listen "127.0.0.1:$PORT" 2>"$TMP/serve.log" &
	PID=$!
	for _ in $(seq 100); do
		curl -sf -o /dev/null "http://127.0.0.1:$PORT/api/v1/config" && return 0
		sleep 0.1
	done
	return 1
}

run_browser() { # NAME
	while IFS= read -r line; do
		case $line in
		"ok - "*) t_ok "$1: ${line#ok - }" ;;
		"not ok - "*) t_fail "$1: ${line#not ok - }" ;;
		"#"*) printf '%s\n' "$line" ;;
		*) t_diag "$line" ;;
		esac
	done < <(cd "$WEB" && MW_TAP_BARE=1 timeout 120 node browser-test.mjs \
		"http://127.0.0.1:$PORT/" "$LOGS/dashboard-$1.png" 2>&1)
}

if start "$TMP/module" tests/host/fixtures/tasks/procfs; then
	run_browser module
else
	t_fail "memwatchd-serve starts (module fixture)" "$(cat "$TMP/serve.log")"
fi
kill "$PID" 2>/dev/null; wait "$PID" 2>/dev/null; PID=

if start /nonexistent-memwatch /proc; then
	run_browser no-module
else
	t_fail "memwatchd-serve starts (no module)" "$(cat "$TMP/serve.log")"
fi
t_done
