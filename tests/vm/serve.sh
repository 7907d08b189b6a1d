# tests/vm/serve.sh [--hold PORT] - memwatchd serving the module's files,
# inside the VM (busybox sh): its JSON equals /proc/memwatch read at the same
# moment (a file read before and after the API answer, equal to each other).
# With --hold PORT (tests/serve/vm-serve.sh, through vm-run --hostfwd) it
# then keeps memwatchd on 0.0.0.0:7391 until a connection arrives on PORT,
# while the host checks /metrics with promtool and the dashboard in chromium.
. tests/lib.sh
KO=/mw/module/memwatch.ko
PORT=7391
HOLD=
[ "${1:-}" = --hold ] && HOLD=${2:?}
# tests/run sets it for the first kernel's boot, whose forwards reach us
[ -z "$HOLD" ] && HOLD=${MW_SERVE_HOLD:-}
TMP=/tmp/serve.$$
mkdir -p "$TMP"

if ! command -v memwatchd >/dev/null; then
	t_fail "memwatchd is in the VM image" "not in /mw/userspace: run make, then scripts/mkinitramfs"
	t_done
fi
grep -q '^memwatch ' /proc/modules || insmod "$KO"
t_check $? "memwatch.ko loaded"
if [ -n "$HOLD" ]; then
	sh scripts/vm-net.sh
	t_check $? "network up (vm-net.sh)"
else
	ip link set lo up
fi

P=/mw/tests/progs
mkdir -p "$TMP/hold"
$P/tasks_hold 2 "$TMP/hold" &
HOLD_PID=$!
i=0
while [ ! -f "$TMP/hold/ready" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done

memwatchd --db "$TMP/rec.db" --interval 1 --listen "0.0.0.0:$PORT" 2>"$TMP/mwd.log" &
MWD=$!
i=0
until wget -q -O "$TMP/config" "http://127.0.0.1:$PORT/api/v1/config" 2>/dev/null; do
	i=$((i + 1))
	[ $i -gt 100 ] && break
	sleep 0.2
done
t_check $? "memwatchd answers on port $PORT" "$(cat "$TMP/mwd.log")"
grep -q '"module_loaded":true' "$TMP/config"
t_check $? "/api/v1/config: module loaded, recording" "$(cat "$TMP/config")"

# json_vs_file NAME TITLE KEYCOL KEY: the row of table TITLE ("rows" for the
# untitled one) whose KEYCOL is KEY, in the file and in /api/v1/NAME, cell
# by cell. The API was read between two reads of the file (same_moment): a
# cell equal in both must be equal in the JSON; a counter that moved (a
# debug kernel allocates pages in a polling process's own context) must lie
# between them. Prints mismatches; exit 1 if any (or the row is missing).
json_vs_file() {
	awk -v title="$2" -v keycol="$3" -v key="$4" -v json="$TMP/$1.json" '
	function trim(s) { sub(/^[ \t]+/, "", s); sub(/[ \t]+$/, "", s); return s }
	FNR == 1 { fileno++; on = 0 }
	/^# / {
		legend = substr($0, 3); t = "rows"
		if (match(legend, /^[a-z_]+: /)) { t = substr(legend, 1, RLENGTH - 2); legend = substr(legend, RLENGTH + 1) }
		if (t == title) { ncols = split(legend, cols, " "); on = 1 } else on = 0
		next
	}
	on {
		line = $0
		if (title != "rows" && $1 == title) sub(/^[ \t]*[^ \t]+[ \t]+/, "", line)
		n = split(trim(line), f, /[ \t]+/)
		# the last column takes the rest of the line
		if (n > ncols) { rest = f[ncols]; for (k = ncols + 1; k <= n; k++) rest = rest " " f[k]; f[ncols] = rest }
		for (k = 1; k <= ncols; k++) if (cols[k] == keycol && f[k] == key) {
			for (c = 1; c <= ncols; c++) if (fileno == 1) want[cols[c]] = f[c]; else later[cols[c]] = f[c]
			if (fileno == 1) found = 1
		}
	}
	END {
		if (!found) { print "no row " keycol "=" key " in the file"; exit 1 }
		getline j < json
		# the JSON object holding "keycol":key
		pat = "\"" keycol "\":" (key ~ /^-?[0-9]+$/ ? key : "\"" key "\"") "[,}]"
		p = match(j, pat)
		if (!p) { print "no row " keycol "=" key " in the JSON"; exit 1 }
		s = substr(j, 1, p); o = 0
		for (k = p; k > 0; k--) if (substr(j, k, 1) == "{") { o = k; break }
		obj = substr(j, o, index(substr(j, o), "}"))
		bad = 0
		for (c in want) {
			v = want[c]
			num = v ~ /^-?[0-9]+$/
			if ((c in later) && later[c] != v && num && later[c] ~ /^-?[0-9]+$/) {
				# moved between the two reads: the JSON value lies between
				if (!match(obj, "\"" c "\":-?[0-9]+[,}]")) { print c ": not in JSON " obj; bad = 1; continue }
				jv = substr(obj, RSTART + length(c) + 3, RLENGTH - length(c) - 4) + 0
				lo = v + 0; hi = later[c] + 0
				if (lo > hi) { t = lo; lo = hi; hi = t }
				if (jv < lo || jv > hi) { print c ": file " v " then " later[c] ", JSON " jv; bad = 1 }
				continue
			}
			if (v == "-") v = "null"
			else if (v !~ /^-?[0-9]+(\.[0-9]+)?$/) v = "\"" v "\""
			if (index(obj, "\"" c "\":" v ",") == 0 && index(obj, "\"" c "\":" v "}") == 0) {
				print c ": file " want[c] ", JSON " obj; bad = 1
			}
		}
		exit bad
	}' "$TMP/$1.file" "$TMP/$1.again"
}

# same_moment NAME: file, API, file again, until both file reads agree
same_moment() {
	for _try in 1 2 3 4 5; do
		cat "/proc/memwatch/$1" >"$TMP/$1.file"
		wget -q -O "$TMP/$1.json" "http://127.0.0.1:$PORT/api/v1/$1"
		cat "/proc/memwatch/$1" >"$TMP/$1.again"
		cmp -s "$TMP/$1.file" "$TMP/$1.again" && return 0
	done
	return 0	# compared against the first read: a mismatch is reported
}

# a child blocked in read(): idle (the parent polls every 5 ms); by ppid,
# as /proc/PID/task/TID/children needs CONFIG_PROC_CHILDREN
child=$(cat /proc/[0-9]*/stat 2>/dev/null | awk -v pp="$HOLD_PID" '{ p = $1; sub(/.*\) /, ""); if ($2 == pp) { print p; exit } }')
[ -n "$child" ] || child=$HOLD_PID
same_moment tasks
out=$(json_vs_file tasks rows pid "$child")
t_check $? "/api/v1/tasks: the row of an idle process (pid $child) equals /proc/memwatch/tasks" "$out"
out=$(json_vs_file tasks rows pid "$HOLD_PID")
t_check $? "/api/v1/tasks: tasks_hold's own row (pid $HOLD_PID) equals the file" "$out"
same_moment nodes
out=$(json_vs_file nodes rows node 0)
t_check $? "/api/v1/nodes equals /proc/memwatch/nodes" "$out"
same_moment status
out=$(json_vs_file status probe name sched_process_exit)
t_check $? "/api/v1/status: a probe row equals the file" "$out"
same_moment frag
zone=$(awk '/^# zones:/{on=1; next} /^#/{on=0} on{print $2; exit}' "$TMP/frag.file")
out=$(json_vs_file frag zones zone "$zone")
t_check $? "/api/v1/frag: zone $zone's row (watermarks, managed pages) equals the file" "$out"
wget -q -O "$TMP/metrics" "http://127.0.0.1:$PORT/metrics"
grep -q '^memwatch_module_loaded 1$' "$TMP/metrics"
t_check $? "/metrics: module_loaded 1"
grep -q "^memwatch_group_processes{comm=\"tasks_hold\"} 3$" "$TMP/metrics"
t_check $? "/metrics: tasks_hold's group has its 3 processes" "$(grep tasks_hold "$TMP/metrics" | head -3)"

# the live stream and memorylogs with the real events file: a known workload
# (tests/progs/tasks_mmap: 100 mmaps of 1 MiB) while a stream client is open
wget -q -O "$TMP/sse" "http://127.0.0.1:$PORT/api/v1/events/stream" 2>/dev/null &
SSE=$!
# The stream skips what is in the ring when it connects and then sends an
# "id: SEQ" line (api_stream.c): every event after that line is sent. Wait
# for it (not a fixed sleep) so none of the workload's events is skipped.
i=0
while ! grep -q '^id: ' "$TMP/sse" 2>/dev/null && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
grep -q '^id: ' "$TMP/sse" 2>/dev/null
t_check $? "the event stream is primed (its first id line) before the workload starts"
mkdir -p "$TMP/mm"
$P/tasks_mmap "$TMP/mm" &
MM=$!
i=0
while [ ! -f "$TMP/mm/ready" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
: >"$TMP/mm/go"
i=0
while [ ! -f "$TMP/mm/done" ] && [ $i -lt 200 ]; do sleep 0.1; i=$((i + 1)); done
mmpid=$(cat "$TMP/mm/ready")
# The stream delivers as fast as memwatchd reads: wait for the 100th (up to
# 60 s, a condition, not a fixed sleep), then count: more than 100 fails too.
sse_mmaps() { grep -c "^data: {.*\"kind\":\"mmap\",\"pid\":$mmpid,.*\"len\":1048576,.*\"comm\":\"tasks_mmap\"" "$TMP/sse"; }
i=0
while [ "$(sse_mmaps)" -lt 100 ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
kill "$SSE" 2>/dev/null
wait "$SSE" 2>/dev/null
n=$(sse_mmaps)
t_eq "$n" 100 "the open event stream delivered tasks_mmap's 100 mmaps of 1 MiB as they happened"
# memorylogs may lag the stream (seen on 6.12-rt right after the 100th
# mmap arrived): ask again until the 40th munmap is there (up to 60 s)
logs_munmaps() {
	wget -q -O "$TMP/logs" "http://127.0.0.1:$PORT/api/v1/memorylogs?limit=10000"
	tr '}' '\n' <"$TMP/logs" | grep -c "\"pid\":$mmpid,\"process_name\":\"tasks_mmap\",\"call_type\":\"munmap\",\"memory_size\":1048576,\"memory_size_mb\":1\.0"
}
i=0
while [ "$(logs_munmaps)" -lt 40 ] && [ $i -lt 300 ]; do sleep 0.2; i=$((i + 1)); done
n=$(logs_munmaps)
t_eq "$n" 40 "memorylogs: tasks_mmap's 40 munmaps of 1 MiB (1.0 MB each)"
: >"$TMP/mm/exit"
wait "$MM" 2>/dev/null

if [ -n "$HOLD" ]; then
	echo "# serve: ready on $PORT; child $child hold $HOLD_PID"
	# the host connects to PORT when it is done
	timeout 900 nc -l -p "$HOLD" </dev/null >/dev/null
	t_check $? "the host's checks finished (a connection on $HOLD)"
fi
kill "$MWD"
wait "$MWD"
t_check $? "memwatchd exits 0 on SIGTERM" "$(tail -5 "$TMP/mwd.log")"
: >"$TMP/hold/exit"
kill "$HOLD_PID" 2>/dev/null
wait "$HOLD_PID" 2>/dev/null
rmmod memwatch 2>/dev/null
rm -rf "$TMP"
t_done
