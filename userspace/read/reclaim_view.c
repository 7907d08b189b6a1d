/*
 * reclaim_view.c - memwatch-read --reclaim: page reclaim and stalls.
 *
 * Text and JSON: the counters ("reclaim"), the direct-reclaim stall
 * histogram (buckets with a count only, in text) and the recent episodes
 * (newest last; -n N keeps the last N). CSV: the counters only, as
 * name,value rows, so --interval output stays one table.
 *
 * Without the module the counters the kernel keeps in /proc/vmstat are
 * shown (pgscan, pgsteal, allocstall, kswapd runs); stall times and
 * episodes need the module.
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

static const char *const reclaim_vmstat_keys[] = {
	"pgscan_kswapd", "pgscan_direct", "pgscan_khugepaged",
	"pgsteal_kswapd", "pgsteal_direct", "pgsteal_khugepaged",
	"pgscan_anon", "pgscan_file", "pgsteal_anon", "pgsteal_file",
	"allocstall_dma", "allocstall_dma32", "allocstall_normal",
	"allocstall_movable", "pageoutrun", "kswapd_low_wmark_hit_quickly",
	"kswapd_high_wmark_hit_quickly", "pgrefill", "pgactivate",
	"pgdeactivate", "slabs_scanned", "workingset_refault_anon",
	"workingset_refault_file", "oom_kill",
};

static int reclaim_show_proc(struct mw_out *o)
{
	char *vmstat = sys_proc_read("vmstat");
	struct sys_kv kv = { 0 };
	size_t i;

	if (!vmstat) {
		fprintf(stderr, "%s: %s/vmstat: cannot read\n", mw_prog, mw_procfs());
		return 1;
	}
	for (i = 0; i < sizeof(reclaim_vmstat_keys) / sizeof(reclaim_vmstat_keys[0]); i++) {
		long long v;

		if (sys_proc_get(vmstat, reclaim_vmstat_keys[i], &v))
			sys_kv_add(&kv, reclaim_vmstat_keys[i], "%lld", v);
	}
	mw_out_kv(o, "vmstat", kv.keys, kv.vals, kv.n);
	sys_kv_free(&kv);
	free(vmstat);
	return 0;
}

static void reclaim_print_hist(struct mw_out *o, const struct mw_section *h)
{
	int cc = mw_section_col(h, "count");
	struct sys_rows t;
	size_t r;

	if (o->opts->format == MW_FMT_JSON || cc < 0) {
		mw_out_table(o, "stall_hist", h->cols, h->ncols, h->rows, h->nrows);
		return;
	}
	sys_rows_init(&t, h->ncols);
	for (r = 0; r < h->nrows; r++)
		if (strcmp(h->rows[r][cc], "0"))
			sys_rows_add(&t, h->rows[r]);
	if (t.n)
		mw_out_table(o, "direct-reclaim stalls (latency histogram)",
			     h->cols, h->ncols, t.rows, t.n);
	sys_rows_free(&t);
}

static void reclaim_print_episodes(struct mw_out *o, const struct mw_section *e,
				   const char *now)
{
	const struct mw_opts *opts = o->opts;
	int cs = mw_section_col(e, "start_ns");
	size_t first = 0, r, c, ncols = e->ncols + 1;
	unsigned long long now_ns = now ? strtoull(now, NULL, 10) : 0;
	char **cols = xcalloc(ncols, sizeof(char *));
	char **cells = xcalloc(ncols, sizeof(char *));
	struct sys_rows t;

	if (opts->top && (size_t)opts->top < e->nrows)
		first = e->nrows - (size_t)opts->top;
	if (opts->format != MW_FMT_TEXT || cs < 0 || !now_ns) {
		mw_out_table(o, "episodes", e->cols, e->ncols, e->rows + first,
			     e->nrows - first);
		free(cols);
		free(cells);
		return;
	}
	/* For people: "ago" in place of the raw clock reading. */
	ncols = e->ncols;
	for (c = 0; c < e->ncols; c++)
		cols[c] = (int)c == cs ? "ago" : e->cols[c];
	sys_rows_init(&t, ncols);
	for (r = first; r < e->nrows; r++) {
		unsigned long long s = strtoull(e->rows[r][cs], NULL, 10);
		char ago[32];

		sys_ago(now_ns > s ? now_ns - s : 0, ago, sizeof(ago));
		for (c = 0; c < e->ncols; c++)
			cells[c] = (int)c == cs ? ago : e->rows[r][c];
		sys_rows_add(&t, cells);
	}
	mw_out_table(o, "recent episodes", cols, ncols, t.rows, t.n);
	sys_rows_free(&t);
	free(cols);
	free(cells);
}

int reclaim_show(struct mw_out *o, const struct mw_opts *opts)
{
	const struct mw_section *kvs, *h, *e;
	struct mw_file f;
	char err[512];
	static bool noted;

	if (opts->no_module || !mw_module_present()) {
		if (!noted) {
			mw_note_no_module(opts, "reclaim counters");
			noted = true;
		}
		return reclaim_show_proc(o);
	}
	if (mw_file_load(&f, MW_FILE_RECLAIM, err, sizeof(err))) {
		fprintf(stderr, "%s: %s\n", mw_prog, err);
		return 1;
	}
	kvs = mw_file_section(&f, "");
	if (kvs && kvs->ncols == 2) {
		char **keys = xcalloc(kvs->nrows + 1, sizeof(char *));
		char **vals = xcalloc(kvs->nrows + 1, sizeof(char *));
		size_t r, n = 0;

		for (r = 0; r < kvs->nrows; r++) {
			if (!strcmp(kvs->rows[r][0], "now_ns"))
				continue;
			keys[n] = kvs->rows[r][0];
			vals[n++] = kvs->rows[r][1];
		}
		mw_out_kv(o, "reclaim", keys, vals, n);
		free(keys);
		free(vals);
	}
	if (opts->format != MW_FMT_CSV) {
		h = mw_file_section(&f, "stall_hist");
		if (h)
			reclaim_print_hist(o, h);
		e = mw_file_section(&f, "episodes");
		if (e)
			reclaim_print_episodes(o, e, mw_file_value(&f, "now_ns"));
	}
	mw_file_free(&f);
	return 0;
}
