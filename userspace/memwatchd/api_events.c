/*
 * api_events.c - /api/v1/events, /api/v1/events/stream, /api/v1/memorylogs:
 * the module's event stream (/proc/memwatch/events, Documentation/events.md).
 *
 * Every request opens the file itself (the module gives each open its own
 * position at the oldest event in its ring and lets any number of readers
 * see every event), reads what is there without blocking, and closes it.
 * The held-open stream is api_stream.c.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "http.h"
#include "mwfile.h"
#include "util.h"

/* One request reads at most this many lines (the ring's worth and more). */
#define EVENTS_MAX_LINES 262144
#define EVENTS_MAX_LIMIT 10000

struct event {
	unsigned long long seq, time_ns;
	char kind[16];
	char *line;		/* the whole line, owned */
	long long pid;
};

/* Calls @fn for each event line; stops when @fn returns nonzero. */
static int events_read(int (*fn)(struct event *, void *), void *arg,
		       char *err, size_t errlen)
{
	char path[4096], buf[65536], *line;
	size_t have = 0;
	long lines = 0;
	int fd;

	snprintf(path, sizeof(path), "%s/events", mw_root());
	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "%.300s: %s%s", path, strerror(errno),
			 errno == ENOENT ? " (is the memwatch module loaded, with events?)" : "");
		return -1;
	}
	for (;;) {
		ssize_t n = read(fd, buf + have, sizeof(buf) - 1 - have);

		if (n <= 0)
			break;	/* EAGAIN: nothing more now; 0: end of a fixture */
		have += n;
		buf[have] = '\0';
		char *p = buf, *nl;

		while ((nl = strchr(p, '\n'))) {
			*nl = '\0';
			line = p;
			p = nl + 1;
			if (++lines > EVENTS_MAX_LINES)
				goto out;
			struct event ev = { 0 };
			int off = 0;

			if (line[0] == '#' || !strncmp(line, "memwatch-events", 15))
				continue;
			if (sscanf(line, "%llu %llu %15s %lld %*d %n", &ev.seq, &ev.time_ns,
				   ev.kind, &ev.pid, &off) < 4 || !off)
				continue;
			ev.line = line;
			if (fn(&ev, arg))
				goto out;
		}
		have = buf + have - p;
		memmove(buf, p, have);
		if (have == sizeof(buf) - 1)
			have = 0;	/* a line longer than the buffer: drop it */
	}
out:
	close(fd);
	return 0;
}

/* One event line as JSON: seq time_ns kind pid tid, then key=value, comm. */
static json_t *event_json(const struct event *ev)
{
	json_t *j = json_object();
	char *copy = xstrdup(ev->line), *p = copy, *tok;
	const char *names[] = { "seq", "time_ns", "kind", "pid", "tid" };

	for (int i = 0; i < 5; i++) {
		tok = strsep(&p, " ");
		while (p && *p == ' ')
			p++;
		if (!tok)
			break;
		json_object_set_new(j, names[i], i == 2 ? json_text(tok) : cell_json(tok));
	}
	while (p && *p) {
		if (!strncmp(p, "comm=", 5)) {
			json_object_set_new(j, "comm", json_text(p + 5));
			break;
		}
		tok = strsep(&p, " ");
		char *eq = strchr(tok, '=');

		if (eq && eq != tok) {
			*eq = '\0';
			json_object_set_new(j, tok, cell_json(eq + 1));
		}
		while (p && *p == ' ')
			p++;
	}
	free(copy);
	return j;
}

json_t *event_json_line(const char *line)
{
	struct event ev = { .line = (char *)line };

	return event_json(&ev);
}

/* ---------------------------------------------------------------- events */

struct events_query {
	unsigned long long since;
	bool have_since;
	long long pid;		/* -1: any */
	const char *call;	/* kind, or NULL */
	size_t limit;
	json_t **ring;		/* newest @limit matches (no since) */
	size_t n, head;
	unsigned long long last_seq;
};

static int events_collect(struct event *ev, void *arg)
{
	struct events_query *q = arg;

	if (ev->seq > q->last_seq)
		q->last_seq = ev->seq;
	if (q->have_since && ev->seq <= q->since)
		return 0;
	if (q->pid >= 0 && ev->pid != q->pid)
		return 0;
	if (q->call && strcmp(q->call, ev->kind))
		return 0;
	if (q->have_since) {
		if (q->n == q->limit)
			return 0;	/* keep reading for last_seq */
		q->ring[q->n++] = event_json(ev);
		return 0;
	}
	if (q->n == q->limit) {
		json_decref(q->ring[q->head]);
		q->ring[q->head] = event_json(ev);
		q->head = (q->head + 1) % q->limit;
	} else {
		q->ring[q->n++] = event_json(ev);
	}
	return 0;
}

static bool valid_kind(const char *s)
{
	static const char *const kinds[] = {
		"mmap", "munmap", "mremap", "brk", "exec", "exit", "allocfail",
		"stall", "extfrag", "compact", "lost", NULL
	};

	for (size_t i = 0; kinds[i]; i++)
		if (!strcmp(s, kinds[i]))
			return true;
	return false;
}

enum MHD_Result api_events(struct MHD_Connection *c)
{
	static const char *const allowed[] = { "since", "pid", "call", "limit", NULL };
	struct events_query q = { 0 };
	long long since, pid, limit;
	enum MHD_Result res;
	char err[512];

	if (!http_check_args(c, allowed, &res) ||
	    !http_arg_long(c, "since", 0, INT64_MAX, -1, &since, &res) ||
	    !http_arg_long(c, "pid", 0, 4194304, -1, &pid, &res) ||
	    !http_arg_long(c, "limit", 1, EVENTS_MAX_LIMIT, 100, &limit, &res))
		return res;
	q.call = http_arg(c, "call");
	if (q.call && !valid_kind(q.call))
		return http_error(c, 400, "parameter 'call' wants an event kind "
				  "(mmap, munmap, mremap, brk, exec, exit, allocfail, "
				  "stall, extfrag, compact, lost)");
	q.have_since = since >= 0;
	q.since = since;
	q.pid = pid;
	q.limit = limit;
	q.ring = xcalloc(limit, sizeof(*q.ring));
	if (events_read(events_collect, &q, err, sizeof(err))) {
		free(q.ring);
		return http_error(c, 503, "%s", err);
	}
	json_t *arr = json_array();

	for (size_t i = 0; i < q.n; i++)
		json_array_append_new(arr, q.ring[(q.head + i) % q.n]);
	free(q.ring);
	return http_json(c, 200, json_pack("{s:s, s:I, s:o}", "source", "module",
		"last_seq", (json_int_t)q.last_seq, "events", arr));
}

/* ------------------------------------------------------------ memorylogs */

/*
 * Seed 002's MemoryLog rows: mmap and munmap calls, newest first, with the
 * size in bytes and MB and as a percentage of MemTotal, and a wall-clock
 * timestamp (the event's CLOCK_MONOTONIC time moved onto CLOCK_REALTIME).
 */
struct memlogs {
	json_t **ring;
	size_t n, head, limit;
};

static int memlogs_collect(struct event *ev, void *arg)
{
	struct memlogs *m = arg;

	if (strcmp(ev->kind, "mmap") && strcmp(ev->kind, "munmap"))
		return 0;
	json_t *j = event_json(ev);

	if (m->n == m->limit) {
		json_decref(m->ring[m->head]);
		m->ring[m->head] = j;
		m->head = (m->head + 1) % m->limit;
	} else {
		m->ring[m->n++] = j;
	}
	return 0;
}

static double round2(double v)
{
	return (double)(long long)(v * 100 + (v >= 0 ? 0.5 : -0.5)) / 100;
}

enum MHD_Result api_memorylogs(struct MHD_Connection *c)
{
	static const char *const allowed[] = { "limit", NULL };
	struct memlogs m = { 0 };
	struct timespec mono, real;
	long long limit;
	enum MHD_Result res;
	char err[512];

	if (!http_check_args(c, allowed, &res) ||
	    !http_arg_long(c, "limit", 1, EVENTS_MAX_LIMIT, 100, &limit, &res))
		return res;
	m.limit = limit;
	m.ring = xcalloc(limit, sizeof(*m.ring));
	if (events_read(memlogs_collect, &m, err, sizeof(err))) {
		free(m.ring);
		return http_error(c, 503, "%s", err);
	}
	clock_gettime(CLOCK_MONOTONIC, &mono);
	clock_gettime(CLOCK_REALTIME, &real);
	long long offset_ns = (real.tv_sec - mono.tv_sec) * 1000000000LL +
			      (real.tv_nsec - mono.tv_nsec);
	double total = (double)meminfo_total_kb() * 1024;
	json_t *arr = json_array();

	for (size_t i = m.n; i-- > 0;) {
		json_t *e = m.ring[(m.head + i) % m.n];
		json_int_t len = json_integer_value(json_object_get(e, "len"));
		long long wall = json_integer_value(json_object_get(e, "time_ns")) + offset_ns;
		time_t secs = wall / 1000000000LL;
		struct tm tm;
		char ts[96];

		gmtime_r(&secs, &tm);
		snprintf(ts, sizeof(ts), "%04d-%02d-%02dT%02d:%02d:%02d.%03lldZ",
			 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
			 tm.tm_min, tm.tm_sec, (wall / 1000000) % 1000);
		const char *comm = json_string_value(json_object_get(e, "comm"));

		json_array_append_new(arr, json_pack("{s:I, s:I, s:s, s:s, s:I, s:f, s:f, s:s, s:I}",
			"seq", json_integer_value(json_object_get(e, "seq")),
			"pid", json_integer_value(json_object_get(e, "pid")),
			"process_name", comm ? comm : "",
			"call_type", json_string_value(json_object_get(e, "kind")),
			"memory_size", len,
			"memory_size_mb", round2(len / (1024.0 * 1024.0)),
			"memory_size_per", total > 0 ? round2(len * 100.0 / total) : 0.0,
			"timestamp", ts,
			"result", json_integer_value(json_object_get(e, "result"))));
		json_decref(e);
	}
	free(m.ring);
	return http_json(c, 200, arr);
}
