/*
 * cluster.c - gathers the cluster document of cluster.h from a Prometheus
 * server: /api/v1/targets for which hosts exist and whether they are up,
 * then a fixed set of instant queries, all evaluated at the same time T.
 *
 * Which targets are memwatch hosts: those of a job that has served
 * memwatch_module_loaded in the last day, and of the job named "memwatch"
 * (the scrape config of Documentation/cluster.md), so a job whose every
 * host is down still shows its hosts, as down.
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cluster.h"
#include "prom_client.h"

#define CLUSTER_JOB "memwatch"

struct ctx {
	struct prom_url url;
	double at;
	char *err;
	size_t errlen;
	json_t *hosts;		/* instance -> host object */
};

/* The result vector of PROMQL, or NULL (error in ctx). */
static json_t *vector(struct ctx *c, const char *promql)
{
	json_t *d = prom_query(&c->url, promql, c->at, c->err, c->errlen), *r;

	if (!d)
		return NULL;
	r = json_object_get(d, "result");
	if (!json_is_array(r)) {
		snprintf(c->err, c->errlen, "%s: query '%s' gave no result vector",
			 c->url.shown, promql);
		json_decref(d);
		return NULL;
	}
	json_incref(r);
	json_decref(d);
	return r;
}

static const char *label(json_t *sample, const char *name)
{
	const char *v = json_string_value(json_object_get(json_object_get(sample, "metric"), name));

	return v ? v : "";
}

static double value(json_t *sample)
{
	const char *v = json_string_value(json_array_get(json_object_get(sample, "value"), 1));

	return v ? strtod(v, NULL) : NAN;
}

/* Integers stay integers in JSON (exact sums), anything else a real. */
static json_t *number(double v)
{
	if (isnan(v) || isinf(v))
		return json_null();
	if (v == floor(v) && fabs(v) < 9007199254740992.0)
		return json_integer((json_int_t)v);
	return json_real(v);
}

/* RFC 3339 ("2026-12-01T11:30:00.123456789Z") to epoch seconds. */
static double rfc3339(const char *s)
{
	struct tm tm = { 0 };
	const char *p;
	double frac = 0;

	if (!s || !(p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm)))
		return NAN;
	if (*p == '.')
		frac = strtod(p, NULL);
	/* Prometheus writes UTC ("Z"); a zero year means never scraped */
	if (tm.tm_year + 1900 < 1971)
		return NAN;
	return (double)timegm(&tm) + frac;
}

/* Per-host figures: for each instance in the vector, set host[key]. */
static int fill(struct ctx *c, const char *key, const char *promql)
{
	json_t *v = vector(c, promql), *s;
	size_t i;

	if (!v)
		return -1;
	json_array_foreach(v, i, s) {
		json_t *h = json_object_get(c->hosts, label(s, "instance"));

		if (h && !strcmp(json_string_value(json_object_get(h, "state")), "up"))
			json_object_set_new(h, key, number(value(s)));
	}
	json_decref(v);
	return 0;
}

static const char *instance_of(json_t *h)
{
	return json_string_value(json_object_get(h, "instance"));
}

static int targets(struct ctx *c, json_t *order)
{
	char q[256];
	json_t *jobs, *d, *active, *t, *s;
	size_t i;

	snprintf(q, sizeof(q), "count by (job) (last_over_time(memwatch_module_loaded[1d]))");
	if (!(jobs = vector(c, q)))
		return -1;
	if (!(d = prom_get(&c->url, "/api/v1/targets?state=active", c->err, c->errlen))) {
		json_decref(jobs);
		return -1;
	}
	active = json_object_get(d, "activeTargets");
	json_array_foreach(active, i, t) {
		json_t *labels = json_object_get(t, "labels");
		const char *inst = json_string_value(json_object_get(labels, "instance"));
		const char *job = json_string_value(json_object_get(labels, "job"));
		const char *health = json_string_value(json_object_get(t, "health"));
		const char *lerr = json_string_value(json_object_get(t, "lastError"));
		bool ours = job && !strcmp(job, CLUSTER_JOB);
		size_t k;

		if (!inst || !job)
			continue;
		json_array_foreach(jobs, k, s)
			if (!strcmp(label(s, "job"), job))
				ours = true;
		if (!ours || json_object_get(c->hosts, inst))
			continue;
		json_t *h = json_pack("{s:s, s:s, s:s, s:o, s:o, s:s?}",
			"instance", inst, "job", job,
			"state", health && (!strcmp(health, "up") || !strcmp(health, "down")) ?
				 health : "unknown",
			"last_scrape", number(rfc3339(json_string_value(json_object_get(t, "lastScrape")))),
			"scrape_seconds", number(json_number_value(json_object_get(t, "lastScrapeDuration"))),
			"last_error", lerr && *lerr ? lerr : NULL);

		json_object_set(c->hosts, inst, h);
		json_array_append_new(order, h);
	}
	json_decref(d);
	json_decref(jobs);
	/* stable order for people and diffs: by instance */
	for (i = 1; i < json_array_size(order); i++)
		for (size_t k = i; k > 0 && strcmp(instance_of(json_array_get(order, k - 1)),
						   instance_of(json_array_get(order, k))) > 0; k--) {
			json_t *x = json_incref(json_array_get(order, k));

			json_array_remove(order, k);
			json_array_insert_new(order, k - 1, x);
		}
	return 0;
}

/* Host figures: name, PromQL template (%s: the group selector), module only. */
static const struct {
	const char *key, *expr;
	bool module_only;
} host_figs[] = {
	{ "processes", "sum by (instance) (memwatch_group_processes%s)", false },
	{ "rss_bytes", "sum by (instance) (memwatch_group_rss_bytes%s)", false },
	{ "rss_anon_bytes", "sum by (instance) (memwatch_group_rss_anon_bytes%s)", false },
	{ "mapped_net_bytes", "sum by (instance) (memwatch_group_mapped_net_bytes%s)", true },
	{ "mmap_calls", "sum by (instance) (memwatch_group_mmap_calls_total%s)", true },
	{ "munmap_calls", "sum by (instance) (memwatch_group_munmap_calls_total%s)", true },
	{ "page_allocs", "sum by (instance) (memwatch_group_page_allocs_total%s)", true },
	{ "stall_seconds", "sum by (instance) (memwatch_group_stall_seconds_total%s)", true },
	{ "allocfail", "sum by (instance) (memwatch_group_allocfail_total%s)", true },
};

static const struct {
	const char *key, *expr;
} system_figs[] = {
	{ "module_loaded", "max by (instance) (memwatch_module_loaded)" },
	{ "mem_total_bytes", "max by (instance) (memwatch_memory_total_bytes)" },
	{ "direct_stall_seconds", "max by (instance) (memwatch_reclaim_direct_stall_seconds_total)" },
	{ "allocfail_failures", "max by (instance) (memwatch_allocfail_failures_total)" },
	/* order 9: a 2 MiB huge page on x86-64; DMA is tiny and always "fragmented" */
	{ "unusable_index_o9",
	  "max by (instance) (memwatch_frag_unusable_index{order=\"9\",zone!=\"DMA\"})" },
};

/* PromQL string literal of @s (backslash and quote escaped) into @out. */
static void promql_string(const char *s, char *out, size_t outlen)
{
	size_t o = 0;

	out[o++] = '"';
	for (; *s && o + 4 < outlen; s++) {
		if (*s == '\\' || *s == '"')
			out[o++] = '\\';
		if (*s == '\n') {
			out[o++] = '\\';
			out[o++] = 'n';
			continue;
		}
		out[o++] = *s;
	}
	out[o++] = '"';
	out[o] = '\0';
}

static int host_figures(struct ctx *c, const char *comm, json_t *order)
{
	char sel[400] = "", lit[300], q[700];
	json_t *h;
	size_t i;

	if (comm) {
		promql_string(comm, lit, sizeof(lit));
		snprintf(sel, sizeof(sel), "{comm=%s}", lit);
	}
	for (size_t k = 0; k < sizeof(system_figs) / sizeof(system_figs[0]); k++)
		if (fill(c, system_figs[k].key, system_figs[k].expr))
			return -1;
	for (size_t k = 0; k < sizeof(host_figs) / sizeof(host_figs[0]); k++) {
		snprintf(q, sizeof(q), host_figs[k].expr, sel);
		if (fill(c, host_figs[k].key, q))
			return -1;
	}
	/* up, scraped, no such group: 0 (a fact); no module: null (unknown) */
	json_array_foreach(order, i, h) {
		bool up = !strcmp(json_string_value(json_object_get(h, "state")), "up");
		json_t *ml = json_object_get(h, "module_loaded");
		bool module = json_is_integer(ml) && json_integer_value(ml) == 1;

		for (size_t k = 0; k < sizeof(system_figs) / sizeof(system_figs[0]); k++)
			if (!json_object_get(h, system_figs[k].key))
				json_object_set_new(h, system_figs[k].key, json_null());
		if (json_is_integer(ml))
			json_object_set_new(h, "module_loaded", json_boolean(module));
		for (size_t k = 0; k < sizeof(host_figs) / sizeof(host_figs[0]); k++) {
			const char *key = host_figs[k].key;

			if (!up || !json_is_boolean(json_object_get(h, "module_loaded")) ||
			    (host_figs[k].module_only && !module))
				json_object_set_new(h, key, json_null());
			else if (!json_object_get(h, key))
				json_object_set_new(h, key, json_integer(0));
		}
	}
	return 0;
}

static json_t *totals(json_t *order)
{
	json_t *t = json_object(), *h;
	size_t i, up = 0;
	const char *keys[] = { "mem_total_bytes", "processes", "rss_bytes", "rss_anon_bytes",
			       "mapped_net_bytes", "mmap_calls", "munmap_calls", "page_allocs",
			       "stall_seconds", "allocfail", "direct_stall_seconds",
			       "allocfail_failures" };

	for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
		double sum = 0;
		bool any = false;

		json_array_foreach(order, i, h) {
			json_t *v = json_object_get(h, keys[k]);

			if (json_is_number(v)) {
				sum += json_number_value(v);
				any = true;
			}
		}
		json_object_set_new(t, keys[k], any ? number(sum) : json_null());
	}
	json_array_foreach(order, i, h)
		up += !strcmp(json_string_value(json_object_get(h, "state")), "up");
	json_object_set_new(t, "hosts", json_integer(json_array_size(order)));
	json_object_set_new(t, "hosts_up", json_integer(up));
	return t;
}

/* Per command across the cluster: the largest @n by RSS. */
static json_t *commands(struct ctx *c, int n)
{
	static const struct { const char *key, *metric; } cols[] = {
		{ "processes", "memwatch_group_processes" },
		{ "rss_anon_bytes", "memwatch_group_rss_anon_bytes" },
		{ "mapped_net_bytes", "memwatch_group_mapped_net_bytes" },
		{ "mmap_calls", "memwatch_group_mmap_calls_total" },
		{ "stall_seconds", "memwatch_group_stall_seconds_total" },
		{ "allocfail", "memwatch_group_allocfail_total" },
	};
	char q[300];
	json_t *top, *out = json_array(), *byname = json_object(), *s;
	size_t i;

	snprintf(q, sizeof(q), "topk(%d, sum by (comm) (memwatch_group_rss_bytes{comm!=\"others\"}))", n);
	if (!(top = vector(c, q)))
		goto fail;
	json_array_foreach(top, i, s) {
		json_t *row = json_pack("{s:s, s:o}", "comm", label(s, "comm"),
					"rss_bytes", number(value(s)));

		json_object_set(byname, label(s, "comm"), row);
		json_array_append_new(out, row);
	}
	json_decref(top);
	snprintf(q, sizeof(q), "count by (comm) (memwatch_group_rss_bytes)");
	if (!(top = vector(c, q)))
		goto fail;
	json_array_foreach(top, i, s) {
		json_t *row = json_object_get(byname, label(s, "comm"));

		if (row)
			json_object_set_new(row, "hosts", number(value(s)));
	}
	json_decref(top);
	for (size_t k = 0; k < sizeof(cols) / sizeof(cols[0]); k++) {
		snprintf(q, sizeof(q), "sum by (comm) (%s)", cols[k].metric);
		if (!(top = vector(c, q)))
			goto fail;
		json_array_foreach(top, i, s) {
			json_t *row = json_object_get(byname, label(s, "comm"));

			if (row)
				json_object_set_new(row, cols[k].key, number(value(s)));
		}
		json_decref(top);
	}
	json_decref(byname);
	/* topk's vector is unordered in the API: largest first, then by name */
	json_t *sorted = json_array();
	size_t left = json_array_size(out);
	bool *used = calloc(left ? left : 1, sizeof(bool));

	for (; left; left--) {
		size_t best = (size_t)-1;
		json_t *r;

		json_array_foreach(out, i, r) {
			json_t *b = best == (size_t)-1 ? NULL : json_array_get(out, best);

			if (used[i])
				continue;
			if (!b || json_number_value(json_object_get(r, "rss_bytes")) >
				  json_number_value(json_object_get(b, "rss_bytes")) ||
			    (json_number_value(json_object_get(r, "rss_bytes")) ==
			     json_number_value(json_object_get(b, "rss_bytes")) &&
			     strcmp(json_string_value(json_object_get(r, "comm")),
				    json_string_value(json_object_get(b, "comm"))) < 0))
				best = i;
		}
		used[best] = true;
		json_array_append(sorted, json_array_get(out, best));
	}
	free(used);
	json_decref(out);
	return sorted;
fail:
	json_decref(byname);
	json_decref(out);
	return NULL;
}

static int by_rss_desc(const void *a, const void *b)
{
	double x = json_number_value(json_object_get(*(json_t *const *)a, "rss_bytes"));
	double y = json_number_value(json_object_get(*(json_t *const *)b, "rss_bytes"));

	return x < y ? 1 : x > y ? -1 : 0;
}

/* The @n largest processes across the cluster (needs --metrics-top on the hosts). */
static json_t *top_processes(struct ctx *c, int n)
{
	char q[200];
	json_t *v, *m, *s, *t, *out = json_array();
	size_t i, k;

	snprintf(q, sizeof(q), "topk(%d, memwatch_process_rss_bytes{pid!=\"others\"})", n);
	if (!(v = vector(c, q)))
		goto fail;
	if (!(m = vector(c, "memwatch_process_mapped_net_bytes{pid!=\"others\"}"))) {
		json_decref(v);
		goto fail;
	}
	size_t nrows = json_array_size(v);
	json_t **rows = calloc(nrows ? nrows : 1, sizeof(*rows));

	json_array_foreach(v, i, s) {
		json_t *mapped = json_null();

		json_array_foreach(m, k, t)
			if (!strcmp(label(s, "instance"), label(t, "instance")) &&
			    !strcmp(label(s, "pid"), label(t, "pid"))) {
				json_decref(mapped);
				mapped = number(value(t));
			}
		rows[i] = json_pack("{s:s, s:I, s:s, s:o, s:o}", "instance", label(s, "instance"),
				    "pid", (json_int_t)strtoll(label(s, "pid"), NULL, 10),
				    "comm", label(s, "comm"), "rss_bytes", number(value(s)),
				    "mapped_net_bytes", mapped);
	}
	qsort(rows, nrows, sizeof(*rows), by_rss_desc);
	for (i = 0; i < nrows; i++)
		json_array_append_new(out, rows[i]);
	free(rows);
	json_decref(v);
	json_decref(m);
	return out;
fail:
	json_decref(out);
	return NULL;
}

/* Free blocks and unusable index per host, node, zone and order. */
static json_t *frag(struct ctx *c)
{
	static const char *const metrics[] = { "memwatch_frag_free_blocks",
					       "memwatch_frag_unusable_index" };
	static const char *const keys[] = { "free_blocks", "unusable_index" };
	json_t *out = json_array(), *byzone = json_object(), *v, *s;
	size_t i;

	for (int m = 0; m < 2; m++) {
		if (!(v = vector(c, metrics[m]))) {
			json_decref(out);
			json_decref(byzone);
			return NULL;
		}
		json_array_foreach(v, i, s) {
			char key[600];
			long order = strtol(label(s, "order"), NULL, 10);
			json_t *row;

			if (order < 0 || order > 63)
				continue;
			snprintf(key, sizeof(key), "%s\n%s\n%s", label(s, "instance"),
				 label(s, "node"), label(s, "zone"));
			row = json_object_get(byzone, key);
			if (!row) {
				row = json_pack("{s:s, s:I, s:s, s:[], s:[]}", "instance",
						label(s, "instance"), "node",
						(json_int_t)strtoll(label(s, "node"), NULL, 10),
						"zone", label(s, "zone"), "free_blocks",
						"unusable_index");
				json_object_set_new(byzone, key, row);
				json_array_append(out, row);
			}
			json_t *arr = json_object_get(row, keys[m]);

			while (json_array_size(arr) <= (size_t)order)
				json_array_append_new(arr, json_null());
			json_array_set_new(arr, order, number(value(s)));
		}
		json_decref(v);
	}
	json_decref(byzone);
	return out;
}

json_t *cluster_collect(const struct cluster_query *q, char *err, size_t errlen)
{
	struct ctx c = { .err = err, .errlen = errlen };
	struct timespec ts;
	json_t *doc = NULL, *order = json_array(), *part;

	if (prom_url_parse(q->url, &c.url, err, errlen))
		goto out;
	/* Prometheus checks readiness at /-/ready; the API answers anyway. */
	clock_gettime(CLOCK_REALTIME, &ts);
	c.at = ts.tv_sec + ts.tv_nsec / 1e9;
	c.hosts = json_object();
	if (targets(&c, order) || host_figures(&c, q->comm, order))
		goto out;
	doc = json_pack("{s:s, s:f, s:s?, s:O, s:o}", "prometheus", q->url, "time", c.at,
			"comm", q->comm, "hosts", order, "totals", totals(order));
	if (q->commands > 0) {
		if (!(part = commands(&c, q->commands)))
			goto fail;
		json_object_set_new(doc, "commands", part);
	}
	if (q->top > 0) {
		if (!(part = top_processes(&c, q->top)))
			goto fail;
		json_object_set_new(doc, "top", part);
	}
	if (q->frag) {
		if (!(part = frag(&c)))
			goto fail;
		json_object_set_new(doc, "frag", part);
	}
	goto out;
fail:
	json_decref(doc);
	doc = NULL;
out:
	json_decref(c.hosts);
	json_decref(order);
	return doc;
}
