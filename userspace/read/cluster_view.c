/*
 * cluster_view.c - memwatch-read --cluster URL: every memwatchd a
 * Prometheus server scrapes, one row per host plus the total (seed 000's
 * "memory of all servers from any server"); -c NAME: that command on every
 * host and its sum; -t: the largest processes across the cluster; --frag:
 * free blocks per host and zone. Figures come from libmwcore's cluster.c,
 * the same document memwatchd's /api/v1/cluster serves.
 *
 * A host that is down prints "down" and "-" figures, never 0; the exit
 * status is 0 then too (the answer is complete), with a note on stderr.
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster.h"
#include "output.h"
#include "util.h"
#include "views.h"

#define CLUSTER_COMMANDS 10
#define CLUSTER_TOP 20
#define CLUSTER_ORDERS 11

struct table {
	char **cells;		/* rows * ncols strings */
	char ***rows;
	size_t ncols, nrows;
};

static void table_init(struct table *t, size_t ncols, size_t nrows)
{
	t->ncols = ncols;
	t->nrows = 0;
	t->cells = xcalloc(ncols * (nrows ? nrows : 1), sizeof(char *));
	t->rows = xcalloc(nrows ? nrows : 1, sizeof(char **));
}

static char **table_row(struct table *t)
{
	char **row = t->cells + t->nrows * t->ncols;

	t->rows[t->nrows++] = row;
	return row;
}

static void table_free(struct table *t)
{
	for (size_t i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t->rows);
}

/* A JSON figure as a cell: integers exact, reals with 3 decimals, null "-". */
static char *cell(json_t *v)
{
	char *s = NULL;

	if (json_is_integer(v))
		return asprintf(&s, "%lld", (long long)json_integer_value(v)) < 0 ? NULL : s;
	if (json_is_real(v))
		return asprintf(&s, "%.3f", json_real_value(v)) < 0 ? NULL : s;
	if (json_is_string(v))
		return xstrdup(json_string_value(v));
	if (json_is_true(v))
		return xstrdup("yes");
	if (json_is_false(v))
		return xstrdup("no");
	return xstrdup("-");
}

/* Seconds as integer nanoseconds, for the writer's _ns columns. */
static char *cell_ns(json_t *v)
{
	char *s = NULL;

	if (!json_is_number(v))
		return xstrdup("-");
	return asprintf(&s, "%.0f", json_number_value(v) * 1e9) < 0 ? NULL : s;
}

/* Columns: the writer's names; the first two are host and state. */
static const struct {
	const char *col, *key;
	bool ns, whole_host;
} host_cols[] = {
	{ "module", "module_loaded", false, true },
	{ "mem_total_bytes", "mem_total_bytes", false, true },
	{ "processes", "processes", false, false },
	{ "rss_bytes", "rss_bytes", false, false },
	{ "rss_anon_bytes", "rss_anon_bytes", false, false },
	{ "mapped_net_bytes", "mapped_net_bytes", false, false },
	{ "mmap_calls", "mmap_calls", false, false },
	{ "munmap_calls", "munmap_calls", false, false },
	{ "page_allocs", "page_allocs", false, false },
	{ "stall_ns", "stall_seconds", true, false },
	{ "allocfail", "allocfail", false, false },
	{ "direct_stall_ns", "direct_stall_seconds", true, true },
	{ "unusable_o9", "unusable_index_o9", false, true },
};

static void show_hosts(struct mw_out *o, json_t *doc, bool comm)
{
	json_t *hosts = json_object_get(doc, "hosts"), *h, *tot = json_object_get(doc, "totals");
	char *cols[2 + sizeof(host_cols) / sizeof(host_cols[0])];
	size_t ncols = 0, i;
	struct table t;

	cols[ncols++] = "host";
	cols[ncols++] = "state";
	for (size_t k = 0; k < sizeof(host_cols) / sizeof(host_cols[0]); k++)
		if (!comm || !host_cols[k].whole_host)
			cols[ncols++] = (char *)host_cols[k].col;
	table_init(&t, ncols, json_array_size(hosts) + 1);
	for (size_t r = 0; r <= json_array_size(hosts); r++) {
		bool total = r == json_array_size(hosts);
		char **row = table_row(&t);
		size_t c = 0;

		h = total ? tot : json_array_get(hosts, r);
		if (total) {
			row[c++] = xstrdup("total");
			if (asprintf(&row[c++], "up:%lld/%lld",
				     (long long)json_integer_value(json_object_get(tot, "hosts_up")),
				     (long long)json_integer_value(json_object_get(tot, "hosts"))) < 0)
				row[c - 1] = NULL;
		} else {
			row[c++] = cell(json_object_get(h, "instance"));
			row[c++] = cell(json_object_get(h, "state"));
		}
		for (size_t k = 0; k < sizeof(host_cols) / sizeof(host_cols[0]); k++) {
			if (comm && host_cols[k].whole_host)
				continue;
			json_t *v = json_object_get(h, host_cols[k].key);

			row[c++] = host_cols[k].ns ? cell_ns(v) : cell(v);
		}
		for (i = 0; i < ncols; i++)
			if (!row[i])
				row[i] = xstrdup("-");
	}
	mw_out_table(o, "hosts", cols, ncols, t.rows, t.nrows);
	table_free(&t);
}

static void show_commands(struct mw_out *o, json_t *doc)
{
	static char *cols[] = { "comm", "hosts", "processes", "rss_bytes", "rss_anon_bytes",
				"mapped_net_bytes", "mmap_calls", "stall_ns", "allocfail" };
	static const char *keys[] = { "comm", "hosts", "processes", "rss_bytes", "rss_anon_bytes",
				      "mapped_net_bytes", "mmap_calls", "stall_seconds", "allocfail" };
	json_t *cmds = json_object_get(doc, "commands"), *r;
	size_t i, n = sizeof(cols) / sizeof(cols[0]);
	struct table t;

	table_init(&t, n, json_array_size(cmds));
	json_array_foreach(cmds, i, r) {
		char **row = table_row(&t);

		for (size_t k = 0; k < n; k++)
			row[k] = !strcmp(cols[k], "stall_ns") ? cell_ns(json_object_get(r, keys[k])) :
								cell(json_object_get(r, keys[k]));
	}
	mw_out_table(o, "commands", cols, n, t.rows, t.nrows);
	table_free(&t);
}

static void show_top(struct mw_out *o, json_t *doc)
{
	static char *cols[] = { "host", "pid", "rss_bytes", "mapped_net_bytes", "comm" };
	static const char *keys[] = { "instance", "pid", "rss_bytes", "mapped_net_bytes", "comm" };
	json_t *top = json_object_get(doc, "top"), *r;
	size_t i;
	struct table t;

	table_init(&t, 5, json_array_size(top));
	json_array_foreach(top, i, r) {
		char **row = table_row(&t);

		for (size_t k = 0; k < 5; k++)
			row[k] = cell(json_object_get(r, keys[k]));
	}
	mw_out_table(o, "top", cols, 5, t.rows, t.nrows);
	table_free(&t);
}

static void show_frag(struct mw_out *o, json_t *doc)
{
	char *cols[3 + CLUSTER_ORDERS + 1], names[CLUSTER_ORDERS][16];
	json_t *frag = json_object_get(doc, "frag"), *r;
	size_t i, n = 0;
	struct table t;

	cols[n++] = "host";
	cols[n++] = "node";
	cols[n++] = "zone";
	for (int k = 0; k < CLUSTER_ORDERS; k++) {
		snprintf(names[k], sizeof(names[k]), "free_o%d", k);
		cols[n++] = names[k];
	}
	cols[n++] = "unusable_o9";
	table_init(&t, n, json_array_size(frag));
	json_array_foreach(frag, i, r) {
		char **row = table_row(&t);
		json_t *fb = json_object_get(r, "free_blocks");
		size_t c = 0;

		row[c++] = cell(json_object_get(r, "instance"));
		row[c++] = cell(json_object_get(r, "node"));
		row[c++] = cell(json_object_get(r, "zone"));
		for (int k = 0; k < CLUSTER_ORDERS; k++)
			row[c++] = cell(json_array_get(fb, k));
		row[c++] = cell(json_array_get(json_object_get(r, "unusable_index"), 9));
	}
	mw_out_table(o, "frag", cols, n, t.rows, t.nrows);
	table_free(&t);
}

int cluster_show(struct mw_out *o, const struct mw_opts *opts)
{
	struct cluster_query q = {
		.url = opts->cluster, .comm = opts->comm,
		.commands = opts->mode == MW_MODE_SUMMARY && !opts->comm ? CLUSTER_COMMANDS : 0,
		.top = opts->mode == MW_MODE_TASKS ? (opts->top ? (int)opts->top : CLUSTER_TOP) : 0,
		.frag = opts->mode == MW_MODE_FRAG,
	};
	char err[1024];
	json_t *doc = cluster_collect(&q, err, sizeof(err)), *h;
	size_t i;

	if (!doc) {
		fprintf(stderr, "%s: --cluster: %s\n", mw_prog, err);
		return 1;
	}
	if (!json_array_size(json_object_get(doc, "hosts")))
		fprintf(stderr, "%s: --cluster: %s scrapes no memwatch target (job \"memwatch\", "
			"or any job serving memwatch_module_loaded): see Documentation/cluster.md\n",
			mw_prog, opts->cluster);
	json_array_foreach(json_object_get(doc, "hosts"), i, h) {
		const char *state = json_string_value(json_object_get(h, "state"));
		const char *e = json_string_value(json_object_get(h, "last_error"));

		if (strcmp(state, "up"))
			fprintf(stderr, "%s: --cluster: %s is %s%s%s\n", mw_prog,
				json_string_value(json_object_get(h, "instance")), state,
				e ? ": " : "", e ? e : "");
	}
	/* CSV has one header: the one table asked for */
	if (opts->mode == MW_MODE_TASKS)
		show_top(o, doc);
	else if (opts->mode == MW_MODE_FRAG)
		show_frag(o, doc);
	if (opts->format != MW_FMT_CSV || opts->mode == MW_MODE_SUMMARY)
		show_hosts(o, doc, opts->comm != NULL);
	if (q.commands && opts->format != MW_FMT_CSV)
		show_commands(o, doc);
	json_decref(doc);
	return 0;
}
