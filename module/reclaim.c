// SPDX-License-Identifier: GPL-2.0
/*
 * reclaim.c - /proc/memwatch/reclaim: how page reclaim is going.
 *
 * Fed by the vmscan tracepoints (kswapd wake/sleep, direct reclaim
 * begin/end, lru_shrink_inactive/active) and a kretprobe on
 * shrink_folio_list (shrink_page_list before 6.0), which returns the pages
 * each call reclaimed on every path, including the multi-gen LRU and
 * MADV_PAGEOUT that the lru_shrink_inactive tracepoint does not cover on
 * 6.1. The file has four parts:
 *   - "name value" counters since load;
 *   - "# stall_hist:" direct-reclaim stall latency, log2 buckets;
 *   - "# episodes:" a ring of the last reclaim_ring_size episodes: a direct
 *     reclaim (begin..end of one task) or a kswapd run (first wake..sleep);
 *   - per-task stall time is kept by the tasks feature (tasks.h), which
 *     counts it from the same tracepoints; we do not report it twice.
 *
 * Notes on locking
 * ----------------
 * Counters are atomic64_t, updated without a lock. reclaim_lock (raw
 * spinlock, irqsave because kretprobe handlers run with interrupts off)
 * protects the in-flight direct-reclaim table, the per-node kswapd state
 * and the episode ring. It is a leaf lock: nothing is taken under it,
 * nothing sleeps or allocates under it. Readers copy the ring under it into
 * a buffer allocated before taking it.
 */
#include <linux/hash.h>
#include <linux/ktime.h>
#include <linux/log2.h>
#include <linux/module.h>
#include <linux/ptrace.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/swap.h>
#include <linux/vmstat.h>

#include "compat.h"
#include "events.h"
#include "memwatch.h"

static unsigned int reclaim_ring_size = 128;
module_param(reclaim_ring_size, uint, 0444);
MODULE_PARM_DESC(reclaim_ring_size, "reclaim episodes kept (default 128, 1..4096)");

/* Tasks in direct reclaim at once that we time; more are counted, not timed. */
#define RECLAIM_INFLIGHT	256
/* Stall histogram: bucket i holds [2^i, 2^(i+1)) microseconds; 0 holds < 2us. */
#define RECLAIM_HIST_BUCKETS	24
/* kswapd runs are tracked per node for nodes below this id. */
#define RECLAIM_NODES		64

enum reclaim_counter {
	RC_KSWAPD_WAKE,
	RC_KSWAPD_SLEEP,
	RC_WAKEUP_KSWAPD,
	RC_DIRECT_BEGIN,
	RC_DIRECT_END,
	RC_DIRECT_RECLAIMED,
	RC_STALL_NS,
	RC_STALL_MAX_NS,
	RC_STALL_UNTIMED,
	RC_INACT_CALLS,
	RC_INACT_SCANNED_ANON,
	RC_INACT_SCANNED_FILE,
	RC_INACT_RECLAIMED_ANON,
	RC_INACT_RECLAIMED_FILE,
	RC_SCANNED_KSWAPD,
	RC_SCANNED_DIRECT,
	RC_RECLAIMED_KSWAPD,
	RC_RECLAIMED_DIRECT,
	RC_DIRTY,
	RC_UNQUEUED_DIRTY,
	RC_CONGESTED,
	RC_WRITEBACK,
	RC_IMMEDIATE,
	RC_PAGEOUT,
	RC_ACTIVATE_ANON,
	RC_ACTIVATE_FILE,
	RC_REF_KEEP,
	RC_UNMAP_FAIL,
	RC_LAZYFREE_FAIL,
	RC_DEMOTED,
	RC_ACT_CALLS,
	RC_ACT_TAKEN,
	RC_ACT_ACTIVE,
	RC_ACT_DEACTIVATED,
	RC_ACT_REFERENCED,
	RC_SFL_CALLS,
	RC_SFL_RECLAIMED,
	RC_NR
};

/* Printed in this order, under these names ("name value" lines). */
static const char *const reclaim_counter_names[RC_NR] = {
	[RC_KSWAPD_WAKE] = "kswapd_wake",
	[RC_KSWAPD_SLEEP] = "kswapd_sleep",
	[RC_WAKEUP_KSWAPD] = "wakeup_kswapd",
	[RC_DIRECT_BEGIN] = "direct_begin",
	[RC_DIRECT_END] = "direct_end",
	[RC_DIRECT_RECLAIMED] = "direct_reclaimed_pages",
	[RC_STALL_NS] = "direct_stall_ns",
	[RC_STALL_MAX_NS] = "direct_stall_max_ns",
	[RC_STALL_UNTIMED] = "direct_stall_untimed",
	[RC_INACT_CALLS] = "shrink_inactive_calls",
	[RC_INACT_SCANNED_ANON] = "shrink_inactive_scanned_anon_pages",
	[RC_INACT_SCANNED_FILE] = "shrink_inactive_scanned_file_pages",
	[RC_INACT_RECLAIMED_ANON] = "shrink_inactive_reclaimed_anon_pages",
	[RC_INACT_RECLAIMED_FILE] = "shrink_inactive_reclaimed_file_pages",
	[RC_SCANNED_KSWAPD] = "scanned_kswapd_pages",
	[RC_SCANNED_DIRECT] = "scanned_direct_pages",
	[RC_RECLAIMED_KSWAPD] = "reclaimed_kswapd_pages",
	[RC_RECLAIMED_DIRECT] = "reclaimed_direct_pages",
	[RC_DIRTY] = "dirty_pages",
	[RC_UNQUEUED_DIRTY] = "unqueued_dirty_pages",
	[RC_CONGESTED] = "congested_pages",
	[RC_WRITEBACK] = "writeback_pages",
	[RC_IMMEDIATE] = "immediate_pages",
	[RC_PAGEOUT] = "pageout_pages",
	[RC_ACTIVATE_ANON] = "activate_anon_pages",
	[RC_ACTIVATE_FILE] = "activate_file_pages",
	[RC_REF_KEEP] = "ref_keep_pages",
	[RC_UNMAP_FAIL] = "unmap_fail_pages",
	[RC_LAZYFREE_FAIL] = "lazyfree_fail_pages",
	[RC_DEMOTED] = "demoted_pages",
	[RC_ACT_CALLS] = "shrink_active_calls",
	[RC_ACT_TAKEN] = "shrink_active_taken_pages",
	[RC_ACT_ACTIVE] = "shrink_active_kept_active_pages",
	[RC_ACT_DEACTIVATED] = "shrink_active_deactivated_pages",
	[RC_ACT_REFERENCED] = "shrink_active_referenced_pages",
	[RC_SFL_CALLS] = "shrink_folio_list_calls",
	[RC_SFL_RECLAIMED] = "shrink_folio_list_reclaimed_pages",
};

static atomic64_t reclaim_counters[RC_NR];
static atomic64_t reclaim_hist[RECLAIM_HIST_BUCKETS];

enum reclaim_kind { RECLAIM_DIRECT, RECLAIM_KSWAPD };

struct reclaim_episode {
	u64 start_ns;		/* ktime_get_ns(): CLOCK_MONOTONIC */
	u64 dur_ns;
	u64 scanned;
	u64 reclaimed;
	gfp_t gfp;
	int order;
	int nid;
	pid_t pid;
	u8 kind;
	char comm[TASK_COMM_LEN];
};

/* A task between direct_reclaim_begin and _end. */
struct reclaim_inflight {
	struct task_struct *task;	/* key only, never dereferenced */
	u64 start_ns;
	u64 scanned;
	gfp_t gfp;
	int order;
};

struct reclaim_kswapd {
	bool awake;
	int order;
	u64 start_ns;
	u64 scanned;
	u64 reclaimed;
};

static DEFINE_RAW_SPINLOCK(reclaim_lock);
static struct reclaim_inflight reclaim_inflight[RECLAIM_INFLIGHT];
static struct reclaim_kswapd reclaim_kswapd[RECLAIM_NODES];
static struct reclaim_episode *reclaim_ring;
static unsigned int reclaim_ring_len;	/* entries in use */
static unsigned int reclaim_ring_next;	/* slot the next episode goes to */
static u64 reclaim_episodes;		/* episodes ever recorded */

static inline void rc_add(enum reclaim_counter c, u64 v)
{
	atomic64_add(v, &reclaim_counters[c]);
}

/* Caller holds reclaim_lock. */
static void reclaim_ring_add(const struct reclaim_episode *e)
{
	reclaim_ring[reclaim_ring_next] = *e;
	reclaim_ring_next = (reclaim_ring_next + 1) % reclaim_ring_size;
	if (reclaim_ring_len < reclaim_ring_size)
		reclaim_ring_len++;
	reclaim_episodes++;
}

static unsigned int reclaim_hash(const struct task_struct *t)
{
	return hash_ptr(t, ilog2(RECLAIM_INFLIGHT));
}

/*
 * Caller holds reclaim_lock. Open addressing with linear probing; deletion
 * shifts later entries back (reclaim_inflight_del), so a lookup stops at the
 * first empty slot and costs a few probes, not a table scan.
 */
static struct reclaim_inflight *reclaim_inflight_find(struct task_struct *t,
						      bool insert)
{
	unsigned int h = reclaim_hash(t), i;

	for (i = 0; i < RECLAIM_INFLIGHT; i++) {
		struct reclaim_inflight *f =
			&reclaim_inflight[(h + i) % RECLAIM_INFLIGHT];

		if (f->task == t)
			return f;
		if (!f->task) {
			if (!insert)
				return NULL;
			f->task = t;
			return f;
		}
	}
	return NULL;
}

/* Caller holds reclaim_lock. Knuth's deletion for linear probing. */
static void reclaim_inflight_del(struct reclaim_inflight *f)
{
	unsigned int i = f - reclaim_inflight, j = i, k;

	for (;;) {
		j = (j + 1) % RECLAIM_INFLIGHT;
		if (!reclaim_inflight[j].task)
			break;
		k = reclaim_hash(reclaim_inflight[j].task);
		/* Move j back to i unless its home k lies cyclically in (i, j]. */
		if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
			continue;
		reclaim_inflight[i] = reclaim_inflight[j];
		i = j;
	}
	reclaim_inflight[i].task = NULL;
}

static void reclaim_probe_kswapd_wake(void *data, int nid, int zid, int order)
{
	unsigned long flags;

	rc_add(RC_KSWAPD_WAKE, 1);
	if (nid < 0 || nid >= RECLAIM_NODES)
		return;
	raw_spin_lock_irqsave(&reclaim_lock, flags);
	if (!reclaim_kswapd[nid].awake) {
		reclaim_kswapd[nid].awake = true;
		reclaim_kswapd[nid].start_ns = ktime_get_ns();
		reclaim_kswapd[nid].order = order;
		reclaim_kswapd[nid].scanned = 0;
		reclaim_kswapd[nid].reclaimed = 0;
	} else if (order > reclaim_kswapd[nid].order) {
		reclaim_kswapd[nid].order = order;
	}
	raw_spin_unlock_irqrestore(&reclaim_lock, flags);
}

static void reclaim_probe_kswapd_sleep(void *data, int nid)
{
	struct reclaim_episode e = { .kind = RECLAIM_KSWAPD, .nid = nid };
	struct reclaim_kswapd *k;
	unsigned long flags;

	rc_add(RC_KSWAPD_SLEEP, 1);
	if (nid < 0 || nid >= RECLAIM_NODES)
		return;
	k = &reclaim_kswapd[nid];
	e.pid = current->pid;
	mw_current_comm(e.comm);
	raw_spin_lock_irqsave(&reclaim_lock, flags);
	if (k->awake) {
		k->awake = false;
		e.start_ns = k->start_ns;
		e.dur_ns = ktime_get_ns() - k->start_ns;
		e.order = k->order;
		e.scanned = k->scanned;
		e.reclaimed = k->reclaimed;
		reclaim_ring_add(&e);
	}
	raw_spin_unlock_irqrestore(&reclaim_lock, flags);
}

static void reclaim_probe_wakeup_kswapd(void *data, int nid, int zid,
					int order, gfp_t gfp)
{
	rc_add(RC_WAKEUP_KSWAPD, 1);
}

static void reclaim_probe_direct_begin(void *data, int order, gfp_t gfp)
{
	struct reclaim_inflight *f;
	unsigned long flags;

	rc_add(RC_DIRECT_BEGIN, 1);
	raw_spin_lock_irqsave(&reclaim_lock, flags);
	f = reclaim_inflight_find(current, true);
	if (f) {
		f->start_ns = ktime_get_ns();
		f->scanned = 0;
		f->gfp = gfp;
		f->order = order;
	}
	raw_spin_unlock_irqrestore(&reclaim_lock, flags);
	if (!f)
		rc_add(RC_STALL_UNTIMED, 1);
}

static void reclaim_note_stall(u64 ns)
{
	unsigned int b = 0;
	u64 us = ns / NSEC_PER_USEC;
	s64 max;

	rc_add(RC_STALL_NS, ns);
	if (us >= 2)
		b = min_t(unsigned int, ilog2(us), RECLAIM_HIST_BUCKETS - 1);
	atomic64_inc(&reclaim_hist[b]);
	/* A racing larger value may win; then it is the max anyway. */
	max = atomic64_read(&reclaim_counters[RC_STALL_MAX_NS]);
	while ((u64)max < ns) {
		s64 old = atomic64_cmpxchg(&reclaim_counters[RC_STALL_MAX_NS],
					   max, ns);
		if (old == max)
			break;
		max = old;
	}
}

static void reclaim_probe_direct_end(void *data, unsigned long nr_reclaimed)
{
	struct reclaim_episode e = { .kind = RECLAIM_DIRECT };
	struct reclaim_inflight *f;
	unsigned long flags;
	bool timed = false;

	rc_add(RC_DIRECT_END, 1);
	rc_add(RC_DIRECT_RECLAIMED, nr_reclaimed);
	e.pid = current->pid;
	e.nid = numa_node_id();
	e.reclaimed = nr_reclaimed;
	mw_current_comm(e.comm);
	raw_spin_lock_irqsave(&reclaim_lock, flags);
	f = reclaim_inflight_find(current, false);
	if (f) {
		e.start_ns = f->start_ns;
		e.dur_ns = ktime_get_ns() - f->start_ns;
		e.scanned = f->scanned;
		e.gfp = f->gfp;
		e.order = f->order;
		reclaim_inflight_del(f);
		reclaim_ring_add(&e);
		timed = true;
	}
	raw_spin_unlock_irqrestore(&reclaim_lock, flags);
	/* The tasks feature counts per-task stalls from these tracepoints. */
	if (timed) {
		reclaim_note_stall(e.dur_ns);
		if (mw_events_on())
			mw_event_stall(e.dur_ns, nr_reclaimed);
	}
}

static void reclaim_probe_shrink_inactive(void *data, int nid,
					  unsigned long nr_scanned,
					  unsigned long nr_reclaimed,
					  struct reclaim_stat *stat,
					  int priority, int file)
{
	bool kswapd = current_is_kswapd();
	unsigned long flags;

	rc_add(RC_INACT_CALLS, 1);
	/* "file" is is_file_lru() on one path and an lru index on another. */
	rc_add(file ? RC_INACT_SCANNED_FILE : RC_INACT_SCANNED_ANON, nr_scanned);
	rc_add(file ? RC_INACT_RECLAIMED_FILE : RC_INACT_RECLAIMED_ANON,
	       nr_reclaimed);
	rc_add(kswapd ? RC_SCANNED_KSWAPD : RC_SCANNED_DIRECT, nr_scanned);
	rc_add(kswapd ? RC_RECLAIMED_KSWAPD : RC_RECLAIMED_DIRECT, nr_reclaimed);
	rc_add(RC_DIRTY, stat->nr_dirty);
	rc_add(RC_UNQUEUED_DIRTY, stat->nr_unqueued_dirty);
	rc_add(RC_CONGESTED, stat->nr_congested);
	rc_add(RC_WRITEBACK, stat->nr_writeback);
	rc_add(RC_IMMEDIATE, stat->nr_immediate);
	rc_add(RC_PAGEOUT, stat->nr_pageout);
	rc_add(RC_ACTIVATE_ANON, stat->nr_activate[0]);
	rc_add(RC_ACTIVATE_FILE, stat->nr_activate[1]);
	rc_add(RC_REF_KEEP, stat->nr_ref_keep);
	rc_add(RC_UNMAP_FAIL, stat->nr_unmap_fail);
	rc_add(RC_LAZYFREE_FAIL, stat->nr_lazyfree_fail);
	rc_add(RC_DEMOTED, mw_reclaim_stat_demoted(stat));

	raw_spin_lock_irqsave(&reclaim_lock, flags);
	if (kswapd) {
		if (nid >= 0 && nid < RECLAIM_NODES) {
			reclaim_kswapd[nid].scanned += nr_scanned;
			reclaim_kswapd[nid].reclaimed += nr_reclaimed;
		}
	} else {
		struct reclaim_inflight *f =
			reclaim_inflight_find(current, false);

		if (f)
			f->scanned += nr_scanned;
	}
	raw_spin_unlock_irqrestore(&reclaim_lock, flags);
}

static void reclaim_probe_shrink_active(void *data, int nid,
					unsigned long nr_taken,
					unsigned long nr_active,
					unsigned long nr_deactivated,
					unsigned long nr_referenced,
					int priority, int file)
{
	rc_add(RC_ACT_CALLS, 1);
	rc_add(RC_ACT_TAKEN, nr_taken);
	rc_add(RC_ACT_ACTIVE, nr_active);
	rc_add(RC_ACT_DEACTIVATED, nr_deactivated);
	rc_add(RC_ACT_REFERENCED, nr_referenced);
}

/* shrink_folio_list() returns unsigned int nr_reclaimed on both kernels. */
static int reclaim_sfl_ret(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	rc_add(RC_SFL_CALLS, 1);
	rc_add(RC_SFL_RECLAIMED, (unsigned int)regs_return_value(regs));
	return 0;
}

static struct mw_probe reclaim_probes[] = {
	{ .name = "mm_vmscan_kswapd_wake", .kind = MW_TRACEPOINT,
	  .tp_handler = reclaim_probe_kswapd_wake },
	{ .name = "mm_vmscan_kswapd_sleep", .kind = MW_TRACEPOINT,
	  .tp_handler = reclaim_probe_kswapd_sleep },
	{ .name = "mm_vmscan_wakeup_kswapd", .kind = MW_TRACEPOINT,
	  .tp_handler = reclaim_probe_wakeup_kswapd },
	{ .name = "mm_vmscan_direct_reclaim_begin", .kind = MW_TRACEPOINT,
	  .tp_handler = reclaim_probe_direct_begin },
	{ .name = "mm_vmscan_direct_reclaim_end", .kind = MW_TRACEPOINT,
	  .tp_handler = reclaim_probe_direct_end },
	{ .name = "mm_vmscan_lru_shrink_inactive", .kind = MW_TRACEPOINT,
	  .tp_handler = reclaim_probe_shrink_inactive },
	{ .name = "mm_vmscan_lru_shrink_active", .kind = MW_TRACEPOINT,
	  .tp_handler = reclaim_probe_shrink_active },
	{ .name = "shrink_folio_list", .alt_name = "shrink_page_list",
	  .kind = MW_KRETPROBE, .krp_ret = reclaim_sfl_ret,
	  .krp_maxactive = 64 },
};

static void reclaim_show_episodes(struct seq_file *m)
{
	struct reclaim_episode *snap;
	unsigned int n, i, first;
	unsigned long flags;

	/* Allocate before the lock: the ring size is fixed at load. */
	snap = kvmalloc_array(reclaim_ring_size, sizeof(*snap), GFP_KERNEL);
	seq_puts(m, "# episodes: start_ns dur_ns kind node order scanned_pages reclaimed_pages gfp pid comm\n");
	if (!snap)
		return;
	raw_spin_lock_irqsave(&reclaim_lock, flags);
	n = reclaim_ring_len;
	first = (reclaim_ring_next + reclaim_ring_size - n) % reclaim_ring_size;
	for (i = 0; i < n; i++)
		snap[i] = reclaim_ring[(first + i) % reclaim_ring_size];
	raw_spin_unlock_irqrestore(&reclaim_lock, flags);

	for (i = 0; i < n; i++) {
		const struct reclaim_episode *e = &snap[i];

		seq_printf(m, "%14llu %12llu %-6s %4d %5d %10llu %10llu ",
			   e->start_ns, e->dur_ns,
			   e->kind == RECLAIM_DIRECT ? "direct" : "kswapd",
			   e->nid, e->order, e->scanned, e->reclaimed);
		if (e->kind == RECLAIM_DIRECT)
			seq_printf(m, "%pGg", &e->gfp);
		else
			seq_puts(m, "-");
		seq_printf(m, " %d %s\n", e->pid, e->comm);
	}
	kvfree(snap);
}

static int reclaim_show(struct seq_file *m, void *v)
{
	unsigned int i;

	mw_print_header(m, MW_FILE_RECLAIM);
	seq_printf(m, "now_ns %llu\n", ktime_get_ns());
	for (i = 0; i < RC_NR; i++)
		seq_printf(m, "%s %lld\n", reclaim_counter_names[i],
			   (long long)atomic64_read(&reclaim_counters[i]));
	seq_printf(m, "episodes_total %llu\n", READ_ONCE(reclaim_episodes));
	seq_puts(m, "# stall_hist: from_ns to_ns count\n");
	for (i = 0; i < RECLAIM_HIST_BUCKETS; i++) {
		u64 from = i ? (1ULL << i) * NSEC_PER_USEC : 0;
		u64 to = (2ULL << i) * NSEC_PER_USEC;

		seq_printf(m, "%14llu %14llu %10lld\n", from, to,
			   (long long)atomic64_read(&reclaim_hist[i]));
	}
	reclaim_show_episodes(m);
	return 0;
}

static int reclaim_init(struct proc_dir_entry *dir)
{
	unsigned int i;

	reclaim_ring_size = clamp(reclaim_ring_size, 1U, 4096U);
	reclaim_ring = kvcalloc(reclaim_ring_size, sizeof(*reclaim_ring),
				GFP_KERNEL);
	if (!reclaim_ring)
		return -ENOMEM;
	for (i = 0; i < RC_NR; i++)
		atomic64_set(&reclaim_counters[i], 0);
	if (!proc_create_single(MW_FILE_RECLAIM, 0444, dir, reclaim_show)) {
		kvfree(reclaim_ring);
		reclaim_ring = NULL;
		return -ENOMEM;
	}
	return 0;
}

static void reclaim_exit(void)
{
	kvfree(reclaim_ring);
	reclaim_ring = NULL;
}

static void reclaim_status_show(struct seq_file *m)
{
	const struct mw_probe *sfl = &reclaim_probes[ARRAY_SIZE(reclaim_probes) - 1];

	seq_printf(m, "reclaim.ring_size %u\n", reclaim_ring_size);
	seq_printf(m, "reclaim.stall_untimed %lld\n",
		   (long long)atomic64_read(&reclaim_counters[RC_STALL_UNTIMED]));
	seq_printf(m, "reclaim.kretprobe_missed %d\n",
		   mw_probe_attached(sfl) ? sfl->krp.nmissed : 0);
}

static size_t reclaim_mem_bytes(void)
{
	return reclaim_ring_size * sizeof(*reclaim_ring) +
	       sizeof(reclaim_inflight) + sizeof(reclaim_kswapd);
}

struct mw_feature mw_reclaim_feature = {
	.name = "reclaim",
	.init = reclaim_init,
	.exit = reclaim_exit,
	.status_show = reclaim_status_show,
	.mem_bytes = reclaim_mem_bytes,
	.probes = reclaim_probes,
	.nr_probes = ARRAY_SIZE(reclaim_probes),
};
