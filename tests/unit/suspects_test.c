/*
 * suspects_test - the trend and anomaly tests of libmwcore (suspects.c,
 * trend.c) on synthetic series with known answers. Noise comes from a
 * fixed-seed generator, so every run sees the same numbers. TAP output.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "suspects.h"
#include "trend.h"

static int n_test, n_failed;

static void check(int ok, const char *fmt, ...)
{
	va_list ap;

	n_test++;
	if (!ok)
		n_failed++;
	printf("%sok %d - ", ok ? "" : "not ", n_test);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

static unsigned long long rng = 88172645463325252ULL;

/* Uniform in [-1, 1) (xorshift64). */
static double noise(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (double)(rng >> 11) / (double)(1ULL << 52) - 1.0;
}

#define N 60
static double T[N], Y[N];

static void times(void)
{
	for (int i = 0; i < N; i++)
		T[i] = i;	/* one sample a second */
}

static enum sus_reason test(struct sus_trend *r)
{
	struct sus_params p;

	sus_params_default(&p);
	return sus_trend_test(T, Y, N, false, &p, r);
}

static void expect(const char *what, enum sus_reason want, struct sus_trend *r)
{
	enum sus_reason got = test(r);

	check(got == want, "%s: %s (got %s, p=%.3g, held %.0fs, slope %.1f/s)", what,
	      sus_reason_name(want), sus_reason_name(got), r->p, r->held_s, r->slope);
}

static void test_mann_kendall(void)
{
	double a[] = { 1, 2, 3, 4, 5 }, b[] = { 1, 1, 2, 2, 3 }, c[] = { 7, 7, 7, 7 };
	struct mk_result r = mann_kendall(a, 5);

	/* S = 10, Var = 5*4*15/18, z = 9/sqrt(Var), p = P(Z > z) = 0.01374 */
	check(r.s == 10 && fabs(r.var - 50.0 / 3) < 1e-9 && fabs(r.p_up - 0.013745) < 1e-5,
	      "Mann-Kendall 1..5: S=10 Var=16.667 p=0.01374 (got S=%g Var=%g p=%.6f)",
	      r.s, r.var, r.p_up);
	r = mann_kendall(b, 5);
	/* two pairs of ties remove 2 * 2*1*9 from 300: Var = 264/18 */
	check(r.s == 8 && fabs(r.var - 264.0 / 18) < 1e-9,
	      "Mann-Kendall with ties: S=8 Var=14.667 (got S=%g Var=%g)", r.s, r.var);
	r = mann_kendall(c, 4);
	check(r.s == 0 && r.var == 0 && r.p_up == 1, "Mann-Kendall all ties: no trend, p=1");
}

static void test_theil_sen(void)
{
	double t[20], y[20], m, mad;
	double v[] = { 5, 1, 9, 3, 7 };

	for (int i = 0; i < 20; i++) {
		t[i] = i;
		y[i] = 3 * i + 10;
	}
	y[3] = 1000;	/* 4 outliers of 20 */
	y[8] = -500;
	y[12] = 9999;
	y[17] = 0;
	m = theil_sen(t, y, 20);
	check(fabs(m - 3) < 1e-9, "Theil-Sen ignores 20%% outliers: slope 3 (got %g)", m);
	median_mad(v, 5, &m, &mad);
	check(m == 5 && mad == 2, "median 5, MAD 2 of 5 1 9 3 7 (got %g %g)", m, mad);
}

static void test_shapes(void)
{
	struct sus_trend r;
	int i;

	times();
	for (i = 0; i < N; i++)
		Y[i] = 10000 + 100 * i + 50 * noise();
	expect("steady leak 100 KiB/s", SUS_SUSPECT, &r);
	check(fabs(r.slope - 100) < 5 && r.held_s >= 55 && r.p < 1e-10,
	      "steady leak: slope 100+-5 KiB/s (%.1f), held >= 55 s of 59 (%.0f)",
	      r.slope, r.held_s);

	for (i = 0; i < N; i++)
		Y[i] = 50000 + 200 * noise();
	expect("flat with noise", SUS_NO_GROWTH, &r);

	for (i = 0; i < N; i++)
		Y[i] = 50000;
	expect("flat, every value tied", SUS_NO_GROWTH, &r);

	for (i = 0; i < N; i++)
		Y[i] = 50000 + 5000 * noise();
	expect("busy but flat (+-5 MiB churn)", SUS_DRAWDOWN, &r);

	for (i = 0; i < N; i++)	/* grows 500 KiB/s for 9 s, frees, again */
		Y[i] = 20000 + 500 * (i % 10) + 30 * noise();
	expect("sawtooth, period 10 s", SUS_DRAWDOWN, &r);

	for (i = 0; i < N; i++)	/* the window ends on a 12 s rise from the last trough */
		Y[i] = 20000 + 500 * ((i + 5) % 13);
	expect("sawtooth, period 13 s", SUS_DRAWDOWN, &r);

	for (i = 0; i < N; i++)	/* troughs at random heights: no floor trend */
		Y[i] = 20000 + 500 * (i % 6) + (i % 6 ? 0 : 1500 * noise());
	expect("sawtooth, period 6 s, troughs at random heights", SUS_DRAWDOWN, &r);

	for (i = 0; i < N; i++)	/* grow 3 MiB, free it, but 100 KiB/s stays */
		Y[i] = 20000 + 100 * i + 600 * (i % 6) + 30 * noise();
	expect("leak under a sawtooth (its troughs rise 100 KiB/s)", SUS_SUSPECT, &r);
	check(r.floor && fabs(r.slope - 100) < 10 && r.held_s >= 50,
	      "leak under a sawtooth: found in its troughs, 100+-10 KiB/s (%.1f), held %.0f s",
	      r.slope, r.held_s);

	for (i = 0; i < N; i++)
		Y[i] = (i < 30 ? 20000 : 40000) + 30 * noise();
	expect("one-time step at 30 s", SUS_NOT_SPREAD, &r);

	for (i = 0; i < N; i++)
		Y[i] = (i < 55 ? 20000 : 40000) + 30 * noise();
	expect("one-time step at the end", SUS_NOT_SPREAD, &r);

	for (i = 0; i < N; i++)
		Y[i] = (i < 5 ? 20000 : 40000) + 30 * noise();
	expect("one-time step at the start", SUS_NOT_SPREAD, &r);

	for (i = 0; i < N; i++)	/* a step drawn out over 40 s (a slow CPU), then flat */
		Y[i] = 20000 + 400 * (i < 5 ? 0 : i > 45 ? 40 : i - 5) + 30 * noise();
	expect("a step drawn out over 40 s, flat for the last 14 s", SUS_STOPPED, &r);

	for (i = 0; i < N; i++)	/* frees 13 MiB at 10 s, climbs back 5 MiB: not a new high */
		Y[i] = (i < 10 ? 15000 : 2000 + 100 * (i - 10)) + 30 * noise();
	r.p = 1;
	check(test(&r) == SUS_DRAWDOWN || test(&r) == SUS_REFILL,
	      "climbing back below an earlier level (a starved churner): not a suspect (%s)",
	      sus_reason_name(test(&r)));

	for (i = 0; i < N; i++)	/* +1 MiB every 5 s: a staircase that never frees */
		Y[i] = 30000 + 1024 * (i / 5) + 20 * noise();
	expect("staircase leak, 1 MiB every 5 s", SUS_SUSPECT, &r);

	for (i = 0; i < N; i++)	/* flat, then a leak from t = 20 s */
		Y[i] = 30000 + (i > 20 ? 200 * (i - 20) : 0) + 40 * noise();
	expect("late onset at 20 s", SUS_SUSPECT, &r);
	check(fabs(r.held_s - 39) <= 3 && fabs(r.slope - 200) < 10,
	      "late onset: held 39+-3 s (%.0f), slope 200+-10 KiB/s (%.1f)",
	      r.held_s, r.slope);

	for (i = 0; i < N; i++)	/* flat, then a leak from t = 40 s: too recent */
		Y[i] = 30000 + (i > 40 ? 300 * (i - 40) : 0) + 40 * noise();
	expect("onset at 40 s (under half the window)", SUS_SHORT, &r);

	for (i = 0; i < N; i++)	/* grows 10 KiB/s on 1 GiB: too little to matter */
		Y[i] = 1048576 + 10 * i;
	expect("slow growth under 5% of the level", SUS_NO_GROWTH, &r);

	for (i = 0; i < N; i++)	/* a random walk up and down */
		Y[i] = (i ? Y[i - 1] : 40000) + 400 * noise();
	r.p = 1;
	check(test(&r) != SUS_SUSPECT, "random walk: not a suspect (%s)",
	      sus_reason_name(test(&r)));
}

static void add(struct sus_set *s, double t, int pid, const char *comm,
		double calls, double kb, double pages, double rss)
{
	double v[SUS_NFIELDS];

	v[SUS_RSS_ANON] = rss;
	v[SUS_MAPPED_NET] = NAN;
	v[SUS_BRK] = 0;
	v[SUS_PAGE_ALLOCS] = pages;
	v[SUS_MMAP_CALLS] = calls;
	v[SUS_MMAP_KB] = kb;
	v[SUS_BRK_CALLS] = 0;
	sus_set_add(s, t, pid, comm, v);
}

static void test_set(void)
{
	struct sus_params p;
	struct sus_anomaly *an;
	struct sus_trend *tr;
	struct sus_set s;
	double c[8] = { 0 };
	size_t n, i;
	int k, busy = 0, burst = 0, other = 0;

	sus_params_default(&p);
	sus_set_init(&s, 0, 0, 0);
	for (k = 0; k < N; k++) {
		/* pid 10: 500 mmap/s all along; 20: idle, then 1000/s in the last 12 s (the recent fifth) */
		c[0] += 500 + 50 * noise();
		c[1] += k >= 48 ? 1000 : (k % 7 == 0);
		c[2] += 4000;		/* pid 30: 4000 pages/s, steady */
		c[3] += 3;		/* pid 40..44: quiet */
		add(&s, k, 10, "busy", c[0], c[0] * 64, c[0] * 16, 90000 + 3000 * noise());
		add(&s, k, 20, "burst", c[1], c[1] * 64, c[1] * 16, 30000);
		add(&s, k, 30, "pager", 0, 0, c[2], 20000);
		for (i = 0; i < 5; i++)
			add(&s, k, 40 + (int)i, "quiet", c[3], c[3] * 4, c[3] * 2, 10000 + 100 * k);
		add(&s, k, 50, "leaker", c[3], c[3], c[3], 10000 + 150 * k + 20 * noise());
		/* pid 60: page allocations accelerating, 200 pages/s more each second */
		add(&s, k, 60, "accel", c[3], c[3], 100.0 * k * k, 8000);
		/* pid 70: leaks like 50 and bursts like 20, but exits at 55 s */
		if (k <= 55)
			add(&s, k, 70, "exited", c[1], c[1] * 64, c[1] * 16, 10000 + 150 * k);
	}
	n = sus_find_anomalies(&s, &p, &an);
	for (i = 0; i < n; i++) {
		if (an[i].pid == 20)
			burst++;
		else if (an[i].pid == 10)
			busy++;
		else
			other++;
	}
	check(burst == 3 && busy == 0 && other == 0,
	      "anomalies: only the burst (calls, KiB, pages), not the steady busy ones "
	      "nor a burst that exited "
	      "(burst %d busy %d other %d)", burst, busy, other);
	check(n && fabs(an[0].rate - 1000 * (an[0].metric == SUS_CALL_RATE ? 1 :
			an[0].metric == SUS_ALLOC_RATE ? 64 : 16)) < 1,
	      "anomaly rate: the burst's own rate (%.0f/s %s)", n ? an[0].rate : 0,
	      n ? sus_metric_name(an[0].metric) : "-");
	free(an);
	p.min_rate[SUS_CALL_RATE] = 2000;
	n = sus_find_anomalies(&s, &p, &an);
	for (i = 0, burst = 0; i < n; i++)
		burst += an[i].metric == SUS_CALL_RATE;
	check(burst == 0, "--min-call-rate 2000 hides the 1000/s burst");
	free(an);

	n = sus_find_trends(&s, &p, 1e6, &tr);
	/* 40..44 grow 100 KiB/s from 10 MiB: a leak too (60 s, 5.9 MiB) */
	for (i = 0, k = 0; i < n; i++)
		k += tr[i].pid == 50 || (tr[i].pid >= 40 && tr[i].pid <= 44) ||
		     (tr[i].pid == 60 && tr[i].field == SUS_PAGE_ALLOCS);
	check(n == 7 && k == 7, "trends: the leaker, the five slow growers and the "
	      "accelerating page rate; not the steady pager, not the one that exited (%zu)", n);
	for (i = 0; i < n && tr[i].pid != 50; i++)
		;
	check(i < n && fabs(tr[i].exhaust_s - 1e6 / 150) < 1e6 / 150 * 0.05,
	      "leaker: exhaustion at MemAvailable / slope = 6667 s +-5%% (%.0f)",
	      i < n ? tr[i].exhaust_s : 0);
	/* slope / level: 60 200/11800, 50 150/18850, 40..44 100/15900 */
	check(n > 2 && tr[0].pid == 60 && tr[1].pid == 50 && tr[2].pid == 40,
	      "sorted by growth relative to the level: 60, 50, then 40 (%d %d %d)",
	      n > 0 ? tr[0].pid : 0, n > 1 ? tr[1].pid : 0, n > 2 ? tr[2].pid : 0);
	for (i = 0; i < n && tr[i].pid != 60; i++)
		;
	check(i < n && fabs(tr[i].slope - 200) < 1 && tr[i].exhaust_s < 0,
	      "page rate trend: +200 pages/s per second, no exhaustion time (%.1f)",
	      i < n ? tr[i].slope : 0);
	free(tr);
	sus_set_free(&s);

	/* Bucketing: 1000 samples over 100 s into at most 50 points. */
	sus_set_init(&s, 0, 100, 50);
	for (k = 0; k < 1000; k++)
		add(&s, k * 0.1, 7, "x", k, k, k, k);
	check(s.n == 1 && s.procs[0].n <= 51 && s.procs[0].n >= 49,
	      "1000 samples bucketed to 50 points (%zu)", s.procs[0].n);
	check(s.procs[0].v[SUS_RSS_ANON][s.procs[0].n - 1] == 999,
	      "a bucket keeps its latest sample");
	add(&s, 100, 7, "y", 1, 1, 1, 1);
	check(s.procs[0].n == 1, "a new comm on the pid restarts its series");
	sus_set_free(&s);
}

/*
 * Rate series (page allocations per second): a rate that stepped up and
 * held, jittering, is a burst, not an accelerating allocator; its lower
 * envelope still rises at the end (a minimum over fewer points), which once
 * made a burst a trend suspect in the VM test.
 */
static void test_rate_shapes(void)
{
	struct sus_params p;
	struct sus_trend r;
	enum sus_reason got;
	int i;

	/* the burst's page rate in a 6.1 VM run (10 s window, samples 0.5 s apart) */
	static const double bt[] = { 0.66, 1.02, 1.56, 2.57, 3.16, 3.53, 4.13, 4.50, 5.00,
		5.50, 6.00, 6.50, 7.00, 7.50, 8.00, 8.50, 9.00, 9.50, 10.00 };
	static const double by[] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 32, 4158, 3647,
		4440, 4007, 4495, 4330 };

	sus_params_default(&p);
	got = sus_trend_test(bt, by, sizeof(bt) / sizeof(bt[0]), true, &p, &r);
	check(got != SUS_SUSPECT, "a burst's page rate (idle, then 3600-4500/s for the "
	      "last 3 s of a VM run): not a trend (got %s, held %.1fs)",
	      sus_reason_name(got), r.held_s);
	times();
	for (i = 0; i < N; i++)	/* idle, then 4000 +- 1000 pages/s from 42 s */
		Y[i] = i < 42 ? 0 : 4000 + 1000 * noise();
	got = sus_trend_test(T, Y, N, true, &p, &r);
	check(got != SUS_SUSPECT, "rate stepped up at 42 s of 60 and held: not a "
	      "trend (got %s, held %.0fs)", sus_reason_name(got), r.held_s);
	for (i = 0; i < N; i++)	/* +100 pages/s per second, +-300 jitter */
		Y[i] = 1000 + 100 * i + 300 * noise();
	got = sus_trend_test(T, Y, N, true, &p, &r);
	check(got == SUS_SUSPECT, "rate accelerating 100 pages/s per second with "
	      "jitter: a trend (got %s)", sus_reason_name(got));
	for (i = 0; i < N; i++)	/* idle, then accelerating from 20 s */
		Y[i] = i < 20 ? 0 : 200 * (i - 20) + 300 * noise();
	got = sus_trend_test(T, Y, N, true, &p, &r);
	check(got == SUS_SUSPECT, "rate accelerating from 20 s (late onset): a trend "
	      "(got %s)", sus_reason_name(got));
}

/*
 * Allocation rates under timing noise: a CPU-bound churner whose rate
 * follows the CPU it gets, a burst that starts just before "now", a host
 * of two processes.
 */
static void test_rate_noise(void)
{
	struct sus_params p;
	struct sus_anomaly *an;
	struct sus_set s;
	double c[4] = { 0 };
	size_t n, i;
	int k, churn = 0, burst = 0, other = 0;

	sus_params_default(&p);
	sus_set_init(&s, 0, 0, 0);
	for (k = 0; k < N; k++) {
		/* pid 10: 100 calls/s, every third second 1300 (its median
		 * second is a quarter of its mean: "now" at its mean is not 4x
		 * its usual); 20: idle, 1000/s from 44 s, 4 s before "now" */
		c[0] += k % 3 ? 100 : 1300;
		c[1] += k >= 44 ? 1000 : 0;
		c[2] += 1;
		add(&s, k, 10, "churn", c[0], c[0] * 64, c[0] * 16, 90000);
		add(&s, k, 20, "burst", c[1], c[1] * 64, c[1] * 16, 30000);
		for (i = 0; i < 4; i++)
			add(&s, k, 30 + (int)i, "quiet", c[2], c[2], c[2], 10000);
	}
	n = sus_find_anomalies(&s, &p, &an);
	for (i = 0; i < n; i++) {
		if (an[i].pid == 10)
			churn++;
		else if (an[i].pid == 20)
			burst++;
		else
			other++;
	}
	check(churn == 0 && burst == 3 && other == 0,
	      "a churner with uneven seconds is not an anomaly, a burst begun "
	      "4 s before \"now\" is (churn %d burst %d other %d)", churn, burst, other);
	free(an);
	sus_set_free(&s);

	/* Two processes: the busy one must not set the norm it is judged by. */
	sus_set_init(&s, 0, 0, 0);
	memset(c, 0, sizeof(c));
	for (k = 0; k < N; k++) {
		c[1] += k >= 48 ? 1000 : 0;
		c[2] += 1;
		add(&s, k, 20, "burst", c[1], c[1] * 64, c[1] * 16, 30000);
		add(&s, k, 30, "quiet", c[2], c[2], c[2], 10000);
	}
	n = sus_find_anomalies(&s, &p, &an);
	for (i = 0, burst = 0; i < n; i++)
		burst += an[i].pid == 20;
	check(n == 3 && burst == 3 && an[0].host_median == 0,
	      "a host of two: the burst is flagged on its three rates, no host norm "
	      "(%zu, host median %.0f)", n, n ? an[0].host_median : -1);
	free(an);
	sus_set_free(&s);
}

int main(void)
{
	test_mann_kendall();
	test_theil_sen();
	test_shapes();
	test_set();
	test_rate_shapes();
	test_rate_noise();
	printf("1..%d\n", n_test);
	return n_failed ? 1 : 0;
}
