// SPDX-License-Identifier: GPL-2.0
/*
 * sys.c - /proc/memwatch/sys: system memory state, per node and in total.
 *
 * Read on demand from the kernel's own counters (vm_node_stat, vm_zone_stat
 * and each node's and zone's vm_stat), the ones /proc/meminfo and
 * /proc/vmstat print, so the file costs nothing until it is read and agrees
 * with those files read at the same moment. No probes, no state.
 *
 * Format (long: one row per node and item, so a new item or a new node
 * never changes the columns):
 *   memwatch-sys - version: 1.0
 *   nodes N
 *   # node item pages kb
 *   total active_anon 1234 4936
 *   node0 active_anon 1234 4936
 *   ...
 *   # zones: node zone free_pages min_pages low_pages high_pages present_pages managed_pages
 *   node0 DMA 3968 ...
 * The "total" rows use the global counters exactly as /proc/meminfo does;
 * "nodeN" rows the node's own. Items a kernel lacks print 0.
 *
 * Notes on locking: none. The counters are atomics read without a lock, as
 * /proc/meminfo reads them; per-cpu deltas not yet folded in make them lag
 * by at most the vmstat threshold per CPU (see Documentation/sys.md).
 */
#include <linux/mm.h>
#include <linux/mmzone.h>
#include <linux/nodemask.h>
#include <linux/swap.h>
#include <linux/vmstat.h>

#include "compat.h"
#include "memwatch.h"

enum sys_src {
	SYS_NODE,	/* node_stat_item, pages */
	SYS_NODE_B,	/* node_stat_item counted in bytes */
	SYS_NODE_KB,	/* node_stat_item counted in KiB */
	SYS_ZONE,	/* zone_stat_item summed over the node's zones */
	SYS_MANAGED,	/* managed pages (MemTotal) */
	SYS_KRECLAIM,	/* slab reclaimable + other kernel reclaimable */
	SYS_SLAB,	/* slab reclaimable + unreclaimable */
	SYS_AVAILABLE,	/* MemAvailable: total only */
	SYS_ZERO,	/* gone from supported kernels: always 0 */
};

struct sys_item {
	const char *name;
	enum sys_src src;
	int item;
};

/*
 * Order and names follow /proc/meminfo where it has the figure; the seed's
 * sysstat fields (NFS_unstable, writebacktmp...) are all here.
 */
static const struct sys_item sys_items[] = {
	{ "total",		SYS_MANAGED,	0 },
	{ "free",		SYS_ZONE,	NR_FREE_PAGES },
	{ "available",		SYS_AVAILABLE,	0 },
	{ "file_pages",		SYS_NODE,	NR_FILE_PAGES },
	{ "swapcache",		SYS_NODE,	NR_SWAPCACHE },
	{ "active_anon",	SYS_NODE,	NR_ACTIVE_ANON },
	{ "inactive_anon",	SYS_NODE,	NR_INACTIVE_ANON },
	{ "active_file",	SYS_NODE,	NR_ACTIVE_FILE },
	{ "inactive_file",	SYS_NODE,	NR_INACTIVE_FILE },
	{ "unevictable",	SYS_NODE,	NR_UNEVICTABLE },
	{ "mlocked",		SYS_ZONE,	NR_MLOCK },
	{ "isolated_anon",	SYS_NODE,	NR_ISOLATED_ANON },
	{ "isolated_file",	SYS_NODE,	NR_ISOLATED_FILE },
	{ "dirty",		SYS_NODE,	NR_FILE_DIRTY },
	{ "writeback",		SYS_NODE,	NR_WRITEBACK },
	{ "writeback_tmp",	SYS_NODE,	NR_WRITEBACK_TEMP },
	{ "nfs_unstable",	SYS_ZERO,	0 },
	{ "bounce",		SYS_ZONE,	NR_BOUNCE },
	{ "anon_pages",		SYS_NODE,	NR_ANON_MAPPED },
	{ "mapped",		SYS_NODE,	NR_FILE_MAPPED },
	{ "shmem",		SYS_NODE,	NR_SHMEM },
	{ "kreclaimable",	SYS_KRECLAIM,	0 },
	{ "slab",		SYS_SLAB,	0 },
	{ "slab_reclaimable",	SYS_NODE_B,	NR_SLAB_RECLAIMABLE_B },
	{ "slab_unreclaimable",	SYS_NODE_B,	NR_SLAB_UNRECLAIMABLE_B },
	{ "kernel_stack",	SYS_NODE_KB,	NR_KERNEL_STACK_KB },
	{ "pagetables",		SYS_NODE,	NR_PAGETABLE },
	{ "sec_pagetables",	SYS_NODE,	NR_SECONDARY_PAGETABLE },
	{ "anon_thp",		SYS_NODE,	NR_ANON_THPS },
	{ "shmem_thp",		SYS_NODE,	NR_SHMEM_THPS },
	{ "shmem_pmdmapped",	SYS_NODE,	NR_SHMEM_PMDMAPPED },
	{ "file_thp",		SYS_NODE,	NR_FILE_THPS },
	{ "file_pmdmapped",	SYS_NODE,	NR_FILE_PMDMAPPED },
	{ "workingset_nodes",	SYS_NODE,	WORKINGSET_NODES },
};

/*
 * node_page_state_pages() is not exported; this is its body. In pages for
 * every item, the *_B ones too: __mod_node_page_state() shifts byte deltas
 * to pages before adding them.
 */
static unsigned long sys_node_state(struct pglist_data *pgdat, int item)
{
	long x = atomic_long_read(&pgdat->vm_stat[item]);

	return x < 0 ? 0 : x;
}

static unsigned long sys_zone_state(struct pglist_data *pgdat, int item)
{
	unsigned long sum = 0;
	int i;

	for (i = 0; i < MAX_NR_ZONES; i++)
		sum += zone_page_state(&pgdat->node_zones[i], item);
	return sum;
}

static unsigned long sys_managed(struct pglist_data *pgdat)
{
	unsigned long sum = 0;
	int i;

	for (i = 0; i < MAX_NR_ZONES; i++)
		sum += zone_managed_pages(&pgdat->node_zones[i]);
	return sum;
}

/* Node @pgdat's figure, or the system's when @pgdat is NULL; in pages. */
static unsigned long sys_value(const struct sys_item *it,
			       struct pglist_data *pgdat)
{
	switch (it->src) {
	case SYS_NODE:
		return pgdat ? sys_node_state(pgdat, it->item) :
			       global_node_page_state(it->item);
	case SYS_NODE_B:
		return pgdat ? sys_node_state(pgdat, it->item) :
			       global_node_page_state_pages(it->item);
	case SYS_NODE_KB:
		return (pgdat ? sys_node_state(pgdat, it->item) :
				global_node_page_state(it->item)) >>
		       (PAGE_SHIFT - 10);
	case SYS_ZONE:
		return pgdat ? sys_zone_state(pgdat, it->item) :
			       global_zone_page_state(it->item);
	case SYS_MANAGED:
		return pgdat ? sys_managed(pgdat) : totalram_pages();
	case SYS_KRECLAIM:
		return pgdat ?
			sys_node_state(pgdat, NR_SLAB_RECLAIMABLE_B) +
			sys_node_state(pgdat, NR_KERNEL_MISC_RECLAIMABLE) :
			global_node_page_state_pages(NR_SLAB_RECLAIMABLE_B) +
			global_node_page_state(NR_KERNEL_MISC_RECLAIMABLE);
	case SYS_SLAB:
		return pgdat ?
			sys_node_state(pgdat, NR_SLAB_RECLAIMABLE_B) +
			sys_node_state(pgdat, NR_SLAB_UNRECLAIMABLE_B) :
			global_node_page_state_pages(NR_SLAB_RECLAIMABLE_B) +
			global_node_page_state_pages(NR_SLAB_UNRECLAIMABLE_B);
	case SYS_AVAILABLE:
		return pgdat ? 0 : si_mem_available();
	case SYS_ZERO:
		return 0;
	}
	return 0;
}

static void sys_show_rows(struct seq_file *m, const char *node,
			  struct pglist_data *pgdat)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(sys_items); i++) {
		const struct sys_item *it = &sys_items[i];
		unsigned long pages;

		/* MemAvailable is a system-wide estimate only. */
		if (pgdat && it->src == SYS_AVAILABLE)
			continue;
		/* NR_SECONDARY_PAGETABLE < 0: this kernel lacks it. */
		pages = it->item < 0 ? 0 : sys_value(it, pgdat);
		seq_printf(m, "%-7s %-19s %12lu %14lu\n", node, it->name, pages,
			   pages << (PAGE_SHIFT - 10));
	}
}

static void sys_show_zones(struct seq_file *m, int nid)
{
	struct pglist_data *pgdat = NODE_DATA(nid);
	int i;

	for (i = 0; i < MAX_NR_ZONES; i++) {
		struct zone *zone = &pgdat->node_zones[i];

		if (!populated_zone(zone))
			continue;
		seq_printf(m, "node%-3d %-8s %12lu %10lu %10lu %10lu %13lu %13lu\n",
			   nid, zone->name, zone_page_state(zone, NR_FREE_PAGES),
			   min_wmark_pages(zone), low_wmark_pages(zone),
			   high_wmark_pages(zone), zone->present_pages,
			   zone_managed_pages(zone));
	}
}

static int sys_show(struct seq_file *m, void *v)
{
	char node[16];
	int nid;

	mw_print_header(m, MW_FILE_SYS);
	seq_printf(m, "nodes %d\n", num_online_nodes());
	seq_printf(m, "page_size_bytes %lu\n", PAGE_SIZE);
	seq_puts(m, "# node    item                       pages             kb\n");
	sys_show_rows(m, "total", NULL);
	for_each_online_node(nid) {
		snprintf(node, sizeof(node), "node%d", nid);
		sys_show_rows(m, node, NODE_DATA(nid));
	}
	seq_puts(m, "# zones: node zone free_pages min_pages low_pages high_pages present_pages managed_pages\n");
	for_each_online_node(nid)
		sys_show_zones(m, nid);
	return 0;
}

static int sys_init(struct proc_dir_entry *dir)
{
	if (!proc_create_single(MW_FILE_SYS, 0444, dir, sys_show))
		return -ENOMEM;
	return 0;
}

struct mw_feature mw_sys_feature = {
	.name = "sys",
	.init = sys_init,
};
