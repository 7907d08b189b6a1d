#!/usr/bin/env bash
# tests/bench/serve-bench.sh [SECONDS] - memwatchd's HTTP side under scrape,
# against the exporters people run for the same figures, in the same run on
# the same machine: with 2,000 extra processes alive (tests/progs/tasks_hold),
# wrk (2 threads, 8 connections, SECONDS each, default 10) on 127.0.0.1 against
#   memwatchd-serve /metrics and /api/v1/tasks
#   prometheus-node-exporter /metrics        (machine figures, no per-process)
#   prometheus-process-exporter /metrics     (every process grouped by comm)
# prints requests/s and latency (p50, p99) of each, the ratios against the
# exporters, and memwatchd's CPU time per request and RSS idle and under
# scrape. Without the module (a host that cannot load it) memwatchd answers
# from /proc, as process-exporter does. Figures: Documentation/performance.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
SECS=${1:-10}
NPROC=${MW_BENCH_PROCS:-2000}
for c in wrk prometheus-node-exporter prometheus-process-exporter; do
	command -v "$c" >/dev/null || { echo "serve-bench: $c missing (bash scripts/setup)" >&2; exit 3; }
done
make -s -C userspace memwatchd/memwatchd-serve >/dev/null
make -s -C tests/progs >/dev/null

TMP=$(mktemp -d)
pids=()
cleanup() {
	: >"$TMP/hold/exit" 2>/dev/null || true
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$TMP"
}
trap cleanup EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_up() { for _ in $(seq 100); do curl -sf -o /dev/null "$1" && return 0; sleep 0.1; done; echo "serve-bench: $1 not up" >&2; exit 1; }

mkdir -p "$TMP/hold"
tests/progs/tasks_hold "$NPROC" "$TMP/hold" &
pids+=($!)
for _ in $(seq 300); do [[ -f $TMP/hold/ready ]] && break; sleep 0.1; done

MP=$(port); NP=$(port); PP=$(port)
userspace/memwatchd/memwatchd-serve --listen "127.0.0.1:$MP" 2>/dev/null &
MPID=$!; pids+=($MPID)
prometheus-node-exporter --web.listen-address="127.0.0.1:$NP" >/dev/null 2>&1 &
pids+=($!)
printf 'process_names:\n  - name: "{{.Comm}}"\n    cmdline:\n    - ".+"\n' >"$TMP/pe.yml"
prometheus-process-exporter -web.listen-address "127.0.0.1:$PP" -config.path "$TMP/pe.yml" >/dev/null 2>&1 &
pids+=($!)
wait_up "http://127.0.0.1:$MP/api/v1/config"
wait_up "http://127.0.0.1:$NP/metrics"
wait_up "http://127.0.0.1:$PP/metrics"

procs=$(ls -d /proc/[0-9]* | wc -l)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss_kb() { awk '/^VmRSS/{print $2}' "/proc/$1/status"; }

# idle
t0=$(cpu_ticks "$MPID"); sleep "$SECS"; t1=$(cpu_ticks "$MPID")
idle_rss=$(rss_kb "$MPID")
idle_cpu=$(awk -v a="$t0" -v b="$t1" -v s="$SECS" -v hz="$(getconf CLK_TCK)" 'BEGIN{printf "%.2f", (b-a)/hz/s*100}')

# wrk NAME URL: "rps p50_ms p99_ms bytes"
run_wrk() {
	local out rps p50 p99 size
	size=$(curl -s "$2" | wc -c)
	out=$(wrk -t2 -c8 -d"${SECS}s" --latency "$2")
	rps=$(awk '/^Requests\/sec/{print $2}' <<<"$out")
	p50=$(awk '$1=="50%"{print $2}' <<<"$out")
	p99=$(awk '$1=="99%"{print $2}' <<<"$out")
	ms() { awk -v v="$1" 'BEGIN{ if (v ~ /us$/) printf "%.2f", v/1000; else if (v ~ /ms$/) printf "%.2f", v+0; else printf "%.2f", v*1000 }'; }
	printf '%-34s %9s req/s  p50 %7s ms  p99 %7s ms  %8d bytes\n' "$1" "$rps" "$(ms "$p50")" "$(ms "$p99")" "$size"
	echo "$rps" >"$TMP/rps-$3"
}

echo "serve-bench: $procs processes, wrk -t2 -c8 -d${SECS}s on 127.0.0.1, $(nproc) CPUs"
echo "module loaded: $(curl -s "http://127.0.0.1:$MP/api/v1/config" | python3 -c 'import json,sys; print(json.load(sys.stdin)["module_loaded"])')"
echo "series: memwatchd $(curl -s "http://127.0.0.1:$MP/metrics" | grep -vc '^#'), process-exporter $(curl -s "http://127.0.0.1:$PP/metrics" | grep -vc '^#'), node-exporter $(curl -s "http://127.0.0.1:$NP/metrics" | grep -vc '^#')"
c0=$(cpu_ticks "$MPID"); n0=$(curl -s "http://127.0.0.1:$MP/api/v1/config" >/dev/null; echo 0)
run_wrk "memwatchd /metrics" "http://127.0.0.1:$MP/metrics" mw_metrics
run_wrk "memwatchd /api/v1/tasks" "http://127.0.0.1:$MP/api/v1/tasks" mw_tasks
c1=$(cpu_ticks "$MPID")
busy_rss=$(rss_kb "$MPID")
run_wrk "process-exporter /metrics" "http://127.0.0.1:$PP/metrics" pe
run_wrk "node-exporter /metrics" "http://127.0.0.1:$NP/metrics" ne
reqs=$(awk -v a="$(cat "$TMP/rps-mw_metrics")" -v b="$(cat "$TMP/rps-mw_tasks")" -v s="$SECS" 'BEGIN{print (a+b)*s}')
awk -v m="$(cat "$TMP/rps-mw_metrics")" -v t="$(cat "$TMP/rps-mw_tasks")" -v p="$(cat "$TMP/rps-pe")" -v n="$(cat "$TMP/rps-ne")" \
	'BEGIN{printf "ratio /metrics memwatchd : process-exporter = %.2f, : node-exporter = %.2f; /api/v1/tasks : process-exporter /metrics = %.2f\n", m/p, m/n, t/p}'
awk -v a="$c0" -v b="$c1" -v r="$reqs" -v hz="$(getconf CLK_TCK)" -v ir="$idle_rss" -v br="$busy_rss" -v ic="$idle_cpu" \
	'BEGIN{printf "memwatchd: idle %s%% CPU, RSS %d KiB; under scrape %.2f ms CPU per request, RSS %d KiB\n", ic, ir, (b-a)/hz*1000/r, br}'
