/*
 * cluster.h - every memwatchd that one Prometheus scrapes, as one JSON
 * document: what `memwatch-read --cluster` prints and memwatchd's
 * /api/v1/cluster serves (Documentation/cluster.md).
 *
 * {"prometheus": URL, "time": T, "comm": NAME or null,
 *  "hosts": [{"instance", "job", "state": "up"|"down"|"unknown",
 *             "last_scrape", "scrape_seconds", "last_error",
 *             "module_loaded", "mem_total_bytes", "processes", "rss_bytes",
 *             "rss_anon_bytes", "mapped_net_bytes", "mmap_calls", "munmap_calls",
 *             "page_allocs", "stall_seconds", "allocfail",
 *             "direct_stall_seconds", "allocfail_failures",
 *             "unusable_index_o9"}],
 *  "totals": {the same figures summed over hosts that are up, "hosts",
 *             "hosts_up"},
 *  "commands": [{"comm", "hosts", "processes", "rss_bytes", ...}],
 *  "top": [{"instance", "pid", "comm", "rss_bytes", "mapped_net_bytes"}],
 *  "frag": [{"instance", "node", "zone", "free_blocks": [...],
 *            "unusable_index": [...]}]}
 *
 * Every figure is what Prometheus holds for that host at T (one evaluation
 * time for every query). A host that is down has null figures, never 0; a
 * figure the host does not have (no module: no event counts) is null too.
 * With comm set, the per-host figures are that command's group
 * (memwatch_group_*{comm=NAME}); an up host without it has 0 processes.
 */
#ifndef MW_CLUSTER_H
#define MW_CLUSTER_H

#include <jansson.h>
#include <stddef.h>

struct cluster_query {
	const char *url;	/* Prometheus, http://HOST:PORT[/PATH] */
	const char *comm;	/* NULL: all processes */
	int top;		/* processes in "top" (0: none) */
	int commands;		/* rows in "commands" (0: none) */
	int frag;		/* nonzero: fill "frag" */
};

/* The document above, or NULL with the reason in @err. */
json_t *cluster_collect(const struct cluster_query *q, char *err, size_t errlen);

#endif
