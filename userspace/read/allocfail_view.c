/*
 * allocfail_view.c - memwatch-read --allocfail (--paf): page allocation
 * failures.
 *
 * Text and JSON: the totals, failures per order and per gfp class (text:
 * non-zero only), and the last failures (newest last; -n N keeps the last
 * N, --order N only that order, -c NAME only that command). CSV: the
 * failure rows only, so --interval output stays one table.
 *
 * Needs the module: the kernel keeps no record of failed allocations
 * (warn_alloc() prints some, rate limited, never the __GFP_NOWARN ones).
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "memwatch_abi.h"
#include "mwfile.h"
#include "sys_util.h"
#include "util.h"
#include "views.h"

static void allocfail_print_nonzero(struct mw_out *o, const char *title,
				    const struct mw_section *s)
{
	int cc = mw_section_col(s, "failures");
	struct sys_rows t;
	size_t r;

	if (o->opts->format == MW_FMT_JSON || cc < 0) {
		mw_out_table(o, s->title, s->cols, s->ncols, s->rows, s->nrows);
		return;
	}
	sys_rows_init(&t, s->ncols);
	for (r = 0; r < s->nrows; r++)
		if (strcmp(s->rows[r][cc], "0"))
			sys_rows_add(&t, s->rows[r]);
	if (t.n)
		mw_out_table(o, title, s->cols, s->ncols, t.rows, t.n);
	sys_rows_free(&t);
}

static bool allocfail_row_wanted(const struct mw_opts *opts,
				 const struct mw_section *s, char **row)
{
	int co = mw_section_col(s, "order"), cc = mw_section_col(s, "comm");

	if (opts->order >= 0 && co >= 0 && atoi(row[co]) != opts->order)
		return false;
	if (opts->comm && cc >= 0 && strcmp(row[cc], opts->comm))
		return false;
	if (opts->pid) {
		int cp = mw_section_col(s, "pid");

		if (cp >= 0 && atoi(row[cp]) != opts->pid)
			return false;
	}
	return true;
}

static void allocfail_print_ring(struct mw_out *o, const struct mw_section *s,
				 const char *now)
{
	const struct mw_opts *opts = o->opts;
	bool text = opts->format == MW_FMT_TEXT;
	int ct = mw_section_col(s, "time_ns"), cg = mw_section_col(s, "gfp");
	unsigned long long now_ns = now ? strtoull(now, NULL, 10) : 0;
	char **cols = xcalloc(s->ncols, sizeof(char *));
	char **cells = xcalloc(s->ncols, sizeof(char *));
	struct sys_rows t;
	size_t r, c, n = 0, first = 0;
	size_t *pick = xcalloc(s->ncols, sizeof(size_t));

	/* Text: "ago" for the clock reading; the hex gfp only in JSON/CSV. */
	for (c = 0; c < s->ncols; c++) {
		if (text && (int)c == cg)
			continue;
		pick[n] = c;
		cols[n++] = text && (int)c == ct && now_ns ? "ago" : s->cols[c];
	}
	sys_rows_init(&t, n);
	for (r = 0; r < s->nrows; r++) {
		char ago[32];

		if (!allocfail_row_wanted(opts, s, s->rows[r]))
			continue;
		for (c = 0; c < n; c++) {
			cells[c] = s->rows[r][pick[c]];
			if (text && (int)pick[c] == ct && now_ns) {
				unsigned long long v = strtoull(cells[c], NULL, 10);

				sys_ago(now_ns > v ? now_ns - v : 0, ago, sizeof(ago));
				cells[c] = ago;
			}
		}
		sys_rows_add(&t, cells);
	}
	if (opts->top && (size_t)opts->top < t.n)
		first = t.n - (size_t)opts->top;
	mw_out_table(o, text ? "last failures" : "failures", cols, n,
		     t.rows + first, t.n - first);
	sys_rows_free(&t);
	free(cols);
	free(cells);
	free(pick);
}

int allocfail_show(struct mw_out *o, const struct mw_opts *opts)
{
	const struct mw_section *s;
	struct mw_file f;
	char err[512];

	if (opts->no_module) {
		fprintf(stderr, "%s: --allocfail needs the module: the kernel keeps no record of failed allocations\n",
			mw_prog);
		return 1;
	}
	if (mw_file_load(&f, MW_FILE_ALLOCFAIL, err, sizeof(err))) {
		fprintf(stderr, "%s: %s\n", mw_prog, err);
		return 1;
	}
	/* A pid gone now may still have failures in the ring: only both is an error. */
	if (opts->pid && !mw_process_exists(opts->pid)) {
		size_t r, n = 0;

		s = mw_file_section(&f, "failures");
		for (r = 0; s && r < s->nrows; r++)
			n += allocfail_row_wanted(opts, s, s->rows[r]);
		if (!n) {
			fprintf(stderr, "%s: no process %d, and no failure recorded for it\n",
				mw_prog, opts->pid);
			mw_file_free(&f);
			return 1;
		}
	}
	if (opts->format != MW_FMT_CSV) {
		s = mw_file_section(&f, "");
		if (s && s->ncols == 2) {
			char **keys = xcalloc(s->nrows + 1, sizeof(char *));
			char **vals = xcalloc(s->nrows + 1, sizeof(char *));
			size_t r, n = 0;

			for (r = 0; r < s->nrows; r++) {
				if (!strcmp(s->rows[r][0], "now_ns"))
					continue;
				keys[n] = s->rows[r][0];
				vals[n++] = s->rows[r][1];
			}
			mw_out_kv(o, "allocfail", keys, vals, n);
			free(keys);
			free(vals);
		}
		if ((s = mw_file_section(&f, "by_order")))
			allocfail_print_nonzero(o, "failures per order", s);
		if ((s = mw_file_section(&f, "by_class")))
			allocfail_print_nonzero(o, "failures per gfp class", s);
		if ((s = mw_file_section(&f, "by_zone")))
			allocfail_print_nonzero(o, "failures per preferred zone", s);
	}
	s = mw_file_section(&f, "failures");
	if (s)
		allocfail_print_ring(o, s, mw_file_value(&f, "now_ns"));
	mw_file_free(&f);
	return 0;
}
