/*
 * summary_view.c - memwatch-read with no view flag: one screen that a
 * person reads in five seconds.
 *
 *   memory       total, free, available, page cache, anon, slab, swap
 *   top          the 5 largest processes by RSS (-n N for another count)
 *   pressure     kswapd runs, direct-reclaim stalls (count, total, max),
 *                pages scanned/stolen and the reclaim efficiency,
 *                allocation failures and the last one
 *   fragmentation per zone: free memory, the largest free block order and
 *                the unusable free space index for order-9 (THP) requests
 *
 * Sources: the module's tasks, reclaim and allocfail files when loaded;
 * /proc/meminfo, /proc/vmstat, /proc/buddyinfo and /proc/PID/status always
 * (or in their place without the module, with "-" where only the module
 * knows). CSV carries the memory and pressure figures as name,value rows.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "memwatch_abi.h"
#include "mwfile.h"
#include "mwsnap.h"
#include "tasks_rows.h"
#include "sys_util.h"
#include "util.h"
#include "views.h"

#define SUMMARY_TOP	5
#define SUMMARY_ORDER	9	/* a 2 MiB transparent huge page on x86-64 */

struct summary_proc {
	long long rss_kb;
	char pid[16];
	char comm[64];
};

static int summary_cmp(const void *a, const void *b)
{
	const struct summary_proc *x = a, *y = b;

	return (x->rss_kb < y->rss_kb) - (x->rss_kb > y->rss_kb);
}

static void summary_keep(struct summary_proc *top, size_t *n, size_t max,
			 const struct summary_proc *p)
{
	if (*n < max) {
		top[(*n)++] = *p;
	} else if (p->rss_kb > top[max - 1].rss_kb) {
		top[max - 1] = *p;
	} else {
		return;
	}
	qsort(top, *n, sizeof(*top), summary_cmp);
}

/* From the module's tasks file; false when it is not there. */
static bool summary_top_module(struct summary_proc *top, size_t *n, size_t max)
{
	const struct mw_section *s = NULL;
	struct mw_file f;
	char err[512];
	int cp, cr, cc;
	size_t i, r;

	if (mw_file_load(&f, MW_FILE_TASKS, err, sizeof(err)))
		return false;
	for (i = 0; i < f.nsections; i++)
		if (mw_section_col(&f.sections[i], "rss_kb") >= 0)
			s = &f.sections[i];
	if (!s) {
		mw_file_free(&f);
		return false;
	}
	cp = mw_section_col(s, "pid");
	cr = mw_section_col(s, "rss_kb");
	cc = mw_section_col(s, "comm");
	for (r = 0; cp >= 0 && cc >= 0 && r < s->nrows; r++) {
		struct summary_proc p = { .rss_kb = atoll(s->rows[r][cr]) };

		snprintf(p.pid, sizeof(p.pid), "%.15s", s->rows[r][cp]);
		snprintf(p.comm, sizeof(p.comm), "%.63s", s->rows[r][cc]);
		summary_keep(top, n, max, &p);
	}
	mw_file_free(&f);
	return true;
}

static void summary_top_proc(struct summary_proc *top, size_t *n, size_t max)
{
	DIR *d = opendir(mw_procfs());
	struct dirent *de;

	if (!d)
		return;
	while ((de = readdir(d))) {
		struct summary_proc p = { 0 };
		char path[4096], *text, *name;
		long long rss;

		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		snprintf(path, sizeof(path), "%s/%s/status", mw_procfs(), de->d_name);
		text = read_whole_file(path);
		if (!text)
			continue;	/* gone meanwhile */
		if (sys_proc_get(text, "VmRSS", &rss)) {
			p.rss_kb = rss;
			snprintf(p.pid, sizeof(p.pid), "%.15s", de->d_name);
			name = strstr(text, "Name:");
			if (name) {
				name += 5;
				name += strspn(name, " \t");
				snprintf(p.comm, sizeof(p.comm), "%.*s",
					 (int)strcspn(name, "\n"), name);
			}
			summary_keep(top, n, max, &p);
		}
		free(text);
	}
	closedir(d);
}

/*
 * A recording made without the module keeps the /proc rows, not the
 * /proc/PID/status files live reads: the same figures (VmRSS, Name).
 */
static void summary_top_snap(const struct tasks_tab *t, struct summary_proc *top,
			     size_t *n, size_t max)
{
	int cp = -1, cr = -1, cc = -1;
	size_t c, r;

	for (c = 0; t && c < t->ncols; c++) {
		if (!strcmp(t->cols[c], "pid"))
			cp = (int)c;
		else if (!strcmp(t->cols[c], "rss_kb"))
			cr = (int)c;
		else if (!strcmp(t->cols[c], "comm"))
			cc = (int)c;
	}
	if (cp < 0 || cr < 0 || cc < 0)
		return;
	for (r = 0; r < t->nrows; r++) {
		const char *rss = t->rows[r][cr];
		struct summary_proc p = { .rss_kb = atoll(rss) };

		if (!isdigit((unsigned char)rss[0]))
			continue;	/* no VmRSS: no address space */
		snprintf(p.pid, sizeof(p.pid), "%.15s", t->rows[r][cp]);
		snprintf(p.comm, sizeof(p.comm), "%.63s", t->rows[r][cc]);
		summary_keep(top, n, max, &p);
	}
}

static void summary_top(struct mw_out *o, bool module)
{
	size_t max = o->opts->top ? (size_t)o->opts->top : SUMMARY_TOP, n = 0, i;
	struct summary_proc *top = xcalloc(max, sizeof(*top));
	char *cols[] = { "pid", "rss_kb", "comm" };
	struct sys_rows t;

	if (module && summary_top_module(top, &n, max))
		;
	else if (mw_snap_current())
		summary_top_snap(mw_snap_current()->tasks, top, &n, max);
	else
		summary_top_proc(top, &n, max);
	sys_rows_init(&t, 3);
	for (i = 0; i < n; i++) {
		char rss[32];
		char *cells[] = { top[i].pid, rss, top[i].comm };

		snprintf(rss, sizeof(rss), "%lld", top[i].rss_kb);
		sys_rows_add(&t, cells);
	}
	mw_out_table(o, o->opts->format == MW_FMT_TEXT ? "Top processes by RSS" : "top", cols, 3, t.rows, t.n);
	sys_rows_free(&t);
	free(top);
}

static void summary_memory(struct sys_kv *kv, const char *meminfo)
{
	static const struct { const char *key, *name; } keys[] = {
		{ "total_kb", "MemTotal" }, { "free_kb", "MemFree" },
		{ "available_kb", "MemAvailable" }, { "cached_kb", "Cached" },
		{ "anon_kb", "AnonPages" }, { "slab_kb", "Slab" },
		{ "swap_total_kb", "SwapTotal" }, { "swap_free_kb", "SwapFree" },
	};
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		long long v;

		if (meminfo && sys_proc_get(meminfo, keys[i].name, &v))
			sys_kv_add(kv, keys[i].key, "%lld", v);
		else
			sys_kv_add(kv, keys[i].key, "-");
	}
}

static long long summary_vm_sum(const char *vmstat, const char *prefix)
{
	size_t pl = strlen(prefix);
	long long sum = 0, v;
	const char *p = vmstat;

	while (p && *p) {
		if (!strncmp(p, prefix, pl) && sscanf(strchr(p, ' ') ? strchr(p, ' ') : p, "%lld", &v) == 1)
			sum += v;
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return sum;
}

static void summary_pressure(struct sys_kv *kv, const char *vmstat, bool module)
{
	long long scan = summary_vm_sum(vmstat, "pgscan_");
	long long steal = summary_vm_sum(vmstat, "pgsteal_");
	long long v;
	struct mw_file f;
	char err[512];

	/* pgscan_anon/_file repeat pgscan_kswapd/_direct: count one split. */
	if (vmstat && sys_proc_get(vmstat, "pgscan_anon", &v)) {
		long long f2 = 0;

		sys_proc_get(vmstat, "pgscan_file", &f2);
		scan = v + f2;
		v = 0;
		f2 = 0;
		sys_proc_get(vmstat, "pgsteal_anon", &v);
		sys_proc_get(vmstat, "pgsteal_file", &f2);
		steal = v + f2;
	}
	if (vmstat && sys_proc_get(vmstat, "pageoutrun", &v))
		sys_kv_add(kv, "kswapd_runs", "%lld", v);
	sys_kv_add(kv, "direct_reclaims", "%lld", summary_vm_sum(vmstat, "allocstall_"));
	if (module && !mw_file_load(&f, MW_FILE_RECLAIM, err, sizeof(err))) {
		const char *ns = mw_file_value(&f, "direct_stall_ns");
		const char *max = mw_file_value(&f, "direct_stall_max_ns");

		sys_kv_add(kv, "direct_stall_ns", "%s", ns ? ns : "-");
		sys_kv_add(kv, "direct_stall_max_ns", "%s", max ? max : "-");
		mw_file_free(&f);
	} else {
		sys_kv_add(kv, "direct_stall_ns", "-");
		sys_kv_add(kv, "direct_stall_max_ns", "-");
	}
	sys_kv_add(kv, "pgscan", "%lld", scan);
	sys_kv_add(kv, "pgsteal", "%lld", steal);
	if (scan)
		sys_kv_add(kv, "reclaim_efficiency_pm", "%lld", steal * 1000 / scan);
	else
		sys_kv_add(kv, "reclaim_efficiency_pm", "-");
	if (module && !mw_file_load(&f, MW_FILE_ALLOCFAIL, err, sizeof(err))) {
		const struct mw_section *s = mw_file_section(&f, "failures");
		const char *n = mw_file_value(&f, "failures");
		const char *now = mw_file_value(&f, "now_ns");

		sys_kv_add(kv, "alloc_failures", "%s", n ? n : "-");
		if (s && s->nrows && mw_section_col(s, "gfp_flags") >= 0 && now) {
			char **row = s->rows[s->nrows - 1], ago[32];
			unsigned long long t = strtoull(row[mw_section_col(s, "time_ns")], NULL, 10);
			unsigned long long nw = strtoull(now, NULL, 10);

			sys_ago(nw > t ? nw - t : 0, ago, sizeof(ago));
			sys_kv_add(kv, "last_failure", "%s ago: order %s %s zone %s by %s %s",
				   ago, row[mw_section_col(s, "order")],
				   row[mw_section_col(s, "gfp_flags")],
				   row[mw_section_col(s, "zone")],
				   row[mw_section_col(s, "pid")],
				   row[mw_section_col(s, "comm")]);
		}
		mw_file_free(&f);
	} else {
		sys_kv_add(kv, "alloc_failures", "-");
	}
}

/* /proc/buddyinfo: "Node 0, zone   Normal  c0 c1 ... c10" */
static void summary_frag(struct mw_out *o)
{
	char *cols[] = { "zone", "free_kb", "max_order", "unusable_pm" };
	char *text = sys_proc_read("buddyinfo"), *line, *save = NULL;
	struct sys_rows t;

	sys_rows_init(&t, 4);
	for (line = text ? strtok_r(text, "\n", &save) : NULL; line;
	     line = strtok_r(NULL, "\n", &save)) {
		char zone[32], name[48], freekb[32], maxo[16], unus[16], *p;
		unsigned long long free = 0, big = 0, cnt;
		int node, off, order = 0, top = -1;

		if (sscanf(line, "Node %d, zone %31s%n", &node, zone, &off) != 2)
			continue;
		for (p = line + off; sscanf(p, "%llu%n", &cnt, &off) == 1; p += off, order++) {
			free += cnt << order;
			if (order >= SUMMARY_ORDER)
				big += cnt << order;
			if (cnt)
				top = order;
		}
		snprintf(name, sizeof(name), "node%d/%s", node, zone);
		snprintf(freekb, sizeof(freekb), "%llu", free * 4);
		snprintf(maxo, sizeof(maxo), top < 0 ? "-" : "%d", top);
		/* Unusable free space index (Gorman): share of free memory in
		 * blocks too small for an order-9 request. */
		if (free)
			snprintf(unus, sizeof(unus), "%llu", (free - big) * 1000 / free);
		else
			snprintf(unus, sizeof(unus), "-");
		sys_rows_add(&t, (char *[]){ name, freekb, maxo, unus });
	}
	mw_out_table(o, o->opts->format == MW_FMT_TEXT ? "Fragmentation (unusable: free memory unusable for order-9)" : "fragmentation",
		     cols, 4, t.rows, t.n);
	sys_rows_free(&t);
	free(text);
}

/*
 * Text: "Title: name value, name value" wrapped at 79 columns, values in
 * human units from the key's suffix, so each part takes a line or two.
 */
static void summary_kv_line(struct mw_out *o, const char *title,
			    const struct sys_kv *kv)
{
	size_t i, col;
	char cell[256], label[64];

	fprintf(o->fp, "%s:", title);
	col = strlen(title) + 1;
	for (i = 0; i < kv->n; i++) {
		const char *k = kv->keys[i];
		size_t len, j;

		mw_format_cell(o->opts, k, kv->vals[i], cell, sizeof(cell));
		snprintf(label, sizeof(label), "%s", k);
		for (j = 0; label[j]; j++)
			if (label[j] == '_')
				label[j] = ' ';
		/* Units are shown with the value: drop the suffix word. */
		len = strlen(label);
		if (len > 3 && (!strcmp(label + len - 3, " kb") ||
				!strcmp(label + len - 3, " ns") ||
				!strcmp(label + len - 3, " pm")))
			label[len - 3] = '\0';
		if (!strcmp(k + strlen(k) - 3 > k ? k + strlen(k) - 3 : k, "_pm") &&
		    strcmp(cell, "-"))
			strncat(cell, "%", sizeof(cell) - strlen(cell) - 1);
		len = strlen(label) + strlen(cell) + 3;
		if (col + len > 79) {
			fputs("\n ", o->fp);
			col = 1;
		}
		fprintf(o->fp, " %s %s%s", label, cell, i + 1 < kv->n ? "," : "");
		col += len;
	}
	fputc('\n', o->fp);
}

int summary_show(struct mw_out *o, const struct mw_opts *opts)
{
	bool module = !opts->no_module && mw_module_present();
	char *meminfo = sys_proc_read("meminfo"), *vmstat = sys_proc_read("vmstat");
	struct sys_kv mem = { 0 }, pr = { 0 };
	static bool noted;

	if (!meminfo) {
		fprintf(stderr, "%s: %s/meminfo: cannot read\n", mw_prog, mw_procfs());
		free(vmstat);
		return 1;
	}
	if (!module && !noted) {
		mw_note_no_module(opts, "summary");
		noted = true;
	}
	summary_memory(&mem, meminfo);
	summary_pressure(&pr, vmstat, module);
	if (opts->format == MW_FMT_CSV) {
		size_t i;

		for (i = 0; i < pr.n; i++)
			sys_kv_add(&mem, pr.keys[i], "%s", pr.vals[i]);
		mw_out_kv(o, "summary", mem.keys, mem.vals, mem.n);
	} else if (opts->format == MW_FMT_JSON) {
		mw_out_kv(o, "memory", mem.keys, mem.vals, mem.n);
		summary_top(o, module);
		mw_out_kv(o, "pressure", pr.keys, pr.vals, pr.n);
		summary_frag(o);
	} else {
		summary_kv_line(o, "Memory", &mem);
		o->ntables++;
		summary_top(o, module);
		fputc('\n', o->fp);
		summary_kv_line(o, module ? "Pressure (stalls, failures since load)" :
				"Pressure (since boot)", &pr);
		summary_frag(o);
	}
	sys_kv_free(&mem);
	sys_kv_free(&pr);
	free(meminfo);
	free(vmstat);
	return 0;
}
