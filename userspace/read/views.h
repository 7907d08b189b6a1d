/*
 * views.h - one function per view. show() prints one sample through the
 * writer and returns an exit status (0, or 1 after printing an error);
 * main.c runs it once or every --interval seconds.
 */
#ifndef MW_VIEWS_H
#define MW_VIEWS_H

#include <stdbool.h>

#include "options.h"
#include "output.h"

int summary_show(struct mw_out *o, const struct mw_opts *opts);
int status_show(struct mw_out *o, const struct mw_opts *opts);
int tasks_show(struct mw_out *o, const struct mw_opts *opts);
int threads_show(struct mw_out *o, const struct mw_opts *opts);
/* Full-screen top-like view (ncurses); returns the exit status. */
int tasks_watch(const struct mw_opts *opts);
int frag_show(struct mw_out *o, const struct mw_opts *opts);
int nodes_show(struct mw_out *o, const struct mw_opts *opts);
int frag_events_show(struct mw_out *o, const struct mw_opts *opts);
int sys_show(struct mw_out *o, const struct mw_opts *opts);
int reclaim_show(struct mw_out *o, const struct mw_opts *opts);
int allocfail_show(struct mw_out *o, const struct mw_opts *opts);
int cluster_show(struct mw_out *o, const struct mw_opts *opts);	/* --cluster URL */

/* A view: the name its output is documented under, and its show(). */
struct mw_view {
	const char *doc;
	int (*show)(struct mw_out *o, const struct mw_opts *opts);
};
/* By mode (view_table.c); EVENTS and HISTORY answer from a recording only. */
extern const struct mw_view mw_views[MW_MODE_COUNT];
extern const struct mw_view mw_cluster_view;

/* Whether PID is a process now (under MEMWATCH_PROCFS): for -p errors. */
bool mw_process_exists(int pid);

/* The one line every view prints when it answers without the module. */
void mw_note_no_module(const struct mw_opts *opts, const char *what);
/* The same, as the library's loaders call it (mw_note_fn). */
void read_note(bool no_module, const char *what);

#endif
