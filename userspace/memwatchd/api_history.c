/*
 * api_history.c - /api/v1/history: a figure over time from the recording
 * (Documentation/recording.md), through a read-only SQLite connection of
 * its own per request (WAL: never blocks the recorder).
 *
 *   history?pid=N&column=rss_kb     one process's tasks column
 *   history?comm=NAME&column=...    summed over the processes of that name
 *   history?column=rss_kb           summed over every process (the host)
 *   history?column=SOURCE.NAME      a counter (meminfo.MemAvailable,
 *                                   reclaim.direct_stall_ns, allocfail.failures)
 *   &from=&to=  unix seconds (default: the last hour), &step= seconds
 *   between points (default: (to - from) / 500, at least 1).
 *
 * Task rows are stored when they change (every row at a full sample), so a
 * process's value at a sample is its latest row since the last full sample;
 * the walk below carries values forward the same way. Each point is the
 * last sample of its step.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http.h"
#include "util.h"

#define HISTORY_MAX_POINTS 10000

static const char *const task_columns[] = {
	"ppid", "uid", "threads", "fds", "vsz_kb", "rss_kb", "rss_anon_kb",
	"rss_file_kb", "rss_shmem_kb", "swap_kb", "data_kb", "stack_kb", "pte_kb",
	"hwm_kb", "minflt", "majflt", "mmap_calls", "mmap_kb", "munmap_calls",
	"munmap_kb", "mapped_net_kb", "mremap_calls", "mremap_kb", "brk_calls",
	"brk_kb", "page_allocs", "stall_count", "stall_ns", "allocfail",
	"share_pm", NULL
};

/* pid -> value, open addressing; value NAN-free: present flag instead */
struct pidmap {
	long long *pid;		/* 0: empty slot */
	double *val;
	size_t cap, used;
};

static size_t pm_slot(const struct pidmap *m, long long pid)
{
	size_t i = (size_t)pid * 2654435761u & (m->cap - 1);

	while (m->pid[i] && m->pid[i] != pid)
		i = (i + 1) & (m->cap - 1);
	return i;
}

static void pm_init(struct pidmap *m)
{
	m->cap = 1024;
	m->used = 0;
	m->pid = xcalloc(m->cap, sizeof(*m->pid));
	m->val = xcalloc(m->cap, sizeof(*m->val));
}

static void pm_free(struct pidmap *m)
{
	free(m->pid);
	free(m->val);
}

static void pm_put(struct pidmap *m, long long pid, double v);

static void pm_grow(struct pidmap *m)
{
	struct pidmap old = *m;

	m->cap *= 2;
	m->used = 0;
	m->pid = xcalloc(m->cap, sizeof(*m->pid));
	m->val = xcalloc(m->cap, sizeof(*m->val));
	for (size_t i = 0; i < old.cap; i++)
		if (old.pid[i] > 0)
			pm_put(m, old.pid[i], old.val[i]);
	pm_free(&old);
}

static void pm_put(struct pidmap *m, long long pid, double v)
{
	if ((m->used + 1) * 2 > m->cap)
		pm_grow(m);
	size_t i = pm_slot(m, pid);

	if (!m->pid[i]) {
		m->pid[i] = pid;
		m->used++;
	}
	m->val[i] = v;
}

/* Deleting with open addressing: mark -1 (a tombstone keeps probe chains). */
static void pm_del(struct pidmap *m, long long pid)
{
	size_t i = pm_slot(m, pid);

	if (m->pid[i] == pid)
		m->pid[i] = -1;
}

static double pm_sum(const struct pidmap *m, size_t *n)
{
	double s = 0;

	*n = 0;
	for (size_t i = 0; i < m->cap; i++)
		if (m->pid[i] > 0) {
			s += m->val[i];
			(*n)++;
		}
	return s;
}

struct series {
	json_t *points;
	long long step_ns, from_ns, bucket;
	bool have;
	long long t_ns;
	double v;
	bool null;
};

static void series_flush(struct series *s)
{
	if (!s->have)
		return;
	json_t *v = s->null ? json_null() :
		    s->v == (double)(long long)s->v ? json_integer((long long)s->v) :
		    json_real(s->v);

	json_array_append_new(s->points, json_pack("[I, o]", (json_int_t)(s->t_ns / 1000000), v));
	s->have = false;
}

/* The last sample of each step is the point. */
static void series_add(struct series *s, long long t_ns, double v, bool null)
{
	long long b = (t_ns - s->from_ns) / s->step_ns;

	if (s->have && b != s->bucket)
		series_flush(s);
	s->bucket = b;
	s->have = true;
	s->t_ns = t_ns;
	s->v = v;
	s->null = null;
}

static int task_series(sqlite3 *db, const char *column, long long pid,
		       const char *comm, long long from_ns, long long to_ns,
		       struct series *out, char *err, size_t errlen)
{
	sqlite3_stmt *st_full = NULL, *st_samples = NULL, *st_rows = NULL;
	struct pidmap m;
	long long full = 0;
	char sql[512];
	int rc = -1;

	pm_init(&m);
	if (sqlite3_prepare_v2(db, "SELECT max(id) FROM sample WHERE full = 1 AND time_unix_ns <= ?",
			       -1, &st_full, NULL) != SQLITE_OK)
		goto out;
	sqlite3_bind_int64(st_full, 1, from_ns);
	if (sqlite3_step(st_full) == SQLITE_ROW)
		full = sqlite3_column_int64(st_full, 0);
	if (sqlite3_prepare_v2(db, "SELECT id, time_unix_ns, full FROM sample "
			       "WHERE id >= ? AND time_unix_ns <= ? ORDER BY id",
			       -1, &st_samples, NULL) != SQLITE_OK)
		goto out;
	sqlite3_bind_int64(st_samples, 1, full);
	sqlite3_bind_int64(st_samples, 2, to_ns);
	/* column is one of task_columns: no user text reaches the SQL */
	snprintf(sql, sizeof(sql), "SELECT sample_id, pid, gone, %s, comm FROM task "
		 "WHERE sample_id >= ?%s ORDER BY sample_id", column,
		 pid > 0 ? " AND pid = ?" : "");
	if (sqlite3_prepare_v2(db, sql, -1, &st_rows, NULL) != SQLITE_OK)
		goto out;
	sqlite3_bind_int64(st_rows, 1, full);
	if (pid > 0)
		sqlite3_bind_int64(st_rows, 2, pid);
	int have_row = sqlite3_step(st_rows) == SQLITE_ROW;

	while (sqlite3_step(st_samples) == SQLITE_ROW) {
		long long sid = sqlite3_column_int64(st_samples, 0);
		long long t = sqlite3_column_int64(st_samples, 1);

		if (sqlite3_column_int64(st_samples, 2)) {
			/* a full sample lists every process: start over */
			pm_free(&m);
			pm_init(&m);
		}
		while (have_row && sqlite3_column_int64(st_rows, 0) <= sid) {
			long long p = sqlite3_column_int64(st_rows, 1);
			const char *c = (const char *)sqlite3_column_text(st_rows, 4);

			{
				if (sqlite3_column_int64(st_rows, 2) ||
				    sqlite3_column_type(st_rows, 3) == SQLITE_NULL ||
				    (comm && (!c || strcmp(c, comm))))
					pm_del(&m, p);
				else
					pm_put(&m, p, sqlite3_column_double(st_rows, 3));
			}
			have_row = sqlite3_step(st_rows) == SQLITE_ROW;
		}
		if (t < from_ns)
			continue;
		size_t n;
		double v = pm_sum(&m, &n);

		series_add(out, t, v, n == 0);
		if (json_array_size(out->points) > HISTORY_MAX_POINTS) {
			snprintf(err, errlen, "more than %d points: use a larger step",
				 HISTORY_MAX_POINTS);
			rc = -2;
			goto out;
		}
	}
	series_flush(out);
	rc = 0;
out:
	if (rc == -1)
		snprintf(err, errlen, "recording: %s", sqlite3_errmsg(db));
	sqlite3_finalize(st_full);
	sqlite3_finalize(st_samples);
	sqlite3_finalize(st_rows);
	pm_free(&m);
	return rc;
}

static int counter_series(sqlite3 *db, const char *source, const char *name,
			  long long from_ns, long long to_ns, struct series *out,
			  char *err, size_t errlen)
{
	sqlite3_stmt *st = NULL;
	bool have = false;
	double last = 0;

	if (sqlite3_prepare_v2(db,
		"SELECT s.time_unix_ns, c.value FROM sample s LEFT JOIN counter c "
		"ON c.sample_id = s.id AND c.source = ? AND c.name = ? "
		"WHERE s.time_unix_ns BETWEEN ? AND ? ORDER BY s.id", -1, &st, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "recording: %s", sqlite3_errmsg(db));
		return -1;
	}
	sqlite3_bind_text(st, 1, source, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 3, from_ns);
	sqlite3_bind_int64(st, 4, to_ns);
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (sqlite3_column_type(st, 1) != SQLITE_NULL) {
			last = sqlite3_column_double(st, 1);
			have = true;
		}
		series_add(out, sqlite3_column_int64(st, 0), last, !have);
		if (json_array_size(out->points) > HISTORY_MAX_POINTS) {
			snprintf(err, errlen, "more than %d points: use a larger step",
				 HISTORY_MAX_POINTS);
			sqlite3_finalize(st);
			return -2;
		}
	}
	series_flush(out);
	sqlite3_finalize(st);
	return 0;
}

static bool counter_name_ok(const char *s)
{
	const char *dot = strchr(s, '.');

	if (!dot || dot == s || !dot[1] || strlen(s) > 128)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("._()", *s))
			return false;
	return true;
}

enum MHD_Result api_history(struct MHD_Connection *c)
{
	static const char *const allowed[] = {
		"pid", "comm", "column", "from", "to", "step", NULL
	};
	const char *column, *comm;
	long long pid, from, to, step;
	enum MHD_Result res;
	long long now = (long long)time(NULL);
	sqlite3 *db = NULL;
	char err[512];
	bool is_task = false;
	int rc;

	if (!http_check_args(c, allowed, &res) ||
	    !http_arg_long(c, "pid", 1, 4194304, 0, &pid, &res) ||
	    !http_arg_long(c, "to", 0, 4102444800LL, now, &to, &res) ||
	    !http_arg_long(c, "from", 0, 4102444800LL, to - 3600, &from, &res))
		return res;
	if (!serve_cfg.db_path)
		return http_error(c, 404, "no recording: memwatchd runs live only (start it with --db FILE)");
	comm = http_arg(c, "comm");
	column = http_arg(c, "column");
	if (!column)
		return http_error(c, 400, "parameter 'column' is required: a tasks column "
				  "(rss_kb, mmap_kb, ...) or a counter as SOURCE.NAME");
	for (size_t i = 0; task_columns[i]; i++)
		if (!strcmp(column, task_columns[i]))
			is_task = true;
	if (!is_task && !counter_name_ok(column))
		return http_error(c, 400, "parameter 'column': not a tasks column nor SOURCE.NAME");
	if (pid && comm)
		return http_error(c, 400, "give pid or comm, not both");
	if (!is_task && (pid || comm))
		return http_error(c, 400, "a counter (SOURCE.NAME) has no pid or comm");
	if (comm && (!*comm || strlen(comm) > 64))
		return http_error(c, 400, "parameter 'comm' wants a command name");
	if (from > to)
		return http_error(c, 400, "'from' is after 'to'");
	if (!http_arg_long(c, "step", 1, 31536000, (to - from) / 500 > 0 ? (to - from) / 500 : 1,
			   &step, &res))
		return res;
	if ((to - from) / step > HISTORY_MAX_POINTS)
		return http_error(c, 400, "more than %d points: use a larger step", HISTORY_MAX_POINTS);
	if (sqlite3_open_v2(serve_cfg.db_path, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK) {
		res = http_error(c, 503, "recording %s: %s", serve_cfg.db_path,
				 db ? sqlite3_errmsg(db) : "cannot open");
		sqlite3_close(db);
		return res;
	}
	sqlite3_busy_timeout(db, 2000);
	struct series s = { .points = json_array(), .step_ns = step * 1000000000LL,
			    .from_ns = from * 1000000000LL };

	if (is_task) {
		rc = task_series(db, column, pid, comm, from * 1000000000LL,
				 to * 1000000000LL, &s, err, sizeof(err));
	} else {
		char src[129];
		const char *dot = strchr(column, '.');

		snprintf(src, sizeof(src), "%.*s", (int)(dot - column), column);
		rc = counter_series(db, src, dot + 1, from * 1000000000LL,
				    to * 1000000000LL, &s, err, sizeof(err));
	}
	sqlite3_close(db);
	if (rc) {
		json_decref(s.points);
		return http_error(c, rc == -2 ? 400 : 503, "%s", err);
	}
	json_t *j = json_pack("{s:s, s:s, s:I, s:I, s:I, s:o}", "source", "recording",
			      "column", column, "from", (json_int_t)from, "to", (json_int_t)to,
			      "step", (json_int_t)step, "points", s.points);
	if (pid)
		json_object_set_new(j, "pid", json_integer(pid));
	if (comm)
		json_object_set_new(j, "comm", json_text(comm));
	return http_json(c, 200, j);
}
