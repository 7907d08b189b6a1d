/*
 * sys_view.c - memwatch-read --sys: system memory state per node.
 *
 * The module's sys file is long ("node item pages kb" rows); this view
 * turns it around: one row per item, one column per node ("total" first).
 * Text shows KiB in human units; JSON and CSV carry <node>_pages and
 * <node>_kb for every node. A second table lists each zone's free pages and
 * watermarks (text and JSON; CSV has the item table only, so its header
 * stays valid across --interval samples).
 *
 * Without the module the total column comes from /proc/meminfo and
 * /proc/vmstat (sys_meminfo_map below: the same figures the module reads).
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

/* Item name in the sys file -> its /proc/meminfo key, or vmstat key. */
static const struct {
	const char *item;
	const char *meminfo;	/* kB in /proc/meminfo */
	const char *vmstat;	/* pages in /proc/vmstat */
} sys_meminfo_map[] = {
	{ "total", "MemTotal", NULL },
	{ "free", "MemFree", NULL },
	{ "available", "MemAvailable", NULL },
	{ "file_pages", NULL, "nr_file_pages" },
	{ "swapcache", "SwapCached", NULL },
	{ "active_anon", "Active(anon)", NULL },
	{ "inactive_anon", "Inactive(anon)", NULL },
	{ "active_file", "Active(file)", NULL },
	{ "inactive_file", "Inactive(file)", NULL },
	{ "unevictable", "Unevictable", NULL },
	{ "mlocked", "Mlocked", NULL },
	{ "isolated_anon", NULL, "nr_isolated_anon" },
	{ "isolated_file", NULL, "nr_isolated_file" },
	{ "dirty", "Dirty", NULL },
	{ "writeback", "Writeback", NULL },
	{ "writeback_tmp", "WritebackTmp", NULL },
	{ "nfs_unstable", "NFS_Unstable", NULL },
	{ "bounce", "Bounce", NULL },
	{ "anon_pages", "AnonPages", NULL },
	{ "mapped", "Mapped", NULL },
	{ "shmem", "Shmem", NULL },
	{ "kreclaimable", "KReclaimable", NULL },
	{ "slab", "Slab", NULL },
	{ "slab_reclaimable", "SReclaimable", NULL },
	{ "slab_unreclaimable", "SUnreclaim", NULL },
	{ "kernel_stack", "KernelStack", NULL },
	{ "pagetables", "PageTables", NULL },
	{ "sec_pagetables", "SecPageTables", NULL },
	{ "anon_thp", "AnonHugePages", NULL },
	{ "shmem_thp", "ShmemHugePages", NULL },
	{ "shmem_pmdmapped", "ShmemPmdMapped", NULL },
	{ "file_thp", "FileHugePages", NULL },
	{ "file_pmdmapped", "FilePmdMapped", NULL },
	{ "workingset_nodes", NULL, "workingset_nodes" },
};

#define SYS_NITEMS (sizeof(sys_meminfo_map) / sizeof(sys_meminfo_map[0]))

struct sys_pivot {
	char **nodes;		/* "total", "node0"... */
	size_t nnodes;
	char **items;
	size_t nitems;
	char ***pages, ***kb;	/* [item][node], NULL: not in the file */
};

static size_t sys_index(char ***list, size_t *n, const char *name)
{
	size_t i;

	for (i = 0; i < *n; i++)
		if (!strcmp((*list)[i], name))
			return i;
	*list = xreallocarray(*list, *n + 1, sizeof(char *));
	(*list)[*n] = xstrdup(name);
	return (*n)++;
}

static void sys_pivot_free(struct sys_pivot *p)
{
	size_t i, j;

	for (i = 0; i < p->nitems; i++) {
		for (j = 0; j < p->nnodes; j++) {
			free(p->pages[i][j]);
			free(p->kb[i][j]);
		}
		free(p->pages[i]);
		free(p->kb[i]);
		free(p->items[i]);
	}
	for (j = 0; j < p->nnodes; j++)
		free(p->nodes[j]);
	free(p->pages);
	free(p->kb);
	free(p->items);
	free(p->nodes);
}

/* Two passes: names first, so the [item][node] arrays have their size. */
static void sys_pivot_build(struct sys_pivot *p, const struct mw_section *s)
{
	int cn = mw_section_col(s, "node"), ci = mw_section_col(s, "item");
	int cp = mw_section_col(s, "pages"), ck = mw_section_col(s, "kb");
	size_t r, i;

	memset(p, 0, sizeof(*p));
	if (cn < 0 || ci < 0 || cp < 0 || ck < 0)
		return;
	for (r = 0; r < s->nrows; r++) {
		sys_index(&p->nodes, &p->nnodes, s->rows[r][cn]);
		sys_index(&p->items, &p->nitems, s->rows[r][ci]);
	}
	p->pages = xcalloc(p->nitems ? p->nitems : 1, sizeof(char **));
	p->kb = xcalloc(p->nitems ? p->nitems : 1, sizeof(char **));
	for (i = 0; i < p->nitems; i++) {
		p->pages[i] = xcalloc(p->nnodes, sizeof(char *));
		p->kb[i] = xcalloc(p->nnodes, sizeof(char *));
	}
	for (r = 0; r < s->nrows; r++) {
		size_t n = sys_index(&p->nodes, &p->nnodes, s->rows[r][cn]);
		size_t it = sys_index(&p->items, &p->nitems, s->rows[r][ci]);

		free(p->pages[it][n]);
		free(p->kb[it][n]);
		p->pages[it][n] = xstrdup(s->rows[r][cp]);
		p->kb[it][n] = xstrdup(s->rows[r][ck]);
	}
}

static void sys_pivot_print(struct mw_out *o, const struct sys_pivot *p)
{
	bool both = o->opts->format != MW_FMT_TEXT;
	size_t ncols = 1 + p->nnodes * (both ? 2 : 1), i, j, c;
	char **cols = xcalloc(ncols, sizeof(char *));
	struct sys_rows t;
	char **cells = xcalloc(ncols, sizeof(char *));

	cols[0] = xstrdup("item");
	for (j = 0, c = 1; j < p->nnodes; j++) {
		if (both && asprintf(&cols[c++], "%s_pages", p->nodes[j]) < 0)
			exit(1);
		if (asprintf(&cols[c++], "%s_kb", p->nodes[j]) < 0)
			exit(1);
	}
	sys_rows_init(&t, ncols);
	for (i = 0; i < p->nitems; i++) {
		cells[0] = p->items[i];
		for (j = 0, c = 1; j < p->nnodes; j++) {
			/* "available" is system-wide: "-" in node columns. */
			if (both)
				cells[c++] = p->pages[i][j] ? p->pages[i][j] : "-";
			cells[c++] = p->kb[i][j] ? p->kb[i][j] : "-";
		}
		sys_rows_add(&t, cells);
	}
	mw_out_table(o, "items", cols, ncols, t.rows, t.n);
	sys_rows_free(&t);
	for (c = 0; c < ncols; c++)
		free(cols[c]);
	free(cols);
	free(cells);
}

static int sys_show_module(struct mw_out *o)
{
	const struct mw_section *s, *z;
	struct sys_pivot p;
	struct mw_file f;
	char err[512];

	if (mw_file_load(&f, MW_FILE_SYS, err, sizeof(err))) {
		fprintf(stderr, "%s: %s\n", mw_prog, err);
		return 1;
	}
	s = mw_file_section(&f, "");
	if (s && mw_section_col(s, "item") < 0 && f.nsections > 1)
		s = &f.sections[1];	/* the unnamed "name value" part came first */
	if (!s || mw_section_col(s, "item") < 0) {
		fprintf(stderr, "%s: %s/%s: no node/item table\n", mw_prog,
			mw_root(), MW_FILE_SYS);
		mw_file_free(&f);
		return 1;
	}
	sys_pivot_build(&p, s);
	sys_pivot_print(o, &p);
	sys_pivot_free(&p);
	z = mw_file_section(&f, "zones");
	if (z && o->opts->format != MW_FMT_CSV)
		mw_out_table(o, "zones", z->cols, z->ncols, z->rows, z->nrows);
	mw_file_free(&f);
	return 0;
}

static int sys_show_proc(struct mw_out *o)
{
	char *meminfo = sys_proc_read("meminfo"), *vmstat = sys_proc_read("vmstat");
	bool both = o->opts->format != MW_FMT_TEXT;
	char *cols[] = { "item", "total_pages", "total_kb" };
	struct sys_rows t;
	size_t i;

	if (!meminfo) {
		fprintf(stderr, "%s: %s/meminfo: cannot read\n", mw_prog, mw_procfs());
		free(vmstat);
		return 1;
	}
	sys_rows_init(&t, both ? 3 : 2);
	for (i = 0; i < SYS_NITEMS; i++) {
		char pages[32] = "-", kb[32] = "-";
		char *cells[3];
		long long v;

		if (sys_meminfo_map[i].meminfo &&
		    sys_proc_get(meminfo, sys_meminfo_map[i].meminfo, &v)) {
			snprintf(kb, sizeof(kb), "%lld", v);
			snprintf(pages, sizeof(pages), "%lld", v / 4);
		} else if (sys_meminfo_map[i].vmstat && vmstat &&
			   sys_proc_get(vmstat, sys_meminfo_map[i].vmstat, &v)) {
			snprintf(pages, sizeof(pages), "%lld", v);
			snprintf(kb, sizeof(kb), "%lld", v * 4);
		}
		cells[0] = (char *)sys_meminfo_map[i].item;
		if (both) {
			cells[1] = pages;
			cells[2] = kb;
		} else {
			cells[1] = kb;
		}
		sys_rows_add(&t, cells);
	}
	if (both)
		mw_out_table(o, "items", cols, 3, t.rows, t.n);
	else
		mw_out_table(o, "items", (char *[]){ "item", "total_kb" }, 2,
			     t.rows, t.n);
	sys_rows_free(&t);
	free(meminfo);
	free(vmstat);
	return 0;
}

int sys_show(struct mw_out *o, const struct mw_opts *opts)
{
	static bool noted;

	if (!opts->no_module && mw_module_present())
		return sys_show_module(o);
	if (!noted) {
		mw_note_no_module(opts, "system memory totals");
		noted = true;
	}
	return sys_show_proc(o);
}
