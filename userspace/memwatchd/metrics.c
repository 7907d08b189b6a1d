/*
 * metrics.c - /metrics in the Prometheus text format 0.0.4.
 *
 * Names: memwatch_ prefix, base units (bytes, seconds), counters end in
 * _total; no host label (Prometheus adds instance). Figures come from the
 * same JSON the API serves (module files, else /proc), so both agree.
 *
 * Per-process figures are summed per command name (process-exporter's
 * groups), for the METRICS_MAX_GROUPS largest names by RSS, the rest summed
 * under comm="others"; --metrics-top N adds per-pid RSS and net-mapped
 * series for the N largest processes plus pid="others". A group exists only
 * while one of its processes does. Series count (Documentation/api.md):
 * 11 * (groups + 1) + 2 * (N + 1) + 3 * zones * orders + fixed counters,
 * under 1,300 with 2,000 processes, N = 10 and 3 zones of 11 orders.
 */
#define _GNU_SOURCE
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "mwfile.h"
#include "util.h"

#define METRICS_MAX_GROUPS 100

struct proc_fig {
	const char *comm;
	long long pid;
	double rss, rss_anon, mapped_net;	/* bytes */
	double mmap_calls, mmap_bytes, munmap_calls, munmap_bytes;
	double page_allocs, stall_s, allocfail;
	long long nprocs;		/* groups only */
};

static double num(json_t *row, const char *key)
{
	json_t *v = json_object_get(row, key);

	return json_is_number(v) ? json_number_value(v) : 0;
}

/* Label values: backslash, double quote and newline escaped. */
static void sb_label(struct strbuf *sb, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			sb_printf(sb, "\\%c", *s);
		else if (*s == '\n')
			sb_append(sb, "\\n", 2);
		else
			sb_append(sb, s, 1);
	}
}

static void family(struct strbuf *sb, const char *name, const char *type,
		   const char *help)
{
	sb_printf(sb, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void sample(struct strbuf *sb, const char *name, double v)
{
	sb_printf(sb, "%s %.17g\n", name, v);
}

static int by_rss_desc(const void *a, const void *b)
{
	const struct proc_fig *x = a, *y = b;

	if (x->rss != y->rss)
		return x->rss < y->rss ? 1 : -1;
	return x->pid < y->pid ? -1 : x->pid > y->pid;
}

static int by_comm(const void *a, const void *b)
{
	return strcmp(((const struct proc_fig *)a)->comm, ((const struct proc_fig *)b)->comm);
}

static void fig_add(struct proc_fig *to, const struct proc_fig *p)
{
	to->rss += p->rss;
	to->rss_anon += p->rss_anon;
	to->mapped_net += p->mapped_net;
	to->mmap_calls += p->mmap_calls;
	to->mmap_bytes += p->mmap_bytes;
	to->munmap_calls += p->munmap_calls;
	to->munmap_bytes += p->munmap_bytes;
	to->page_allocs += p->page_allocs;
	to->stall_s += p->stall_s;
	to->allocfail += p->allocfail;
	to->nprocs += p->nprocs ? p->nprocs : 1;
}

static const struct {
	const char *name, *type, *help;
	size_t off;
} group_metrics[] = {
#define F(field) offsetof(struct proc_fig, field)
	{ "memwatch_group_processes", "gauge", "Live processes of this command name.", F(nprocs) },
	{ "memwatch_group_rss_bytes", "gauge", "Resident memory summed over the group (tasks rss_kb).", F(rss) },
	{ "memwatch_group_rss_anon_bytes", "gauge", "Anonymous resident memory summed over the group (tasks rss_anon_kb).", F(rss_anon) },
	{ "memwatch_group_mapped_net_bytes", "gauge", "mmap minus munmap bytes since the module saw each process, 0 when negative (tasks mapped_net_kb).", F(mapped_net) },
	{ "memwatch_group_mmap_calls_total", "counter", "Successful mmap() calls of the group's live processes.", F(mmap_calls) },
	{ "memwatch_group_mmap_bytes_total", "counter", "Bytes mapped by those calls, page-rounded.", F(mmap_bytes) },
	{ "memwatch_group_munmap_calls_total", "counter", "Successful munmap() calls.", F(munmap_calls) },
	{ "memwatch_group_munmap_bytes_total", "counter", "Bytes unmapped by those calls, page-rounded.", F(munmap_bytes) },
	{ "memwatch_group_page_allocs_total", "counter", "Pages allocated while a thread of the group ran.", F(page_allocs) },
	{ "memwatch_group_stall_seconds_total", "counter", "Time in direct-reclaim stalls.", F(stall_s) },
	{ "memwatch_group_allocfail_total", "counter", "Failed page allocations.", F(allocfail) },
#undef F
};

static double fig_get(const struct proc_fig *p, size_t off)
{
	if (off == offsetof(struct proc_fig, nprocs))
		return (double)p->nprocs;
	return *(const double *)((const char *)p + off);
}

static void tasks_metrics(struct strbuf *sb, json_t *tasks)
{
	json_t *rows = json_object_get(tasks, "rows");
	size_t n = json_array_size(rows), ngroups = 0;
	struct proc_fig *procs = xcalloc(n ? n : 1, sizeof(*procs));
	struct proc_fig *groups = xcalloc(n + 1, sizeof(*groups));
	struct proc_fig others = { .comm = "others" };
	int top = serve_cfg.metrics_top;

	for (size_t i = 0; i < n; i++) {
		json_t *r = json_array_get(rows, i);
		struct proc_fig *p = &procs[i];
		const char *comm = json_string_value(json_object_get(r, "comm"));

		p->comm = comm ? comm : "";
		p->pid = (long long)num(r, "pid");
		p->rss = num(r, "rss_kb") * 1024;
		p->rss_anon = num(r, "rss_anon_kb") * 1024;
		p->mapped_net = num(r, "mapped_net_kb") * 1024;
		p->mmap_calls = num(r, "mmap_calls");
		p->mmap_bytes = num(r, "mmap_kb") * 1024;
		p->munmap_calls = num(r, "munmap_calls");
		p->munmap_bytes = num(r, "munmap_kb") * 1024;
		p->page_allocs = num(r, "page_allocs");
		p->stall_s = num(r, "stall_ns") / 1e9;
		p->allocfail = num(r, "allocfail");
	}
	/* groups: sort by name, sum runs, keep the largest by RSS */
	struct proc_fig *byname = xcalloc(n ? n : 1, sizeof(*byname));

	memcpy(byname, procs, n * sizeof(*procs));
	qsort(byname, n, sizeof(*byname), by_comm);
	for (size_t i = 0; i < n; i++) {
		if (!ngroups || strcmp(groups[ngroups - 1].comm, byname[i].comm)) {
			groups[ngroups] = (struct proc_fig){ .comm = byname[i].comm,
							     .pid = (long long)ngroups };
			ngroups++;
		}
		fig_add(&groups[ngroups - 1], &byname[i]);
	}
	free(byname);
	qsort(groups, ngroups, sizeof(*groups), by_rss_desc);
	for (size_t i = METRICS_MAX_GROUPS; i < ngroups; i++)
		fig_add(&others, &groups[i]);
	if (ngroups > METRICS_MAX_GROUPS)
		groups[METRICS_MAX_GROUPS] = others, ngroups = METRICS_MAX_GROUPS + 1;
	for (size_t m = 0; m < sizeof(group_metrics) / sizeof(group_metrics[0]); m++) {
		family(sb, group_metrics[m].name, group_metrics[m].type, group_metrics[m].help);
		for (size_t g = 0; g < ngroups; g++) {
			sb_printf(sb, "%s{comm=\"", group_metrics[m].name);
			sb_label(sb, groups[g].comm);
			sb_printf(sb, "\"} %.17g\n", fig_get(&groups[g], group_metrics[m].off));
		}
	}
	/* --metrics-top N: per pid */
	if (top > 0) {
		struct proc_fig rest = { 0 };
		size_t shown = (size_t)top < n ? (size_t)top : n;

		qsort(procs, n, sizeof(*procs), by_rss_desc);
		for (size_t i = shown; i < n; i++)
			fig_add(&rest, &procs[i]);
		for (int k = 0; k < 2; k++) {
			const char *name = k ? "memwatch_process_mapped_net_bytes" :
					       "memwatch_process_rss_bytes";

			family(sb, name, "gauge", k ?
			       "Net mapped bytes of the largest processes by RSS (--metrics-top), the rest as pid=\"others\"." :
			       "Resident bytes of the largest processes by RSS (--metrics-top), the rest as pid=\"others\".");
			for (size_t i = 0; i < shown; i++) {
				sb_printf(sb, "%s{pid=\"%lld\",comm=\"", name, procs[i].pid);
				sb_label(sb, procs[i].comm);
				sb_printf(sb, "\"} %.17g\n", k ? procs[i].mapped_net : procs[i].rss);
			}
			sb_printf(sb, "%s{pid=\"others\",comm=\"others\"} %.17g\n", name,
				  k ? rest.mapped_net : rest.rss);
		}
	}
	family(sb, "memwatch_memory_total_bytes", "gauge", "MemTotal, what shares are relative to.");
	sample(sb, "memwatch_memory_total_bytes",
	       num(json_object_get(tasks, "values"), "mem_total_kb") * 1024);
	family(sb, "memwatch_processes", "gauge", "Processes with an address space.");
	sample(sb, "memwatch_processes", (double)n);
	free(procs);
	free(groups);
}

static void frag_metrics(struct strbuf *sb, json_t *frag)
{
	static const struct { const char *col, *name, *help; } per_order[] = {
		{ "free_blocks", "memwatch_frag_free_blocks", "Free blocks of this order in the zone's buddy lists." },
		{ "unusable_index", "memwatch_frag_unusable_index", "Unusable free space index for an allocation of this order (0..1)." },
		{ "extfrag_index", "memwatch_frag_extfrag_index", "External fragmentation index for this order (-1: an allocation would succeed)." },
	};
	json_t *orders = json_object_get(frag, "orders");

	for (size_t m = 0; m < 3; m++) {
		size_t i;
		json_t *r;

		if (!json_array_size(orders) ||
		    !json_object_get(json_array_get(orders, 0), per_order[m].col))
			continue;	/* /proc's buddyinfo has free blocks only */
		family(sb, per_order[m].name, "gauge", per_order[m].help);
		json_array_foreach(orders, i, r) {
			const char *zone = json_string_value(json_object_get(r, "zone"));

			sb_printf(sb, "%s{node=\"%lld\",zone=\"", per_order[m].name,
				  (long long)num(r, "node"));
			sb_label(sb, zone ? zone : "");
			sb_printf(sb, "\",order=\"%lld\"} %.17g\n", (long long)num(r, "order"),
				  num(r, per_order[m].col));
		}
	}
}

/* "name value" counters of a module file: counter with _total; _ns as seconds. */
static void pair_counters(struct strbuf *sb, json_t *j, const char *prefix,
			  const char *const *skip, const char *file)
{
	const char *key;
	json_t *v;

	json_object_foreach(json_object_get(j, "values"), key, v) {
		char name[160], help[200];
		size_t len = strlen(key);
		bool gauge = strstr(key, "max") != NULL;
		bool skipped = !json_is_number(v);

		for (size_t i = 0; skip && skip[i]; i++)
			if (!strcmp(skip[i], key))
				skipped = true;
		if (skipped)
			continue;
		if (len > 3 && !strcmp(key + len - 3, "_ns"))
			snprintf(name, sizeof(name), "%s_%.*s_seconds%s", prefix, (int)len - 3,
				 key, gauge ? "" : "_total");
		else
			snprintf(name, sizeof(name), "%s_%s%s", prefix, key, gauge ? "" : "_total");
		snprintf(help, sizeof(help), "%s of /proc/memwatch/%s%s.", key, file,
			 len > 3 && !strcmp(key + len - 3, "_ns") ? ", in seconds" : "");
		family(sb, name, gauge ? "gauge" : "counter", help);
		sample(sb, name, len > 3 && !strcmp(key + len - 3, "_ns") ?
		       json_number_value(v) / 1e9 : json_number_value(v));
	}
}

static void table_counter(struct strbuf *sb, json_t *j, const char *table,
			  const char *label, const char *col, const char *name,
			  const char *help)
{
	json_t *rows = json_object_get(j, table), *r;
	size_t i;

	if (!json_array_size(rows))
		return;
	family(sb, name, "counter", help);
	json_array_foreach(rows, i, r) {
		json_t *l = json_object_get(r, label);
		char buf[64];

		if (json_is_string(l))
			snprintf(buf, sizeof(buf), "%s", json_string_value(l));
		else
			snprintf(buf, sizeof(buf), "%lld", (long long)json_number_value(l));
		sb_printf(sb, "%s{%s=\"", name, label);
		sb_label(sb, buf);
		sb_printf(sb, "\"} %.17g\n", num(r, col));
	}
}

static void status_metrics(struct strbuf *sb, json_t *st)
{
	json_t *values = json_object_get(st, "values"), *v;
	const char *key;

	family(sb, "memwatch_module_memory_held_bytes", "gauge",
	       "Memory the module holds, in total and per feature.");
	json_object_foreach(values, key, v) {
		const char *dot = strchr(key, '.');

		if (!strcmp(key, "memory_held_bytes"))
			sb_printf(sb, "memwatch_module_memory_held_bytes{feature=\"all\"} %.17g\n",
				  json_number_value(v));
		else if (dot && !strcmp(dot + 1, "memory_held_bytes"))
			sb_printf(sb, "memwatch_module_memory_held_bytes{feature=\"%.*s\"} %.17g\n",
				  (int)(dot - key), key, json_number_value(v));
	}
	family(sb, "memwatch_module_lost_total", "counter",
	       "What the module could not record: tables full, probes missed (status *_dropped, *_missed, *_untimed).");
	json_object_foreach(values, key, v) {
		if (json_is_number(v) && (strstr(key, "_dropped") || strstr(key, "_missed") ||
					  strstr(key, "_untimed")))
			sb_printf(sb, "memwatch_module_lost_total{counter=\"%s\"} %.17g\n", key,
				  json_number_value(v));
	}
	json_t *probes = json_object_get(st, "probe"), *p;
	size_t i;

	if (json_array_size(probes)) {
		family(sb, "memwatch_module_probe_attached", "gauge",
		       "1 when the probe point is attached, 0 when the kernel lacks it (status).");
		json_array_foreach(probes, i, p) {
			const char *f = json_string_value(json_object_get(p, "feature"));
			const char *k = json_string_value(json_object_get(p, "kind"));
			const char *n = json_string_value(json_object_get(p, "name"));
			const char *s = json_string_value(json_object_get(p, "state"));

			sb_printf(sb, "memwatch_module_probe_attached{feature=\"");
			sb_label(sb, f ? f : "");
			sb_printf(sb, "\",kind=\"");
			sb_label(sb, k ? k : "");
			sb_printf(sb, "\",probe=\"");
			sb_label(sb, n ? n : "");
			sb_printf(sb, "\"} %d\n", s && !strcmp(s, "attached"));
		}
	}
}

/*
 * What the recording (--db) says it lost, by source (table loss): the
 * same books memwatch-read --db and the file's readers see. Every source
 * is listed, 0 when it lost nothing; nothing when the file cannot be read.
 */
static void recording_metrics(struct strbuf *sb)
{
	static const char *const sources[] = { "ring", "queue", "disk", "samples" };
	long long v[4] = { 0 };
	sqlite3 *db = NULL;
	sqlite3_stmt *q = NULL;
	size_t i;
	bool ok = false;

	if (!serve_cfg.db_path)
		return;
	if (sqlite3_open_v2(serve_cfg.db_path, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX,
			    NULL) == SQLITE_OK) {
		sqlite3_busy_timeout(db, 2000);
		ok = sqlite3_prepare_v2(db, "SELECT source, sum(count) FROM loss GROUP BY source",
					-1, &q, NULL) == SQLITE_OK;
		while (ok && sqlite3_step(q) == SQLITE_ROW) {
			const char *src = (const char *)sqlite3_column_text(q, 0);

			for (i = 0; src && i < 4; i++)
				if (!strcmp(src, sources[i]))
					v[i] = sqlite3_column_int64(q, 1);
		}
		sqlite3_finalize(q);
	}
	sqlite3_close(db);
	if (!ok)
		return;
	family(sb, "memwatch_recording_lost_total", "counter",
	       "What the recording lost, from its loss table: events overwritten in the module's ring "
	       "(ring), dropped on memwatchd's full queue (queue), not written (disk); samples dropped (samples).");
	for (i = 0; i < 4; i++)
		sb_printf(sb, "memwatch_recording_lost_total{source=\"%s\"} %lld\n", sources[i], v[i]);
}

enum MHD_Result metrics_reply(struct MHD_Connection *c)
{
	static const char *const reclaim_skip[] = { "now_ns", "ring_size", NULL };
	static const char *const frag_skip[] = { "nr_orders", "pageblock_order", "nr_zones", NULL };
	static const char *const extfrag_skip[] = {
		"now_ns", "pageblock_order", "rows", "slots", "ring_size", NULL
	};
	static const char *const allocfail_skip[] = { "now_ns", "ring_size", NULL };
	struct strbuf sb = { 0 };
	char err[512];
	bool module = mw_module_present();
	json_t *j;
	enum MHD_Result res;

	family(&sb, "memwatch_module_loaded", "gauge",
	       "1 when /proc/memwatch is there; 0: figures from /proc only.");
	sample(&sb, "memwatch_module_loaded", module);
	if ((j = live_json("tasks", err, sizeof(err)))) {
		tasks_metrics(&sb, j);
		json_decref(j);
	}
	if ((j = live_json("frag", err, sizeof(err)))) {
		frag_metrics(&sb, j);
		if (module && !strcmp(json_string_value(json_object_get(j, "source")), "module"))
			pair_counters(&sb, j, "memwatch_frag", frag_skip, "frag");
		json_decref(j);
	}
	if (module) {
		if ((j = live_json("reclaim", err, sizeof(err))) &&
		    !strcmp(json_string_value(json_object_get(j, "source")), "module"))
			pair_counters(&sb, j, "memwatch_reclaim", reclaim_skip, "reclaim");
		json_decref(j);
		if ((j = live_json("allocfail", err, sizeof(err)))) {
			pair_counters(&sb, j, "memwatch_allocfail", allocfail_skip, "allocfail");
			table_counter(&sb, j, "by_order", "order", "failures",
				      "memwatch_allocfail_by_order_total", "Failed page allocations per order.");
			table_counter(&sb, j, "by_class", "class", "failures",
				      "memwatch_allocfail_by_class_total", "Failed page allocations per gfp class.");
			table_counter(&sb, j, "by_zone", "zone", "failures",
				      "memwatch_allocfail_by_zone_total", "Failed page allocations per preferred zone type.");
			json_decref(j);
		}
		if ((j = live_json("extfrag", err, sizeof(err)))) {
			pair_counters(&sb, j, "memwatch_extfrag", extfrag_skip, "extfrag");
			json_decref(j);
		}
		if ((j = live_json("status", err, sizeof(err)))) {
			status_metrics(&sb, j);
			json_decref(j);
		}
	}
	suspects_metrics(&sb);
	recording_metrics(&sb);
	res = http_reply(c, 200, "text/plain; version=0.0.4; charset=utf-8",
			 sb.buf ? sb.buf : "", sb.len);
	sb_free(&sb);
	return res;
}
