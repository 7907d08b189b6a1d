/*
 * fuzz_replay - memwatch-read --db over a recording whose rows come from
 * the input: replay.c's decoding of task and thread rows (latest row per
 * id between a full sample and the moment, cells of any type), of the
 * file table (zlib texts and their sizes, or plain text), counters and
 * events, then every view (text, JSON, CSV) over the rebuilt moment, the
 * --events log and a --history series.
 *
 * Input: SQL statements run one by one on a fresh file holding memwatchd's
 * schema (userspace/memwatchd/schema.sql, v3); a statement that fails is
 * skipped. Only INSERT, UPDATE and DELETE on the schema's tables are
 * allowed (an authorizer refuses ATTACH, PRAGMA, schema changes and the
 * rest), so an input cannot reach outside its file. Seeds: the INSERTs of
 * real recordings (tests/fuzz/seeds/fuzz_replay/, tests/fuzz/seed). A
 * preamble line "-- OPTS" picks options: 'j' JSON, 'c' CSV, 'a' --at
 * 2100-01-01 (the latest sample before it), 'f' filters (-p 1 -c init --top 2).
 */
#define _GNU_SOURCE
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "options.h"
#include "output.h"
#include "replay.h"
#include "views.h"

static FILE *devnull;
static char *schema;
static char path[64];

/* The schema next to this file's sources: __FILE__ is absolute (Makefile). */
static char *read_schema(void)
{
	char p[4096], *slash, *text;
	FILE *f;
	long n;

	snprintf(p, sizeof(p), "%s", __FILE__);
	slash = strrchr(p, '/');
	if (!slash)
		return NULL;
	snprintf(slash, sizeof(p) - (size_t)(slash - p), "/../../userspace/memwatchd/schema.sql");
	f = fopen(p, "r");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	text = calloc(1, (size_t)n + 1);
	if (text && fread(text, 1, (size_t)n, f) != (size_t)n) {
		free(text);
		text = NULL;
	}
	fclose(f);
	return text;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	devnull = fopen("/dev/null", "w");
	schema = read_schema();
	if (!devnull || !schema) {
		fprintf(stderr, "fuzz_replay: cannot read userspace/memwatchd/schema.sql\n");
		abort();
	}
	snprintf(path, sizeof(path), "/dev/shm/fuzz_replay.%d.db", (int)getpid());
	return 0;
}

static int only_rows(void *arg, int action, const char *a, const char *b,
		     const char *dbname, const char *trigger)
{
	(void)arg;
	(void)a;
	(void)b;
	(void)dbname;
	(void)trigger;
	switch (action) {
	case SQLITE_INSERT:
	case SQLITE_UPDATE:
	case SQLITE_DELETE:
	case SQLITE_READ:
	case SQLITE_SELECT:
	case SQLITE_FUNCTION:
	case SQLITE_TRANSACTION:
		return SQLITE_OK;
	default:
		return SQLITE_DENY;
	}
}

/* Stops a statement that runs too long (a self-joining INSERT ... SELECT). */
static int too_long(void *arg)
{
	return ++*(int *)arg > 2000;
}

/* The recording at @path: the schema, then what of the input runs. */
static bool build(const uint8_t *data, size_t size)
{
	char *sql = malloc(size + 1);
	const char *p, *tail;
	sqlite3 *db = NULL;
	sqlite3_stmt *st;
	int ticks;
	bool ok = false;

	if (!sql)
		return false;
	memcpy(sql, data, size);
	sql[size] = '\0';
	unlink(path);
	if (sqlite3_open(path, &db) != SQLITE_OK ||
	    sqlite3_exec(db, "PRAGMA synchronous=OFF; PRAGMA journal_mode=OFF;", NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_exec(db, schema, NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_exec(db, "PRAGMA application_id=1297563988; PRAGMA user_version=3;"
			 "INSERT INTO meta VALUES('magic','memwatch-recording'),"
			 "('schema_version','3'); BEGIN;", NULL, NULL, NULL) != SQLITE_OK)
		goto out;
	sqlite3_limit(db, SQLITE_LIMIT_LENGTH, 1 << 20);
	sqlite3_set_authorizer(db, only_rows, NULL);
	sqlite3_progress_handler(db, 1000, too_long, &ticks);
	for (p = sql; p && *p; p = tail) {
		tail = NULL;
		ticks = 0;
		if (sqlite3_prepare_v2(db, p, -1, &st, &tail) != SQLITE_OK) {
			/* Skip to the next statement. */
			const char *semi = strchr(p, ';');

			tail = semi ? semi + 1 : NULL;
			continue;
		}
		if (!st)
			continue;
		while (sqlite3_step(st) == SQLITE_ROW)
			;
		sqlite3_finalize(st);
	}
	sqlite3_set_authorizer(db, NULL, NULL);
	sqlite3_progress_handler(db, 0, NULL, NULL);
	ok = sqlite3_exec(db, "COMMIT;", NULL, NULL, NULL) == SQLITE_OK ||
	     sqlite3_get_autocommit(db);
out:
	sqlite3_close(db);
	free(sql);
	return ok;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mw_opts base;
	const uint8_t *nl = memchr(data, '\n', size);
	size_t pre = (size >= 3 && !memcmp(data, "-- ", 3) && nl) ? (size_t)(nl - data) : 0;
	size_t v;

	if (!build(data, size))
		return 0;
	memset(&base, 0, sizeof(base));
	base.order = -1;
	base.db = path;
	if (memchr(data, 'j', pre))
		base.format = MW_FMT_JSON;
	else if (memchr(data, 'c', pre))
		base.format = MW_FMT_CSV;
	if (memchr(data, 'a', pre))
		base.at = "2100-01-01T00:00:00Z";
	if (memchr(data, 'f', pre)) {
		base.pid = 1;
		base.comm = "init";
		base.top = 2;
	}
	for (v = 0; v < MW_MODE_COUNT; v++) {
		struct mw_opts opts = base;
		struct mw_out out;

		opts.mode = v;
		if (opts.mode == MW_MODE_HISTORY)
			opts.columns = "rss_kb,minflt";
		if (opts.mode == MW_MODE_EVENTS || opts.mode == MW_MODE_HISTORY)
			opts.at = NULL;
		if (replay_open(&opts) < 0) {
			mw_out_init(&out, &opts, devnull, mw_views[v].doc);
			mw_out_begin(&out);
			mw_views[v].show(&out, &opts);
			mw_out_end(&out);
		}
		replay_close();
	}
	unlink(path);
	return 0;
}
