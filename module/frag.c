// SPDX-License-Identifier: GPL-2.0
/*
 * frag.c - physical memory fragmentation: /proc/memwatch/nodes,
 * /proc/memwatch/frag and /proc/memwatch/extfrag.
 *
 *  - nodes: per online node, its pfn span and populated zones.
 *  - frag: per populated zone, its size, free pages and watermarks; per zone
 *    and order, the free blocks (in total, as /proc/buddyinfo, and per
 *    migrate type, as /proc/pagetypeinfo), the blocks suitable for an
 *    allocation of that order and the two indices of mm/vmstat.c
 *    (unusable_index and extfrag_index, as debugfs extfrag/ prints them).
 *    Its "name value" head carries the compaction and extfrag counters.
 *  - extfrag: kmem:mm_page_alloc_extfrag events (an allocation served from
 *    a free block of another migrate type) counted per process and kind,
 *    and a ring of the most recent ones.
 *
 * mm/vmstat.c's helpers (fill_contig_page_info, __fragmentation_index,
 * unusable_free_index) are static, so the same arithmetic is repeated here,
 * on the same inputs (free_area[].nr_free read under zone->lock).
 *
 * Notes on locking
 * ----------------
 * zone->lock (the kernel's) is taken as mm/vmstat.c takes it for buddyinfo
 * and pagetypeinfo: irqsave, once per zone to copy nr_free of every order
 * (a few loads), then once per (order, migrate type) free list to count
 * it, capped at FRAG_LIST_CAP entries, dropping the lock and calling
 * cond_resched() between lists so that interrupts are never off for long.
 * Per-type counts are therefore taken list by list, as pagetypeinfo's are;
 * the per-order totals and both indices come from the one consistent copy.
 *
 * frag_ev_lock (raw spinlock, irqsave) protects the extfrag table, the
 * event ring and their counters. The tracepoint fires in the allocator with
 * zone->lock held and interrupts off, from any context; the handler takes
 * only frag_ev_lock, does a bounded probe of an open-addressing table and
 * one ring store, and never allocates. Readers copy the table in chunks of
 * FRAG_COPY_CHUNK entries, dropping the lock between chunks. frag_ev_lock
 * is a leaf: never held with zone->lock by us (the allocator may hold
 * zone->lock around our handler: zone->lock -> frag_ev_lock is the only
 * nesting, and we never take them in the other order).
 *
 * Compaction counters are atomic_long_t, lock-free.
 */
#include <linux/atomic.h>
#include <linux/hash.h>
#include <linux/ktime.h>
#include <linux/log2.h>
#include <linux/math64.h>
#include <linux/mm.h>
#include <linux/mmzone.h>
#include <linux/module.h>
#include <linux/nodemask.h>
#include <linux/pageblock-flags.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/vmalloc.h>
#include <linux/vmstat.h>
/* After mm.h and sched.h: it uses pg_data_t and current unguarded. */
#include <linux/compaction.h>

#include "compat.h"
#include "events.h"
#include "memwatch.h"

static unsigned int frag_extfrag_slots = 1024;
module_param(frag_extfrag_slots, uint, 0444);
MODULE_PARM_DESC(frag_extfrag_slots,
		 "Rows (process x fallback kind) of the extfrag table (default 1024, rounded up to a power of 2)");

static unsigned int frag_extfrag_ring = 256;
module_param(frag_extfrag_ring, uint, 0444);
MODULE_PARM_DESC(frag_extfrag_ring,
		 "Most recent extfrag events kept (default 256, 0 disables the ring)");

#define FRAG_SLOTS_MAX		(1U << 20)
#define FRAG_RING_MAX		(1U << 16)
/* Slots an insert may probe before it counts the event as dropped. */
#define FRAG_PROBES		16
/* pagetypeinfo's cap: we count a free list with zone->lock held. */
#define FRAG_LIST_CAP		100000
/* Table entries copied per hold of frag_ev_lock when reading. */
#define FRAG_COPY_CHUNK		256
/* Output bytes per row, generous, to size the seq_file buffer once. */
#define FRAG_ROW_BYTES		160

/*
 * Our migrate type names, in enum migratetype order, spelled as
 * /proc/pagetypeinfo spells them (migratetype_names[] is not exported).
 * Columns of the frag file are fixed: a type this kernel lacks prints 0.
 */
enum frag_mt_col {
	FRAG_MT_UNMOVABLE,
	FRAG_MT_MOVABLE,
	FRAG_MT_RECLAIMABLE,
	FRAG_MT_HIGHATOMIC,
	FRAG_MT_CMA,
	FRAG_MT_ISOLATE,
	FRAG_MT_NR,
};

static const char *const frag_mt_cols[FRAG_MT_NR] = {
	"unmovable", "movable", "reclaimable", "highatomic", "cma", "isolate",
};

/* Kernel migrate type -> our column, or -1. */
static int frag_mt_col(int mt)
{
	switch (mt) {
	case MIGRATE_UNMOVABLE:
		return FRAG_MT_UNMOVABLE;
	case MIGRATE_MOVABLE:
		return FRAG_MT_MOVABLE;
	case MIGRATE_RECLAIMABLE:
		return FRAG_MT_RECLAIMABLE;
	case MIGRATE_HIGHATOMIC:
		return FRAG_MT_HIGHATOMIC;
#ifdef CONFIG_CMA
	case MIGRATE_CMA:
		return FRAG_MT_CMA;
#endif
#ifdef CONFIG_MEMORY_ISOLATION
	case MIGRATE_ISOLATE:
		return FRAG_MT_ISOLATE;
#endif
	}
	return -1;
}

/* Names as pagetypeinfo prints them, for the extfrag rows. */
static const char *frag_mt_name(int mt)
{
	static const char *const names[FRAG_MT_NR] = {
		"Unmovable", "Movable", "Reclaimable", "HighAtomic", "CMA",
		"Isolate",
	};
	int col = frag_mt_col(mt);

	return col < 0 ? "Unknown" : names[col];
}

/* ---- zone snapshot and the indices of mm/vmstat.c ---- */

struct frag_zone_snap {
	int nid;
	const char *name;
	unsigned long start_pfn, spanned, present, managed, free;
	unsigned long wmark_min, wmark_low, wmark_high;
	unsigned long nr_free[MW_NR_ORDERS];
	unsigned long mt_free[MW_NR_ORDERS][FRAG_MT_NR];
	bool mt_capped[MW_NR_ORDERS];
};

struct frag_contig {
	unsigned long free_pages;
	unsigned long free_blocks_total;
	unsigned long free_blocks_suitable;
};

/* mm/vmstat.c fill_contig_page_info(), on a copy of nr_free[]. */
static void frag_contig_info(const unsigned long *nr_free,
			     unsigned int suitable_order,
			     struct frag_contig *info)
{
	unsigned int order;

	info->free_pages = 0;
	info->free_blocks_total = 0;
	info->free_blocks_suitable = 0;
	for (order = 0; order < MW_NR_ORDERS; order++) {
		unsigned long blocks = nr_free[order];

		info->free_blocks_total += blocks;
		info->free_pages += blocks << order;
		if (order >= suitable_order)
			info->free_blocks_suitable +=
				blocks << (order - suitable_order);
	}
}

/* mm/vmstat.c __fragmentation_index(): -1000 when the allocation succeeds. */
static int frag_extfrag_index(unsigned int order, const struct frag_contig *info)
{
	unsigned long requested = 1UL << order;

	if (!info->free_blocks_total)
		return 0;
	if (info->free_blocks_suitable)
		return -1000;
	return 1000 - div_u64(1000 + div_u64(info->free_pages * 1000ULL,
					     requested),
			      info->free_blocks_total);
}

/* mm/vmstat.c unusable_free_index(). */
static int frag_unusable_index(unsigned int order, const struct frag_contig *info)
{
	if (!info->free_pages)
		return 1000;
	return div_u64((info->free_pages -
			(info->free_blocks_suitable << order)) * 1000ULL,
		       info->free_pages);
}

static unsigned int frag_count_zones(void)
{
	unsigned int n = 0;
	int nid;

	for_each_online_node(nid) {
		pg_data_t *pgdat = NODE_DATA(nid);
		int i;

		for (i = 0; i < MAX_NR_ZONES; i++)
			if (populated_zone(&pgdat->node_zones[i]))
				n++;
	}
	return n;
}

static void frag_snap_zone(struct frag_zone_snap *s, int nid, struct zone *zone)
{
	unsigned long flags;
	unsigned int order;
	int mt;

	s->nid = nid;
	s->name = zone->name;
	s->start_pfn = zone->zone_start_pfn;
	s->spanned = zone->spanned_pages;
	s->present = zone->present_pages;
	s->managed = zone_managed_pages(zone);
	s->free = zone_page_state(zone, NR_FREE_PAGES);
	s->wmark_min = min_wmark_pages(zone);
	s->wmark_low = low_wmark_pages(zone);
	s->wmark_high = high_wmark_pages(zone);

	/* One short hold: every order's count from the same moment. */
	spin_lock_irqsave(&zone->lock, flags);
	for (order = 0; order < MW_NR_ORDERS; order++)
		s->nr_free[order] = zone->free_area[order].nr_free;
	spin_unlock_irqrestore(&zone->lock, flags);

	/* pagetypeinfo's way: one list per hold, capped, resched between. */
	for (order = 0; order < MW_NR_ORDERS; order++) {
		for (mt = 0; mt < MIGRATE_TYPES; mt++) {
			int col = frag_mt_col(mt);
			unsigned long count = 0;
			struct list_head *curr;

			if (col < 0)
				continue;
			spin_lock_irqsave(&zone->lock, flags);
			list_for_each(curr, &zone->free_area[order].free_list[mt]) {
				if (++count >= FRAG_LIST_CAP) {
					s->mt_capped[order] = true;
					break;
				}
			}
			spin_unlock_irqrestore(&zone->lock, flags);
			s->mt_free[order][col] = count;
			cond_resched();
		}
	}
}

/* Fills up to @max snapshots (zones may appear meanwhile); returns how many. */
static unsigned int frag_snap_all(struct frag_zone_snap *snap, unsigned int max)
{
	unsigned int n = 0;
	int nid;

	for_each_online_node(nid) {
		pg_data_t *pgdat = NODE_DATA(nid);
		int i;

		for (i = 0; i < MAX_NR_ZONES && n < max; i++) {
			struct zone *zone = &pgdat->node_zones[i];

			if (populated_zone(zone))
				frag_snap_zone(&snap[n++], nid, zone);
		}
	}
	return n;
}

/* ---- compaction counters ---- */

enum frag_compact_ctr {
	FC_BEGIN,
	FC_END,
	FC_END_SUCCESS,
	FC_END_COMPLETE,
	FC_END_PARTIAL_SKIPPED,
	FC_END_CONTENDED,
	FC_END_OTHER,
	FC_DIRECT,
	FC_DEFERRED,
	FC_DEFER,
	FC_DEFER_RESET,
	FC_KCOMPACTD_WAKE,
	FC_MIGRATE_CALLS,
	FC_MIGRATED_PAGES,
	FC_NR,
};

static const char *const frag_compact_names[FC_NR] = {
	[FC_BEGIN] = "compact_begin",
	[FC_END] = "compact_end",
	[FC_END_SUCCESS] = "compact_end_success",
	[FC_END_COMPLETE] = "compact_end_complete",
	[FC_END_PARTIAL_SKIPPED] = "compact_end_partial_skipped",
	[FC_END_CONTENDED] = "compact_end_contended",
	[FC_END_OTHER] = "compact_end_other",
	[FC_DIRECT] = "compact_direct",
	[FC_DEFERRED] = "compact_deferred",
	[FC_DEFER] = "compact_defer",
	[FC_DEFER_RESET] = "compact_defer_reset",
	[FC_KCOMPACTD_WAKE] = "compact_kcompactd_wake",
	[FC_MIGRATE_CALLS] = "compact_migrate_calls",
	[FC_MIGRATED_PAGES] = "compact_migrated_pages",
};

static atomic_long_t frag_compact[FC_NR];

static void frag_compact_begin_probe(void *data, struct compact_control *cc,
				     unsigned long zone_start,
				     unsigned long zone_end, bool sync)
{
	atomic_long_inc(&frag_compact[FC_BEGIN]);
}

static void frag_compact_end_probe(void *data, struct compact_control *cc,
				   unsigned long zone_start,
				   unsigned long zone_end, bool sync,
				   int status)
{
	enum frag_compact_ctr c;

	switch (status) {
	case COMPACT_SUCCESS:
		c = FC_END_SUCCESS;
		break;
	case COMPACT_COMPLETE:
		c = FC_END_COMPLETE;
		break;
	case COMPACT_PARTIAL_SKIPPED:
		c = FC_END_PARTIAL_SKIPPED;
		break;
	case COMPACT_CONTENDED:
		c = FC_END_CONTENDED;
		break;
	default:
		c = FC_END_OTHER;
		break;
	}
	atomic_long_inc(&frag_compact[FC_END]);
	atomic_long_inc(&frag_compact[c]);
}

static void frag_compact_direct_probe(void *data, int order, gfp_t gfp_mask,
				      int prio)
{
	atomic_long_inc(&frag_compact[FC_DIRECT]);
}

static void frag_compact_deferred_probe(void *data, struct zone *zone,
					int order)
{
	atomic_long_inc(&frag_compact[FC_DEFERRED]);
}

static void frag_compact_defer_probe(void *data, struct zone *zone, int order)
{
	atomic_long_inc(&frag_compact[FC_DEFER]);
}

static void frag_compact_defer_reset_probe(void *data, struct zone *zone,
					   int order)
{
	atomic_long_inc(&frag_compact[FC_DEFER_RESET]);
}

static void frag_compact_wake_probe(void *data, int nid, int order,
				    enum zone_type highest_zoneidx)
{
	atomic_long_inc(&frag_compact[FC_KCOMPACTD_WAKE]);
}

static void frag_compact_migrate_probe(void *data,
				       MW_COMPACT_MIGRATEPAGES_ARG0 arg0,
				       unsigned int nr_succeeded)
{
	atomic_long_inc(&frag_compact[FC_MIGRATE_CALLS]);
	atomic_long_add(nr_succeeded, &frag_compact[FC_MIGRATED_PAGES]);
}

/* ---- extfrag events ---- */

/* One row: a process and one kind of fallback. */
struct frag_ev_entry {
	u64 key;			/* 0: free slot */
	u64 count;
	u64 last_ns;
	pid_t pid;
	s8 alloc_order, fallback_order, alloc_mt, fallback_mt;
	char comm[TASK_COMM_LEN];
};

struct frag_ev_rec {
	u64 ns;
	unsigned long pfn;
	pid_t pid;
	s8 alloc_order, fallback_order, alloc_mt, fallback_mt;
	char comm[TASK_COMM_LEN];
};

static DEFINE_RAW_SPINLOCK(frag_ev_lock);
static struct frag_ev_entry *frag_ev_table;
static unsigned int frag_ev_bits;
static unsigned int frag_ev_used;
static struct frag_ev_rec *frag_ev_ring;
static unsigned int frag_ev_ring_size;
static u64 frag_ev_total;		/* events seen */
static u64 frag_ev_fragmenting;		/* of which fallback_order < pageblock_order */
static u64 frag_ev_irq;			/* of which outside task context */
static u64 frag_ev_dropped;		/* events with no table row (table full) */

/* The key is never 0: bit 63 marks a used slot. */
static u64 frag_ev_key(pid_t pid, int ao, int fo, int amt, int fmt)
{
	return BIT_ULL(63) | ((u64)(u32)pid << 32) | ((u64)(u8)ao << 24) |
	       ((u64)(u8)fo << 16) | ((u64)(u8)amt << 8) | (u8)fmt;
}

static void frag_extfrag_probe(void *data, struct page *page, int alloc_order,
			       int fallback_order, int alloc_migratetype,
			       int fallback_migratetype)
{
	/*
	 * Outside task context current is whoever was interrupted: charge
	 * pid 0 "[irq]" instead of blaming it.
	 */
	bool task = in_task();
	pid_t pid = task ? current->tgid : 0;
	u64 key = frag_ev_key(pid, alloc_order, fallback_order,
			      alloc_migratetype, fallback_migratetype);
	u64 now = ktime_get_ns();
	struct frag_ev_entry *e = NULL;
	unsigned long flags;
	unsigned int i, mask;
	u32 h;

	raw_spin_lock_irqsave(&frag_ev_lock, flags);
	frag_ev_total++;
	if (fallback_order < pageblock_order)
		frag_ev_fragmenting++;
	if (!task)
		frag_ev_irq++;

	mask = (1U << frag_ev_bits) - 1;
	h = hash_64(key, frag_ev_bits);
	for (i = 0; i < FRAG_PROBES; i++) {
		struct frag_ev_entry *s = &frag_ev_table[(h + i) & mask];

		if (s->key == key) {
			e = s;
			break;
		}
		if (!s->key) {
			e = s;
			e->key = key;
			e->pid = pid;
			e->alloc_order = alloc_order;
			e->fallback_order = fallback_order;
			e->alloc_mt = alloc_migratetype;
			e->fallback_mt = fallback_migratetype;
			frag_ev_used++;
			break;
		}
	}
	if (e) {
		e->count++;
		e->last_ns = now;
		/* The latest name: a process may exec or rename itself. */
		if (task)
			mw_current_comm(e->comm);
		else
			strscpy(e->comm, "[irq]", TASK_COMM_LEN);
	} else {
		frag_ev_dropped++;
	}

	if (frag_ev_ring_size) {
		struct frag_ev_rec *r =
			&frag_ev_ring[(frag_ev_total - 1) % frag_ev_ring_size];

		r->ns = now;
		r->pfn = page_to_pfn(page);
		r->pid = pid;
		r->alloc_order = alloc_order;
		r->fallback_order = fallback_order;
		r->alloc_mt = alloc_migratetype;
		r->fallback_mt = fallback_migratetype;
		if (task)
			mw_current_comm(r->comm);
		else
			strscpy(r->comm, "[irq]", TASK_COMM_LEN);
	}
	raw_spin_unlock_irqrestore(&frag_ev_lock, flags);
	if (mw_events_on())
		mw_event_extfrag(alloc_order, fallback_order, alloc_migratetype,
				 fallback_migratetype);
}

static void frag_ev_counts(u64 *total, u64 *fragmenting, u64 *irq, u64 *dropped,
			   unsigned int *used)
{
	unsigned long flags;

	raw_spin_lock_irqsave(&frag_ev_lock, flags);
	*total = frag_ev_total;
	*fragmenting = frag_ev_fragmenting;
	*irq = frag_ev_irq;
	*dropped = frag_ev_dropped;
	*used = frag_ev_used;
	raw_spin_unlock_irqrestore(&frag_ev_lock, flags);
}

/* ---- /proc/memwatch/nodes ---- */

static int frag_nodes_show(struct seq_file *m, void *v)
{
	int nid;

	mw_print_header(m, MW_FILE_NODES);
	seq_puts(m, "# node start_pfn spanned_pages present_pages nr_zones zones\n");
	for_each_online_node(nid) {
		pg_data_t *pgdat = NODE_DATA(nid);
		unsigned int nr = 0;
		bool first = true;
		int i;

		for (i = 0; i < MAX_NR_ZONES; i++)
			if (populated_zone(&pgdat->node_zones[i]))
				nr++;
		seq_printf(m, "%4d %12lu %13lu %13lu %8u ", nid,
			   pgdat->node_start_pfn, pgdat->node_spanned_pages,
			   pgdat->node_present_pages, nr);
		if (!nr)
			seq_putc(m, '-');
		for (i = 0; i < MAX_NR_ZONES; i++) {
			struct zone *zone = &pgdat->node_zones[i];

			if (!populated_zone(zone))
				continue;
			seq_printf(m, "%s%s", first ? "" : ",", zone->name);
			first = false;
		}
		seq_putc(m, '\n');
	}
	return 0;
}

/* ---- /proc/memwatch/frag ---- */

static void frag_show_index(struct seq_file *m, int index, int width)
{
	/* Exactly as debugfs extfrag/ prints it, so the strings compare. */
	seq_printf(m, " %*d.%03d", width, index / 1000, index % 1000);
}

/*
 * One snapshot per open, taken at the first ->start and freed at release,
 * so every read() of one open sees the same moment. Records: 0 is the head
 * ("name value" lines and the zones legend), 1..n one zone row each,
 * n+1..2n one zone's orders each. Records are small so the seq_file buffer
 * stays one page: a bigger (high-order) buffer would itself split the free
 * blocks we are about to report on a fragmented machine.
 */
struct frag_iter {
	struct frag_zone_snap *snap;
	unsigned int n;
	bool taken;
};

static int frag_iter_take(struct frag_iter *it)
{
	unsigned int max = frag_count_zones();

	it->snap = kvcalloc(max ? max : 1, sizeof(*it->snap), GFP_KERNEL);
	if (!it->snap)
		return -ENOMEM;
	it->n = frag_snap_all(it->snap, max);
	it->taken = true;
	return 0;
}

static void *frag_seq_start(struct seq_file *m, loff_t *pos)
{
	struct frag_iter *it = m->private;

	if (!it->taken) {
		int err = frag_iter_take(it);

		if (err)
			return ERR_PTR(err);
	}
	/* A non-NULL cookie: the record number plus one. */
	return *pos <= 2 * (loff_t)it->n ? (void *)(unsigned long)(*pos + 1) :
					     NULL;
}

static void *frag_seq_next(struct seq_file *m, void *v, loff_t *pos)
{
	++*pos;
	return frag_seq_start(m, pos);
}

static void frag_seq_stop(struct seq_file *m, void *v)
{
}

static void frag_show_orders_legend(struct seq_file *m)
{
	int c;

	seq_puts(m, "# orders: node zone order free_blocks free_pages suitable_blocks unusable_index extfrag_index");
	for (c = 0; c < FRAG_MT_NR; c++)
		seq_printf(m, " %s", frag_mt_cols[c]);
	seq_puts(m, " mt_capped\n");
}

static void frag_show_head(struct seq_file *m, unsigned int n)
{
	u64 total, fragmenting, irq, dropped;
	unsigned int used;
	int c;

	mw_print_header(m, MW_FILE_FRAG);
	seq_printf(m, "nr_orders %u\n", (unsigned int)MW_NR_ORDERS);
	seq_printf(m, "pageblock_order %u\n", (unsigned int)pageblock_order);
	seq_printf(m, "nr_zones %u\n", n);
	for (c = 0; c < FC_NR; c++)
		seq_printf(m, "%s %ld\n", frag_compact_names[c],
			   atomic_long_read(&frag_compact[c]));
	frag_ev_counts(&total, &fragmenting, &irq, &dropped, &used);
	seq_printf(m, "extfrag_events %llu\n", total);
	seq_printf(m, "extfrag_fragmenting %llu\n", fragmenting);
	seq_puts(m, "# zones: node zone start_pfn spanned_pages present_pages managed_pages free_pages min_pages low_pages high_pages\n");
	if (!n)
		frag_show_orders_legend(m);
}

static void frag_show_zone(struct seq_file *m, const struct frag_zone_snap *s)
{
	seq_printf(m, "%4d %-8s %10lu %13lu %13lu %13lu %10lu %9lu %9lu %10lu\n",
		   s->nid, s->name, s->start_pfn, s->spanned, s->present,
		   s->managed, s->free, s->wmark_min, s->wmark_low,
		   s->wmark_high);
}

static void frag_show_zone_orders(struct seq_file *m,
				  const struct frag_zone_snap *s)
{
	unsigned int order;
	int c;

	for (order = 0; order < MW_NR_ORDERS; order++) {
		struct frag_contig info;

		frag_contig_info(s->nr_free, order, &info);
		seq_printf(m, "%4d %-8s %5u %11lu %10lu %15lu", s->nid,
			   s->name, order, s->nr_free[order],
			   s->nr_free[order] << order,
			   info.free_blocks_suitable);
		frag_show_index(m, frag_unusable_index(order, &info), 10);
		frag_show_index(m, frag_extfrag_index(order, &info), 9);
		for (c = 0; c < FRAG_MT_NR; c++)
			seq_printf(m, " %*lu",
				   (int)max_t(size_t, 9, strlen(frag_mt_cols[c])),
				   s->mt_free[order][c]);
		seq_printf(m, " %9d\n", s->mt_capped[order]);
	}
}

static int frag_seq_show(struct seq_file *m, void *v)
{
	struct frag_iter *it = m->private;
	unsigned int rec = (unsigned long)v - 1;

	if (rec == 0)
		frag_show_head(m, it->n);
	else if (rec <= it->n)
		frag_show_zone(m, &it->snap[rec - 1]);
	else {
		if (rec == it->n + 1)
			frag_show_orders_legend(m);
		frag_show_zone_orders(m, &it->snap[rec - it->n - 1]);
	}
	return 0;
}

static const struct seq_operations frag_sops = {
	.start = frag_seq_start,
	.next = frag_seq_next,
	.stop = frag_seq_stop,
	.show = frag_seq_show,
};

static int frag_open(struct inode *inode, struct file *file)
{
	return seq_open_private(file, &frag_sops, sizeof(struct frag_iter));
}

static int frag_release(struct inode *inode, struct file *file)
{
	struct seq_file *m = file->private_data;
	struct frag_iter *it = m->private;

	kvfree(it->snap);
	return seq_release_private(inode, file);
}

static const struct proc_ops frag_fops = {
	.proc_open = frag_open,
	.proc_read = seq_read,
	.proc_lseek = seq_lseek,
	.proc_release = frag_release,
};

/* ---- /proc/memwatch/extfrag ---- */

static int frag_extfrag_show(struct seq_file *m, void *v)
{
	unsigned int slots = 1U << frag_ev_bits, i, j, used;
	struct frag_ev_entry *tab;
	struct frag_ev_rec *ring = NULL;
	u64 total, fragmenting, irq, dropped, first, now;
	unsigned long flags;

	tab = kvmalloc_array(slots, sizeof(*tab), GFP_KERNEL);
	if (!tab)
		return -ENOMEM;
	if (frag_ev_ring_size) {
		ring = kvmalloc_array(frag_ev_ring_size, sizeof(*ring),
				      GFP_KERNEL);
		if (!ring) {
			kvfree(tab);
			return -ENOMEM;
		}
	}
	/* In chunks: interrupts stay off for a bounded copy each time. */
	for (i = 0; i < slots; i += FRAG_COPY_CHUNK) {
		raw_spin_lock_irqsave(&frag_ev_lock, flags);
		memcpy(&tab[i], &frag_ev_table[i],
		       min(FRAG_COPY_CHUNK, slots - i) * sizeof(*tab));
		raw_spin_unlock_irqrestore(&frag_ev_lock, flags);
	}
	raw_spin_lock_irqsave(&frag_ev_lock, flags);
	total = frag_ev_total;
	fragmenting = frag_ev_fragmenting;
	irq = frag_ev_irq;
	dropped = frag_ev_dropped;
	used = frag_ev_used;
	if (ring)
		memcpy(ring, frag_ev_ring, frag_ev_ring_size * sizeof(*ring));
	raw_spin_unlock_irqrestore(&frag_ev_lock, flags);
	now = ktime_get_ns();

	mw_print_header(m, MW_FILE_EXTFRAG);
	seq_printf(m, "now_ns %llu\n", now);
	seq_printf(m, "pageblock_order %u\n", (unsigned int)pageblock_order);
	seq_printf(m, "events %llu\n", total);
	seq_printf(m, "fragmenting %llu\n", fragmenting);
	seq_printf(m, "irq_events %llu\n", irq);
	seq_printf(m, "dropped %llu\n", dropped);
	seq_printf(m, "rows %u\n", used);
	seq_printf(m, "slots %u\n", slots);
	seq_printf(m, "ring_size %u\n", frag_ev_ring_size);

	seq_puts(m, "# processes: pid alloc_order fallback_order alloc_type fallback_type fragmenting count last_ns comm\n");
	for (i = 0; i < slots; i++) {
		const struct frag_ev_entry *e = &tab[i];

		if (!e->key)
			continue;
		seq_printf(m, "%7d %11d %14d %-11s %-13s %11d %10llu %16llu %s\n",
			   e->pid, e->alloc_order, e->fallback_order,
			   frag_mt_name(e->alloc_mt),
			   frag_mt_name(e->fallback_mt),
			   e->fallback_order < pageblock_order, e->count,
			   e->last_ns, e->comm[0] ? e->comm : "-");
	}

	seq_puts(m, "# recent: time_ns pid alloc_order fallback_order alloc_type fallback_type fragmenting pfn comm\n");
	if (ring) {
		/* Oldest first: the ring holds events first..total-1. */
		first = total > frag_ev_ring_size ? total - frag_ev_ring_size : 0;
		for (j = 0; first + j < total; j++) {
			const struct frag_ev_rec *r =
				&ring[(first + j) % frag_ev_ring_size];

			seq_printf(m, "%16llu %7d %11d %14d %-11s %-13s %11d %10lu %s\n",
				   r->ns, r->pid, r->alloc_order,
				   r->fallback_order, frag_mt_name(r->alloc_mt),
				   frag_mt_name(r->fallback_mt),
				   r->fallback_order < pageblock_order, r->pfn,
				   r->comm[0] ? r->comm : "-");
		}
	}
	kvfree(ring);
	kvfree(tab);
	return 0;
}

static int frag_extfrag_open(struct inode *inode, struct file *file)
{
	unsigned int used = READ_ONCE(frag_ev_used);
	size_t size = 4096 + ((size_t)used + FRAG_PROBES + frag_ev_ring_size) *
			     FRAG_ROW_BYTES;

	return single_open_size(file, frag_extfrag_show, NULL, size);
}

static const struct proc_ops frag_extfrag_fops = {
	.proc_open = frag_extfrag_open,
	.proc_read = seq_read,
	.proc_lseek = seq_lseek,
	.proc_release = single_release,
};

/* ---- feature ---- */

static struct mw_probe frag_probes[] = {
	{ .name = "mm_page_alloc_extfrag", .kind = MW_TRACEPOINT,
	  .tp_handler = frag_extfrag_probe },
	{ .name = "mm_compaction_begin", .kind = MW_TRACEPOINT,
	  .tp_handler = frag_compact_begin_probe },
	{ .name = "mm_compaction_end", .kind = MW_TRACEPOINT,
	  .tp_handler = frag_compact_end_probe },
	{ .name = "mm_compaction_try_to_compact_pages", .kind = MW_TRACEPOINT,
	  .tp_handler = frag_compact_direct_probe },
	{ .name = "mm_compaction_deferred", .kind = MW_TRACEPOINT,
	  .tp_handler = frag_compact_deferred_probe },
	{ .name = "mm_compaction_defer_compaction", .kind = MW_TRACEPOINT,
	  .tp_handler = frag_compact_defer_probe },
	{ .name = "mm_compaction_defer_reset", .kind = MW_TRACEPOINT,
	  .tp_handler = frag_compact_defer_reset_probe },
	{ .name = "mm_compaction_kcompactd_wake", .kind = MW_TRACEPOINT,
	  .tp_handler = frag_compact_wake_probe },
	{ .name = "mm_compaction_migratepages", .kind = MW_TRACEPOINT,
	  .tp_handler = frag_compact_migrate_probe },
};

static void frag_free(void)
{
	kvfree(frag_ev_table);
	frag_ev_table = NULL;
	kvfree(frag_ev_ring);
	frag_ev_ring = NULL;
}

static int frag_init(struct proc_dir_entry *dir)
{
	unsigned int slots = clamp(frag_extfrag_slots, 16U, FRAG_SLOTS_MAX);
	int c;

	frag_ev_bits = ilog2(roundup_pow_of_two(slots));
	frag_ev_ring_size = min(frag_extfrag_ring, FRAG_RING_MAX);
	frag_ev_used = 0;
	frag_ev_total = frag_ev_fragmenting = frag_ev_irq = frag_ev_dropped = 0;
	for (c = 0; c < FC_NR; c++)
		atomic_long_set(&frag_compact[c], 0);

	frag_ev_table = kvcalloc(1U << frag_ev_bits, sizeof(*frag_ev_table),
				 GFP_KERNEL);
	if (!frag_ev_table)
		goto err_alloc;
	if (frag_ev_ring_size) {
		frag_ev_ring = kvcalloc(frag_ev_ring_size, sizeof(*frag_ev_ring),
					GFP_KERNEL);
		if (!frag_ev_ring)
			goto err_alloc;
	}

	if (!proc_create_single(MW_FILE_NODES, 0444, dir, frag_nodes_show))
		goto err_nodes;
	/* 0400 like pagetypeinfo: reading walks free lists under zone->lock. */
	if (!proc_create(MW_FILE_FRAG, 0400, dir, &frag_fops))
		goto err_frag;
	/* 0400: rows carry pfns, which /proc hides from users (pagemap). */
	if (!proc_create(MW_FILE_EXTFRAG, 0400, dir, &frag_extfrag_fops))
		goto err_extfrag;
	return 0;

err_extfrag:
	remove_proc_entry(MW_FILE_FRAG, dir);
err_frag:
	remove_proc_entry(MW_FILE_NODES, dir);
err_nodes:
err_alloc:
	frag_free();
	return -ENOMEM;
}

static void frag_exit(void)
{
	frag_free();
}

static void frag_status_show(struct seq_file *m)
{
	u64 total, fragmenting, irq, dropped;
	unsigned int used;

	frag_ev_counts(&total, &fragmenting, &irq, &dropped, &used);
	seq_printf(m, "frag.nr_orders %u\n", (unsigned int)MW_NR_ORDERS);
	seq_printf(m, "frag.extfrag_events %llu\n", total);
	seq_printf(m, "frag.extfrag_rows %u\n", used);
	seq_printf(m, "frag.extfrag_slots %u\n", 1U << frag_ev_bits);
	seq_printf(m, "frag.extfrag_dropped %llu\n", dropped);
	seq_printf(m, "frag.extfrag_ring %u\n", frag_ev_ring_size);
}

static size_t frag_mem_bytes(void)
{
	return ((size_t)1 << frag_ev_bits) * sizeof(*frag_ev_table) +
	       (size_t)frag_ev_ring_size * sizeof(*frag_ev_ring);
}

struct mw_feature mw_frag_feature = {
	.name = "frag",
	.init = frag_init,
	.exit = frag_exit,
	.status_show = frag_status_show,
	.mem_bytes = frag_mem_bytes,
	.probes = frag_probes,
	.nr_probes = ARRAY_SIZE(frag_probes),
};
