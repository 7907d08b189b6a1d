/*
 * api_suspects.c - leak suspects and allocation-rate anomalies for
 * /api/v1/suspects, /metrics and the dashboard: the verdicts of
 * lib/suspects.c (the code of memwatch-read --suspects) over memwatchd's
 * own samples.
 *
 * A thread samples every process's tasks row every suspects_interval
 * seconds into a ring of SW_SAMPLES samples (at most SW_MAX_PROCS rows each:
 * ~96 bytes a row, so at most SW_SAMPLES * SW_MAX_PROCS * 96 = 15 MiB, 7.4
 * MiB with 2,000 processes), runs the analysis over the ring after each
 * sample and caches its result; requests read the cache. So the window is
 * SW_SAMPLES * interval (10 min at the default 15 s), one analysis per
 * interval costs O(processes * SW_SAMPLES^2) and requests cost a copy.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http.h"
#include "suspects.h"
#include "sys_util.h"
#include "tasks_rows.h"
#include "util.h"

#define SW_SAMPLES 40
#define SW_MAX_PROCS 4096
/* /metrics shows at most this many suspects and anomalies (series bound). */
#define SW_MAX_METRIC_ROWS 50

struct sw_row {
	int pid;
	char comm[32];
	double v[SUS_NFIELDS];
};

struct sw_sample {
	double t;
	size_t n;
	struct sw_row *rows;
};

/* The verdicts /metrics shows, copied out of the analysis. */
struct sw_verdict {
	int pid;
	char comm[32];
	int what;		/* enum sus_field (trends) or enum sus_metric */
	double value;		/* trend: slope per second; anomaly: rate */
};

static struct sw_sample ring[SW_SAMPLES];
static size_t ring_head, ring_len;	/* oldest at ring_head */
static double sw_interval = 15;
static pthread_t sw_thread;
static bool sw_running, sw_stop;
static pthread_mutex_t sw_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t sw_wake = PTHREAD_COND_INITIALIZER;
/* Under sw_lock: the last analysis. */
static json_t *sw_json;
static struct sw_verdict sw_trends[SW_MAX_METRIC_ROWS], sw_anoms[SW_MAX_METRIC_ROWS];
static size_t sw_ntrends, sw_nanoms, sw_samples_done;

static char *cellf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *cellf(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	if (!s) {
		fprintf(stderr, "out of memory\n");
		abort();
	}
	return s;
}

/* A cell formatted as memwatch-read --suspects --json formats it. */
static void set_cell(json_t *o, const char *key, char *cell)
{
	json_object_set_new(o, key, cell_json(cell));
	free(cell);
}

static char *ns_cell(double s)
{
	return s < 0 ? xstrdup("-") : cellf("%.0f", s * 1e9);
}

/* One sample of every process into the ring (the oldest dropped). */
static const char *take_sample(double t)
{
	struct tasks_tab tab;
	struct sus_set one;
	struct sw_sample *s;
	const char *kind;

	memset(&tab, 0, sizeof(tab));
	if (tasks_tab_load(&tab, false, false, 0, NULL))
		return NULL;
	kind = tab.from_module ? "module" : "procfs";
	sus_set_init(&one, 0, 0, 0);
	sus_set_add_tab(&one, t, &tab);
	tasks_tab_free(&tab);
	if (ring_len == SW_SAMPLES) {
		s = &ring[ring_head];
		ring_head = (ring_head + 1) % SW_SAMPLES;
	} else {
		s = &ring[(ring_head + ring_len++) % SW_SAMPLES];
	}
	free(s->rows);
	s->t = t;
	s->n = one.n < SW_MAX_PROCS ? one.n : SW_MAX_PROCS;
	s->rows = xcalloc(s->n ? s->n : 1, sizeof(*s->rows));
	for (size_t i = 0; i < s->n; i++) {
		const struct sus_proc *pr = &one.procs[i];

		s->rows[i].pid = pr->pid;
		snprintf(s->rows[i].comm, sizeof(s->rows[i].comm), "%s", pr->comm);
		for (int f = 0; f < SUS_NFIELDS; f++)
			s->rows[i].v[f] = pr->n ? pr->v[f][pr->n - 1] : NAN;
	}
	sus_set_free(&one);
	return kind;
}

static double avail_kb(void)
{
	char *text = sys_proc_read("meminfo");
	long long v;
	double r = text && sys_proc_get(text, "MemAvailable", &v) ? (double)v : -1;

	free(text);
	return r;
}

static json_t *trend_json(const struct sus_trend *r)
{
	json_t *o = json_object();
	char pb[32];

	json_object_set_new(o, "pid", json_integer(r->pid));
	json_object_set_new(o, "comm", json_text(r->comm));
	json_object_set_new(o, "column", json_string(r->field == SUS_PAGE_ALLOCS ?
					  "page_rate" : sus_field_name(r->field)));
	set_cell(o, "growth_per_h", cellf("%.1f", r->slope * 3600));
	set_cell(o, "held_ns", ns_cell(r->held_s));
	/* memwatch-read's "%.3g", as a JSON number (it writes "8e-30" as a string) */
	snprintf(pb, sizeof(pb), "%.3g", r->p);
	json_object_set_new(o, "p_value", json_real(strtod(pb, NULL)));
	set_cell(o, "exhaust_ns", ns_cell(r->exhaust_s));
	json_object_set_new(o, "samples", json_integer((json_int_t)r->samples));
	json_object_set_new(o, "trend_in", json_string(r->floor ? "troughs" : "level"));
	return o;
}

static json_t *anomaly_json(const struct sus_anomaly *a)
{
	json_t *o = json_object();

	json_object_set_new(o, "pid", json_integer(a->pid));
	json_object_set_new(o, "comm", json_text(a->comm));
	json_object_set_new(o, "metric", json_string(sus_metric_name(a->metric)));
	set_cell(o, "rate", cellf("%.1f", a->rate));
	set_cell(o, "own_median", cellf("%.1f", a->own_median));
	set_cell(o, "host_median", cellf("%.1f", a->host_median));
	set_cell(o, "recent_ns", ns_cell(a->recent_s));
	return o;
}

/* The analysis over the ring; the cache replaced under sw_lock. */
static void analyse(const char *kind)
{
	struct sus_params p;
	struct sus_set set;
	struct sus_trend *tr = NULL;
	struct sus_anomaly *an = NULL;
	size_t ntr = 0, nan_ = 0, i;
	double avail = avail_kb(), span = 0;
	json_t *j = json_object(), *sj = json_array(), *aj = json_array(), *info = json_object();

	sus_params_default(&p);
	sus_set_init(&set, 0, 0, 0);
	for (i = 0; i < ring_len; i++) {
		const struct sw_sample *s = &ring[(ring_head + i) % SW_SAMPLES];

		for (size_t r = 0; r < s->n; r++)
			sus_set_add(&set, s->t, s->rows[r].pid, s->rows[r].comm, s->rows[r].v);
	}
	if (ring_len)
		span = ring[(ring_head + ring_len - 1) % SW_SAMPLES].t - ring[ring_head].t;
	if (ring_len >= p.min_samples) {
		ntr = sus_find_trends(&set, &p, avail, &tr);
		nan_ = sus_find_anomalies(&set, &p, &an);
	}
	for (i = 0; i < ntr; i++)
		json_array_append_new(sj, trend_json(&tr[i]));
	for (i = 0; i < nan_; i++)
		json_array_append_new(aj, anomaly_json(&an[i]));
	json_object_set_new(j, "memwatch", json_string("suspects"));
	json_object_set_new(j, "suspects", sj);
	json_object_set_new(j, "anomalies", aj);
	json_object_set_new(info, "source", json_string(kind));
	set_cell(info, "window_ns", ns_cell(span));
	json_object_set_new(info, "samples", json_integer((json_int_t)ring_len));
	json_object_set_new(info, "processes", json_integer((json_int_t)set.n));
	set_cell(info, "mem_available_kb", avail < 0 ? xstrdup("-") : cellf("%.0f", avail));
	json_object_set_new(info, "suspects", json_integer((json_int_t)ntr));
	json_object_set_new(info, "anomalies", json_integer((json_int_t)nan_));
	/* memwatchd's own: how it samples, and whether the test could run yet */
	set_cell(info, "interval_ns", ns_cell(sw_interval));
	json_object_set_new(info, "max_samples", json_integer(SW_SAMPLES));
	json_object_set_new(info, "min_samples", json_integer((json_int_t)p.min_samples));
	json_object_set_new(info, "ready", json_boolean(ring_len >= p.min_samples));
	json_object_set_new(j, "analysis", info);

	pthread_mutex_lock(&sw_lock);
	json_decref(sw_json);
	sw_json = j;
	sw_ntrends = sw_nanoms = 0;
	for (i = 0; i < ntr && sw_ntrends < SW_MAX_METRIC_ROWS; i++) {
		struct sw_verdict *v = &sw_trends[sw_ntrends++];

		v->pid = tr[i].pid;
		snprintf(v->comm, sizeof(v->comm), "%s", tr[i].comm);
		v->what = tr[i].field;
		v->value = tr[i].slope;
	}
	for (i = 0; i < nan_ && sw_nanoms < SW_MAX_METRIC_ROWS; i++) {
		struct sw_verdict *v = &sw_anoms[sw_nanoms++];

		v->pid = an[i].pid;
		snprintf(v->comm, sizeof(v->comm), "%s", an[i].comm);
		v->what = an[i].metric;
		v->value = an[i].rate;
	}
	sw_samples_done = ring_len;
	pthread_mutex_unlock(&sw_lock);
	free(tr);
	free(an);
	sus_set_free(&set);
}

static double mono_s(void)
{
	return sys_now_ns() / 1e9;
}

static void *sw_main(void *arg)
{
	double t0 = mono_s(), next = t0;

	(void)arg;
	for (;;) {
		struct timespec ts;
		const char *kind = take_sample(mono_s() - t0);

		if (kind)
			analyse(kind);
		next += sw_interval;
		clock_gettime(CLOCK_REALTIME, &ts);
		{
			double d = next - mono_s();

			if (d < 0) {
				next = mono_s();	/* fell behind: no catch-up burst */
				d = 0;
			}
			ts.tv_sec += (time_t)d;
			ts.tv_nsec += (long)((d - floor(d)) * 1e9);
			if (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000L;
			}
		}
		pthread_mutex_lock(&sw_lock);
		while (!sw_stop && pthread_cond_timedwait(&sw_wake, &sw_lock, &ts) != ETIMEDOUT)
			;
		if (sw_stop) {
			pthread_mutex_unlock(&sw_lock);
			return NULL;
		}
		pthread_mutex_unlock(&sw_lock);
	}
}

int suspects_start(double interval, char *err, size_t errlen)
{
	if (interval > 0)
		sw_interval = interval;
	sw_stop = false;
	if (pthread_create(&sw_thread, NULL, sw_main, NULL)) {
		snprintf(err, errlen, "cannot start the suspects thread");
		return -1;
	}
	sw_running = true;
	return 0;
}

void suspects_stop(void)
{
	if (!sw_running)
		return;
	pthread_mutex_lock(&sw_lock);
	sw_stop = true;
	pthread_cond_signal(&sw_wake);
	pthread_mutex_unlock(&sw_lock);
	pthread_join(sw_thread, NULL);
	sw_running = false;
	for (size_t i = 0; i < SW_SAMPLES; i++) {
		free(ring[i].rows);
		ring[i].rows = NULL;
	}
	ring_head = ring_len = 0;
	json_decref(sw_json);
	sw_json = NULL;
	sw_ntrends = sw_nanoms = sw_samples_done = 0;
}

static bool row_wanted(json_t *row, long long pid, const char *comm)
{
	if (pid && json_integer_value(json_object_get(row, "pid")) != pid)
		return false;
	return !comm || !strcmp(json_string_value(json_object_get(row, "comm")), comm);
}

static void filter(json_t *j, const char *key, long long pid, const char *comm)
{
	json_t *a = json_object_get(j, key), *kept = json_array(), *row;
	size_t i;

	json_array_foreach(a, i, row)
		if (row_wanted(row, pid, comm))
			json_array_append(kept, row);
	json_object_set_new(j, key, kept);
	json_object_set_new(json_object_get(j, "analysis"), key,
			    json_integer((json_int_t)json_array_size(kept)));
}

enum MHD_Result api_suspects(struct MHD_Connection *c)
{
	static const char *const allowed[] = { "pid", "comm", NULL };
	enum MHD_Result res;
	long long pid;
	const char *comm;
	json_t *j;

	if (!http_check_args(c, allowed, &res) ||
	    !http_arg_long(c, "pid", 1, 4194304, 0, &pid, &res))
		return res;
	comm = http_arg(c, "comm");
	pthread_mutex_lock(&sw_lock);
	j = sw_json ? json_deep_copy(sw_json) : NULL;
	pthread_mutex_unlock(&sw_lock);
	if (!j)
		return http_error(c, 503, "no sample taken yet; the first comes within a second of the start");
	if (pid || comm) {
		filter(j, "suspects", pid, comm);
		filter(j, "anomalies", pid, comm);
	}
	return http_json(c, 200, j);
}

static void sb_label_value(struct strbuf *sb, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			sb_printf(sb, "\\%c", *s);
		else if (*s == '\n')
			sb_append(sb, "\\n", 2);
		else
			sb_append(sb, s, 1);
	}
}

static void labels(struct strbuf *sb, const char *name, const struct sw_verdict *v)
{
	sb_printf(sb, "%s{comm=\"", name);
	sb_label_value(sb, v->comm);
	sb_printf(sb, "\",pid=\"%d\"", v->pid);
}

void suspects_metrics(struct strbuf *sb)
{
	size_t i, j;

	pthread_mutex_lock(&sw_lock);
	sb_printf(sb, "# HELP memwatch_suspects_samples Samples in memwatchd's suspects window "
		  "(the test needs 8).\n# TYPE memwatch_suspects_samples gauge\n"
		  "memwatch_suspects_samples %zu\n", sw_samples_done);
	sb_printf(sb, "# HELP memwatch_leak_suspect 1 for a process whose memory grows steadily "
		  "(Documentation/suspects.md).\n# TYPE memwatch_leak_suspect gauge\n");
	for (i = 0; i < sw_ntrends; i++) {
		for (j = 0; j < i; j++)
			if (sw_trends[j].pid == sw_trends[i].pid)
				break;
		if (j < i)
			continue;	/* one series per process */
		labels(sb, "memwatch_leak_suspect", &sw_trends[i]);
		sb_printf(sb, "} 1\n");
	}
	sb_printf(sb, "# HELP memwatch_leak_suspect_growth_bytes_per_second A suspect's growth "
		  "(Theil-Sen slope) per column.\n"
		  "# TYPE memwatch_leak_suspect_growth_bytes_per_second gauge\n");
	for (i = 0; i < sw_ntrends; i++) {
		if (!sus_field_is_kb(sw_trends[i].what))
			continue;	/* the page-rate trend is not in bytes */
		labels(sb, "memwatch_leak_suspect_growth_bytes_per_second", &sw_trends[i]);
		sb_printf(sb, ",column=\"%s\"} %.17g\n", sus_field_name(sw_trends[i].what),
			  sw_trends[i].value * 1024);
	}
	sb_printf(sb, "# HELP memwatch_alloc_anomaly 1 for a process allocating far above its own "
		  "history and the host's.\n# TYPE memwatch_alloc_anomaly gauge\n");
	for (i = 0; i < sw_nanoms; i++) {
		labels(sb, "memwatch_alloc_anomaly", &sw_anoms[i]);
		sb_printf(sb, ",rate=\"%s\"} 1\n", sus_metric_name(sw_anoms[i].what));
	}
	pthread_mutex_unlock(&sw_lock);
}
