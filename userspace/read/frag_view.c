/*
 * frag_view.c - memwatch-read --frag, --nodes and --frag-events.
 *
 * --frag: per zone, free blocks per order (in total and per migrate type),
 * blocks suitable for an allocation of that order, unusable_index and
 * extfrag_index; in text a table and a bar chart per zone sized for 80
 * columns, in JSON "zones" and "orders" tables (and the module's counters),
 * in CSV the one long-format "orders" table (node,zone,order,...) so a
 * recording with --interval plots directly. --nodes: memory nodes.
 * --frag-events: the module's mm_page_alloc_extfrag counts per process.
 * Without the module, zones come from /proc/buddyinfo, pagetypeinfo and
 * zoneinfo; module-only figures are "-" (null-like strings in JSON).
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "frag_data.h"
#include "memwatch_abi.h"
#include "mwfile.h"
#include "util.h"
#include "mwsnap.h"
#include "views.h"

/* The bar chart: "ORD" + blocks bar + count + unusable bar + index <= 80. */
#define FRAG_BLOCKS_BAR		36
#define FRAG_INDEX_BAR		20

/* Rows of strings we own: cells freed with the table. */
struct frag_rows {
	char ***rows;
	size_t nrows;
	size_t ncols;
};

static char **frag_row_new(struct frag_rows *t)
{
	t->rows = xreallocarray(t->rows, t->nrows + 1, sizeof(*t->rows));
	t->rows[t->nrows] = xcalloc(t->ncols, sizeof(char *));
	return t->rows[t->nrows++];
}

static void frag_rows_free(struct frag_rows *t)
{
	size_t r, c;

	for (r = 0; r < t->nrows; r++) {
		for (c = 0; c < t->ncols; c++)
			free(t->rows[r][c]);
		free(t->rows[r]);
	}
	free(t->rows);
	memset(t, 0, sizeof(*t));
}

static char *fmt_long(long v)
{
	char buf[32];

	if (v < 0)
		return xstrdup("-");
	snprintf(buf, sizeof(buf), "%ld", v);
	return xstrdup(buf);
}

static char *fmt_ulong(unsigned long v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%lu", v);
	return xstrdup(buf);
}

static bool frag_zone_wanted(const struct frag_zone *z, const struct mw_opts *opts)
{
	return !opts->zone || !strcasecmp(z->name, opts->zone);
}

static int frag_check_filters(const struct frag_snap *s, const struct mw_opts *opts)
{
	size_t i;

	if (opts->order >= s->nr_orders) {
		fprintf(stderr, "%s: no order %d: this kernel has orders 0..%d\n",
			mw_prog, opts->order, s->nr_orders - 1);
		return 1;
	}
	if (!opts->zone)
		return 0;
	for (i = 0; i < s->nzones; i++)
		if (frag_zone_wanted(&s->zones[i], opts))
			return 0;
	fprintf(stderr, "%s: no zone '%s' (zones:", mw_prog, opts->zone);
	for (i = 0; i < s->nzones; i++)
		fprintf(stderr, "%s %s", i ? "," : "", s->zones[i].name);
	fprintf(stderr, ")\n");
	return 1;
}

/* ---- the long "orders" table (JSON, CSV, and the source of the text) ---- */

enum {
	OC_NODE, OC_ZONE, OC_ORDER, OC_BLOCKS, OC_PAGES, OC_SUITABLE,
	OC_UNUSABLE, OC_EXTFRAG, OC_MT0,
	OC_CAPPED = OC_MT0 + FRAG_NR_MT,
	OC_NR,
};

static char *frag_order_cols[OC_NR] = {
	"node", "zone", "order", "free_blocks", "free_pages", "suitable_blocks",
	"unusable_index", "extfrag_index",
	"unmovable", "movable", "reclaimable", "highatomic", "cma", "isolate",
	"mt_capped",
};

/* Short labels so the text table fits 80 columns; same order as above. */
static char *frag_text_cols[OC_NR] = {
	"node", "zone", "order", "blocks", "pages", "suitable", "unusable",
	"extfrag", "unmov", "mov", "recl", "hiatom", "cma", "isol", "capped",
};

static void frag_order_row(struct frag_rows *t, const struct frag_snap *s,
			   const struct frag_zone *z, int order)
{
	char **row = frag_row_new(t);
	struct frag_contig info;
	char buf[32];
	bool known = true;
	int c;

	frag_contig_info(z->nr_free, s->nr_orders, order, &info);
	snprintf(buf, sizeof(buf), "%d", z->node);
	row[OC_NODE] = xstrdup(buf);
	row[OC_ZONE] = xstrdup(z->name);
	snprintf(buf, sizeof(buf), "%d", order);
	row[OC_ORDER] = xstrdup(buf);
	row[OC_BLOCKS] = fmt_ulong(z->nr_free[order]);
	row[OC_PAGES] = fmt_ulong(z->nr_free[order] << order);
	row[OC_SUITABLE] = fmt_ulong(info.free_blocks_suitable);
	frag_index_str(frag_unusable_index(order, &info), buf, sizeof(buf));
	row[OC_UNUSABLE] = xstrdup(buf);
	frag_index_str(frag_extfrag_index(order, &info), buf, sizeof(buf));
	row[OC_EXTFRAG] = xstrdup(buf);
	for (c = 0; c < FRAG_NR_MT; c++) {
		row[OC_MT0 + c] = fmt_long(z->mt_free[order][c]);
		if (z->mt_free[order][c] < 0)
			known = false;
	}
	row[OC_CAPPED] = known ? xstrdup(z->mt_capped[order] ? "1" : "0") :
				 xstrdup("-");
}

static void frag_build_orders(struct frag_rows *t, const struct frag_snap *s,
			      const struct frag_zone *only,
			      const struct mw_opts *opts)
{
	size_t i;
	int o;

	t->ncols = OC_NR;
	for (i = 0; i < s->nzones; i++) {
		const struct frag_zone *z = &s->zones[i];

		if ((only && z != only) || !frag_zone_wanted(z, opts))
			continue;
		for (o = 0; o < s->nr_orders; o++)
			if (opts->order < 0 || opts->order == o)
				frag_order_row(t, s, z, o);
	}
}

/* ---- text ---- */

static const char *frag_ansi(const struct mw_opts *opts, const char *code)
{
	return opts->color ? code : "";
}

static void frag_bar(FILE *fp, unsigned long v, unsigned long max, int width,
		     bool min_one)
{
	int n = max ? (int)(v * (unsigned long long)width / max) : 0;
	int i;

	/* Any free block shows: a tail of one '#' beats an invisible order. */
	if (v && !n && min_one)
		n = 1;
	if (n > width)
		n = width;
	for (i = 0; i < width; i++)
		fputc(i < n ? '#' : ' ', fp);
}

static void frag_text_chart(struct mw_out *o, const struct frag_snap *s,
			    const struct frag_zone *z)
{
	const struct mw_opts *opts = o->opts;
	unsigned long max = 0;
	int ord;

	for (ord = 0; ord < s->nr_orders; ord++)
		if (z->nr_free[ord] > max)
			max = z->nr_free[ord];
	fprintf(o->fp, "\n%-3s %-*s %7s  %-*s %s\n", "ORD", FRAG_BLOCKS_BAR,
		"FREE BLOCKS", "", FRAG_INDEX_BAR, "UNUSABLE INDEX", "");
	for (ord = 0; ord < s->nr_orders; ord++) {
		struct frag_contig info;
		int idx;
		char buf[16];
		const char *col;

		if (opts->order >= 0 && opts->order != ord)
			continue;
		frag_contig_info(z->nr_free, s->nr_orders, ord, &info);
		idx = frag_unusable_index(ord, &info);
		frag_index_str(idx, buf, sizeof(buf));
		col = idx < 300 ? "\033[32m" : idx < 700 ? "\033[33m" : "\033[31m";
		fprintf(o->fp, "%3d %s", ord, frag_ansi(opts, "\033[36m"));
		frag_bar(o->fp, z->nr_free[ord], max, FRAG_BLOCKS_BAR, true);
		fprintf(o->fp, "%s %7lu  %s", frag_ansi(opts, "\033[0m"),
			z->nr_free[ord], frag_ansi(opts, col));
		frag_bar(o->fp, idx < 0 ? 0 : (unsigned long)idx, 1000,
			 FRAG_INDEX_BAR, false);
		fprintf(o->fp, "%s %s\n", frag_ansi(opts, "\033[0m"), buf);
	}
}

static void frag_pages_str(const struct mw_opts *opts, long pages, char *buf,
			   size_t len)
{
	if (pages < 0)
		snprintf(buf, len, "-");
	else if (opts->exact)
		snprintf(buf, len, "%ld pages", pages);
	else
		human_bytes((unsigned long long)pages * 4096, buf, len);
}

static void frag_text_zone(struct mw_out *o, const struct frag_snap *s,
			   const struct frag_zone *z)
{
	const struct mw_opts *opts = o->opts;
	char title[256], m[32], f[32], lo[32], mi[32], hi[32];
	char *cols[OC_NR];
	struct frag_rows t = { 0 };
	size_t ncols = 0, r;
	int c, keep[OC_NR];

	frag_pages_str(opts, z->managed, m, sizeof(m));
	frag_pages_str(opts, z->free, f, sizeof(f));
	frag_pages_str(opts, z->wmark_min, mi, sizeof(mi));
	frag_pages_str(opts, z->wmark_low, lo, sizeof(lo));
	frag_pages_str(opts, z->wmark_high, hi, sizeof(hi));
	snprintf(title, sizeof(title),
		 "%sNode %d, zone %s%s: managed %s, free %s\nwatermarks: min %s, low %s, high %s",
		 frag_ansi(opts, "\033[1m"), z->node, z->name,
		 frag_ansi(opts, "\033[0m"), m, f, mi, lo, hi);
	frag_build_orders(&t, s, z, opts);

	/*
	 * Node and zone are in the title; rare migrate types (highatomic,
	 * cma, isolate) only when this zone has some, so the table fits 80
	 * columns. JSON and CSV always carry every column.
	 */
	for (c = OC_ORDER; c < OC_NR; c++) {
		bool show = true;

		if (c == OC_MT0 + 3 || c == OC_MT0 + 4 || c == OC_MT0 + 5 ||
		    c == OC_CAPPED) {
			show = false;
			for (r = 0; r < t.nrows; r++)
				if (strcmp(t.rows[r][c], "0") &&
				    strcmp(t.rows[r][c], "-"))
					show = true;
		}
		if (show) {
			keep[ncols] = c;
			cols[ncols++] = frag_text_cols[c];
		}
	}
	{
		char ***rows = xcalloc(t.nrows ? t.nrows : 1, sizeof(*rows));

		for (r = 0; r < t.nrows; r++) {
			rows[r] = xcalloc(ncols, sizeof(char *));
			for (c = 0; c < (int)ncols; c++)
				rows[r][c] = t.rows[r][keep[c]];
		}
		mw_out_table(o, title, cols, ncols, rows, t.nrows);
		for (r = 0; r < t.nrows; r++)
			free(rows[r]);
		free(rows);
	}
	frag_rows_free(&t);
	frag_text_chart(o, s, z);
}

/* ---- --frag ---- */

static void frag_out_zones(struct mw_out *o, const struct frag_snap *s)
{
	char *cols[] = { "node", "zone", "start_pfn", "spanned_pages",
			 "present_pages", "managed_pages", "free_pages",
			 "min_pages", "low_pages", "high_pages" };
	struct frag_rows t = { .ncols = 10 };
	char buf[32];
	size_t i;

	for (i = 0; i < s->nzones; i++) {
		const struct frag_zone *z = &s->zones[i];
		char **row;

		if (!frag_zone_wanted(z, o->opts))
			continue;
		row = frag_row_new(&t);
		snprintf(buf, sizeof(buf), "%d", z->node);
		row[0] = xstrdup(buf);
		row[1] = xstrdup(z->name);
		row[2] = fmt_long(z->start_pfn);
		row[3] = fmt_long(z->spanned);
		row[4] = fmt_long(z->present);
		row[5] = fmt_long(z->managed);
		row[6] = fmt_long(z->free);
		row[7] = fmt_long(z->wmark_min);
		row[8] = fmt_long(z->wmark_low);
		row[9] = fmt_long(z->wmark_high);
	}
	mw_out_table(o, "zones", cols, t.ncols, t.rows, t.nrows);
	frag_rows_free(&t);
}

static void frag_out_counters(struct mw_out *o, const struct frag_snap *s)
{
	static const char *const names[] = {
		"compact_begin", "compact_end", "compact_end_success",
		"compact_deferred", "compact_defer", "compact_kcompactd_wake",
		"compact_migrated_pages", "extfrag_events", "extfrag_fragmenting",
	};
	char *keys[sizeof(names) / sizeof(names[0])];
	char *values[sizeof(names) / sizeof(names[0])];
	size_t i, j, n = sizeof(names) / sizeof(names[0]);

	/* Always the same keys: "-" (unavailable) without the module. */
	for (i = 0; i < n; i++) {
		keys[i] = (char *)names[i];
		values[i] = "-";
		for (j = 0; j < s->nkv; j++)
			if (!strcmp(s->keys[j], names[i]))
				values[i] = s->values[j];
	}
	if (o->opts->format == MW_FMT_JSON && s->from_module) {
		/* JSON gets every counter the module prints. */
		mw_out_kv(o, "counters", s->keys, s->values, s->nkv);
		return;
	}
	mw_out_kv(o, "counters", keys, values, n);
}

int frag_show(struct mw_out *o, const struct mw_opts *opts)
{
	static bool noted;
	struct frag_snap s;
	struct frag_rows t = { 0 };
	size_t i;

	if (frag_snap_load(&s, opts->no_module, noted ? NULL : read_note))
		return 1;
	noted = true;
	if (frag_check_filters(&s, opts)) {
		frag_snap_free(&s);
		return 1;
	}
	switch (opts->format) {
	case MW_FMT_TEXT:
		for (i = 0; i < s.nzones; i++) {
			if (!frag_zone_wanted(&s.zones[i], opts))
				continue;
			if (o->ntables)
				fputc('\n', o->fp);
			frag_text_zone(o, &s, &s.zones[i]);
		}
		if (!opts->zone && opts->order < 0) {
			fputc('\n', o->fp);
			frag_out_counters(o, &s);
		}
		break;
	case MW_FMT_JSON:
		frag_out_zones(o, &s);
		frag_build_orders(&t, &s, NULL, opts);
		mw_out_table(o, "orders", frag_order_cols, OC_NR, t.rows, t.nrows);
		frag_out_counters(o, &s);
		break;
	case MW_FMT_CSV:
		frag_build_orders(&t, &s, NULL, opts);
		mw_out_table(o, "orders", frag_order_cols, OC_NR, t.rows, t.nrows);
		break;
	}
	frag_rows_free(&t);
	frag_snap_free(&s);
	return 0;
}

/* ---- --nodes ---- */

struct frag_node {
	int node;
	long start, end, present, nr_zones;
	char zones[128];
};

/* Without the module: a node's span and zones from /proc/zoneinfo. */
static int frag_nodes_procfs(struct frag_rows *t)
{
	char path[4096], *text, *line;
	struct frag_node *nodes = NULL, *cur = NULL;
	size_t n = 0, i;
	long start = -1, spanned = 0, present = 0;
	char zname[32] = "";

	snprintf(path, sizeof(path), "%s/zoneinfo", mw_procfs());
	text = read_whole_file(path);
	if (!text) {
		fprintf(stderr, "%s: cannot read %s: %m\n", mw_prog, path);
		return 1;
	}
	/* A trailing "Node" sentinel flushes the last zone. */
	for (line = strtok(text, "\n");; line = strtok(NULL, "\n")) {
		int node = -1;
		char name[32];
		long v;
		bool head = line && sscanf(line, "Node %d, zone %31s", &node, name) == 2;

		if ((head || !line) && cur && zname[0] && spanned > 0) {
			if (cur->start < 0 || start < cur->start)
				cur->start = start;
			if (start + spanned > cur->end)
				cur->end = start + spanned;
			cur->present += present;
			if (present > 0) {
				size_t l = strlen(cur->zones);

				snprintf(cur->zones + l, sizeof(cur->zones) - l,
					 "%s%s", l ? "," : "", zname);
				cur->nr_zones++;
			}
		}
		if (!line)
			break;
		if (head) {
			cur = NULL;
			for (i = 0; i < n; i++)
				if (nodes[i].node == node)
					cur = &nodes[i];
			if (!cur) {
				nodes = xreallocarray(nodes, n + 1, sizeof(*nodes));
				cur = &nodes[n++];
				memset(cur, 0, sizeof(*cur));
				cur->node = node;
				cur->start = -1;
			}
			snprintf(zname, sizeof(zname), "%s", name);
			start = -1;
			spanned = present = 0;
		} else if (sscanf(line, " spanned %ld", &v) == 1) {
			spanned = v;
		} else if (sscanf(line, " present %ld", &v) == 1) {
			present = v;
		} else if (sscanf(line, " start_pfn: %ld", &v) == 1) {
			start = v;
		}
	}
	free(text);
	t->ncols = 6;
	for (i = 0; i < n; i++) {
		char **row = frag_row_new(t);
		char buf[32];

		snprintf(buf, sizeof(buf), "%d", nodes[i].node);
		row[0] = xstrdup(buf);
		row[1] = fmt_long(nodes[i].start < 0 ? 0 : nodes[i].start);
		row[2] = fmt_long(nodes[i].start < 0 ? 0 : nodes[i].end - nodes[i].start);
		row[3] = fmt_long(nodes[i].present);
		row[4] = fmt_long(nodes[i].nr_zones);
		row[5] = xstrdup(nodes[i].zones[0] ? nodes[i].zones : "-");
	}
	free(nodes);
	return 0;
}

int nodes_show(struct mw_out *o, const struct mw_opts *opts)
{
	static char *cols[] = { "node", "start_pfn", "spanned_pages",
				"present_pages", "nr_zones", "zones" };
	static bool noted;
	const struct mw_section *sec;
	struct frag_rows t = { 0 };
	struct mw_file f;
	char err[512];

	if (opts->no_module || !mw_module_present()) {
		if (!noted)
			mw_note_no_module(opts, "nodes");
		noted = true;
		if (frag_nodes_procfs(&t))
			return 1;
		mw_out_table(o, "nodes", cols, 6, t.rows, t.nrows);
		frag_rows_free(&t);
		return 0;
	}
	if (mw_file_load(&f, MW_FILE_NODES, err, sizeof(err))) {
		fprintf(stderr, "%s: %s\n", mw_prog, err);
		return 1;
	}
	sec = mw_file_section(&f, "");
	if (!sec || mw_section_col(sec, "node") < 0) {
		fprintf(stderr, "%s: %s/%s: no node table\n", mw_prog, mw_root(),
			MW_FILE_NODES);
		mw_file_free(&f);
		return 1;
	}
	mw_out_table(o, "nodes", sec->cols, sec->ncols, sec->rows, sec->nrows);
	mw_file_free(&f);
	return 0;
}

/* ---- --frag-events ---- */

static int frag_sort_col;
static bool frag_sort_asc;

static int frag_cmp_rows(const void *a, const void *b)
{
	const char *x = (*(char ***)a)[frag_sort_col];
	const char *y = (*(char ***)b)[frag_sort_col];
	char *ex, *ey;
	double dx = strtod(x, &ex), dy = strtod(y, &ey);
	int r;

	if (*ex || *ey || ex == x || ey == y)
		r = strcmp(x, y);
	else
		r = dx < dy ? -1 : dx > dy;
	return frag_sort_asc ? r : -r;
}

static void frag_sort(char ***rows, size_t n, int col, bool asc)
{
	frag_sort_col = col;
	frag_sort_asc = asc;
	qsort(rows, n, sizeof(*rows), frag_cmp_rows);
}

/* The column @key names in @s ("count", or a prefix like "frag"), or -1. */
static int frag_key_col(const struct mw_section *s, const char *key)
{
	size_t c;

	for (c = 0; c < s->ncols; c++)
		if (!strcmp(s->cols[c], key))
			return (int)c;
	for (c = 0; c < s->ncols; c++)
		if (!strncmp(s->cols[c], key, strlen(key)))
			return (int)c;
	return -1;
}

static bool frag_ev_match(const struct mw_opts *opts, const char *pid,
			  const char *comm)
{
	if (opts->pid && atol(pid) != opts->pid)
		return false;
	if (opts->comm && strcmp(comm, opts->comm))
		return false;
	return true;
}

int frag_events_show(struct mw_out *o, const struct mw_opts *opts)
{
	static char *pcols[] = { "pid", "events", "fragmenting", "comm" };
	const struct mw_section *kv, *ps, *rs;
	struct frag_rows agg = { .ncols = 4 }, rec = { 0 };
	char ***rows;
	size_t r, n = 0, i, c;
	struct mw_file f;
	char err[512];
	int pid_c, comm_c, count_c, frag_c, key;
	unsigned long long now;

	if (mw_snap_current() && !mw_module_present()) {
		fprintf(stderr, "%s: recorded without the module: no frag-events "
			"(extfrag events need the memwatch module)\n", mw_prog);
		return 1;
	}
	if (opts->no_module || !mw_module_present()) {
		fprintf(stderr,
			"%s: extfrag events unavailable: they need the memwatch module (%s missing%s)\n",
			mw_prog, mw_root(), opts->no_module ? ", or drop --no-module" : "");
		return 1;
	}
	if (mw_file_load(&f, MW_FILE_EXTFRAG, err, sizeof(err))) {
		fprintf(stderr, "%s: %s\n", mw_prog, err);
		return 1;
	}
	kv = mw_file_section(&f, "");
	ps = mw_file_section(&f, "processes");
	rs = mw_file_section(&f, "recent");
	if (!kv || !ps || !rs) {
		fprintf(stderr, "%s: %s/%s: missing sections\n", mw_prog,
			mw_root(), MW_FILE_EXTFRAG);
		mw_file_free(&f);
		return 1;
	}
	pid_c = mw_section_col(ps, "pid");
	comm_c = mw_section_col(ps, "comm");
	count_c = mw_section_col(ps, "count");
	frag_c = mw_section_col(ps, "fragmenting");
	if (pid_c < 0 || comm_c < 0 || count_c < 0 || frag_c < 0) {
		fprintf(stderr, "%s: %s/%s: missing columns\n", mw_prog,
			mw_root(), MW_FILE_EXTFRAG);
		mw_file_free(&f);
		return 1;
	}

	/* Detailed rows (one per process and kind of fallback), filtered. */
	rows = xcalloc(ps->nrows + 1, sizeof(*rows));
	for (r = 0; r < ps->nrows; r++)
		if (frag_ev_match(opts, ps->rows[r][pid_c], ps->rows[r][comm_c]))
			rows[n++] = ps->rows[r];
	if (opts->pid && !n && !mw_process_exists(opts->pid)) {
		fprintf(stderr, "%s: no process %d, and no extfrag events recorded for it\n",
			mw_prog, opts->pid);
		free(rows);
		frag_rows_free(&agg);
		mw_file_free(&f);
		return 1;
	}
	if (opts->pid && !n)
		fprintf(stderr, "%s: no extfrag events for process %d\n",
			mw_prog, opts->pid);

	/* Per process: events and fragmenting events summed. */
	for (r = 0; r < n; r++) {
		unsigned long long cnt = strtoull(rows[r][count_c], NULL, 10);
		bool fr = atoi(rows[r][frag_c]) > 0;
		char **row = NULL, buf[32];

		for (i = 0; i < agg.nrows; i++)
			if (!strcmp(agg.rows[i][0], rows[r][pid_c]) &&
			    !strcmp(agg.rows[i][3], rows[r][comm_c]))
				row = agg.rows[i];
		if (!row) {
			row = frag_row_new(&agg);
			row[0] = xstrdup(rows[r][pid_c]);
			row[1] = xstrdup("0");
			row[2] = xstrdup("0");
			row[3] = xstrdup(rows[r][comm_c]);
		}
		snprintf(buf, sizeof(buf), "%llu", strtoull(row[1], NULL, 10) + cnt);
		free(row[1]);
		row[1] = xstrdup(buf);
		snprintf(buf, sizeof(buf), "%llu",
			 strtoull(row[2], NULL, 10) + (fr ? cnt : 0));
		free(row[2]);
		row[2] = xstrdup(buf);
	}

	key = count_c;
	if (opts->sort_key) {
		key = frag_key_col(ps, opts->sort_key);
		if (key < 0) {
			fprintf(stderr, "%s: unknown sort key '%s'; columns:",
				mw_prog, opts->sort_key);
			for (c = 0; c < ps->ncols; c++)
				fprintf(stderr, " %s", ps->cols[c]);
			fprintf(stderr, "\n");
			free(rows);
			frag_rows_free(&agg);
			mw_file_free(&f);
			return 1;
		}
	}
	frag_sort(rows, n, key, opts->sort_ascending);
	frag_sort(agg.rows, agg.nrows, 1, false);

	if (opts->format == MW_FMT_CSV) {
		mw_out_table(o, "fallbacks", ps->cols, ps->ncols, rows,
			     opts->top && (size_t)opts->top < n ? (size_t)opts->top : n);
		goto out;
	}
	{
		char **keys = xcalloc(kv->nrows + 1, sizeof(char *));
		char **values = xcalloc(kv->nrows + 1, sizeof(char *));

		for (r = 0; r < kv->nrows; r++) {
			keys[r] = kv->rows[r][0];
			values[r] = kv->rows[r][1];
		}
		mw_out_kv(o, "summary", keys, values, kv->nrows);
		free(keys);
		free(values);
	}
	mw_out_table(o, "processes", pcols, 4, agg.rows,
		     opts->top && (size_t)opts->top < agg.nrows ? (size_t)opts->top : agg.nrows);
	mw_out_table(o, "fallbacks", ps->cols, ps->ncols, rows,
		     opts->top && (size_t)opts->top < n ? (size_t)opts->top : n);

	/* Recent events, newest first, with their age instead of a clock. */
	now = mw_file_value(&f, "now_ns") ?
	      strtoull(mw_file_value(&f, "now_ns"), NULL, 10) : 0;
	rec.ncols = rs->ncols;
	{
		int tc = mw_section_col(rs, "time_ns");
		int rp = mw_section_col(rs, "pid"), rc = mw_section_col(rs, "comm");
		size_t limit = opts->top ? (size_t)opts->top : 20;
		char **cols = xcalloc(rs->ncols, sizeof(char *));

		for (c = 0; c < rs->ncols; c++)
			cols[c] = (int)c == tc ? "age_ns" : rs->cols[c];
		for (r = rs->nrows; r-- > 0 && rec.nrows < limit;) {
			char **src = rs->rows[r], **row, buf[32];

			if (rp < 0 || rc < 0 || !frag_ev_match(opts, src[rp], src[rc]))
				continue;
			row = frag_row_new(&rec);
			for (c = 0; c < rs->ncols; c++) {
				if ((int)c == tc) {
					unsigned long long t = strtoull(src[c], NULL, 10);

					snprintf(buf, sizeof(buf), "%llu",
						 now > t ? now - t : 0);
					row[c] = xstrdup(buf);
				} else {
					row[c] = xstrdup(src[c]);
				}
			}
		}
		mw_out_table(o, "recent", cols, rs->ncols, rec.rows, rec.nrows);
		free(cols);
	}
out:
	free(rows);
	frag_rows_free(&agg);
	frag_rows_free(&rec);
	mw_file_free(&f);
	return 0;
}
