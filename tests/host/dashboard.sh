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
	SERVER_PROC=$2
	PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	MEMWATCH_ROOT=$1 MEMWATCH_PROCFS=$2 userspace/memwatchd/memwatchd-serve \
		--listen "127.0.0.1:$PORT" ${DB:+--db "$DB"} 2>"$TMP/serve.log" &
	PID=$!
	# up when it answers: a generous bound for a loaded host; a server
	# that died ends the wait at once
	for _ in $(seq 600); do
		curl -sf -o /dev/null "http://127.0.0.1:$PORT/api/v1/config" && return 0
		kill -0 "$PID" 2>/dev/null || return 1
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
	done < <(cd "$WEB" && MW_TAP_BARE=1 MW_EXPECT_RECORDING=${EXPECT:-} MW_SERVER_PROC=$SERVER_PROC timeout 120 node browser-test.mjs \
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
kill "$PID" 2>/dev/null; wait "$PID" 2>/dev/null; PID=

# A recording of the last 5 minutes (30 samples 10 s apart, ending 10 s ago)
# over this host's zones (/proc/buddyinfo): zone z's unusable_pm at order O
# is 100 + 10 z + i and extfrag_pm 500 + i at sample i (-1000, "an
# allocation would succeed", for the first ten samples); direct_stall_ns
# i^2 ms, allocfail failures 3 i. The page must draw them from it.
if command -v sqlite3 >/dev/null; then
	now=$(date +%s)
	{ cat userspace/memwatchd/schema.sql
	  awk -v now="$now" 'BEGIN { nz = 0; print "BEGIN;"; printf "INSERT INTO run VALUES (1, %d000000000, 0, \"t\", \"6.1\", 0, 0, 10000, \"t\");\n", now - 310 }
	  /^Node/ { sub(",", "", $2); node[nz] = $2; zone[nz] = $4; nz++ }
	  END {
		for (i = 0; i < 30; i++) {
			t = now - 300 + 10 * i;
			printf "INSERT INTO sample VALUES (%d, 1, %d000000000, %d000000000, 1, 0);\n", i + 1, t, t;
			printf "INSERT INTO counter VALUES (%d, \"reclaim\", \"direct_stall_ns\", %d000000);\n", i + 1, i * i;
			printf "INSERT INTO counter VALUES (%d, \"allocfail\", \"failures\", %d);\n", i + 1, 3 * i;
			for (z = 0; z < nz; z++)
				for (o = 0; o < 11; o++)
					printf "INSERT INTO frag VALUES (%d, %d, \"%s\", %d, %d, %d, %d);\n", i + 1, node[z], zone[z], o, 10 + o, 100 + 10 * z + i, i < 10 ? -1000 : 500 + i;
		}
		print "COMMIT;"
	  }' /proc/buddyinfo; } | sqlite3 "$TMP/rec.db" 2>"$TMP/sql.err"
	t_check $? "a recording of frag indices and pressure counters (sqlite3 CLI)" "$(cat "$TMP/sql.err")"
	z0=$(awk '/^Node/ { sub(",", "", $2); print $2, $4; exit }' /proc/buddyinfo)
	# the last sample (i = 29) of the first zone; the last step's deltas: 29^2 - 28^2 ms, 3
	EXPECT=$(printf '{"node": %s, "zone": "%s", "unusable": 0.129, "extfrag": 0.529, "stall_ms": 57, "failures": 3}' $z0)
	DB=$TMP/rec.db
	if start /nonexistent-memwatch /proc; then
		run_browser recording
	else
		t_fail "memwatchd-serve --db starts" "$(cat "$TMP/serve.log")"
	fi
	DB= EXPECT=
else
	t_skip "dashboard from a recording" "no sqlite3 CLI (scripts/setup installs it)"
fi
t_done
