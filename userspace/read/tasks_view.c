/*
 * tasks_view.c - memwatch-read --tasks and --threads: per-process and
 * per-thread memory, sorted (-s), cut (-n), filtered (-p, -c).
 *
 * Text shows a compact set of columns in human units (the sort column is
 * always among them); --json and --csv carry every column with the module's
 * names and exact values. Without the module, event columns are "-".
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mwfile.h"
#include "tasks_rows.h"
#include "util.h"
#include "views.h"

static bool process_exists(int pid)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/%d", mw_procfs(), pid);
	return access(path, F_OK) == 0;
}

static void unknown_key(const struct tasks_tab *t, const char *key)
{
	size_t c;

	fprintf(stderr, "%s: unknown sort key '%s'; columns:", mw_prog, key);
	for (c = 0; c < t->ncols; c++)
		fprintf(stderr, " %s", t->cols[c]);
	fputc('\n', stderr);
}

static void tasks_print(struct mw_out *o, const struct tasks_tab *t,
			int key, size_t nrows)
{
	const struct mw_opts *opts = o->opts;
	char **cols = xcalloc(t->ncols, sizeof(char *));
	char ***rows = xcalloc(nrows ? nrows : 1, sizeof(char **));
	size_t *pick = xcalloc(t->ncols, sizeof(size_t));
	size_t c, r, n = 0;

	for (c = 0; c < t->ncols; c++)
		if (opts->format != MW_FMT_TEXT || (int)c == key ||
		    tasks_col_compact(t, t->cols[c]))
			pick[n++] = c;
	for (c = 0; c < n; c++)
		cols[c] = t->cols[pick[c]];
	for (r = 0; r < nrows; r++) {
		rows[r] = xcalloc(n, sizeof(char *));
		for (c = 0; c < n; c++)
			rows[r][c] = t->rows[r][pick[c]];
	}
	if (opts->format == MW_FMT_JSON) {
		char *keys[] = { "source", "rows" };
		char count[32];
		char *values[] = { t->from_module ? "module" : "proc", count };

		snprintf(count, sizeof(count), "%zu", nrows);
		mw_out_kv(o, "info", keys, values, 2);
	}
	mw_out_table(o, opts->format == MW_FMT_TEXT ? NULL :
		     t->threads ? "threads" : "tasks", cols, n, rows, nrows);
	for (r = 0; r < nrows; r++)
		free(rows[r]);
	free(rows);
	free(cols);
	free(pick);
}

static int tasks_view(struct mw_out *o, const struct mw_opts *opts,
		      bool threads)
{
	/* One "without the module" note per run, not per --interval sample. */
	static bool noted;
	const char *key_name;
	struct tasks_tab t;
	size_t nrows;
	int key;

	if (tasks_tab_load(&t, opts->no_module, threads, threads ? opts->pid : 0,
			   noted ? NULL : read_note))
		return 1;
	noted = true;
	tasks_tab_filter(&t, opts->pid, opts->comm);
	if (opts->pid > 0 && !t.nrows && !process_exists(opts->pid)) {
		fprintf(stderr, "%s: no process %d\n", mw_prog, opts->pid);
		tasks_tab_free(&t);
		return 1;
	}
	key_name = opts->sort_key ? opts->sort_key : tasks_tab_default_key(&t);
	key = tasks_tab_key(&t, key_name);
	if (key < 0) {
		unknown_key(&t, key_name);
		tasks_tab_free(&t);
		return 1;
	}
	tasks_tab_sort(&t, key, opts->sort_ascending);
	nrows = t.nrows;
	if (opts->top > 0 && (size_t)opts->top < nrows)
		nrows = (size_t)opts->top;
	tasks_print(o, &t, key, nrows);
	tasks_tab_free(&t);
	return 0;
}

int tasks_show(struct mw_out *o, const struct mw_opts *opts)
{
	return tasks_view(o, opts, false);
}

int threads_show(struct mw_out *o, const struct mw_opts *opts)
{
	return tasks_view(o, opts, true);
}
