# serve-suspects.sh - memwatchd's own suspects analysis (api_suspects.c):
# a known leaker (tests/progs/suspects_work leak) is flagged by
# /api/v1/suspects and in /metrics, a flat one is not; the verdict and the
# fields are those of memwatch-read --suspects --json over the same seconds;
# promtool accepts /metrics; bad parameters get 400. From /proc (no module),
# memwatchd-serve on a free loopback port, sampling every 0.25 s.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh

TMP=$(mktemp -d)
trap 'kill ${LEAK:-} ${FLAT:-} ${SRV:-} 2>/dev/null; wait 2>/dev/null; rm -rf "$TMP"' EXIT
SERVE=userspace/memwatchd/memwatchd-serve

out=$(make -s -C userspace/memwatchd memwatchd-serve 2>&1 && make -s -C tests/progs suspects_work 2>&1)
t_check $? "memwatchd-serve and suspects_work build" "$out"

tests/progs/suspects_work leak >"$TMP/leak.out" & LEAK=$!
tests/progs/suspects_work flat >"$TMP/flat.out" & FLAT=$!
for _ in $(seq 100); do
	[ -s "$TMP/leak.out" ] && [ -s "$TMP/flat.out" ] && break
	sleep 0.1
done

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
URL=http://127.0.0.1:$PORT
MEMWATCH_ROOT=$TMP/none $SERVE --listen 127.0.0.1:$PORT --suspects-interval 0.25 2>"$TMP/srv.err" & SRV=$!
# the same seconds through memwatch-read, for its verdict and its fields
MEMWATCH_ROOT=$TMP/none userspace/memwatch-read --suspects --window 4 --interval 0.25 \
	-c suspects_work --json >"$TMP/read.json" 2>"$TMP/read.err"
t_check $? "memwatch-read --suspects over the same 4 s" "$(cat "$TMP/read.err")"

# readiness by sample count, not by time: 24 samples (6 s at 0.25 s)
samples=0
for _ in $(seq 600); do
	samples=$(curl -s "$URL/api/v1/suspects" | python3 -c \
		'import json,sys; print(json.load(sys.stdin)["analysis"]["samples"])' 2>/dev/null)
	[ "${samples:-0}" -ge 24 ] 2>/dev/null && break
	sleep 0.1
done
t_check "$([ "${samples:-0}" -ge 24 ] 2>/dev/null; echo $?)" "memwatchd took 24 samples ($samples)" "$(cat "$TMP/srv.err")"

curl -s -o "$TMP/api.json" -w '%{http_code} %{content_type}' "$URL/api/v1/suspects?comm=suspects_work" >"$TMP/code"
t_eq "$(cat "$TMP/code")" "200 application/json" "/api/v1/suspects?comm=suspects_work: 200, JSON"
got=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(" ".join(sorted({"%d/%s" % (r["pid"], r["column"]) for r in d["suspects"]})))' "$TMP/api.json" 2>&1)
t_eq "$got" "$LEAK/rss_anon_kb" "API: the leaker ($LEAK) flagged on rss_anon_kb, the flat one ($FLAT) not" "$(cat "$TMP/api.json")"
want=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(" ".join(sorted({"%d/%s" % (r["pid"], r["column"]) for r in d["suspects"]})))' "$TMP/read.json" 2>&1)
t_eq "$got" "$want" "API and memwatch-read --suspects give the same verdict"
keys=$(python3 - "$TMP/api.json" "$TMP/read.json" <<'EOF'
import json, sys
api, rd = (json.load(open(f)) for f in sys.argv[1:3])
missing = []
for k in rd:
    if k != "time" and k not in api:
        missing.append(k)
for k in rd["analysis"]:
    if k not in api["analysis"]:
        missing.append("analysis." + k)
if rd["suspects"] and api["suspects"]:
    if list(rd["suspects"][0]) != list(api["suspects"][0]):
        missing.append("suspect row %s vs %s" % (list(rd["suspects"][0]), list(api["suspects"][0])))
print(" ".join(missing) or "same", api["analysis"]["source"], api["analysis"]["ready"])
EOF
)
t_eq "$keys" "same procfs True" "the fields of memwatch-read --suspects --json (rows in its order), from /proc, ready"
growth=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["suspects"][0]["growth_per_h"])' "$TMP/api.json" 2>/dev/null)
# 64 KiB every 100 ms at most: 640 KiB/s = 2304000 KiB/h
ok=$(awk -v g="${growth:-0}" 'BEGIN { print (g > 0 && g <= 2304000 * 1.02) }')
t_eq "$ok" 1 "the leaker's growth is positive and at most what it allocates (2304000 KiB/h): $growth"

curl -s "$URL/api/v1/suspects?pid=$FLAT" >"$TMP/flat.json"
t_eq "$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(len(d["suspects"]), d["analysis"]["suspects"])' "$TMP/flat.json" 2>&1)" \
	"0 0" "?pid=FLAT: no suspect row, counted 0"

curl -s "$URL/metrics" >"$TMP/metrics"
grep -q "^memwatch_leak_suspect{comm=\"suspects_work\",pid=\"$LEAK\"} 1\$" "$TMP/metrics"
t_check $? "/metrics: memwatch_leak_suspect{comm=\"suspects_work\",pid=\"$LEAK\"} 1" "$(grep suspect "$TMP/metrics")"
t_eq "$(grep -Ec "^memwatch_(leak_suspect|alloc_anomaly)[a-z_]*\{[^}]*pid=\"$FLAT\"" "$TMP/metrics")" 0 "/metrics: no suspect or anomaly series for the flat process"
g=$(awk -v p="$LEAK" '$1 == "memwatch_leak_suspect_growth_bytes_per_second{comm=\"suspects_work\",pid=\"" p "\",column=\"rss_anon_kb\"}" { print $2 }' "$TMP/metrics")
ok=$(awk -v g="${g:-0}" 'BEGIN { print (g > 0 && g <= 655360 * 1.02) }')
t_eq "$ok" 1 "/metrics: the leaker's rss_anon growth in bytes/s, positive and at most 640 KiB/s: $g"
grep -q "^# TYPE memwatch_alloc_anomaly gauge" "$TMP/metrics"
t_check $? "/metrics: memwatch_alloc_anomaly declared"
if command -v promtool >/dev/null; then
	promtool check metrics <"$TMP/metrics" >"$TMP/prom" 2>&1
	t_check $? "promtool check metrics passes" "$(cat "$TMP/prom")"
else
	t_skip "promtool check metrics" "no promtool (scripts/setup installs prometheus)"
fi

t_eq "$(curl -s -o /dev/null -w '%{http_code}' "$URL/api/v1/suspects?pid=x")" 400 "?pid=x: 400"
t_eq "$(curl -s -o /dev/null -w '%{http_code}' "$URL/api/v1/suspects?window=1")" 400 "unknown parameter: 400"
$SERVE --suspects-interval 0 >/dev/null 2>"$TMP/err"
t_eq "$? $(grep -c "^memwatchd-serve: bad --suspects-interval '0'" "$TMP/err") $(sed -n 2p "$TMP/err")" \
	"2 1 Try 'memwatchd-serve --help' for more information." "memwatchd-serve --suspects-interval 0: exit 2, one line and --help" "$(cat "$TMP/err")"
userspace/memwatchd/memwatchd --suspects-interval x >/dev/null 2>"$TMP/err"
t_eq "$? $(grep -c "^memwatchd: bad --suspects-interval 'x'" "$TMP/err") $(sed -n 2p "$TMP/err")" \
	"2 1 Try 'memwatchd --help' for more information." "memwatchd --suspects-interval x: exit 2, one line and --help" "$(cat "$TMP/err")"

kill -TERM $SRV
wait $SRV
t_check $? "memwatchd-serve stops cleanly on SIGTERM" "$(cat "$TMP/srv.err")"
SRV=
t_done
