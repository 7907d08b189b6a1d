/* replay.c - reading a memwatchd recording (see replay.h, Documentation/recording.md). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "memwatch_abi.h"
#include "mwsnap.h"
#include "replay.h"
#include "tasks_rows.h"
#include "timearg.h"
#include "util.h"

/* The schema this reader knows (userspace/memwatchd/db.h). */
#define REPLAY_SCHEMA_MAX	3
#define REPLAY_APPLICATION_ID	0x4d574154

static sqlite3 *db;
static const char *opts_db;
static struct mw_snap snap;
static long long now_ns;

static long long wall_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int db_error(const char *what)
{
	fprintf(stderr, "%s: %s: %s: %s\n", mw_prog, what, "sqlite",
		sqlite3_errmsg(db));
	return 1;
}

static long long query_int(const char *sql, long long arg, long long dflt)
{
	sqlite3_stmt *q;
	long long v = dflt;

	if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK)
		return dflt;
	if (sqlite3_bind_parameter_count(q))
		sqlite3_bind_int64(q, 1, arg);
	if (sqlite3_step(q) == SQLITE_ROW && sqlite3_column_type(q, 0) != SQLITE_NULL)
		v = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	return v;
}

static char *cell_text(sqlite3_stmt *q, int c)
{
	char buf[32];

	switch (sqlite3_column_type(q, c)) {
	case SQLITE_NULL:
		return xstrdup("-");
	case SQLITE_INTEGER:
		snprintf(buf, sizeof(buf), "%lld", (long long)sqlite3_column_int64(q, c));
		return xstrdup(buf);
	default:
		return xstrdup((const char *)sqlite3_column_text(q, c));
	}
}

/* Each id's latest row between full sample @f and sample @s (tasks_rows.h layout). */
static struct tasks_tab *load_rows(bool threads, long long f, long long s,
				   bool module)
{
	size_t n, c, len;
	const char *const *cols = tasks_tab_columns(threads, &n);
	const char *table = threads ? "thread" : "task";
	const char *key = threads ? "tid" : "pid";
	struct tasks_tab *t = xcalloc(1, sizeof(*t));
	char sql[4096];
	sqlite3_stmt *q;

	len = (size_t)snprintf(sql, sizeof(sql), "SELECT ");
	for (c = 0; c < n; c++)
		len += (size_t)snprintf(sql + len, sizeof(sql) - len, "%s%s",
					c ? "," : "", cols[c]);
	snprintf(sql + len, sizeof(sql) - len,
		 " FROM %s t WHERE t.sample_id BETWEEN ?1 AND ?2 AND t.gone = 0"
		 " AND t.sample_id = (SELECT max(x.sample_id) FROM %s x WHERE"
		 " x.%s = t.%s AND x.sample_id BETWEEN ?1 AND ?2) ORDER BY t.%s",
		 table, table, key, key, key);
	if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK) {
		db_error(table);
		free(t);
		return NULL;
	}
	sqlite3_bind_int64(q, 1, f);
	sqlite3_bind_int64(q, 2, s);
	t->threads = threads;
	t->from_module = module;
	t->ncols = n;
	t->cols = xcalloc(n, sizeof(char *));
	for (c = 0; c < n; c++)
		t->cols[c] = xstrdup(cols[c]);
	while (sqlite3_step(q) == SQLITE_ROW) {
		if (t->nrows == t->cap) {
			t->cap = t->cap ? 2 * t->cap : 256;
			t->rows = xreallocarray(t->rows, t->cap, sizeof(char **));
		}
		t->rows[t->nrows] = xcalloc(n, sizeof(char *));
		for (c = 0; c < n; c++)
			t->rows[t->nrows][c] = cell_text(q, (int)c);
		t->nrows++;
	}
	sqlite3_finalize(q);
	return t;
}

static int load_files(long long f, long long s)
{
	sqlite3_stmt *q;
	size_t cap = 0;

	if (sqlite3_prepare_v2(db, "SELECT name, text, zlib, bytes FROM file t WHERE "
			       "t.sample_id = (SELECT max(x.sample_id) FROM file x "
			       "WHERE x.name = t.name AND x.sample_id BETWEEN ?1 AND ?2)",
			       -1, &q, NULL) != SQLITE_OK)
		return db_error("file");
	sqlite3_bind_int64(q, 1, f);
	sqlite3_bind_int64(q, 2, s);
	while (sqlite3_step(q) == SQLITE_ROW) {
		if (snap.nfiles == cap) {
			cap = cap ? 2 * cap : 16;
			snap.names = xreallocarray(snap.names, cap, sizeof(char *));
			snap.texts = xreallocarray(snap.texts, cap, sizeof(char *));
		}
		snap.names[snap.nfiles] = xstrdup((const char *)sqlite3_column_text(q, 0));
		if (sqlite3_column_type(q, 2) == SQLITE_BLOB) {	/* schema 3 */
			uLongf n = (uLongf)sqlite3_column_int64(q, 3);
			char *text = xcalloc(1, (size_t)n + 1);

			if (uncompress((Bytef *)text, &n, sqlite3_column_blob(q, 2),
				       (uLong)sqlite3_column_bytes(q, 2)) != Z_OK) {
				fprintf(stderr, "%s: %s: the recorded %s is damaged\n",
					mw_prog, opts_db, snap.names[snap.nfiles]);
				free(text);
				text = xstrdup("");
			}
			snap.texts[snap.nfiles++] = text;
		} else {
			snap.texts[snap.nfiles++] = xstrdup((const char *)sqlite3_column_text(q, 1));
		}
	}
	sqlite3_finalize(q);
	return 0;
}

/* The module file @name's text rebuilt from rows: version, legend, rows. */
static void add_table_text(const char *name, const struct tasks_tab *t)
{
	size_t len = 0, cap = 4096, r, c;
	char *text = xcalloc(1, cap);

	for (r = 0; r <= t->nrows; r++) {
		for (c = 0; c < t->ncols; c++) {
			const char *cell = r ? t->rows[r - 1][c] : t->cols[c];
			size_t l = strlen(cell);

			while (len + l + 128 > cap) {
				cap *= 2;
				text = xreallocarray(text, cap, 1);
			}
			if (!r && !c)
				len += (size_t)snprintf(text + len, cap - len,
					"memwatch-%s - version: %d.%d\n# ", name,
					MW_FORMAT_MAJOR, MW_FORMAT_MINOR);
			memcpy(text + len, cell, l);
			len += l;
			text[len++] = c + 1 < t->ncols ? ' ' : '\n';
		}
	}
	text[len] = '\0';
	snap.names = xreallocarray(snap.names, snap.nfiles + 1, sizeof(char *));
	snap.texts = xreallocarray(snap.texts, snap.nfiles + 1, sizeof(char *));
	snap.names[snap.nfiles] = xstrdup(name);
	snap.texts[snap.nfiles++] = text;
}

static int open_db(const char *path)
{
	char head[16];
	long long app, ver;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0) {
		fprintf(stderr, "%s: %s: %s\n", mw_prog, path, strerror(errno));
		return 1;
	}
	n = read(fd, head, sizeof(head));
	close(fd);
	if (n != sizeof(head) || memcmp(head, "SQLite format 3", 16)) {
		fprintf(stderr, "%s: %s: not a memwatch recording (not an SQLite database)\n",
			mw_prog, path);
		return 1;
	}
	/* Read-only; WAL lets us read while memwatchd writes. */
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
		return db_error(path);
	sqlite3_busy_timeout(db, 5000);
	app = query_int("PRAGMA application_id", 0, -1);
	ver = query_int("PRAGMA user_version", 0, -1);
	if (app == -1 && ver == -1) {
		fprintf(stderr, "%s: %s: cannot read (corrupt?): %s\n", mw_prog, path,
			sqlite3_errmsg(db));
		return 1;
	}
	if (app != REPLAY_APPLICATION_ID) {
		fprintf(stderr, "%s: %s: not a memwatch recording (application_id %#llx)\n",
			mw_prog, path, app);
		return 1;
	}
	if (ver > REPLAY_SCHEMA_MAX || ver < 1) {
		fprintf(stderr, "%s: %s: schema version %lld, this memwatch-read knows "
			"1..%d: use the memwatch-read that came with the memwatchd "
			"that wrote it\n", mw_prog, path, ver, REPLAY_SCHEMA_MAX);
		return 1;
	}
	return 0;
}

static int time_opt(const char *name, const char *arg, long long *ns)
{
	if (!parse_time_arg(arg, now_ns, ns))
		return usage_error(TIME_ARG_WANT, name, arg);
	return 0;
}

const char *replay_arg_error = "";

int replay_check_args(const struct mw_opts *o)
{
	if (!o->db) {
		if (o->mode == MW_MODE_EVENTS)
			replay_arg_error = "--events needs --db FILE (a memwatchd recording)";
		else if (o->mode == MW_MODE_HISTORY)
			replay_arg_error = "--history needs --db FILE (a memwatchd recording)";
		else if (o->at || o->from || o->to || o->calls || o->columns)
			replay_arg_error = "--at, --from, --to, --call and --column need --db FILE";
		else
			return 0;
		return 2;
	}
	if (o->interval || o->watch || o->count) {
		replay_arg_error = "--db replays a recording: no --interval, --watch or --count";
		return 2;
	}
	if (o->no_module) {
		replay_arg_error = "--db replays a recording: no --no-module";
		return 2;
	}
	if ((o->calls || ((o->from || o->to) && o->mode != MW_MODE_HISTORY)) &&
	    o->mode != MW_MODE_EVENTS) {
		replay_arg_error = "--call, --from and --to go with --events or --history";
		return 2;
	}
	if (o->columns && o->mode != MW_MODE_HISTORY) {
		replay_arg_error = "--column goes with --history";
		return 2;
	}
	if (o->at && (o->mode == MW_MODE_EVENTS || o->mode == MW_MODE_HISTORY)) {
		replay_arg_error = "--at goes with the state views; --events and --history take --from/--to";
		return 2;
	}
	if (o->mode == MW_MODE_HISTORY && o->pid && o->comm) {
		replay_arg_error = "--history takes -p PID or -c NAME, not both";
		return 2;
	}
	return 0;
}

int replay_open(struct mw_opts *opts)
{
	long long at, s, f, mono;
	char when[64];
	sqlite3_stmt *q;
	int ret;

	now_ns = wall_now_ns();
	opts_db = opts->db;
	if (open_db(opts->db))
		return 1;
	if ((opts->from && (ret = time_opt("--from", opts->from, &opts->from_ns))) ||
	    (opts->to && (ret = time_opt("--to", opts->to, &opts->to_ns))) ||
	    (opts->at && (ret = time_opt("--at", opts->at, &at))))
		return ret;
	if (!opts->from)
		opts->from_ns = 0;
	if (!opts->to)
		opts->to_ns = now_ns + 86400LL * 1000000000LL * 365;
	if (opts->mode == MW_MODE_EVENTS || opts->mode == MW_MODE_HISTORY)
		return -1;
	if (opts->at)
		s = query_int("SELECT max(id) FROM sample WHERE time_unix_ns <= ?", at, -1);
	else
		s = query_int("SELECT max(id) FROM sample", 0, -1);
	if (s < 0) {
		long long first = query_int("SELECT min(time_unix_ns) FROM sample", 0, -1);

		if (first < 0) {
			fprintf(stderr, "%s: %s: the recording holds no sample yet\n",
				mw_prog, opts->db);
		} else {
			format_time_iso(first, when, sizeof(when));
			fprintf(stderr, "%s: %s: no sample at or before %s (the first is "
				"at %s)\n", mw_prog, opts->db, opts->at, when);
		}
		return 1;
	}
	f = query_int("SELECT max(id) FROM sample WHERE full = 1 AND id <= ?", s, -1);
	if (f < 0) {
		fprintf(stderr, "%s: %s: sample %lld cannot be rebuilt (no full "
			"sample before it)\n", mw_prog, opts->db, s);
		return 1;
	}
	if (sqlite3_prepare_v2(db, "SELECT module, time_ns, time_unix_ns FROM sample WHERE id = ?",
			       -1, &q, NULL) != SQLITE_OK)
		return db_error("sample");
	sqlite3_bind_int64(q, 1, s);
	if (sqlite3_step(q) != SQLITE_ROW) {
		sqlite3_finalize(q);
		return db_error("sample");
	}
	snap.module = sqlite3_column_int(q, 0);
	mono = sqlite3_column_int64(q, 1);
	snap.unix_ns = sqlite3_column_int64(q, 2);
	sqlite3_finalize(q);
	snap.now_ns = (unsigned long long)mono;
	if (load_files(f, s))
		return 1;
	snap.tasks = load_rows(false, f, s, snap.module);
	snap.threads = load_rows(true, f, s, snap.module);
	if (!snap.tasks || !snap.threads)
		return 1;
	if (snap.module) {	/* views that read the files themselves (summary) */
		add_table_text(MW_FILE_TASKS, snap.tasks);
		add_table_text(MW_FILE_THREADS, snap.threads);
	}
	mw_snap_install(&snap);
	return -1;
}

void replay_close(void)
{
	size_t i;

	mw_snap_install(NULL);
	for (i = 0; i < snap.nfiles; i++) {
		free(snap.names[i]);
		free(snap.texts[i]);
	}
	free(snap.names);
	free(snap.texts);
	if (snap.tasks) {
		tasks_tab_free(snap.tasks);
		free(snap.tasks);
	}
	if (snap.threads) {
		tasks_tab_free(snap.threads);
		free(snap.threads);
	}
	memset(&snap, 0, sizeof(snap));
	sqlite3_close(db);
	db = NULL;
}

/* ------------------------------------------------------------ --events */

static bool call_wanted(const char *list, const char *kind)
{
	size_t k = strlen(kind);
	const char *p = list;

	if (!list)
		return true;
	while (*p) {
		const char *e = strchr(p, ',');
		size_t l = e ? (size_t)(e - p) : strlen(p);

		if (l == k && !memcmp(p, kind, k))
			return true;
		p += l + (e ? 1 : 0);
	}
	return false;
}

int events_show(struct mw_out *o, const struct mw_opts *opts)
{
	static char *const cols[] = {
		"time", "seq", "pid", "tid", "call", "size_bytes", "result", "comm",
	};
	enum { NC = sizeof(cols) / sizeof(cols[0]) };
	char ***rows = NULL;
	size_t nrows = 0, cap = 0, r, c;
	sqlite3_stmt *q;
	int ret = 0;

	if (query_int("SELECT count(*) FROM run WHERE events = 1", 0, 0) == 0) {
		fprintf(stderr, "%s: %s: events not recorded: %s\n", mw_prog, opts->db,
			query_int("SELECT count(*) FROM run WHERE module = 1", 0, 0) ?
			"memwatchd could not read the module's events file" :
			"recorded without the module (events need the memwatch module)");
		return 1;
	}
	if (sqlite3_prepare_v2(db, "SELECT time_unix_ns, seq, pid, tid, kind, size, "
			       "result, comm FROM event WHERE time_unix_ns BETWEEN ?1 AND ?2 "
			       "AND (?3 = 0 OR pid = ?3) AND (?4 IS NULL OR comm = ?4) "
			       "ORDER BY id", -1, &q, NULL) != SQLITE_OK)
		return db_error("event");
	sqlite3_bind_int64(q, 1, opts->from_ns);
	sqlite3_bind_int64(q, 2, opts->to_ns);
	sqlite3_bind_int64(q, 3, opts->pid);
	if (opts->comm)
		sqlite3_bind_text(q, 4, opts->comm, -1, SQLITE_STATIC);
	while (sqlite3_step(q) == SQLITE_ROW) {
		const char *kind = (const char *)sqlite3_column_text(q, 4);
		char when[64], **row;

		if (!call_wanted(opts->calls, kind))
			continue;
		if (opts->top && (long)nrows >= opts->top)
			break;
		if (nrows == cap) {
			cap = cap ? 2 * cap : 1024;
			rows = xreallocarray(rows, cap, sizeof(char **));
		}
		row = rows[nrows++] = xcalloc(NC, sizeof(char *));
		format_time_iso(sqlite3_column_int64(q, 0), when, sizeof(when));
		row[0] = xstrdup(when);
		for (c = 1; c < NC; c++)
			row[c] = c == 4 ? xstrdup(kind) : cell_text(q, (int)c);
	}
	sqlite3_finalize(q);
	mw_out_table(o, "events", cols, NC, rows, nrows);
	for (r = 0; r < nrows; r++) {
		for (c = 0; c < NC; c++)
			free(rows[r][c]);
		free(rows[r]);
	}
	free(rows);
	return ret;
}

/* ------------------------------------------------------------ --history */

struct hist_pid {
	long long pid;
	char *comm;
	long long *vals;	/* per column; LLONG_MIN: "-" */
	bool live;
};

#define HIST_NONE	(-0x7fffffffffffffffLL - 1)

static bool column_known(const char *col)
{
	size_t n, c;
	const char *const *cols = tasks_tab_columns(false, &n);

	for (c = 0; c < n; c++)
		if (!strcmp(cols[c], col) && strcmp(col, "comm"))
			return true;
	return false;
}

static size_t split_columns(const char *list, char ***out)
{
	char *copy = xstrdup(list ? list : "rss_kb"), *tok, *save = NULL;
	size_t n = 0;

	*out = NULL;
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		*out = xreallocarray(*out, n + 1, sizeof(char *));
		(*out)[n++] = xstrdup(tok);
	}
	free(copy);
	return n;
}

static void chart(struct mw_out *o, const char *col, char ***rows, size_t nrows,
		  size_t c)
{
	long long max = 0, v;
	char label[64], cell[64];
	size_t r;

	mw_col_label(col, label, sizeof(label));
	fprintf(o->fp, "%s\n", label);
	for (r = 0; r < nrows; r++)
		if (strcmp(rows[r][c], "-") && (v = strtoll(rows[r][c], NULL, 10)) > max)
			max = v;
	for (r = 0; r < nrows; r++) {
		int width = 0, i;

		if (strcmp(rows[r][c], "-") && max > 0)
			width = (int)(strtoll(rows[r][c], NULL, 10) * 50 / max);
		mw_format_cell(o->opts, col, rows[r][c], cell, sizeof(cell));
		fprintf(o->fp, "%.19s %10s |", rows[r][0], cell);
		for (i = 0; i < width; i++)
			fputs("\u2588", o->fp);
		fputc('\n', o->fp);
	}
}

/*
 * One pass over the samples in time order, keeping every process's latest
 * row (a full sample starts over, a delta row replaces, gone removes); at
 * each sample in [from, to] the series value is the matching processes'
 * sum (-p: one process, -c: every process of that command, neither: all).
 */
int history_show(struct mw_out *o, const struct mw_opts *opts)
{
	char **cols, sql[2048], ***rows = NULL;
	size_t ncols = split_columns(opts->columns, &cols), c, len, r;
	size_t nrows = 0, cap = 0, npids = 0, pcap = 0, i;
	struct hist_pid *pids = NULL;
	long long start, cur_sample = -1, cur_time = 0;
	sqlite3_stmt *q;
	char **outcols;
	int ret = 0;

	for (c = 0; c < ncols; c++)
		if (!column_known(cols[c])) {
			return usage_error("unknown --column '%s' (a numeric column of "
					   "the tasks view, e.g. rss_kb, mmap_calls)", cols[c]);
		}
	start = query_int("SELECT max(id) FROM sample WHERE full = 1 AND time_unix_ns <= ?",
			  opts->from_ns, -1);
	if (start < 0)
		start = query_int("SELECT min(id) FROM sample WHERE full = 1", 0, 0);
	len = (size_t)snprintf(sql, sizeof(sql), "SELECT s.id, s.time_unix_ns, s.full, "
			       "t.pid, t.gone, t.comm");
	for (c = 0; c < ncols; c++)
		len += (size_t)snprintf(sql + len, sizeof(sql) - len, ", t.%s", cols[c]);
	snprintf(sql + len, sizeof(sql) - len, " FROM sample s LEFT JOIN task t ON "
		 "t.sample_id = s.id WHERE s.id >= ?1 AND s.time_unix_ns <= ?2 "
		 "ORDER BY s.id");
	if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK)
		return db_error("history");
	sqlite3_bind_int64(q, 1, start);
	sqlite3_bind_int64(q, 2, opts->to_ns);
	for (;;) {
		int rc = sqlite3_step(q);
		long long sid = rc == SQLITE_ROW ? sqlite3_column_int64(q, 0) : -2;

		if (sid != cur_sample && cur_sample >= 0 && cur_time >= opts->from_ns) {
			/* The previous sample is complete: one point. */
			char **row = xcalloc(ncols + 1, sizeof(char *)), when[64];
			bool any = false;

			format_time_iso(cur_time, when, sizeof(when));
			row[0] = xstrdup(when);
			for (c = 0; c < ncols; c++) {
				long long sum = 0;
				bool have = false;

				for (i = 0; i < npids; i++) {
					struct hist_pid *p = &pids[i];

					if (!p->live || (opts->pid && p->pid != opts->pid) ||
					    (opts->comm && strcmp(p->comm, opts->comm)))
						continue;
					any = true;
					if (p->vals[c] != HIST_NONE) {
						sum += p->vals[c];
						have = true;
					}
				}
				if (have) {
					snprintf(when, sizeof(when), "%lld", sum);
					row[c + 1] = xstrdup(when);
				} else {
					row[c + 1] = xstrdup("-");
				}
			}
			if (any || !opts->pid) {
				if (nrows == cap) {
					cap = cap ? 2 * cap : 256;
					rows = xreallocarray(rows, cap, sizeof(char **));
				}
				rows[nrows++] = row;
			} else {
				for (c = 0; c <= ncols; c++)
					free(row[c]);
				free(row);
			}
		}
		if (rc != SQLITE_ROW)
			break;
		if (sid != cur_sample) {
			cur_sample = sid;
			cur_time = sqlite3_column_int64(q, 1);
			if (sqlite3_column_int(q, 2))	/* full: start over */
				for (i = 0; i < npids; i++)
					pids[i].live = false;
		}
		if (sqlite3_column_type(q, 3) == SQLITE_NULL)
			continue;	/* a sample with no task rows */
		long long pid = sqlite3_column_int64(q, 3);
		struct hist_pid *p = NULL;

		for (i = 0; i < npids; i++)
			if (pids[i].pid == pid) {
				p = &pids[i];
				break;
			}
		if (!p) {
			if (npids == pcap) {
				pcap = pcap ? 2 * pcap : 256;
				pids = xreallocarray(pids, pcap, sizeof(*pids));
			}
			p = &pids[npids++];
			memset(p, 0, sizeof(*p));
			p->pid = pid;
			p->vals = xcalloc(ncols, sizeof(long long));
		}
		if (sqlite3_column_int(q, 4)) {
			p->live = false;
			continue;
		}
		p->live = true;
		free(p->comm);
		p->comm = xstrdup(sqlite3_column_type(q, 5) == SQLITE_NULL ? "" :
				  (const char *)sqlite3_column_text(q, 5));
		for (c = 0; c < ncols; c++)
			p->vals[c] = sqlite3_column_type(q, 6 + (int)c) == SQLITE_NULL ?
				     HIST_NONE : sqlite3_column_int64(q, 6 + (int)c);
	}
	sqlite3_finalize(q);
	outcols = xcalloc(ncols + 1, sizeof(char *));
	outcols[0] = "time";
	for (c = 0; c < ncols; c++)
		outcols[c + 1] = cols[c];
	if (o->opts->format == MW_FMT_TEXT)
		for (c = 0; c < ncols; c++) {
			if (c)
				fputc('\n', o->fp);
			chart(o, cols[c], rows, nrows, c + 1);
		}
	else
		mw_out_table(o, "history", outcols, ncols + 1, rows, nrows);
	for (r = 0; r < nrows; r++) {
		for (c = 0; c <= ncols; c++)
			free(rows[r][c]);
		free(rows[r]);
	}
	free(rows);
	for (i = 0; i < npids; i++) {
		free(pids[i].comm);
		free(pids[i].vals);
	}
	free(pids);
	for (c = 0; c < ncols; c++)
		free(cols[c]);
	free(cols);
	free(outcols);
	return ret;
}
