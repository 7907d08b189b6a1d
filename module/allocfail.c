// SPDX-License-Identifier: GPL-2.0
/*
 * allocfail.c - /proc/memwatch/allocfail: every page allocation failure.
 *
 * Probe points, chosen by the allocfail_probe parameter:
 *   - "tracepoint" (the default): kmem:mm_page_alloc, which __alloc_pages
 *     fires at its end with page == NULL when it failed. A successful
 *     allocation costs one test of the page pointer.
 *   - "kretprobe": a kretprobe on __alloc_pages (__alloc_pages_noprof on
 *     6.10+), the one entry every page allocation goes through. Its entry
 *     handler saves the arguments (gfp, order, preferred node); its return
 *     handler sees NULL for a failure. It also sees the early returns the
 *     tracepoint misses (order too large, fault injection in
 *     prepare_alloc_pages) and the caller's preferred node, where the
 *     tracepoint mode takes the allocating CPU's node. The price: every
 *     allocation goes through the kretprobe trampoline, measurably slower
 *     (Documentation/performance.md).
 * warn_alloc() is no probe point: it prints nothing for __GFP_NOWARN and is
 * rate limited.
 * The handlers are O(1): they resolve the preferred zone (the first
 * zone of the node's zonelist allowed by gfp_zone(), as prepare_alloc_pages
 * does, ignoring any nodemask), read that zone's free pages, watermarks and
 * present pages, and append to a ring of the last allocfail_ring_size
 * failures.
 *
 * Notes on locking
 * ----------------
 * Counters are atomic64_t. allocfail_lock (raw spinlock, irqsave: failures
 * happen in interrupts and kretprobe handlers run with interrupts off)
 * protects the ring. Leaf lock; nothing sleeps or allocates under it.
 * Readers copy the ring under it into a buffer allocated before.
 */
#include <linux/gfp.h>
#include <linux/ktime.h>
#include <linux/mmzone.h>
#include <linux/module.h>
#include <linux/nodemask.h>
#include <linux/ptrace.h>
#include <linux/sched.h>
#include <linux/string.h>
#include <linux/slab.h>
#include <linux/vmstat.h>

#include "compat.h"
#include "events.h"
#include "memwatch.h"
#include "tasks.h"

static unsigned int allocfail_ring_size = 64;
module_param(allocfail_ring_size, uint, 0444);
MODULE_PARM_DESC(allocfail_ring_size, "allocation failures kept (default 64, 1..4096)");

static char *allocfail_probe = "tracepoint";
module_param(allocfail_probe, charp, 0444);
MODULE_PARM_DESC(allocfail_probe,
		 "tracepoint (default, cheap) or kretprobe (also failures before kmem:mm_page_alloc, and the preferred node)");

/* Enough concurrent __alloc_pages calls, many asleep in reclaim. */
#define ALLOCFAIL_MAXACTIVE	512

enum allocfail_class {
	AF_ATOMIC,		/* no direct reclaim, __GFP_HIGH: GFP_ATOMIC */
	AF_NOWAIT,		/* no direct reclaim: GFP_NOWAIT and the like */
	AF_HIGHUSER_MOVABLE,	/* user pages: GFP_HIGHUSER_MOVABLE */
	AF_USER,		/* GFP_USER, GFP_HIGHUSER */
	AF_KERNEL,		/* GFP_KERNEL and its variants */
	AF_NOFS,		/* reclaim with IO but without FS */
	AF_NOIO,		/* reclaim without IO */
	AF_NR_CLASSES
};

static const char *const allocfail_class_names[AF_NR_CLASSES] = {
	[AF_ATOMIC] = "atomic",
	[AF_NOWAIT] = "nowait",
	[AF_HIGHUSER_MOVABLE] = "highuser_movable",
	[AF_USER] = "user",
	[AF_KERNEL] = "kernel",
	[AF_NOFS] = "nofs",
	[AF_NOIO] = "noio",
};

struct allocfail_entry {
	u64 time_ns;			/* ktime_get_ns(): CLOCK_MONOTONIC */
	unsigned long free, min, low, high, present;
	gfp_t gfp;
	unsigned int order;
	int nid;
	int zid;			/* -1: no zone allowed */
	pid_t pid;
	u8 ctx;
	char comm[TASK_COMM_LEN];
};

enum allocfail_ctx { AF_CTX_TASK, AF_CTX_SOFTIRQ, AF_CTX_IRQ, AF_CTX_NMI };
static const char *const allocfail_ctx_names[] = {
	"task", "softirq", "irq", "nmi",
};

/* What the entry handler keeps for the return handler. */
struct allocfail_args {
	gfp_t gfp;
	unsigned int order;
	int nid;
};

static atomic64_t allocfail_total;
static atomic64_t allocfail_nowarn;
static atomic64_t allocfail_too_big;	/* order beyond the buddy allocator */
static atomic64_t allocfail_by_order[MW_ALLOCFAIL_NR_ORDERS + 1];
static atomic64_t allocfail_by_class[AF_NR_CLASSES];
static atomic64_t allocfail_by_zone[MAX_NR_ZONES];

static DEFINE_RAW_SPINLOCK(allocfail_lock);
static struct allocfail_entry *allocfail_ring;
static unsigned int allocfail_ring_len;
static unsigned int allocfail_ring_next;

static enum allocfail_class allocfail_classify(gfp_t gfp)
{
	if (!(gfp & __GFP_DIRECT_RECLAIM))
		return (gfp & __GFP_HIGH) ? AF_ATOMIC : AF_NOWAIT;
	if ((gfp & (GFP_HIGHUSER | __GFP_MOVABLE)) ==
	    (GFP_HIGHUSER | __GFP_MOVABLE))
		return AF_HIGHUSER_MOVABLE;
	if ((gfp & GFP_USER) == GFP_USER)
		return AF_USER;
	if ((gfp & GFP_KERNEL) == GFP_KERNEL)
		return AF_KERNEL;
	if ((gfp & GFP_NOFS) == GFP_NOFS)
		return AF_NOFS;
	return AF_NOIO;
}

/* The zone prepare_alloc_pages() would prefer: first allowed in the zonelist. */
static struct zone *allocfail_preferred_zone(int nid, gfp_t gfp)
{
	struct zonelist *zl = node_zonelist(nid, gfp);
	enum zone_type highest = gfp_zone(gfp);
	struct zoneref *z;

	for (z = zl->_zonerefs; z->zone; z++)
		if (zonelist_zone_idx(z) <= highest)
			return zonelist_zone(z);
	return NULL;
}

static int allocfail_entry_handler(struct kretprobe_instance *ri,
				   struct pt_regs *regs)
{
	struct allocfail_args *a = (struct allocfail_args *)ri->data;

	a->gfp = (__force gfp_t)regs_get_kernel_argument(regs, 0);
	a->order = regs_get_kernel_argument(regs, 1);
	a->nid = regs_get_kernel_argument(regs, 2);
	return 0;
}

static void allocfail_record(gfp_t gfp, unsigned int order, int nid)
{
	struct allocfail_entry e = {
		.gfp = gfp, .order = order, .nid = nid, .zid = -1,
	};
	struct zone *zone;
	unsigned long flags;

	e.time_ns = ktime_get_ns();
	atomic64_inc(&allocfail_total);
	if (e.gfp & __GFP_NOWARN)
		atomic64_inc(&allocfail_nowarn);
	atomic64_inc(&allocfail_by_order[min_t(unsigned int, e.order,
					       MW_ALLOCFAIL_NR_ORDERS)]);
	atomic64_inc(&allocfail_by_class[allocfail_classify(e.gfp)]);
	if (e.order >= MW_ALLOCFAIL_NR_ORDERS) {
		atomic64_inc(&allocfail_too_big);
		/* __alloc_pages returned before kmem:mm_page_alloc: tell tasks. */
		mw_tasks_note_allocfail();
	}

	if (e.nid < 0 || e.nid >= MAX_NUMNODES || !node_online(e.nid))
		e.nid = numa_mem_id();
	zone = allocfail_preferred_zone(e.nid, e.gfp);
	if (zone) {
		e.zid = zone_idx(zone);
		e.free = zone_page_state(zone, NR_FREE_PAGES);
		e.min = min_wmark_pages(zone);
		e.low = low_wmark_pages(zone);
		e.high = high_wmark_pages(zone);
		e.present = zone->present_pages;
		atomic64_inc(&allocfail_by_zone[e.zid]);
	}

	if (in_nmi())
		e.ctx = AF_CTX_NMI;
	else if (in_hardirq())
		e.ctx = AF_CTX_IRQ;
	else if (in_serving_softirq())
		e.ctx = AF_CTX_SOFTIRQ;
	else
		e.ctx = AF_CTX_TASK;
	/* In interrupt context current is whoever was interrupted: say so. */
	e.pid = current->pid;
	mw_current_comm(e.comm);

	if (mw_events_on())
		mw_event_allocfail(e.order, e.gfp, e.nid, e.zid);
	raw_spin_lock_irqsave(&allocfail_lock, flags);
	allocfail_ring[allocfail_ring_next] = e;
	allocfail_ring_next = (allocfail_ring_next + 1) % allocfail_ring_size;
	if (allocfail_ring_len < allocfail_ring_size)
		allocfail_ring_len++;
	raw_spin_unlock_irqrestore(&allocfail_lock, flags);
}

static int allocfail_ret_handler(struct kretprobe_instance *ri,
				 struct pt_regs *regs)
{
	const struct allocfail_args *a = (const struct allocfail_args *)ri->data;

	if (!regs_return_value(regs))
		allocfail_record(a->gfp, a->order, a->nid);
	return 0;
}

static void allocfail_probe_page_alloc(void *data, struct page *page,
				       unsigned int order, gfp_t gfp_flags,
				       int migratetype)
{
	if (likely(page))
		return;
	/* No preferred node here: the allocating CPU's is the default one. */
	allocfail_record(gfp_flags, order, numa_mem_id());
}

enum { AF_PROBE_TRACEPOINT, AF_PROBE_KRETPROBE };

/* One of these is attached: allocfail_init() points the feature at it. */
static struct mw_probe allocfail_probes[] = {
	[AF_PROBE_TRACEPOINT] = {
	  .name = "mm_page_alloc", .kind = MW_TRACEPOINT,
	  .tp_handler = allocfail_probe_page_alloc },
	[AF_PROBE_KRETPROBE] = {
	  .name = "__alloc_pages", .alt_name = "__alloc_pages_noprof",
	  .kind = MW_KRETPROBE, .krp_entry = allocfail_entry_handler,
	  .krp_ret = allocfail_ret_handler,
	  .krp_data_size = sizeof(struct allocfail_args),
	  .krp_maxactive = ALLOCFAIL_MAXACTIVE },
};

static bool allocfail_use_kretprobe(void)
{
	return mw_allocfail_feature.probes == &allocfail_probes[AF_PROBE_KRETPROBE];
}

/* Zone names from the first node: the same on every node. */
static const char *allocfail_zone_name(int zid)
{
	if (zid < 0 || zid >= MAX_NR_ZONES)
		return "-";
	return NODE_DATA(first_online_node)->node_zones[zid].name;
}

static void allocfail_show_ring(struct seq_file *m)
{
	struct allocfail_entry *snap;
	unsigned int n, i, first;
	unsigned long flags;

	snap = kvmalloc_array(allocfail_ring_size, sizeof(*snap), GFP_KERNEL);
	seq_puts(m, "# failures: time_ns order gfp gfp_flags node zone free_pages min_pages low_pages high_pages present_pages ctx pid comm\n");
	if (!snap)
		return;
	raw_spin_lock_irqsave(&allocfail_lock, flags);
	n = allocfail_ring_len;
	first = (allocfail_ring_next + allocfail_ring_size - n) %
		allocfail_ring_size;
	for (i = 0; i < n; i++)
		snap[i] = allocfail_ring[(first + i) % allocfail_ring_size];
	raw_spin_unlock_irqrestore(&allocfail_lock, flags);

	for (i = 0; i < n; i++) {
		const struct allocfail_entry *e = &snap[i];

		seq_printf(m, "%14llu %5u %#10x %pGg %4d %-8s %10lu %9lu %9lu %10lu %13lu %-7s %7d %s\n",
			   e->time_ns, e->order, (__force unsigned int)e->gfp,
			   &e->gfp, e->nid, allocfail_zone_name(e->zid),
			   e->free, e->min, e->low, e->high, e->present,
			   allocfail_ctx_names[e->ctx], e->pid, e->comm);
	}
	kvfree(snap);
}

static int allocfail_show(struct seq_file *m, void *v)
{
	unsigned int i;

	mw_print_header(m, MW_FILE_ALLOCFAIL);
	seq_printf(m, "now_ns %llu\n", ktime_get_ns());
	seq_printf(m, "failures %lld\n", (long long)atomic64_read(&allocfail_total));
	seq_printf(m, "failures_nowarn %lld\n",
		   (long long)atomic64_read(&allocfail_nowarn));
	seq_printf(m, "failures_order_too_big %lld\n",
		   (long long)atomic64_read(&allocfail_too_big));
	seq_printf(m, "ring_size %u\n", allocfail_ring_size);
	seq_puts(m, "# by_order: order failures\n");
	for (i = 0; i < MW_ALLOCFAIL_NR_ORDERS; i++)
		seq_printf(m, "%5u %10lld\n", i,
			   (long long)atomic64_read(&allocfail_by_order[i]));
	seq_puts(m, "# by_class: class failures\n");
	for (i = 0; i < AF_NR_CLASSES; i++)
		seq_printf(m, "%-16s %10lld\n", allocfail_class_names[i],
			   (long long)atomic64_read(&allocfail_by_class[i]));
	seq_puts(m, "# by_zone: zone failures\n");
	for (i = 0; i < MAX_NR_ZONES; i++)
		seq_printf(m, "%-8s %10lld\n", allocfail_zone_name(i),
			   (long long)atomic64_read(&allocfail_by_zone[i]));
	allocfail_show_ring(m);
	return 0;
}

static int allocfail_init(struct proc_dir_entry *dir)
{
	if (sysfs_streq(allocfail_probe, "tracepoint")) {
		mw_allocfail_feature.probes = &allocfail_probes[AF_PROBE_TRACEPOINT];
	} else if (sysfs_streq(allocfail_probe, "kretprobe")) {
		mw_allocfail_feature.probes = &allocfail_probes[AF_PROBE_KRETPROBE];
	} else {
		pr_err("memwatch: allocfail_probe=%s: expected tracepoint or kretprobe\n",
		       allocfail_probe);
		return -EINVAL;
	}
	mw_allocfail_feature.nr_probes = 1;
	allocfail_ring_size = clamp(allocfail_ring_size, 1U, 4096U);
	allocfail_ring = kvcalloc(allocfail_ring_size, sizeof(*allocfail_ring),
				  GFP_KERNEL);
	if (!allocfail_ring)
		return -ENOMEM;
	if (!proc_create_single(MW_FILE_ALLOCFAIL, 0444, dir, allocfail_show)) {
		kvfree(allocfail_ring);
		allocfail_ring = NULL;
		return -ENOMEM;
	}
	return 0;
}

static void allocfail_exit(void)
{
	kvfree(allocfail_ring);
	allocfail_ring = NULL;
}

static void allocfail_status_show(struct seq_file *m)
{
	const struct mw_probe *p = &allocfail_probes[AF_PROBE_KRETPROBE];

	seq_printf(m, "allocfail.probe %s\n",
		   allocfail_use_kretprobe() ? "kretprobe" : "tracepoint");
	seq_printf(m, "allocfail.kretprobe_missed %d\n",
		   mw_probe_attached(p) ? p->krp.nmissed : 0);
}

static size_t allocfail_mem_bytes(void)
{
	size_t bytes = allocfail_ring_size * sizeof(*allocfail_ring);

	/* The kretprobe's instances are preallocated too. */
	if (allocfail_use_kretprobe())
		bytes += ALLOCFAIL_MAXACTIVE * (sizeof(struct kretprobe_instance) +
						sizeof(struct allocfail_args));
	return bytes;
}

struct mw_feature mw_allocfail_feature = {
	.name = "allocfail",
	.init = allocfail_init,
	.exit = allocfail_exit,
	.status_show = allocfail_status_show,
	.mem_bytes = allocfail_mem_bytes,
	/* Until allocfail_init() picks one: the table status lists. */
	.probes = allocfail_probes,
	.nr_probes = ARRAY_SIZE(allocfail_probes),
};
