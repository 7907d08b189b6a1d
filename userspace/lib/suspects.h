/*
 * suspects.h - which processes look like they leak, and which allocate far
 * more than usual, from per-process time series; no attaching.
 *
 * A series set holds, per process, samples of the tasks columns below
 * (bucketed to at most max_points per process, so a week-long recording
 * costs what a minute does). sus_find_trends() applies the trend test of
 * Documentation/suspects.md to each level column (and to the page
 * allocation rate), sus_find_anomalies() compares each process's recent
 * allocation rates with its own history and with the other processes.
 * Pure computation: memwatch-read --suspects and memwatchd share it.
 */
#ifndef MW_SUSPECTS_H
#define MW_SUSPECTS_H

#include <stdbool.h>
#include <stddef.h>

struct tasks_tab;

/* Columns of /proc/memwatch/tasks a series keeps. */
enum sus_field {
	SUS_RSS_ANON,		/* rss_anon_kb: level */
	SUS_MAPPED_NET,		/* mapped_net_kb: level */
	SUS_BRK,		/* brk_kb: level */
	SUS_PAGE_ALLOCS,	/* page_allocs: counter (trend of its rate) */
	SUS_MMAP_CALLS,		/* counters for the allocation rates */
	SUS_MMAP_KB,
	SUS_BRK_CALLS,
	SUS_NFIELDS
};

/* Series the trend test looks at (SUS_PAGE_ALLOCS as a rate). */
#define SUS_NTRENDS 4

/* The allocation rates the anomaly test looks at. */
enum sus_metric {
	SUS_CALL_RATE,		/* mmap_calls + brk_calls per second */
	SUS_ALLOC_RATE,		/* mmap_kb + brk_kb growth, KiB per second */
	SUS_PAGE_RATE,		/* page_allocs per second */
	SUS_NMETRICS
};

struct sus_params {
	/* trend */
	size_t min_samples;	/* points in the trend, at least (8) */
	double alpha;		/* Mann-Kendall one-sided p below this (0.001) */
	double min_growth_kb;	/* envelope growth over the trend, KiB (1024) */
	double min_rel_growth;	/* ... and relative to the level at onset (0.05) */
	double min_rate_growth;	/* page rate: growth in pages/s (2560) */
	double min_held;	/* trend over this share of the window (0.5) */
	double window;		/* the window, seconds; 0: each series' own span.
				 * sus_find_trends() sets it to the set's span, so a
				 * process that started late must grow for min_held
				 * of the whole window (start-up is not a leak) */
	double max_drawdown;	/* largest fall / growth, at most (0.25) */
	/* allocation-rate anomalies */
	double anomaly_k;	/* MADs above own and host medians (5) */
	double anomaly_factor;	/* times own and host medians, at least (4) */
	double recent;		/* share of the window that is "now" (0.2) */
	double min_rate[SUS_NMETRICS];	/* floors: 100 calls/s, 10240 KiB/s, 2560 pages/s */
};

void sus_params_default(struct sus_params *p);

/* Why a series is (not) a suspect. */
enum sus_reason {
	SUS_SUSPECT,
	SUS_FEW_SAMPLES,	/* fewer than min_samples points */
	SUS_NO_GROWTH,		/* its lower envelope grew less than the minimum */
	SUS_DRAWDOWN,		/* falls back too far: periodic or churning */
	SUS_NOT_SPREAD,		/* growth in one or two bursts: a step */
	SUS_NOT_SIGNIFICANT,	/* Mann-Kendall p too high */
	SUS_SHORT,		/* trend holds over too little of the window */
	SUS_STOPPED,		/* grew, but not in the trend's last quarter */
	SUS_REFILL,		/* climbs back below a level held earlier in the window */
};

const char *sus_reason_name(enum sus_reason r);

struct sus_trend {
	int pid;
	const char *comm;	/* the set's; valid while the set is */
	int field;		/* enum sus_field */
	size_t samples;		/* points in the trend */
	double slope;		/* Theil-Sen, units per second */
	double held_s;		/* from the trend's onset to the last sample */
	double window_s;	/* the process's whole series */
	double p;		/* Mann-Kendall one-sided p-value */
	double start, end;	/* the level at onset and at the end */
	double exhaust_s;	/* MemAvailable / slope; < 0: not applicable */
	bool floor;		/* the trend is in its troughs (a leak under a sawtooth) */
};

/*
 * The trend test on one series t[0..n) (seconds, increasing), y[0..n).
 * @r gets the figures of the trend found (or of the whole window when
 * none is), pid/comm/field/exhaust_s untouched. @rate: y is a rate, so
 * growth is checked against min_rate_growth rather than min_growth_kb.
 */
enum sus_reason sus_trend_test(const double *t, const double *y, size_t n,
			       bool rate, const struct sus_params *p,
			       struct sus_trend *r);

struct sus_anomaly {
	int pid;
	const char *comm;
	int metric;		/* enum sus_metric */
	double rate;		/* recent, per second */
	double own_median;	/* its earlier per-interval rates */
	double host_median;	/* every process's recent rate */
	double recent_s;	/* how long "recent" was */
};

struct sus_proc {
	int pid;
	char comm[32];
	size_t n, cap;
	double *t;			/* seconds */
	double *v[SUS_NFIELDS];		/* NAN: not available */
};

struct sus_set {
	struct sus_proc *procs;		/* sorted by pid */
	size_t n, cap;
	double t0, span;		/* bucketing: span / max_points per point */
	size_t max_points;
};

/* @span <= 0: no bucketing (every sample a point). */
void sus_set_init(struct sus_set *s, double t0, double span, size_t max_points);
/* One process's values at time @t (seconds); a new comm restarts its series. */
void sus_set_add(struct sus_set *s, double t, int pid, const char *comm,
		 const double v[SUS_NFIELDS]);
/* Every row of a tasks table (module or /proc) at time @t. */
void sus_set_add_tab(struct sus_set *s, double t, const struct tasks_tab *tab);
/* Largest number of points any process has. */
size_t sus_set_max_samples(const struct sus_set *s);
void sus_set_free(struct sus_set *s);

/*
 * Suspects of @s, fastest growth relative to the level first, into *out
 * (malloc'd; free it). @avail_kb: MemAvailable for the time to exhaustion,
 * < 0 unknown. Both finders skip processes absent from the last sample
 * (they exited: not leaking, nor allocating, now).
 */
size_t sus_find_trends(const struct sus_set *s, const struct sus_params *p,
		       double avail_kb, struct sus_trend **out);
/* Allocation-rate anomalies of @s, highest ratio to the host first. */
size_t sus_find_anomalies(const struct sus_set *s, const struct sus_params *p,
			  struct sus_anomaly **out);

/* Column names: "rss_anon_kb", ..., and "call_rate", "alloc_kb_rate", "page_rate". */
const char *sus_field_name(int field);
const char *sus_metric_name(int metric);
/* Whether the trend of @field is in KiB (so it can exhaust memory). */
bool sus_field_is_kb(int field);

#endif
