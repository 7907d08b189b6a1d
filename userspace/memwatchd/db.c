/* db.c - the recording file (see db.h, schema.sql, Documentation/recording.md). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "db.h"
#include "memwatchd.h"
#include "tasks_rows.h"
#include "util.h"

extern const char schema_sql[];		/* schema.sql, built in */

static sqlite3 *db;
static long long run_id;
static long long mono_to_unix;	/* of this run: event times in wall time */
static int last_rc;

/*
 * Upgrades: migrations[v] takes a version-v file to v + 1. Version 1
 * lacked run.version, version 2 the compressed file texts.
 */
static const char *const migrations[DB_SCHEMA_VERSION] = {
	[1] = "ALTER TABLE run ADD COLUMN version TEXT NOT NULL DEFAULT '';",
	[2] = "ALTER TABLE file ADD COLUMN zlib BLOB; ALTER TABLE file ADD COLUMN bytes INTEGER;",
};

enum {
	ST_EVENT, ST_LOSS, ST_SAMPLE, ST_TASK, ST_THREAD, ST_FILE, ST_COUNTER,
	ST_FRAG, ST_BEGIN, ST_COMMIT, ST_EVENTS, ST_N
};
static sqlite3_stmt *st[ST_N];

const char *db_errmsg(void)
{
	return db ? sqlite3_errmsg(db) : "no database";
}

bool db_error_is_disk(void)
{
	int rc = last_rc & 0xff;

	return rc == SQLITE_FULL || rc == SQLITE_IOERR || rc == SQLITE_CANTOPEN;
}

static int exec(const char *sql)
{
	last_rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
	return last_rc == SQLITE_OK ? 0 : -1;
}

static long long query_int(const char *sql, long long dflt)
{
	sqlite3_stmt *q;
	long long v = dflt;

	if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK)
		return dflt;
	if (sqlite3_step(q) == SQLITE_ROW &&
	    sqlite3_column_type(q, 0) != SQLITE_NULL)
		v = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	return v;
}

/* What is at @path: 0 absent or empty, 1 an SQLite file, -1 something else. */
static int file_kind(const char *path, char *err, size_t errlen)
{
	char head[16];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	n = read(fd, head, sizeof(head));
	close(fd);
	if (n == 0)
		return 0;
	if (n != sizeof(head) || memcmp(head, "SQLite format 3", 16)) {
		snprintf(err, errlen, "%s: not a memwatch recording (not an SQLite "
			 "database); refusing to touch it", path);
		return -1;
	}
	return 1;
}

static int create_schema(char *err, size_t errlen)
{
	char sql[512];

	if (exec("BEGIN;") ||
	    exec(schema_sql))
		goto fail;
	snprintf(sql, sizeof(sql),
		 "PRAGMA application_id=%d; PRAGMA user_version=%d;"
		 "INSERT INTO meta VALUES('magic','" DB_MAGIC "'),"
		 "('schema_version','%d');", DB_APPLICATION_ID,
		 DB_SCHEMA_VERSION, DB_SCHEMA_VERSION);
	if (exec(sql) || exec("COMMIT;"))
		goto fail;
	return 0;
fail:
	snprintf(err, errlen, "creating the schema: %s", sqlite3_errmsg(db));
	exec("ROLLBACK;");
	return -1;
}

static int check_existing(const char *path, char *err, size_t errlen)
{
	long long app = query_int("PRAGMA application_id;", -1);
	long long ver = query_int("PRAGMA user_version;", -1);
	sqlite3_stmt *q;
	char sql[256];
	bool ok = false;

	if (app == -1 && ver == -1) {
		snprintf(err, errlen, "%s: cannot read (corrupt?): %s", path,
			 sqlite3_errmsg(db));
		return -1;
	}
	if (app != DB_APPLICATION_ID) {
		snprintf(err, errlen, "%s: not a memwatch recording (application_id "
			 "%#llx); refusing to touch it", path, app);
		return -1;
	}
	if (ver > DB_SCHEMA_VERSION) {
		snprintf(err, errlen, "%s: written by a newer memwatchd (schema "
			 "version %lld; this one knows up to %d): use a newer "
			 "memwatchd or another file", path, ver, DB_SCHEMA_VERSION);
		return -1;
	}
	if (sqlite3_prepare_v2(db, "PRAGMA quick_check;", -1, &q, NULL) == SQLITE_OK) {
		ok = sqlite3_step(q) == SQLITE_ROW &&
		     !strcmp((const char *)sqlite3_column_text(q, 0), "ok");
		sqlite3_finalize(q);
	}
	if (!ok || query_int("SELECT count(*) FROM meta WHERE key='magic' "
			     "AND value='" DB_MAGIC "';", 0) != 1) {
		snprintf(err, errlen, "%s: corrupt memwatch recording (integrity "
			 "check failed: %s); refusing to write to it", path,
			 ok ? "no magic in meta" : sqlite3_errmsg(db));
		return -1;
	}
	if (ver == DB_SCHEMA_VERSION)
		return 0;
	if (ver < 1) {
		snprintf(err, errlen, "%s: schema version %lld is unknown", path, ver);
		return -1;
	}
	if (exec("BEGIN IMMEDIATE;"))
		goto fail;
	for (; ver < DB_SCHEMA_VERSION; ver++)
		if (exec(migrations[ver]))
			goto fail;
	snprintf(sql, sizeof(sql), "PRAGMA user_version=%d;"
		 "UPDATE meta SET value='%d' WHERE key='schema_version';",
		 DB_SCHEMA_VERSION, DB_SCHEMA_VERSION);
	if (exec(sql) || exec("COMMIT;"))
		goto fail;
	mwd_log("%s: upgraded to schema version %d", path, DB_SCHEMA_VERSION);
	return 0;
fail:
	snprintf(err, errlen, "%s: upgrading the schema: %s", path,
		 sqlite3_errmsg(db));
	exec("ROLLBACK;");
	return -1;
}

static int prepare(int i, const char *sql)
{
	if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st[i],
			       NULL) != SQLITE_OK) {
		mwd_log("prepare %s: %s", sql, sqlite3_errmsg(db));
		return -1;
	}
	return 0;
}

/* "INSERT INTO task(sample_id,pid,gone,ppid,...) VALUES(?,...)" */
static int prepare_rows(int i, const char *table, bool threads)
{
	size_t n, c, len;
	const char *const *cols = tasks_tab_columns(threads, &n);
	char sql[4096];
	int ret;

	len = (size_t)snprintf(sql, sizeof(sql), "INSERT OR REPLACE INTO %s(sample_id,gone", table);
	for (c = 0; c < n; c++)
		len += (size_t)snprintf(sql + len, sizeof(sql) - len, ",%s", cols[c]);
	len += (size_t)snprintf(sql + len, sizeof(sql) - len, ") VALUES(?,?");
	for (c = 0; c < n; c++)
		len += (size_t)snprintf(sql + len, sizeof(sql) - len, ",?");
	snprintf(sql + len, sizeof(sql) - len, ")");
	ret = prepare(i, sql);
	return ret;
}

#define EVENT_INSERT	"INSERT INTO event(run_id,seq,time_ns,time_unix_ns," \
			"kind,pid,tid,size,result,args,comm) VALUES"
#define EVENT_COLS	11

/* One statement inserting @rows events: one VM run per many rows. */
static int prepare_events(int i, size_t rows)
{
	size_t len, r, cap = sizeof(EVENT_INSERT) + rows * 26;
	char *sql = malloc(cap);
	int ret;

	if (!sql)
		return -1;
	len = (size_t)snprintf(sql, cap, "%s", EVENT_INSERT);
	for (r = 0; r < rows; r++)
		len += (size_t)snprintf(sql + len, cap - len, "%s(?,?,?,?,?,?,?,?,?,?,?)",
					r ? "," : "");
	ret = prepare(i, sql);
	free(sql);
	return ret;
}

int db_open(const char *path, char *err, size_t errlen)
{
	int kind = file_kind(path, err, errlen);

	if (kind < 0)
		return -1;
	/* NOMUTEX: one thread (the writer) uses this connection after open. */
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
			    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", path, db ? sqlite3_errmsg(db) : "cannot open");
		goto fail;
	}
	sqlite3_busy_timeout(db, 5000);
	if (kind == 1 && check_existing(path, err, errlen))
		goto fail;
	/* Before WAL and the first table, or it does not take. */
	if (kind == 0 && exec("PRAGMA auto_vacuum=INCREMENTAL;"))
		goto fail;
	if (exec("PRAGMA journal_mode=WAL;") ||
	    exec("PRAGMA synchronous=NORMAL;") ||
	    exec("PRAGMA journal_size_limit=67108864;") ||
	    /*
	     * Room for a whole batch (WRITER_BATCH_ROWS events and the index
	     * pages they touch): with the default 2 MiB the cache spilled into
	     * the WAL mid-transaction, writing each page many times per commit.
	     */
	    exec("PRAGMA cache_size=-16384;") ||
	    /* Statement journals (a multi-row INSERT keeps one) in memory, not in temp files. */
	    exec("PRAGMA temp_store=MEMORY;")) {
		snprintf(err, errlen, "%s: %s", path, sqlite3_errmsg(db));
		goto fail;
	}
	if (kind == 0 && create_schema(err, errlen))
		goto fail;
	if (prepare(ST_EVENT, EVENT_INSERT "(?,?,?,?,?,?,?,?,?,?,?)") ||
	    prepare(ST_LOSS, "INSERT INTO loss(run_id,time_unix_ns,source,"
		    "first_seq,count) VALUES(?,?,?,?,?)") ||
	    prepare(ST_SAMPLE, "INSERT INTO sample(run_id,time_unix_ns,time_ns,"
		    "full,module) VALUES(?,?,?,?,?)") ||
	    prepare_rows(ST_TASK, "task", false) ||
	    prepare_rows(ST_THREAD, "thread", true) ||
	    prepare(ST_FILE, "INSERT OR REPLACE INTO file(sample_id,name,zlib,bytes) VALUES(?,?,?,?)") ||
	    prepare(ST_COUNTER, "INSERT OR REPLACE INTO counter(sample_id,source,name,value) "
		    "VALUES(?,?,?,?)") ||
	    prepare(ST_FRAG, "INSERT OR REPLACE INTO frag(sample_id,node,zone,\"order\","
		    "free_blocks,unusable_pm,extfrag_pm) VALUES(?,?,?,?,?,?,?)") ||
	    prepare_events(ST_EVENTS, DB_EVENT_ROWS) ||
	    prepare(ST_BEGIN, "BEGIN") || prepare(ST_COMMIT, "COMMIT")) {
		snprintf(err, errlen, "%s: %s", path, sqlite3_errmsg(db));
		goto fail;
	}
	return 0;
fail:
	db_close();
	return -1;
}

int db_begin_run(bool module, bool events, int interval_ms)
{
	char host[256] = "", sql[1024];
	struct utsname u;
	char *q;

	mono_to_unix = (long long)(mwd_unix_ns() - mwd_mono_ns());
	gethostname(host, sizeof(host) - 1);
	if (uname(&u))
		snprintf(u.release, sizeof(u.release), "?");
	q = sqlite3_mprintf("INSERT INTO run(started_unix_ns,mono_to_unix_ns,"
			    "hostname,kernel,module,events,interval_ms,version) "
			    "VALUES(%lld,%lld,%Q,%Q,%d,%d,%d,%Q)",
			    (long long)mwd_unix_ns(), mono_to_unix, host,
			    u.release, module, events, interval_ms, MWD_VERSION);
	snprintf(sql, sizeof(sql), "%s", q);
	sqlite3_free(q);
	if (exec(sql)) {
		mwd_log("%s: %s", mwd_cfg.db_path, sqlite3_errmsg(db));
		return -1;
	}
	run_id = sqlite3_last_insert_rowid(db);
	return 0;
}

void db_close(void)
{
	int i;

	if (!db)
		return;
	for (i = 0; i < ST_N; i++) {
		sqlite3_finalize(st[i]);
		st[i] = NULL;
	}
	sqlite3_exec(db, "PRAGMA wal_checkpoint(TRUNCATE);", NULL, NULL, NULL);
	sqlite3_close(db);
	db = NULL;
}

static int step(sqlite3_stmt *s)
{
	last_rc = sqlite3_step(s);
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return last_rc == SQLITE_DONE ? 0 : -1;
}

int db_begin(void)
{
	return step(st[ST_BEGIN]);
}

int db_commit(void)
{
	return step(st[ST_COMMIT]);
}

void db_rollback(void)
{
	if (!sqlite3_get_autocommit(db))
		sqlite3_exec(db, "ROLLBACK;", NULL, NULL, NULL);
}

/* Binds @ev as the row whose first parameter is @at. */
static void bind_event(sqlite3_stmt *s, int at, const struct ev_item *ev)
{
	sqlite3_bind_int64(s, at, run_id);
	sqlite3_bind_int64(s, at + 1, (long long)ev->seq);
	sqlite3_bind_int64(s, at + 2, (long long)ev->time_ns);
	sqlite3_bind_int64(s, at + 3, (long long)ev->time_ns + mono_to_unix);
	sqlite3_bind_text(s, at + 4, ev->kind, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, at + 5, ev->pid);
	sqlite3_bind_int64(s, at + 6, ev->tid);
	if (ev->has_size)
		sqlite3_bind_int64(s, at + 7, ev->size);
	if (ev->has_result)
		sqlite3_bind_int64(s, at + 8, ev->result);
	sqlite3_bind_text(s, at + 9, ev->args, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, at + 10, ev->comm, -1, SQLITE_STATIC);
}

int db_insert_event(const struct ev_item *ev)
{
	bind_event(st[ST_EVENT], 1, ev);
	return step(st[ST_EVENT]);
}

int db_insert_events(const struct ev_item *const *evs, size_t n)
{
	size_t i;

	if (n == DB_EVENT_ROWS) {
		for (i = 0; i < n; i++)
			bind_event(st[ST_EVENTS], (int)(i * EVENT_COLS) + 1, evs[i]);
		return step(st[ST_EVENTS]);
	}
	for (i = 0; i < n; i++)
		if (db_insert_event(evs[i]))
			return -1;
	return 0;
}

int db_insert_loss(const char *source, long long first_seq, long long count)
{
	sqlite3_stmt *s = st[ST_LOSS];

	sqlite3_bind_int64(s, 1, run_id);
	sqlite3_bind_int64(s, 2, (long long)mwd_unix_ns());
	sqlite3_bind_text(s, 3, source, -1, SQLITE_STATIC);
	if (first_seq >= 0)
		sqlite3_bind_int64(s, 4, first_seq);
	sqlite3_bind_int64(s, 5, count);
	return step(s);
}

static void bind_cell(sqlite3_stmt *s, int i, const char *col, const char *v)
{
	char *end;
	long long n;

	if (!v)
		return;		/* NULL: "-" */
	if (strcmp(col, "comm")) {
		errno = 0;
		n = strtoll(v, &end, 10);
		if (!errno && *end == '\0' && end != v) {
			sqlite3_bind_int64(s, i, n);
			return;
		}
	}
	sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
}

static int insert_rows(const struct sample_item *smp, long long sid, int k)
{
	sqlite3_stmt *s = st[k ? ST_THREAD : ST_TASK];
	size_t n, r, c;
	const char *const *cols = tasks_tab_columns(k == 1, &n);

	for (r = 0; r < smp->nrows[k]; r++) {
		const struct srow *row = &smp->rows[k][r];

		sqlite3_bind_int64(s, 1, sid);
		sqlite3_bind_int(s, 2, row->gone);
		if (row->gone)
			sqlite3_bind_int64(s, 3, row->id);
		else
			for (c = 0; c < n; c++)
				bind_cell(s, (int)c + 3, cols[c], row->cells[c]);
		if (step(s))
			return -1;
	}
	return 0;
}

int db_insert_sample(const struct sample_item *smp)
{
	sqlite3_stmt *s = st[ST_SAMPLE];
	long long sid;
	size_t i;

	sqlite3_bind_int64(s, 1, run_id);
	sqlite3_bind_int64(s, 2, (long long)smp->unix_ns);
	sqlite3_bind_int64(s, 3, (long long)smp->time_ns);
	sqlite3_bind_int(s, 4, smp->full);
	sqlite3_bind_int(s, 5, smp->module);
	if (step(s))
		return -1;
	sid = sqlite3_last_insert_rowid(db);
	if (insert_rows(smp, sid, 0) || insert_rows(smp, sid, 1))
		return -1;
	s = st[ST_FILE];
	for (i = 0; i < smp->nfiles; i++) {
		sqlite3_bind_int64(s, 1, sid);
		sqlite3_bind_text(s, 2, smp->fnames[i], -1, SQLITE_STATIC);
		sqlite3_bind_blob(s, 3, smp->ftexts[i], (int)smp->fzlen[i], SQLITE_STATIC);
		sqlite3_bind_int64(s, 4, (long long)smp->fbytes[i]);
		if (step(s))
			return -1;
	}
	s = st[ST_COUNTER];
	for (i = 0; i < smp->ncnt; i++) {
		sqlite3_bind_int64(s, 1, sid);
		sqlite3_bind_text(s, 2, smp->csrc[i], -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 3, smp->cname[i], -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 4, smp->cval[i]);
		if (step(s))
			return -1;
	}
	s = st[ST_FRAG];
	for (i = 0; i < smp->nfrag; i++) {
		const struct frag_row *f = &smp->frag[i];

		sqlite3_bind_int64(s, 1, sid);
		sqlite3_bind_int(s, 2, f->node);
		sqlite3_bind_text(s, 3, f->zone, -1, SQLITE_STATIC);
		sqlite3_bind_int(s, 4, f->order);
		sqlite3_bind_int64(s, 5, f->free_blocks);
		sqlite3_bind_int(s, 6, f->unusable_pm);
		sqlite3_bind_int(s, 7, f->extfrag_pm);
		if (step(s))
			return -1;
	}
	return 0;
}

/* Deletes what is older than @cut (ns), keeping the full sample it rebuilds from. */
static int prune_before(long long cut, bool events)
{
	char sql[1024];
	long long keep = 0;
	char q[160];

	snprintf(q, sizeof(q), "SELECT max(id) FROM sample WHERE full=1 AND "
		 "time_unix_ns <= %lld;", cut);
	keep = query_int(q, 0);
	snprintf(sql, sizeof(sql),
		 "DELETE FROM task WHERE sample_id < %lld;"
		 "DELETE FROM thread WHERE sample_id < %lld;"
		 "DELETE FROM file WHERE sample_id < %lld;"
		 "DELETE FROM counter WHERE sample_id < %lld;"
		 "DELETE FROM frag WHERE sample_id < %lld;"
		 "DELETE FROM sample WHERE id < %lld;",
		 keep, keep, keep, keep, keep, keep);
	if (exec(sql))
		return -1;
	if (!events)
		return 0;
	snprintf(sql, sizeof(sql),
		 "DELETE FROM event WHERE time_unix_ns < %lld;"
		 "DELETE FROM loss WHERE time_unix_ns < %lld;", cut, cut);
	return exec(sql);
}

static long long used_bytes(void)
{
	return (query_int("PRAGMA page_count;", 0) -
		query_int("PRAGMA freelist_count;", 0)) *
	       query_int("PRAGMA page_size;", 4096);
}

int db_prune(long long retain_ns, long long max_bytes)
{
	int tries;

	if (retain_ns > 0 &&
	    prune_before((long long)mwd_unix_ns() - retain_ns, true))
		return -1;
	/* The oldest tenth of the events (by count) and of the time span, again. */
	for (tries = 0; max_bytes > 0 && tries < 30 &&
	     used_bytes() > max_bytes; tries++) {
		long long lo = query_int("SELECT min(time_unix_ns) FROM sample;", -1);
		long long hi = (long long)mwd_unix_ns();

		if (exec("DELETE FROM event WHERE id < (SELECT min(id) + "
			 "(max(id) - min(id)) / 10 + 1 FROM event);"))
			return -1;
		if (lo >= 0 && prune_before(lo + (hi - lo) / 10 + 1, false))
			return -1;
	}
	return 0;
}

int db_vacuum(void)
{
	return exec("PRAGMA incremental_vacuum;");
}
