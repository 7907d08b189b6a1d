/*
 * api_recorded.c - /api/v1/events and /api/v1/memorylogs from the recording
 * (memwatchd --db), so seed 002's memory log outlives the module's ring and
 * memwatchd restarts. api_events.c parses the query and calls these when
 * there is a recording; without one it answers from the live ring.
 *
 * The cursor is the event table's id (it only grows, across runs, while the
 * module's seq restarts with each load): `since` and `last_seq` are ids
 * here, and each event carries its module seq too. Each event's JSON is
 * built from its recorded line, by the same code as the live one.
 */
#define _GNU_SOURCE
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http.h"
#include "util.h"

static sqlite3 *open_recording(struct MHD_Connection *c, enum MHD_Result *res)
{
	sqlite3 *db = NULL;

	if (sqlite3_open_v2(serve_cfg.db_path, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK) {
		*res = http_error(c, 503, "recording %s: %s", serve_cfg.db_path,
				  db ? sqlite3_errmsg(db) : "cannot open");
		sqlite3_close(db);
		return NULL;
	}
	sqlite3_busy_timeout(db, 2000);
	return db;
}

static enum MHD_Result db_error(struct MHD_Connection *c, sqlite3 *db)
{
	enum MHD_Result res = http_error(c, 503, "recording %s: %s", serve_cfg.db_path,
					 sqlite3_errmsg(db));

	sqlite3_close(db);
	return res;
}

static const char *col_text(sqlite3_stmt *st, int i)
{
	const unsigned char *s = sqlite3_column_text(st, i);

	return s ? (const char *)s : "";
}

/* Columns 0..7: id seq time_ns kind pid tid args comm. */
static json_t *row_event(sqlite3_stmt *st)
{
	const char *args = col_text(st, 6);
	char *line;
	json_t *j;

	if (asprintf(&line, "%lld %lld %s %lld %lld%s%s comm=%s",
		     (long long)sqlite3_column_int64(st, 1), (long long)sqlite3_column_int64(st, 2),
		     col_text(st, 3), (long long)sqlite3_column_int64(st, 4),
		     (long long)sqlite3_column_int64(st, 5), *args ? " " : "", args,
		     col_text(st, 7)) < 0)
		return json_object();
	j = event_json_line(line);
	free(line);
	json_object_set_new(j, "id", json_integer(sqlite3_column_int64(st, 0)));
	return j;
}

enum MHD_Result recorded_events(struct MHD_Connection *c, long long since,
				long long pid, const char *call, long long limit)
{
	/* Without since: the newest @limit, oldest first; with: the first after it. */
	static const char *const sql_newest =
		"SELECT * FROM (SELECT id, seq, time_ns, kind, pid, tid, args, comm FROM event "
		"WHERE (?1 < 0 OR pid = ?1) AND (?2 IS NULL OR kind = ?2) "
		"ORDER BY id DESC LIMIT ?3) ORDER BY id";
	static const char *const sql_since =
		"SELECT id, seq, time_ns, kind, pid, tid, args, comm FROM event "
		"WHERE id > ?4 AND (?1 < 0 OR pid = ?1) AND (?2 IS NULL OR kind = ?2) "
		"ORDER BY id LIMIT ?3";
	enum MHD_Result res;
	sqlite3_stmt *st;
	sqlite3 *db = open_recording(c, &res);
	json_t *arr;
	long long last = 0, n = 0;
	int rc;

	if (!db)
		return res;
	if (sqlite3_prepare_v2(db, since >= 0 ? sql_since : sql_newest, -1, &st, NULL) != SQLITE_OK)
		return db_error(c, db);
	sqlite3_bind_int64(st, 1, pid);
	if (call)
		sqlite3_bind_text(st, 2, call, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, limit);
	sqlite3_bind_int64(st, 4, since);
	arr = json_array();
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		json_array_append_new(arr, row_event(st));
		last = sqlite3_column_int64(st, 0);
		n++;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		json_decref(arr);
		return db_error(c, db);
	}
	/* A full page ends at its last event; otherwise everything up to now was seen. */
	if (since < 0 || n < limit) {
		if (sqlite3_prepare_v2(db, "SELECT coalesce(max(id), 0) FROM event", -1, &st,
				       NULL) != SQLITE_OK) {
			json_decref(arr);
			return db_error(c, db);
		}
		if (sqlite3_step(st) == SQLITE_ROW)
			last = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
		if (since > last)
			last = since;
	}
	sqlite3_close(db);
	return http_json(c, 200, json_pack("{s:s, s:I, s:o}", "source", "recording",
		"last_seq", (json_int_t)last, "events", arr));
}

enum MHD_Result recorded_memorylogs(struct MHD_Connection *c, long long limit)
{
	enum MHD_Result res;
	sqlite3_stmt *st;
	sqlite3 *db = open_recording(c, &res);
	double total = (double)meminfo_total_kb() * 1024;
	json_t *arr;
	int rc;

	if (!db)
		return res;
	if (sqlite3_prepare_v2(db, "SELECT id, seq, time_unix_ns, kind, pid, coalesce(size, 0), "
			       "coalesce(result, 0), comm FROM event WHERE kind IN ('mmap', 'munmap') "
			       "ORDER BY id DESC LIMIT ?1", -1, &st, NULL) != SQLITE_OK)
		return db_error(c, db);
	sqlite3_bind_int64(st, 1, limit);
	arr = json_array();
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		long long len = sqlite3_column_int64(st, 5);

		json_array_append_new(arr, memorylog_json(sqlite3_column_int64(st, 1),
			sqlite3_column_int64(st, 4), col_text(st, 7), col_text(st, 3), len,
			sqlite3_column_int64(st, 2), sqlite3_column_int64(st, 6), total,
			"recording"));
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		json_decref(arr);
		return db_error(c, db);
	}
	sqlite3_close(db);
	return http_json(c, 200, arr);
}
