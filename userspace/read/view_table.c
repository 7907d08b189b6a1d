/*
 * view_table.c - which function shows which view, and the name its output
 * is documented under: the one table memwatch-read dispatches through and
 * the fuzz targets walk.
 */
#include "replay.h"
#include "views.h"

const struct mw_view mw_views[MW_MODE_COUNT] = {
	[MW_MODE_SUMMARY] = { "summary", summary_show },
	[MW_MODE_TASKS] = { "tasks", tasks_show },
	[MW_MODE_THREADS] = { "threads", threads_show },
	[MW_MODE_FRAG] = { "frag", frag_show },
	[MW_MODE_NODES] = { "nodes", nodes_show },
	[MW_MODE_FRAG_EVENTS] = { "extfrag", frag_events_show },
	[MW_MODE_SYS] = { "sys", sys_show },
	[MW_MODE_RECLAIM] = { "reclaim", reclaim_show },
	[MW_MODE_ALLOCFAIL] = { "allocfail", allocfail_show },
	[MW_MODE_STATUS] = { "status", status_show },
	[MW_MODE_EVENTS] = { "events", events_show },
	[MW_MODE_HISTORY] = { "history", history_show },
};

const struct mw_view mw_cluster_view = { "cluster", cluster_show };
