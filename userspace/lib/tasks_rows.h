/*
 * tasks_rows.h - the rows behind --tasks, --threads and --watch: loaded
 * from /proc/memwatch/{tasks,threads}, or built from /proc/PID/{stat,status}
 * without the module (event columns then hold "-"), then filtered and
 * sorted. Column names are the module's in both cases, so JSON and CSV
 * keys do not depend on where the figures came from.
 */
#ifndef MW_TASKS_ROWS_H
#define MW_TASKS_ROWS_H

#include <stdbool.h>
#include <stddef.h>

#include "mwfile.h"

struct tasks_tab {
	bool threads;		/* one row per thread */
	bool from_module;	/* false: built from /proc */
	char **cols;
	size_t ncols;
	char ***rows;		/* rows[r][c]; cells owned unless buf is set */
	char *buf;		/* the module file's text the cells point into */
	size_t buflen;
	size_t nrows, cap;
};

/*
 * Loads every process (or thread; of process @pid when @pid > 0), from
 * the module unless @no_module or it is not loaded; then from /proc,
 * calling @note (when not NULL) first. Returns 0, or 1 after printing an
 * error on stderr.
 */
int tasks_tab_load(struct tasks_tab *t, bool no_module, bool threads, int pid,
		   mw_note_fn *note);
/* Keeps the rows matching @pid (pid or tgid; 0: all) and @comm (exact; NULL: all). */
void tasks_tab_filter(struct tasks_tab *t, int pid, const char *comm);
/*
 * Resolves a sort key ("rss" -> "rss_kb", "stall" -> "stall_ns"); returns
 * the column index or -1.
 */
int tasks_tab_key(const struct tasks_tab *t, const char *key);
/* Sorts by column @col, descending unless @ascending; "-" sorts last. */
void tasks_tab_sort(struct tasks_tab *t, int col, bool ascending);
/* The default sort column for the table. */
const char *tasks_tab_default_key(const struct tasks_tab *t);
void tasks_tab_free(struct tasks_tab *t);

/* The module's columns of tasks (or threads), in its order; /proc rows use them too. */
const char *const *tasks_tab_columns(bool threads, size_t *n);
/* Whether @col is in the compact text view (JSON and CSV show them all). */
bool tasks_col_compact(const struct tasks_tab *t, const char *col);

#endif
