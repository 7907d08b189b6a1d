# tests/vm/suspects.sh - memwatch-read --suspects on six real workloads run
# side by side with the module loaded (tests/progs/suspects_work): a steady
# leaker, a sawtooth, a flat process, a one-time step, a busy mmap churner
# and an allocation burst. Within 21 samples (--window 10 --interval 0.5)
# only the leaker is a trend suspect and only the burst an allocation-rate
# anomaly. POSIX sh (busybox ash); run from /mw inside the VM.
. tests/lib.sh

P=tests/progs/suspects_work
tmp=/tmp/suspects-test.$$
mkdir -p "$tmp"

insmod module/memwatch.ko
t_check $? "insmod memwatch.ko"
# every verdict is on the whole host: what else runs (kernel threads and
# this test's own session left out)
sid=$(awk '{ sub(/.*\) /, ""); print $4 }' /proc/$$/stat)
t_diag "other processes: $(cat /proc/[0-9]*/stat 2>/dev/null | awk -v sid="$sid" '{
	p = $1; c = $0; sub(/^[0-9]+ \(/, "", c); sub(/\) [A-Za-z] .*/, "", c)
	sub(/.*\) /, ""); if (p != 2 && $2 != 2 && $4 != sid) printf "%s(%s) ", p, c }')"

# One measurement: six fresh workloads, the window, the workloads stopped.
# The burst is timed from the "go" file, the window from memwatch-read's
# start; on an emulated CPU the two can drift seconds apart, and a burst
# that fills most of the window is its own history, not an anomaly. So the
# burst's start is read back from the samples, and a measurement where it
# fell before 60 % of the window, or where the churner was starved for a
# quarter of it, is made again (at most 3 times): that is the workload not
# having its shape, not a verdict.
measure() {
	pids=
	for m in leak saw flat step churn burst; do
		$P $m "$tmp/go" >"$tmp/$m.out" 2>&1 &
		eval "pid_$m=$!"
		pids="$pids $!"
	done
	n=0
	for m in leak saw flat step churn burst; do
		while ! grep -q ready "$tmp/$m.out" 2>/dev/null && [ $n -lt 300 ]; do
			sleep 0.1; n=$((n + 1))
		done
	done
	ready=$(cat "$tmp"/*.out | grep -c ready)
	touch "$tmp/go"	# the burst starts 7 s from now: in the last fifth of the window
	memwatch-read --suspects --window 10 --interval 0.5 --json \
		--save-samples "$tmp/samples" >"$tmp/json" 2>"$tmp/err"
	read_rc=$?
	alive=0
	for p in $pids; do kill -0 "$p" 2>/dev/null && alive=$((alive + 1)); done
	step_kb=$(awk '$1 == "RssAnon:" { print $2 }' /proc/$pid_step/status)
	kill $pids 2>/dev/null
	wait 2>/dev/null
	rm -f "$tmp/go"
	# seconds into the window of the first sample where the burst's
	# mmap calls grew (the window's end if they never did)
	burst_at=$(awk -F'\t' -v pid="$pid_burst" '
		/^window_s / { split($0, w, " "); end = w[2] }
		$2 == pid { if (first == "") first = $8; else if ($8 > first && at == "") at = $1 }
		END { printf "%.1f", at == "" ? end : at }' "$tmp/samples")
	# the churner's mmap calls in each quarter of the window: a "steady"
	# churner that an emulated CPU starved for seconds and then ran looks
	# like a burst, rightly (seen: no call from 0.9 s to 5 s, then 70/s)
	churn_q=$(awk -F'\t' -v pid="$pid_churn" '
		/^window_s / { split($0, w, " "); end = w[2] }
		$2 == pid { n++; t[n] = $1; c[n] = $8 }
		END {
			for (q = 1; q <= 4; q++) {
				lo = c[1]; hi = c[1]
				for (i = 1; i <= n; i++) {
					if (t[i] <= end * (q - 1) / 4) lo = c[i]
					if (t[i] <= end * q / 4) hi = c[i]
				}
				printf "%s%d", (q > 1 ? " " : ""), hi - lo
			}
		}' "$tmp/samples")
	# when the sawtooth gave its memory back (RssAnon fell over 1 MiB):
	# a rising edge stretched past half the window by a starved CPU is
	# growth within that window (Documentation/suspects.md, limits)
	saw_drops=$(awk -F'\t' -v pid="$pid_saw" '
		$2 == pid { if (prev != "" && $4 < prev - 1024) printf "%s%.1f", n++ ? " " : "", $1; prev = $4 }' "$tmp/samples")
	# seconds the step took from under 6 MiB to over 18 MiB (touching
	# 16 MiB page by page); spread over seconds it is growth, rightly
	step_rise=$(awk -F'\t' -v pid="$pid_step" '
		$2 == pid { if ($4 <= 6144) lo = $1; if ($4 >= 18432 && hi == "") hi = $1 }
		END { printf "%.1f", (lo != "" && hi != "" && hi > lo) ? hi - lo : 0 }' "$tmp/samples")
}
# the workloads' names for pids (a CI summary shows only the failing line)
who() {
	for p in $1; do
		n=$p
		for m in leak saw flat step churn burst; do
			eval "[ \"\$pid_$m\" = $p ]" && n="$m"
		done
		printf '%s ' "$n"
	done
}
# each quarter's calls at least an eighth of the busiest one's
churn_steady() {
	echo "$churn_q" | awk '{ m = $1; for (i = 2; i <= 4; i++) if ($i > m) m = $i
		for (i = 1; i <= 4; i++) if ($i * 8 < m || $i == 0) exit 1 }'
}
# a drop in each half of the window
saw_cycles() {
	echo "$saw_drops" | awk -v end=10 '{ for (i = 1; i <= NF; i++) if ($i <= end / 2) a = 1; else b = 1 }
		END { exit !(a && b) }'
}
# the step within a quarter of the window
step_sudden() {
	awk -v r="$step_rise" 'BEGIN { exit !(r <= 2.5) }'
}

for attempt in 1 2 3; do
	measure
	[ "$read_rc" -ne 0 ] && break
	awk -v a="$burst_at" 'BEGIN { exit !(a >= 6.0) }' && churn_steady &&
		saw_cycles && step_sudden && break
	t_diag "measurement $attempt: the burst began $burst_at s into the 10 s window; the churner's calls per quarter: $churn_q; the sawtooth fell at $saw_drops s; the step took $step_rise s (timing drift)"
done
t_eq "$ready" 6 "six workloads started"
t_check $read_rc "memwatch-read --suspects --window 10 --interval 0.5 --json" "$(cat "$tmp/err")"
awk -v a="$burst_at" 'BEGIN { exit !(a >= 6.0) }'
t_check $? "the burst began in the last 40 % of the window (at $burst_at s; measurement $attempt)"
# Starved in every measurement (PREEMPT_RT under TCG does this): there is
# no steady churner to judge, so the churner's checks are TODO, not passes.
churn_todo=
churn_steady || churn_todo=" # TODO the emulated CPU starved the churner in all $attempt measurements"
churn_steady
t_check $? "the churner churned all through the window (mmap calls per quarter: $churn_q)$churn_todo"
t_eq "$alive" 6 "every workload ran through the window"
# Those two shapes, like the churner's, are the CPU's to keep: starved in
# every measurement, that workload may rightly look like growth, and only
# that workload's verdict is excused (TODO), nobody else's.
excused=
saw_todo=
saw_cycles || { saw_todo=" # TODO the emulated CPU stretched the sawtooth in all $attempt measurements"; excused="$excused $pid_saw"; }
saw_cycles
t_check $? "the sawtooth gave its memory back in each half of the window (at $saw_drops s)$saw_todo"
step_todo=
step_sudden || { step_todo=" # TODO the emulated CPU spread the step in all $attempt measurements"; excused="$excused $pid_step"; }
step_sudden
t_check $? "the step took at most a quarter of the window ($step_rise s)$step_todo"
[ "${step_kb:-0}" -ge 16384 ]
t_check $? "the step happened: RssAnon ${step_kb:-?} KiB >= 16 MiB (4 MiB before it)"

grep -q '"source":"module"' "$tmp/json" && grep -q '"samples":21' "$tmp/json"
t_check $? "analysed 21 samples from the module" "$(grep -o '"analysis".*' "$tmp/json")"
# "column" is a suspect's key, "metric" an anomaly's
sus=$(grep -o '"pid":[0-9]*,"comm":"[^"]*","column":"[^"]*"' "$tmp/json")
ano=$(grep -o '"pid":[0-9]*,"comm":"[^"]*","metric":"[^"]*"' "$tmp/json")
t_diag "suspects: $(echo $sus)"
t_diag "anomalies: $(echo $ano)"
sus_pids=$(echo "$sus" | sed -n 's/^"pid":\([0-9]*\),.*/\1/p' | sort -u | tr '\n' ' ')
for p in $excused; do
	case " $sus_pids" in *" $p "*)
		t_diag "excused: $(who $p) ($p) is a suspect, its shape lost to the CPU"
		sus_pids=$(echo " $sus_pids" | sed "s/ $p / /; s/^ //") ;;
	esac
done
t_eq "$sus_pids" "$pid_leak " "only the leaker is a suspect (suspects: $(who "$sus_pids"); a pid is a process not of this test)"
echo "$sus" | grep -q "\"pid\":$pid_leak,.*\"column\":\"rss_anon_kb\""
t_check $? "the leaker is flagged on rss_anon_kb"
ano_pids=$(echo "$ano" | sed -n 's/^"pid":\([0-9]*\),.*/\1/p' | sort -u | tr '\n' ' ')
t_eq "$ano_pids" "$pid_burst " "only the burst is an allocation-rate anomaly (anomalies: $(who "$ano_pids"))$churn_todo"

# A wrong verdict: the samples, to replay with --samples (a fixture for
# tests/host/suspects-replay.sh; see Documentation/suspects.md), also
# printed with MW_SUSPECTS_SAMPLES=1 (to study the margins of good runs)
if [ "$sus_pids" != "$pid_leak " ] || [ "$ano_pids" != "$pid_burst " ] ||
	[ -n "${MW_SUSPECTS_SAMPLES:-}" ]; then
	t_diag "workloads: leak $pid_leak saw $pid_saw flat $pid_flat step $pid_step churn $pid_churn burst $pid_burst"
	t_diag "samples (--save-samples) follow between BEGIN and END"
	t_diag "BEGIN SAMPLES"
	t_diag "$(cat "$tmp/samples")"
	t_diag "END SAMPLES"
fi

rmmod memwatch
t_check $? "rmmod memwatch"
rm -rf "$tmp"
t_done
