/* suspects.c - trend suspects and allocation-rate anomalies (see suspects.h). */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "suspects.h"
#include "tasks_rows.h"
#include "trend.h"
#include "util.h"

/* The envelope has to rise in this many of the trend's four quarters. */
#define SUS_QUARTERS_MIN 3
/*
 * Onset: the last point where the envelope has risen less than this share
 * of the trend's average rise per point (so a leak from the start keeps
 * its first point, and a late one loses its flat prefix).
 */
#define SUS_ONSET_SHARE 0.5
/* Candidate onsets tried per series, at most. */
#define SUS_ONSET_STEPS 40
/*
 * A rate trend's later half must trend up on its own at this level (a
 * confirmation of the main test, so looser than its alpha).
 */
#define SUS_HALF_ALPHA 0.05
/* The scale of a MAD for normally distributed data. */
#define MAD_SIGMA 1.4826

static const char *const field_names[SUS_NFIELDS] = {
	"rss_anon_kb", "mapped_net_kb", "brk_kb", "page_allocs",
	"mmap_calls", "mmap_kb", "brk_calls",
};

static const char *const metric_names[SUS_NMETRICS] = {
	"call_rate", "alloc_kb_rate", "page_rate",
};

static const char *const reason_names[] = {
	[SUS_SUSPECT] = "suspect",
	[SUS_FEW_SAMPLES] = "few-samples",
	[SUS_NO_GROWTH] = "no-growth",
	[SUS_DRAWDOWN] = "drawdown",
	[SUS_NOT_SPREAD] = "step",
	[SUS_NOT_SIGNIFICANT] = "not-significant",
	[SUS_SHORT] = "short",
	[SUS_STOPPED] = "stopped",
	[SUS_REFILL] = "refill",
};

const char *sus_field_name(int field)
{
	return field >= 0 && field < SUS_NFIELDS ? field_names[field] : "?";
}

const char *sus_metric_name(int metric)
{
	return metric >= 0 && metric < SUS_NMETRICS ? metric_names[metric] : "?";
}

const char *sus_reason_name(enum sus_reason r)
{
	return (unsigned)r < sizeof(reason_names) / sizeof(reason_names[0]) ?
	       reason_names[r] : "?";
}

bool sus_field_is_kb(int field)
{
	return field == SUS_RSS_ANON || field == SUS_MAPPED_NET || field == SUS_BRK;
}

void sus_params_default(struct sus_params *p)
{
	memset(p, 0, sizeof(*p));
	p->min_samples = 8;
	p->alpha = 0.001;
	p->min_growth_kb = 1024;
	p->min_rel_growth = 0.05;
	p->min_rate_growth = 2560;
	p->min_held = 0.5;
	p->max_drawdown = 0.25;
	p->anomaly_k = 5;
	p->anomaly_factor = 4;
	p->recent = 0.2;
	p->min_rate[SUS_CALL_RATE] = 100;
	p->min_rate[SUS_ALLOC_RATE] = 10240;
	p->min_rate[SUS_PAGE_RATE] = 2560;
}

/* ------------------------------------------------------------ the test */

/* First index in [from, n) with t >= tau. */
static size_t index_at(const double *t, size_t from, size_t n, double tau)
{
	while (from + 1 < n && t[from] < tau)
		from++;
	return from;
}

/* The largest fall of y[k..n) from a running peak. */
static double max_fall(const double *y, size_t k, size_t n)
{
	double peak = y[k], fall = 0;

	for (size_t i = k; i < n; i++) {
		if (y[i] > peak)
			peak = y[i];
		if (peak - y[i] > fall)
			fall = peak - y[i];
	}
	return fall;
}

/* Troughs seen in a candidate: the floor under a sawtooth. */
#define SUS_TROUGHS_MIN 8

/*
 * The bottoms of the falls of y[k..n) of at least @drop from the peak
 * since the previous bottom (a sawtooth's troughs; noise on the way up is
 * not a fall). Times and values into bt/by; returns how many.
 */
static size_t troughs(const double *t, const double *y, size_t k, size_t n,
		      double drop, double *bt, double *by)
{
	double peak = y[k];
	size_t i, m = 0;

	for (i = k; i < n; i++) {
		if (y[i] > peak)
			peak = y[i];
		if (peak - y[i] >= drop && (i + 1 == n || y[i] <= y[i + 1])) {
			bt[m] = t[i];
			by[m++] = y[i];
			peak = y[i];
		}
	}
	return m;
}

/*
 * The checks of one candidate trend y[k..n), cheap ones first. @env is the
 * suffix minimum of y: the level the process never again goes below, so
 * memory that is freed later does not count as growth. A series that falls
 * back too far may still leak underneath: *floor is set when its troughs
 * carry the trend (their own Mann-Kendall test) rather than y itself.
 */
static enum sus_reason check_segment(const double *t, const double *y,
				     const double *env, size_t k, size_t n,
				     bool rate, const struct sus_params *p,
				     struct mk_result *mk, bool *floor,
				     double *bt, double *by)
{
	double growth = env[n - 1] - env[k], need, fall;
	size_t q, rising = 0, m = 0;
	bool last_rises = false;

	*floor = false;
	if (n - k < p->min_samples)
		return SUS_FEW_SAMPLES;
	need = rate ? p->min_rate_growth : p->min_growth_kb;
	if (!rate && p->min_rel_growth * fabs(env[k]) > need)
		need = p->min_rel_growth * fabs(env[k]);
	if (growth < need || growth <= 0)
		return SUS_NO_GROWTH;
	/* Largest fall from a running peak: a sawtooth gives back what it took. */
	fall = max_fall(y, k, n);
	if (fall > p->max_drawdown * growth) {
		/* Unless its troughs rise: a leak under a grow-and-free cycle. */
		m = troughs(t, y, k, n, fall / 2, bt, by);
		if (m < SUS_TROUGHS_MIN ||
		    theil_sen(bt, by, m) * (t[n - 1] - t[k]) < need)
			return SUS_DRAWDOWN;
		*floor = true;
	}
	/*
	 * A leak sets new highs. A churner starved of CPU (few allocations a
	 * second, so its level is a slow random walk) may climb steadily for
	 * seconds back towards a level it held earlier in the window.
	 */
	if (!*floor) {
		double peak = -INFINITY;	/* before the segment */

		for (size_t i = 0; i < k; i++)
			if (y[i] > peak)
				peak = y[i];
		if (peak > y[n - 1] + p->max_drawdown * growth)
			return SUS_REFILL;
	}
	/* A leak grows all along; a step grows in one interval. */
	for (q = 0; q < 4; q++) {
		double span = t[n - 1] - t[k];
		size_t a = index_at(t, k, n, t[k] + span * q / 4);
		size_t b = q == 3 ? n - 1 : index_at(t, k, n, t[k] + span * (q + 1) / 4);

		last_rises = env[b] - env[a] >= 0.25 * growth / 4;
		rising += last_rises;
	}
	if (rising < SUS_QUARTERS_MIN)
		return SUS_NOT_SPREAD;
	/*
	 * A leak is still growing at the end. A step whose rise is drawn out
	 * over seconds (a slow CPU touching its pages while samples are taken)
	 * covers three quarters of a short segment, then stays flat.
	 */
	if (!last_rises)
		return SUS_STOPPED;
	/*
	 * The lower envelope of a noisy rate rises at the end by construction
	 * (a minimum over fewer and fewer points), so a rate that stepped up
	 * and then held, a burst, passes the quarter tests. An accelerating
	 * rate still accelerates in the later half of its trend.
	 */
	if (rate && !*floor) {
		size_t h = index_at(t, k, n, t[k] + (t[n - 1] - t[k]) / 2);

		if (mann_kendall(y + h, n - h).p_up >= SUS_HALF_ALPHA)
			return SUS_STOPPED;
	}
	*mk = *floor ? mann_kendall(by, m) : mann_kendall(y + k, n - k);
	if (!(mk->p_up < p->alpha))
		return *floor ? SUS_DRAWDOWN : SUS_NOT_SIGNIFICANT;
	return SUS_SUSPECT;
}

enum sus_reason sus_trend_test(const double *t, const double *y, size_t n,
			       bool rate, const struct sus_params *p,
			       struct sus_trend *r)
{
	enum sus_reason first = SUS_FEW_SAMPLES, why = SUS_FEW_SAMPLES;
	struct mk_result mk = { 0, 0, 0, 1 };
	double *env, *bt, *by, window;
	size_t k, step, onset, m;
	bool floor = false;
	ssize_t i;

	r->samples = n;
	r->slope = 0;
	r->held_s = 0;
	r->p = 1;
	r->floor = false;
	r->window_s = n ? t[n - 1] - t[0] : 0;
	r->start = n ? y[0] : 0;
	r->end = n ? y[n - 1] : 0;
	if (n < p->min_samples || n < 3)
		return SUS_FEW_SAMPLES;
	window = t[n - 1] - t[0];
	if (p->window > window)
		window = p->window;
	env = xcalloc(n, sizeof(double));
	bt = xcalloc(n, sizeof(double));
	by = xcalloc(n, sizeof(double));
	env[n - 1] = y[n - 1];
	for (i = (ssize_t)n - 2; i >= 0; i--)
		env[i] = y[i] < env[i + 1] ? y[i] : env[i + 1];
	step = n / SUS_ONSET_STEPS ? n / SUS_ONSET_STEPS : 1;
	/* The earliest onset whose trend passes: the longest time it held. */
	for (k = 0; k < n && t[n - 1] - t[k] >= p->min_held * window; k += step) {
		why = check_segment(t, y, env, k, n, rate, p, &mk, &floor, bt, by);
		if (k == 0)
			first = why;
		if (why == SUS_SUSPECT)
			break;
	}
	if (why != SUS_SUSPECT) {
		free(env);
		free(bt);
		free(by);
		return first;
	}
	/* The candidate may start before the rise: move to where the floor leaves. */
	onset = k;
	while (onset + 1 < n &&
	       env[onset + 1] - env[k] <= SUS_ONSET_SHARE * (env[n - 1] - env[k]) / (n - 1 - k))
		onset++;
	/*
	 * A level that leaves its floor only near the end is a late onset:
	 * it is judged from there, however few points that leaves (seen in
	 * CI: a burst's page rate, 0 for 6.5 s of 10, then 3,000-3,700/s,
	 * kept its flat prefix and so "held" 5.5 s when the move was undone).
	 */
	if (onset > k && !floor) {
		mk = mann_kendall(y + onset, n - onset);
	} else if (onset > k && n - onset >= p->min_samples) {
		m = troughs(t, y, onset, n, max_fall(y, onset, n) / 2, bt, by);
		if (m >= SUS_TROUGHS_MIN)
			mk = mann_kendall(by, m);
		else
			onset = k;
	} else {
		onset = k;
	}
	r->samples = n - onset;
	r->held_s = t[n - 1] - t[onset];
	r->p = mk.p_up;
	r->start = y[onset];
	r->floor = floor;
	if (floor) {
		/* The floor's growth, not the teeth's. */
		m = troughs(t, y, onset, n, max_fall(y, onset, n) / 2, bt, by);
		r->slope = theil_sen(bt, by, m);
	} else {
		r->slope = theil_sen(t + onset, y + onset, n - onset);
	}
	free(env);
	free(bt);
	free(by);
	if (r->held_s < p->min_held * window)
		return SUS_SHORT;
	if (r->samples < p->min_samples)
		return SUS_FEW_SAMPLES;
	if (!(r->p < p->alpha))
		return SUS_NOT_SIGNIFICANT;
	if (r->slope <= 0)
		return SUS_NO_GROWTH;
	return SUS_SUSPECT;
}

/* ------------------------------------------------------------ the set */

void sus_set_init(struct sus_set *s, double t0, double span, size_t max_points)
{
	memset(s, 0, sizeof(*s));
	s->t0 = t0;
	s->span = span;
	s->max_points = max_points ? max_points : 1;
}

static struct sus_proc *find_proc(struct sus_set *s, int pid)
{
	size_t lo = 0, hi = s->n, mid;

	while (lo < hi) {
		mid = (lo + hi) / 2;
		if (s->procs[mid].pid < pid)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < s->n && s->procs[lo].pid == pid)
		return &s->procs[lo];
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 64;
		s->procs = xreallocarray(s->procs, s->cap, sizeof(*s->procs));
	}
	memmove(&s->procs[lo + 1], &s->procs[lo], (s->n - lo) * sizeof(*s->procs));
	s->n++;
	memset(&s->procs[lo], 0, sizeof(*s->procs));
	s->procs[lo].pid = pid;
	return &s->procs[lo];
}

static void proc_clear(struct sus_proc *pr)
{
	int f;

	free(pr->t);
	pr->t = NULL;
	for (f = 0; f < SUS_NFIELDS; f++) {
		free(pr->v[f]);
		pr->v[f] = NULL;
	}
	pr->n = pr->cap = 0;
}

static long bucket_of(const struct sus_set *s, double t)
{
	if (s->span <= 0)
		return -1;
	return (long)floor((t - s->t0) / (s->span / (double)s->max_points));
}

void sus_set_add(struct sus_set *s, double t, int pid, const char *comm,
		 const double v[SUS_NFIELDS])
{
	struct sus_proc *pr = find_proc(s, pid);
	size_t i;
	int f;

	if (pr->n && strncmp(pr->comm, comm, sizeof(pr->comm) - 1))
		proc_clear(pr);	/* pid reused by another program */
	snprintf(pr->comm, sizeof(pr->comm), "%s", comm);
	/* Within one bucket the latest sample stands for it. */
	if (pr->n && s->span > 0 && bucket_of(s, pr->t[pr->n - 1]) == bucket_of(s, t)) {
		i = pr->n - 1;
	} else if (pr->n && t <= pr->t[pr->n - 1]) {
		return;		/* time must move forward */
	} else {
		if (pr->n == pr->cap) {
			pr->cap = pr->cap ? 2 * pr->cap : 32;
			pr->t = xreallocarray(pr->t, pr->cap, sizeof(double));
			for (f = 0; f < SUS_NFIELDS; f++)
				pr->v[f] = xreallocarray(pr->v[f], pr->cap, sizeof(double));
		}
		i = pr->n++;
	}
	pr->t[i] = t;
	for (f = 0; f < SUS_NFIELDS; f++)
		pr->v[f][i] = v[f];
}

static double cell_value(const struct tasks_tab *tab, size_t r, int col)
{
	const char *cell;
	char *end;
	double v;

	if (col < 0)
		return NAN;
	cell = tab->rows[r][col];
	if (!cell || !*cell || !strcmp(cell, "-"))
		return NAN;
	v = strtod(cell, &end);
	return *end ? NAN : v;
}

static int col_index(const struct tasks_tab *tab, const char *name)
{
	size_t c;

	for (c = 0; c < tab->ncols; c++)
		if (!strcmp(tab->cols[c], name))
			return (int)c;
	return -1;
}

void sus_set_add_tab(struct sus_set *s, double t, const struct tasks_tab *tab)
{
	int cols[SUS_NFIELDS], pid_col = col_index(tab, "pid");
	int comm_col = col_index(tab, "comm");
	double v[SUS_NFIELDS], pid;
	size_t r;
	int f;

	if (pid_col < 0)
		return;
	for (f = 0; f < SUS_NFIELDS; f++)
		cols[f] = col_index(tab, field_names[f]);
	for (r = 0; r < tab->nrows; r++) {
		pid = cell_value(tab, r, pid_col);
		if (isnan(pid))
			continue;
		for (f = 0; f < SUS_NFIELDS; f++)
			v[f] = cell_value(tab, r, cols[f]);
		sus_set_add(s, t, (int)pid,
			    comm_col >= 0 && tab->rows[r][comm_col] ? tab->rows[r][comm_col] : "?",
			    v);
	}
}

size_t sus_set_max_samples(const struct sus_set *s)
{
	size_t i, m = 0;

	for (i = 0; i < s->n; i++)
		if (s->procs[i].n > m)
			m = s->procs[i].n;
	return m;
}

void sus_set_free(struct sus_set *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		proc_clear(&s->procs[i]);
	free(s->procs);
	memset(s, 0, sizeof(*s));
}

/* ------------------------------------------------------------ suspects */

/* The points of @pr where @field is known, as (t, y); a counter as its rate. */
static size_t series_of(const struct sus_proc *pr, int field, double *t, double *y)
{
	size_t i, m = 0;
	double prev_t = 0, prev_v = NAN;

	for (i = 0; i < pr->n; i++) {
		double v = pr->v[field][i];

		if (isnan(v))
			continue;
		if (field != SUS_PAGE_ALLOCS) {
			t[m] = pr->t[i];
			y[m++] = v;
			continue;
		}
		if (!isnan(prev_v) && v >= prev_v && pr->t[i] > prev_t) {
			t[m] = (pr->t[i] + prev_t) / 2;
			y[m++] = (v - prev_v) / (pr->t[i] - prev_t);
		}
		prev_t = pr->t[i];
		prev_v = v;
	}
	return m;
}

static int cmp_trend(const void *a, const void *b)
{
	const struct sus_trend *x = a, *y = b;
	double rx = x->end > 0 ? x->slope / x->end : x->slope;
	double ry = y->end > 0 ? y->slope / y->end : y->slope;

	if (rx != ry)
		return rx < ry ? 1 : -1;
	return x->pid != y->pid ? x->pid - y->pid : x->field - y->field;
}

size_t sus_find_trends(const struct sus_set *s, const struct sus_params *p,
		       double avail_kb, struct sus_trend **out)
{
	size_t i, m, n = 0, cap = 0, maxn = sus_set_max_samples(s);
	double *t = xcalloc(maxn + 1, sizeof(double));
	double *y = xcalloc(maxn + 1, sizeof(double));
	struct sus_trend r, *res = NULL;
	struct sus_params pw = *p;
	double lo = INFINITY, hi = -INFINITY;
	int f;

	for (i = 0; i < s->n; i++) {
		if (!s->procs[i].n)
			continue;
		if (s->procs[i].t[0] < lo)
			lo = s->procs[i].t[0];
		if (s->procs[i].t[s->procs[i].n - 1] > hi)
			hi = s->procs[i].t[s->procs[i].n - 1];
	}
	if (!pw.window && hi > lo)
		pw.window = hi - lo;
	/* Who is leaking now: a process gone before the last sample is not. */

	for (i = 0; i < s->n; i++) {
		const struct sus_proc *pr = &s->procs[i];

		if (!pr->n || pr->t[pr->n - 1] < hi)
			continue;
		for (f = 0; f < SUS_NTRENDS; f++) {
			m = series_of(pr, f, t, y);
			if (sus_trend_test(t, y, m, f == SUS_PAGE_ALLOCS, &pw, &r) != SUS_SUSPECT)
				continue;
			r.pid = pr->pid;
			r.comm = pr->comm;
			r.field = f;
			r.exhaust_s = sus_field_is_kb(f) && avail_kb >= 0 && r.slope > 0 ?
				      avail_kb / r.slope : -1;
			if (n == cap) {
				cap = cap ? 2 * cap : 16;
				res = xreallocarray(res, cap, sizeof(*res));
			}
			res[n++] = r;
		}
	}
	free(t);
	free(y);
	if (n)
		qsort(res, n, sizeof(*res), cmp_trend);
	*out = res;
	return n;
}

/* ------------------------------------------------------------ anomalies */

/* The cumulative figure behind @metric at point @i; NAN when unknown. */
static double metric_at(const struct sus_proc *pr, int metric, size_t i)
{
	switch (metric) {
	case SUS_CALL_RATE:
		return pr->v[SUS_MMAP_CALLS][i] + pr->v[SUS_BRK_CALLS][i];
	case SUS_ALLOC_RATE:
		return pr->v[SUS_MMAP_KB][i] + pr->v[SUS_BRK][i];
	default:
		return pr->v[SUS_PAGE_ALLOCS][i];
	}
}

/*
 * The recent rate must also be anomaly_factor times this quantile of its
 * own history: a CPU-bound churner's rate follows the CPU it gets, which
 * on a loaded or emulated host swings 2-3x between seconds; a burst
 * stands out against its busiest seconds too.
 */
#define SUS_OWN_HIGH_QUANTILE 0.9

/* The @q quantile of v[0..n) (sorts v): the smallest value with q of v at or below it. */
static double quantile_inplace(double *v, size_t n, double q)
{
	size_t i;

	if (!n)
		return 0;
	median_inplace(v, n);	/* sorts */
	i = (size_t)ceil(q * (double)n);
	return v[i ? i - 1 : 0];
}

/* History windows, at least: fewer and the own median means little. */
#define SUS_HISTORY_WINDOWS_MIN 3
/*
 * A MAD is taken as at least this share of its median (a rate that is
 * steady within a few percent must not make a small wobble "5 MADs"), and
 * at least this share of the metric's floor (a median and MAD of 0).
 */
#define SUS_MAD_MIN_REL 0.25
#define SUS_MAD_MIN_FLOOR 0.01

/*
 * Rates of @metric over every span of y[0..last] that begins at a point
 * and lasts at least @len seconds (to the first point that far on), into
 * @rates; returns how many. Spans as long as "recent" compare like with
 * like: a rate averaged over seconds is steadier than one interval's, and
 * an interval stretched or shortened by a late sample moves it little.
 */
static size_t span_rates(const struct sus_proc *pr, int metric, size_t last,
			 double len, double *rates)
{
	size_t i, j = 0, m = 0;

	for (i = 0; i < last; i++) {
		double dt, dv;

		if (j <= i)
			j = i + 1;
		while (j < last && pr->t[j] - pr->t[i] < len)
			j++;
		dt = pr->t[j] - pr->t[i];
		if (dt < len * (1 - 1e-9))
			break;
		dv = metric_at(pr, metric, j) - metric_at(pr, metric, i);
		rates[m++] = dt > 0 && dv > 0 ? dv / dt : 0;
	}
	return m;
}

/*
 * The recent rate of @metric in @pr (over the last p->recent of its
 * series) and the median, MAD and SUS_OWN_HIGH_QUANTILE of its rates
 * before, over spans as long as the recent one (shorter when the history
 * holds fewer than three). The history stops one recent length before
 * "now" begins: a burst that started a little before the cut is part of
 * now, not of the history it is judged against. False when it has too
 * little history or the figures are unavailable.
 */
static bool proc_rates(const struct sus_proc *pr, int metric,
		       const struct sus_params *p, double *recent,
		       double *own_median, double *own_mad, double *own_high,
		       double *recent_s)
{
	double window, cut, *rates, dv, len;
	size_t i, split, hist, m;

	if (pr->n < p->min_samples)
		return false;
	for (i = 0; i < pr->n; i++)
		if (isnan(metric_at(pr, metric, i)))
			return false;
	window = pr->t[pr->n - 1] - pr->t[0];
	cut = pr->t[pr->n - 1] - p->recent * window;
	for (split = pr->n - 2; split > 0 && pr->t[split] > cut; split--)
		;
	if (split < 3)
		return false;
	*recent_s = pr->t[pr->n - 1] - pr->t[split];
	for (hist = split; hist > 0 && pr->t[hist] > pr->t[split] - *recent_s; hist--)
		;
	if (hist < 3)
		hist = split;	/* too short a series for the gap */
	rates = xcalloc(hist + 1, sizeof(double));
	len = *recent_s;
	if ((pr->t[hist] - pr->t[0]) / SUS_HISTORY_WINDOWS_MIN < len)
		len = (pr->t[hist] - pr->t[0]) / SUS_HISTORY_WINDOWS_MIN;
	m = span_rates(pr, metric, hist, len, rates);
	median_mad(rates, m, own_median, own_mad);	/* sorts, then deviations */
	m = span_rates(pr, metric, hist, len, rates);
	*own_high = quantile_inplace(rates, m, SUS_OWN_HIGH_QUANTILE);
	free(rates);
	if (*own_mad < SUS_MAD_MIN_REL * *own_median)
		*own_mad = SUS_MAD_MIN_REL * *own_median;
	if (*own_mad < SUS_MAD_MIN_FLOOR * p->min_rate[metric])
		*own_mad = SUS_MAD_MIN_FLOOR * p->min_rate[metric];
	dv = metric_at(pr, metric, pr->n - 1) - metric_at(pr, metric, split);
	*recent = *recent_s > 0 && dv > 0 ? dv / *recent_s : 0;
	return true;
}

/* Processes besides the one judged that make a host norm, at least. */
#define SUS_HOST_MIN 3

/*
 * Median and MAD (floored as a process's own) of the recent rates of the
 * processes other than @self: a busy process must not raise the norm it
 * is judged by, which matters on a host running only a few. False when
 * fewer than SUS_HOST_MIN others have the rate.
 */
static bool host_norm(const double *recent, const bool *have, size_t n,
		      size_t self, double floor_rate, double *scratch,
		      double *median, double *mad)
{
	size_t i, m = 0;

	for (i = 0; i < n; i++)
		if (have[i] && i != self)
			scratch[m++] = recent[i];
	if (m < SUS_HOST_MIN)
		return false;
	median_mad(scratch, m, median, mad);
	if (*mad < SUS_MAD_MIN_REL * *median)
		*mad = SUS_MAD_MIN_REL * *median;
	if (*mad < SUS_MAD_MIN_FLOOR * floor_rate)
		*mad = SUS_MAD_MIN_FLOOR * floor_rate;
	return true;
}

static int cmp_anomaly(const void *a, const void *b)
{
	const struct sus_anomaly *x = a, *y = b;
	double rx = x->rate / (x->host_median > 0 ? x->host_median : 1);
	double ry = y->rate / (y->host_median > 0 ? y->host_median : 1);

	if (rx != ry)
		return rx < ry ? 1 : -1;
	return x->pid != y->pid ? x->pid - y->pid : x->metric - y->metric;
}

size_t sus_find_anomalies(const struct sus_set *s, const struct sus_params *p,
			  struct sus_anomaly **out)
{
	double *recent = xcalloc(s->n + 1, sizeof(double));
	double *own = xcalloc(s->n + 1, sizeof(double));
	double *own_mad = xcalloc(s->n + 1, sizeof(double));
	double *own_high = xcalloc(s->n + 1, sizeof(double));
	double *span = xcalloc(s->n + 1, sizeof(double));
	double *others = xcalloc(s->n + 1, sizeof(double));
	bool *have = xcalloc(s->n + 1, sizeof(bool));
	struct sus_anomaly *res = NULL;
	size_t i, nh, n = 0, cap = 0;
	double host_med, host_mad, last = -INFINITY;
	int m;

	for (i = 0; i < s->n; i++)
		if (s->procs[i].n && s->procs[i].t[s->procs[i].n - 1] > last)
			last = s->procs[i].t[s->procs[i].n - 1];
	for (m = 0; m < SUS_NMETRICS; m++) {
		nh = 0;
		for (i = 0; i < s->n; i++) {
			/* exited before the last sample: not allocating now */
			have[i] = s->procs[i].n && s->procs[i].t[s->procs[i].n - 1] >= last &&
				  proc_rates(&s->procs[i], m, p, &recent[i], &own[i],
					     &own_mad[i], &own_high[i], &span[i]);
			nh += have[i];
		}
		if (!nh)
			continue;
		for (i = 0; i < s->n; i++) {
			double r = recent[i];

			if (!have[i] || r < p->min_rate[m] ||
			    r < p->anomaly_factor * own[i] ||
			    r < p->anomaly_factor * own_high[i] ||
			    r < own[i] + p->anomaly_k * MAD_SIGMA * own_mad[i])
				continue;
			/* The host's norm: the others, when there are enough of them. */
			if (!host_norm(recent, have, s->n, i, p->min_rate[m], others,
				       &host_med, &host_mad))
				host_med = host_mad = 0;
			if (r < p->anomaly_factor * host_med ||
			    r < host_med + p->anomaly_k * MAD_SIGMA * host_mad)
				continue;
			if (n == cap) {
				cap = cap ? 2 * cap : 16;
				res = xreallocarray(res, cap, sizeof(*res));
			}
			res[n].pid = s->procs[i].pid;
			res[n].comm = s->procs[i].comm;
			res[n].metric = m;
			res[n].rate = r;
			res[n].own_median = own[i];
			res[n].host_median = host_med;
			res[n].recent_s = span[i];
			n++;
		}
	}
	free(recent);
	free(own);
	free(own_mad);
	free(own_high);
	free(span);
	free(others);
	free(have);
	if (n)
		qsort(res, n, sizeof(*res), cmp_anomaly);
	*out = res;
	return n;
}
