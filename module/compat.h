/* SPDX-License-Identifier: GPL-2.0 */
/*
 * compat.h - every difference between supported kernels, in one place.
 *
 * Supported: Debian 6.1 (bookworm) and 6.12 (bookworm-backports). Feature
 * code calls the mw_* helpers below and stays free of version checks. Each
 * entry says which kernels differ and how the difference was checked.
 */
#ifndef MEMWATCH_COMPAT_H
#define MEMWATCH_COMPAT_H

#include <linux/version.h>

/* --- tasks --- */

/*
 * mw_mm_counter(mm, member): a process's RSS counter, summed exactly.
 * 6.1: mm->rss_stat holds atomic_long_t counters (plus a per-thread cache
 *      folded every 64 faults, which /proc/PID/status does not see either):
 *      get_mm_counter() is what /proc/PID/status prints.
 * 6.2+: the counters are per-CPU (percpu_counter); get_mm_counter() reads
 *      only the shared part and can be off by a batch per CPU. Debian's
 *      6.12 backports the fix that makes /proc/PID/status sum them
 *      (get_mm_counter_sum); we sum them on every 6.2+ kernel, which is the
 *      exact figure whether or not a kernel has that backport. Checked in
 *      include/linux/mm.h and include/linux/mm_types.h of both kernels.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 2, 0)
#define mw_mm_counter(mm, member) \
	((unsigned long)percpu_counter_sum_positive(&(mm)->rss_stat[member]))
#else
#define mw_mm_counter(mm, member) get_mm_counter(mm, member)
#endif

/* --- frag --- */

/*
 * MW_NR_ORDERS: how many buddy orders a zone has (free_area[] length).
 * 6.1: MAX_ORDER is that count (11 on x86-64: orders 0..10).
 * 6.8+: MAX_ORDER was renamed MAX_PAGE_ORDER and now names the largest
 *      order (10); NR_PAGE_ORDERS is the count. Checked in
 *      include/linux/mmzone.h of both header trees.
 */
#ifdef NR_PAGE_ORDERS
#define MW_NR_ORDERS		NR_PAGE_ORDERS
#else
#define MW_NR_ORDERS		MAX_ORDER
#endif

/*
 * compaction:mm_compaction_migratepages: 6.1 passes the compact_control,
 * 6.12 the number of pages it tried to migrate (include/trace/events/
 * compaction.h of both trees). We only read nr_succeeded, the second
 * argument on both. Only 6.1 and 6.12 were checked: the cut is put at 6.12.
 */
struct compact_control;
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 12, 0)
#define MW_COMPACT_MIGRATEPAGES_ARG0	unsigned int
#else
#define MW_COMPACT_MIGRATEPAGES_ARG0	struct compact_control *
#endif

/*
 * Watermarks: min/low/high_wmark_pages(zone) are macros on 6.1 and inline
 * functions on 6.12; both include watermark_boost, as /proc/zoneinfo
 * prints them. Same call on both, nothing to wrap.
 */

/* --- sys --- */

/*
 * No differences: every node_stat_item sys.c reads exists on 6.1 and 6.12
 * (checked in include/linux/mmzone.h of both header trees), NR_*_THPS count
 * pages on both, and NR_SLAB_*_B count bytes on both. NFS_unstable left
 * the kernel in 5.8; sys prints it as 0 like /proc/meminfo does.
 */

/* --- reclaim --- */

/*
 * struct reclaim_stat (include/linux/vmstat.h) gained nr_demoted in the 6.12
 * series; 6.1 lacks it. The vmscan tracepoints' TP_PROTOs are the same on
 * both (include/trace/events/vmscan.h). shrink_page_list became
 * shrink_folio_list in 6.0: the probe table names both.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 12, 0)
#define mw_reclaim_stat_demoted(stat)	((stat)->nr_demoted)
#else
#define mw_reclaim_stat_demoted(stat)	0U
#endif

/* --- allocfail --- */

/*
 * Orders the buddy allocator serves: 0..MAX_ORDER-1 on 6.1, where MAX_ORDER
 * was exclusive; 0..MAX_PAGE_ORDER on 6.8+ (MAX_ORDER was renamed when it
 * became inclusive; include/linux/mmzone.h of both trees). 11 on both.
 * __alloc_pages is __alloc_pages_noprof since 6.10 (memory allocation
 * profiling): the probe table names both. gfp bit values differ between
 * the kernels (6.1 has __GFP_ATOMIC); allocfail.c only uses the macros and
 * prints names with %pGg, so both come from the headers compiled against.
 */
#include <linux/mmzone.h>
#ifdef MAX_PAGE_ORDER
#define MW_ALLOCFAIL_NR_ORDERS	(MAX_PAGE_ORDER + 1)
#else
#define MW_ALLOCFAIL_NR_ORDERS	MAX_ORDER
#endif

#endif /* MEMWATCH_COMPAT_H */
