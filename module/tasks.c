// SPDX-License-Identifier: GPL-2.0
/*
 * tasks.c - per-process and per-thread memory: /proc/memwatch/tasks,
 * /proc/memwatch/threads and /proc/memwatch/threads_pid.
 *
 * Two kinds of columns:
 *  - sampled from each process's mm when the file is read (the figures
 *    /proc/PID/status shows: vsz, rss and its parts, swap, data, stack,
 *    page tables, peak rss, faults);
 *  - counted by our probes since the module saw the task: mmap, munmap,
 *    mremap and brk calls and bytes (kretprobes on the x86-64 syscall
 *    entry points), pages allocated and allocation failures
 *    (kmem:mm_page_alloc), direct-reclaim stalls (vmscan tracepoints).
 *
 * Counters live in two fixed pools allocated at load (tasks_max process
 * entries, threads_max thread entries), hashed by tgid / tid. An entry is
 * taken on a task's first event and given back at its exit
 * (sched:sched_process_exit: the thread entry at every thread's exit, the
 * process entry once the last thread of the group has exited). When a pool is
 * empty the task is counted once in procs_dropped / threads_dropped (a
 * bitmap indexed by pid remembers who was counted) and its events in
 * events_dropped; entries already taken keep counting.
 *
 * Notes on locking
 * ----------------
 * tasks_lock (raw spinlock, taken with irqsave) serializes changes to the
 * pools: taking and giving back entries, the hash chains, the free lists,
 * the dropped bitmaps and counts, refs/dead of process entries. It is a
 * leaf lock: nothing else is taken under it, nothing sleeps or allocates.
 * Raw and irqsave because handlers may run with interrupts off (kretprobe
 * handlers, mm_page_alloc of atomic allocations).
 *
 * The hot path takes no lock. An event of thread T looks up T's entry
 * without the lock (tasks_find: entries are type-stable pool memory, the
 * chains are RCU lists, a miss falls back to the locked path), adds to
 * T's counters with plain stores (only T itself ever writes them: events
 * are attributed to current, in task context, and T's entry is created,
 * moved and freed only by T), and adds to its process's counters with
 * atomic64 operations (all threads of the process add there). The
 * process entry cannot go away under a thread that links to it: it is
 * freed when the group is dead and the last linked thread entry is gone.
 * mm_page_alloc in interrupt context is ignored before any of this.
 *
 * Readers build a snapshot in ->start under rcu_read_lock() (walking the
 * task list, task_lock() per task for its mm and files), then copy each
 * task's counters under tasks_lock, one task at a time. task_lock and
 * tasks_lock are never held together.
 *
 * Lifetime: an event never creates an entry for a task that is exiting
 * (PF_EXITING) or has no mm, so the exit handler, which runs after
 * PF_EXITING is set and signal->live is decremented, is the last word on a
 * tid, and on a tgid when signal->live is 0. An exec by a non-leader thread
 * takes the leader's tid: sched_process_exec moves the entry to it.
 */
#include <linux/fdtable.h>
#include <linux/hash.h>
#include <linux/ktime.h>
#include <linux/log2.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/pid.h>
#include <linux/ptrace.h>
#include <linux/rculist.h>
#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/sched/coredump.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>

#include "compat.h"
#include "events.h"
#include "memwatch.h"
#include "tasks.h"

static unsigned int tasks_max = 8192;
module_param(tasks_max, uint, 0444);
MODULE_PARM_DESC(tasks_max, "Processes with event counters at once (default 8192)");

static unsigned int threads_max = 16384;
module_param(threads_max, uint, 0444);
MODULE_PARM_DESC(threads_max, "Threads with event counters at once (default 16384)");

#define TASKS_POOL_MAX		(1U << 20)
/* Rows added to a snapshot for tasks created while it is being built. */
#define TASKS_SNAP_SLACK	64

enum tasks_ctr {
	TC_MMAP_CALLS,
	TC_MMAP_BYTES,
	TC_MUNMAP_CALLS,
	TC_MUNMAP_BYTES,
	TC_MREMAP_CALLS,
	TC_MREMAP_BYTES,	/* growth only */
	TC_BRK_CALLS,
	TC_BRK_BYTES,		/* growth only */
	TC_PAGE_ALLOCS,		/* pages */
	TC_STALL_COUNT,
	TC_STALL_NS,
	TC_ALLOCFAIL,
	TC_NR,
};

struct tasks_entry {
	struct hlist_node node;		/* hash chain; walked without the lock */
	struct tasks_entry *free_next;	/* free list */
	struct tasks_entry *proc;	/* thread: its process's entry or NULL */
	pid_t id;			/* tid or tgid */
	unsigned int refs;		/* process: thread entries linked to it */
	bool dead;			/* process: its last thread has exited */
	u64 stall_start_ns;		/* thread: 0 when not in direct reclaim */
	union {
		u64 c[TC_NR];		/* thread: written by that thread only */
		atomic64_t ac[TC_NR];	/* process: added to by all its threads */
	};
};

struct tasks_table {
	const char *name;
	unsigned int max;
	unsigned int hash_bits;
	struct tasks_entry *pool;
	struct hlist_head *hash;
	struct tasks_entry *free;
	unsigned long *dropped_map;	/* pids already counted as dropped */
	unsigned int used;
	unsigned int peak;
	u64 dropped;			/* distinct tasks that found no entry */
};

static DEFINE_RAW_SPINLOCK(tasks_lock);
static struct tasks_table tasks_procs = { .name = "procs" };
static struct tasks_table tasks_threads = { .name = "threads" };
static unsigned int tasks_pid_bits;	/* size of the dropped bitmaps */
static u64 tasks_events_dropped;	/* events with no entry to count in */
static atomic_long_t tasks_snap_bytes = ATOMIC_LONG_INIT(0);
/* Default filter of the threads file, set through threads_pid. */
static atomic_t tasks_threads_filter = ATOMIC_INIT(0);

/* --- pools --- */

/*
 * Safe without tasks_lock: entries live in a pool that is only freed at
 * unload, so a walk never touches freed memory. A walk racing with a
 * removal or a reuse can miss an entry (the node moved to another chain or
 * was cleared); callers then take the lock and look again. It never finds
 * a wrong one: only the task itself creates, moves or frees the entry of
 * its own tid.
 */
static struct tasks_entry *tasks_find(struct tasks_table *t, pid_t id)
{
	struct tasks_entry *e;

	hlist_for_each_entry_rcu_notrace(e, &t->hash[hash_32((u32)id,
							     t->hash_bits)],
					 node)
		if (READ_ONCE(e->id) == id)
			return e;
	return NULL;
}

/* The rest of the pool functions run under tasks_lock. */

static struct tasks_entry *tasks_alloc(struct tasks_table *t, pid_t id)
{
	struct tasks_entry *e = t->free;

	if (!e) {
		/* Count each task once: the bit is cleared at its exit. */
		if ((unsigned int)id >= tasks_pid_bits ||
		    !__test_and_set_bit(id, t->dropped_map))
			t->dropped++;
		return NULL;
	}
	t->free = e->free_next;
	e->free_next = NULL;
	e->proc = NULL;
	e->refs = 0;
	e->dead = false;
	e->stall_start_ns = 0;
	memset(e->c, 0, sizeof(e->c));
	WRITE_ONCE(e->id, id);
	hlist_add_head_rcu(&e->node, &t->hash[hash_32((u32)id, t->hash_bits)]);
	if (++t->used > t->peak)
		t->peak = t->used;
	return e;
}

static void tasks_free(struct tasks_table *t, struct tasks_entry *e)
{
	/* _rcu: keeps node.next for walkers standing on this entry. */
	hlist_del_rcu(&e->node);
	e->free_next = t->free;
	t->free = e;
	t->used--;
}

static void tasks_proc_unref(struct tasks_entry *p)
{
	if (p && !--p->refs && p->dead)
		tasks_free(&tasks_procs, p);
}

/* The thread entry of @tsk, taken (and linked to its process) if @create. */
static struct tasks_entry *tasks_thread_get(struct task_struct *tsk,
					    bool create)
{
	struct tasks_entry *t = tasks_find(&tasks_threads, tsk->pid);
	struct tasks_entry *p;

	if (t || !create)
		return t;
	t = tasks_alloc(&tasks_threads, tsk->pid);
	if (!t)
		return NULL;
	p = tasks_find(&tasks_procs, tsk->tgid);
	if (!p)
		p = tasks_alloc(&tasks_procs, tsk->tgid);
	if (p)
		p->refs++;
	t->proc = p;
	return t;
}

static void tasks_table_free(struct tasks_table *t)
{
	vfree(t->pool);
	vfree(t->hash);
	vfree(t->dropped_map);
	t->pool = NULL;
	t->hash = NULL;
	t->dropped_map = NULL;
}

static int tasks_table_alloc(struct tasks_table *t, unsigned int max)
{
	unsigned int i;

	t->max = clamp(max, 1U, TASKS_POOL_MAX);
	t->hash_bits = ilog2(roundup_pow_of_two(t->max));
	t->pool = vzalloc(array_size(t->max, sizeof(*t->pool)));
	t->hash = vzalloc(array_size(1U << t->hash_bits, sizeof(*t->hash)));
	t->dropped_map = vzalloc(BITS_TO_LONGS(tasks_pid_bits) *
				 sizeof(unsigned long));
	if (!t->pool || !t->hash || !t->dropped_map) {
		tasks_table_free(t);
		return -ENOMEM;
	}
	for (i = 0; i < (1U << t->hash_bits); i++)
		INIT_HLIST_HEAD(&t->hash[i]);
	t->free = NULL;
	for (i = t->max; i-- > 0;) {
		t->pool[i].free_next = t->free;
		t->free = &t->pool[i];
	}
	t->used = 0;
	t->peak = 0;
	t->dropped = 0;
	return 0;
}

static size_t tasks_table_bytes(const struct tasks_table *t)
{
	if (!t->pool)
		return 0;
	return t->max * sizeof(*t->pool) +
	       (sizeof(*t->hash) << t->hash_bits) +
	       BITS_TO_LONGS(tasks_pid_bits) * sizeof(unsigned long);
}

/* --- counting, from the handlers --- */

/* Whether current is a user task whose events we attribute. */
static bool tasks_current_counts(void)
{
	return in_task() && current->mm && !(current->flags & PF_KTHREAD);
}

static void tasks_add(struct tasks_entry *t, enum tasks_ctr ca, u64 va,
		      enum tasks_ctr cb, u64 vb)
{
	struct tasks_entry *p = READ_ONCE(t->proc);

	/* Only current writes its thread entry: no lock, no atomics. */
	WRITE_ONCE(t->c[ca], t->c[ca] + va);
	WRITE_ONCE(t->c[cb], t->c[cb] + vb);
	if (p) {
		atomic64_add(va, &p->ac[ca]);
		if (vb)
			atomic64_add(vb, &p->ac[cb]);
	}
}

/* First event of a thread, or its pools are full: under the lock. */
static void tasks_note_slow(enum tasks_ctr ca, u64 va, enum tasks_ctr cb,
			    u64 vb)
{
	struct task_struct *tsk = current;
	bool create = !(tsk->flags & PF_EXITING);
	struct tasks_entry *t, *p;
	unsigned long flags;

	raw_spin_lock_irqsave(&tasks_lock, flags);
	t = tasks_thread_get(tsk, create);
	if (t) {
		tasks_add(t, ca, va, cb, vb);
	} else {
		/* No thread entry: the process still counts it if it can. */
		p = tasks_find(&tasks_procs, tsk->tgid);
		if (!p && create)
			p = tasks_alloc(&tasks_procs, tsk->tgid);
		if (p) {
			atomic64_add(va, &p->ac[ca]);
			atomic64_add(vb, &p->ac[cb]);
		}
		tasks_events_dropped++;
	}
	raw_spin_unlock_irqrestore(&tasks_lock, flags);
}

/*
 * Adds @va to counter @ca and @vb to @cb of current's thread and process,
 * taking entries for them on the first event unless current is exiting.
 */
static void tasks_note(enum tasks_ctr ca, u64 va, enum tasks_ctr cb, u64 vb)
{
	struct tasks_entry *t;

	if (!tasks_current_counts())
		return;
	t = tasks_find(&tasks_threads, current->pid);
	if (likely(t))
		tasks_add(t, ca, va, cb, vb);
	else
		tasks_note_slow(ca, va, cb, vb);
}

void mw_tasks_note_allocfail(void)
{
	tasks_note(TC_ALLOCFAIL, 1, TC_ALLOCFAIL, 0);
}
EXPORT_SYMBOL_GPL(mw_tasks_note_allocfail);

void mw_tasks_note_stall(u64 ns)
{
	tasks_note(TC_STALL_COUNT, 1, TC_STALL_NS, ns);
}
EXPORT_SYMBOL_GPL(mw_tasks_note_stall);

static void tasks_probe_page_alloc(void *data, struct page *page,
				   unsigned int order, gfp_t gfp_flags,
				   int migratetype)
{
	/* __alloc_pages() fires this with page == NULL when it fails. */
	if (page)
		tasks_note(TC_PAGE_ALLOCS, 1UL << order, TC_PAGE_ALLOCS, 0);
	else
		tasks_note(TC_ALLOCFAIL, 1, TC_ALLOCFAIL, 0);
}

static void tasks_probe_reclaim_begin(void *data, int order, gfp_t gfp_flags)
{
	struct task_struct *tsk = current;
	struct tasks_entry *t;
	unsigned long flags;

	if (!tasks_current_counts())
		return;
	t = tasks_find(&tasks_threads, tsk->pid);
	if (!t) {
		raw_spin_lock_irqsave(&tasks_lock, flags);
		t = tasks_thread_get(tsk, !(tsk->flags & PF_EXITING));
		raw_spin_unlock_irqrestore(&tasks_lock, flags);
	}
	/* Safe after the unlock: only this thread frees its entry. */
	if (t)
		WRITE_ONCE(t->stall_start_ns, ktime_get_ns());
}

static void tasks_probe_reclaim_end(void *data, unsigned long nr_reclaimed)
{
	struct tasks_entry *t;
	u64 start;

	if (!tasks_current_counts())
		return;
	t = tasks_find(&tasks_threads, current->pid);
	/* No begin seen (module loaded mid-stall, or no entry): no time. */
	if (!t || !t->stall_start_ns)
		return;
	start = t->stall_start_ns;
	WRITE_ONCE(t->stall_start_ns, 0);
	tasks_add(t, TC_STALL_COUNT, 1, TC_STALL_NS, ktime_get_ns() - start);
}

/* The exit event's counters: the figures of the process's tasks row. */
static void tasks_exit_counters(const struct tasks_entry *e,
				struct task_struct *p, u64 *ctr)
{
	static const unsigned char kb[TC_NR] = {
		[TC_MMAP_BYTES] = 1, [TC_MUNMAP_BYTES] = 1,
		[TC_MREMAP_BYTES] = 1, [TC_BRK_BYTES] = 1,
	};
	unsigned int i;

	BUILD_BUG_ON((int)TC_NR != (int)MW_EXIT_HWM_KB);
	for (i = 0; i < TC_NR; i++) {
		u64 v = atomic64_read(&e->ac[i]);

		ctr[i] = kb[i] ? v >> 10 : v;
	}
	/* do_exit() folded the last mm's peak in before this tracepoint. */
	ctr[MW_EXIT_HWM_KB] = (u64)READ_ONCE(p->signal->maxrss) <<
			      (PAGE_SHIFT - 10);
}

static void tasks_probe_exit(void *data, struct task_struct *p)
{
	struct tasks_entry *e;
	unsigned long flags;
	bool exit_event = false;
	u64 ctr[MW_EXIT_NR];

	raw_spin_lock_irqsave(&tasks_lock, flags);
	if ((unsigned int)p->pid < tasks_pid_bits)
		__clear_bit(p->pid, tasks_threads.dropped_map);
	e = tasks_find(&tasks_threads, p->pid);
	if (e) {
		struct tasks_entry *proc = e->proc;

		tasks_free(&tasks_threads, e);
		tasks_proc_unref(proc);
	}
	/*
	 * live drops to 0 in do_exit() of the group's last thread; threads
	 * that passed exit_signals() earlier may still run their exit, so the
	 * process entry goes when both are done (dead and no refs).
	 */
	if (!atomic_read(&p->signal->live)) {
		if ((unsigned int)p->tgid < tasks_pid_bits)
			__clear_bit(p->tgid, tasks_procs.dropped_map);
		e = tasks_find(&tasks_procs, p->tgid);
		if (e && !e->dead) {
			e->dead = true;
			/* Once per process: dead is set by the first to see it. */
			if (mw_events_on()) {
				tasks_exit_counters(e, p, ctr);
				exit_event = true;
			}
			if (!e->refs)
				tasks_free(&tasks_procs, e);
		}
	}
	raw_spin_unlock_irqrestore(&tasks_lock, flags);
	if (exit_event)
		mw_event_exit(p, ctr);
}

static void tasks_probe_exec(void *data, struct task_struct *p,
			     pid_t old_pid, struct linux_binprm *bprm)
{
	struct tasks_entry *e;
	unsigned long flags;

	if (mw_events_on())
		mw_event_exec(p);
	if (old_pid == p->pid)
		return;
	/*
	 * A non-leader thread exec'd and took the leader's tid (de_thread);
	 * the leader's own entry went at its exit. Move ours to the new tid.
	 */
	raw_spin_lock_irqsave(&tasks_lock, flags);
	e = tasks_find(&tasks_threads, old_pid);
	if (e && !tasks_find(&tasks_threads, p->pid)) {
		hlist_del_rcu(&e->node);
		WRITE_ONCE(e->id, p->pid);
		hlist_add_head_rcu(&e->node, &tasks_threads.hash[
			hash_32((u32)p->pid, tasks_threads.hash_bits)]);
	} else if (e) {
		struct tasks_entry *proc = e->proc;

		tasks_free(&tasks_threads, e);
		tasks_proc_unref(proc);
	}
	raw_spin_unlock_irqrestore(&tasks_lock, flags);
}

/*
 * The x86-64 syscall entry points take the user's registers: regs->di of
 * the probed function is a struct pt_regs * whose di, si, dx, r10, r8, r9
 * are the syscall arguments. Lengths are page-rounded as the kernel maps
 * them (PAGE_ALIGN), so counted bytes match what the address space gained
 * or lost.
 */
struct tasks_krp_data {
	unsigned long a;
	unsigned long b;
	/* For the event stream: the arguments as passed. */
	unsigned long len;
	unsigned long len2;
	unsigned long prot;
	unsigned long flags;
};

static const struct pt_regs *tasks_user_regs(struct pt_regs *regs)
{
	return (const struct pt_regs *)regs->di;
}

/* Entry handlers return non-zero to skip the return handler. */
static int tasks_krp_skip(void)
{
	return !tasks_current_counts() || (current->flags & PF_EXITING);
}

static int tasks_mmap_entry(struct kretprobe_instance *ri,
			    struct pt_regs *regs)
{
	struct tasks_krp_data *d = (struct tasks_krp_data *)ri->data;

	const struct pt_regs *u = tasks_user_regs(regs);

	if (tasks_krp_skip())
		return 1;
	d->a = PAGE_ALIGN(u->si);
	d->len = u->si;
	d->prot = u->dx;	/* mmap only */
	d->flags = u->r10;	/* mmap only */
	return 0;
}

static int tasks_mmap_ret(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct tasks_krp_data *d = (struct tasks_krp_data *)ri->data;

	unsigned long ret = regs_return_value(regs);

	if (!IS_ERR_VALUE(ret))
		tasks_note(TC_MMAP_CALLS, 1, TC_MMAP_BYTES, d->a);
	if (mw_events_on())
		mw_event_mmap(d->len, d->prot, d->flags,
			      IS_ERR_VALUE(ret) ? (long)ret : 0);
	return 0;
}

static int tasks_munmap_ret(struct kretprobe_instance *ri,
			    struct pt_regs *regs)
{
	struct tasks_krp_data *d = (struct tasks_krp_data *)ri->data;

	long ret = regs_return_value(regs);

	if (ret == 0)
		tasks_note(TC_MUNMAP_CALLS, 1, TC_MUNMAP_BYTES, d->a);
	if (mw_events_on())
		mw_event_munmap(d->len, ret);
	return 0;
}

static int tasks_mremap_entry(struct kretprobe_instance *ri,
			      struct pt_regs *regs)
{
	struct tasks_krp_data *d = (struct tasks_krp_data *)ri->data;
	const struct pt_regs *u = tasks_user_regs(regs);

	if (tasks_krp_skip())
		return 1;
	d->a = PAGE_ALIGN(u->si);	/* old_len */
	d->b = PAGE_ALIGN(u->dx);	/* new_len */
	d->len = u->si;
	d->len2 = u->dx;
	d->flags = u->r10;
	return 0;
}

static int tasks_mremap_ret(struct kretprobe_instance *ri,
			    struct pt_regs *regs)
{
	struct tasks_krp_data *d = (struct tasks_krp_data *)ri->data;

	unsigned long ret = regs_return_value(regs);

	if (!IS_ERR_VALUE(ret))
		tasks_note(TC_MREMAP_CALLS, 1, TC_MREMAP_BYTES,
			   d->b > d->a ? d->b - d->a : 0);
	if (mw_events_on())
		mw_event_mremap(d->len, d->len2, d->flags,
				IS_ERR_VALUE(ret) ? (long)ret : 0);
	return 0;
}

static int tasks_brk_entry(struct kretprobe_instance *ri,
			   struct pt_regs *regs)
{
	struct tasks_krp_data *d = (struct tasks_krp_data *)ri->data;

	if (tasks_krp_skip())
		return 1;
	/* Unlocked read: brk only moves under this task's own syscall. */
	d->a = READ_ONCE(current->mm->brk);
	d->len = tasks_user_regs(regs)->di;	/* the break asked for */
	return 0;
}

static int tasks_brk_ret(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct tasks_krp_data *d = (struct tasks_krp_data *)ri->data;
	unsigned long newbrk = regs_return_value(regs);
	unsigned long grow;

	/* brk() returns the old break on failure and for brk(0) queries. */
	if (newbrk == d->a) {
		/* A refused move is an event; a query (0 or the same) is not. */
		if (mw_events_on() && d->len && d->len != d->a)
			mw_event_brk((long)(d->len - d->a), -ENOMEM);
		return 0;
	}
	if (mw_events_on())
		mw_event_brk((long)(newbrk - d->a), 0);
	grow = PAGE_ALIGN(newbrk) > PAGE_ALIGN(d->a) ?
	       PAGE_ALIGN(newbrk) - PAGE_ALIGN(d->a) : 0;
	tasks_note(TC_BRK_CALLS, 1, TC_BRK_BYTES, grow);
	return 0;
}

/*
 * Enough instances for threads blocked in mmap (mmap_lock) at once; a miss
 * is counted by the kprobe core and shown in status as krp_missed.
 */
#define TASKS_KRP_MAXACTIVE	256

/* Exit and exec first: they must be attached before anything creates entries. */
static struct mw_probe tasks_probes[] = {
	{ .name = "sched_process_exit", .kind = MW_TRACEPOINT,
	  .tp_handler = tasks_probe_exit },
	{ .name = "sched_process_exec", .kind = MW_TRACEPOINT,
	  .tp_handler = tasks_probe_exec },
	{ .name = "mm_page_alloc", .kind = MW_TRACEPOINT,
	  .tp_handler = tasks_probe_page_alloc },
	{ .name = "mm_vmscan_direct_reclaim_begin", .kind = MW_TRACEPOINT,
	  .tp_handler = tasks_probe_reclaim_begin },
	{ .name = "mm_vmscan_direct_reclaim_end", .kind = MW_TRACEPOINT,
	  .tp_handler = tasks_probe_reclaim_end },
	{ .name = "__x64_sys_mmap", .kind = MW_KRETPROBE,
	  .krp_entry = tasks_mmap_entry, .krp_ret = tasks_mmap_ret,
	  .krp_data_size = sizeof(struct tasks_krp_data),
	  .krp_maxactive = TASKS_KRP_MAXACTIVE },
	{ .name = "__x64_sys_munmap", .kind = MW_KRETPROBE,
	  .krp_entry = tasks_mmap_entry, .krp_ret = tasks_munmap_ret,
	  .krp_data_size = sizeof(struct tasks_krp_data),
	  .krp_maxactive = TASKS_KRP_MAXACTIVE },
	{ .name = "__x64_sys_mremap", .kind = MW_KRETPROBE,
	  .krp_entry = tasks_mremap_entry, .krp_ret = tasks_mremap_ret,
	  .krp_data_size = sizeof(struct tasks_krp_data),
	  .krp_maxactive = TASKS_KRP_MAXACTIVE },
	{ .name = "__x64_sys_brk", .kind = MW_KRETPROBE,
	  .krp_entry = tasks_brk_entry, .krp_ret = tasks_brk_ret,
	  .krp_data_size = sizeof(struct tasks_krp_data),
	  .krp_maxactive = TASKS_KRP_MAXACTIVE },
};

/* --- snapshots for the readers --- */

struct tasks_row {
	pid_t pid, tgid, ppid;
	uid_t uid;
	int threads, fds;
	unsigned long vsz, rss_anon, rss_file, rss_shmem, swap;	/* pages */
	unsigned long data, stack, hwm;				/* pages */
	unsigned long pte_bytes;
	unsigned long minflt, majflt;
	u64 c[TC_NR];
	char comm[TASK_COMM_LEN];
};

struct tasks_snap {
	bool threads;		/* threads file: one row per thread */
	pid_t filter;		/* threads: only this tgid; 0 all */
	bool filter_set;	/* written on this open file */
	bool built;
	struct tasks_row *rows;
	size_t n, cap;
};

static void tasks_comm(struct tasks_row *r, struct task_struct *p)
{
	get_task_comm(r->comm, p);
	mw_comm_sanitize(r->comm);
}

/*
 * /proc/PID/fd shows a process's descriptors only to readers that may
 * ptrace-read it; the fd count follows the same rule: the reader's fsuid and
 * fsgid are the process's real, effective and saved ids and the process is
 * dumpable, or the reader has CAP_SYS_PTRACE over it. Under rcu_read_lock().
 */
static bool tasks_may_see_fds(struct task_struct *p, int dumpable)
{
	const struct cred *cred = current_cred(), *tcred = __task_cred(p);

	if (same_thread_group(p, current))
		return true;
	if (uid_eq(cred->fsuid, tcred->euid) && uid_eq(cred->fsuid, tcred->suid) &&
	    uid_eq(cred->fsuid, tcred->uid) && gid_eq(cred->fsgid, tcred->egid) &&
	    gid_eq(cred->fsgid, tcred->sgid) && gid_eq(cred->fsgid, tcred->gid) &&
	    dumpable == SUID_DUMP_USER)
		return true;
	return ns_capable_noaudit(tcred->user_ns, CAP_SYS_PTRACE);
}

/* Called under rcu_read_lock(); false for tasks without an mm. */
static bool tasks_fill_proc(struct tasks_row *r, struct task_struct *p)
{
	struct task_struct *t;
	struct files_struct *files;
	struct mm_struct *mm;
	int dumpable;

	task_lock(p);
	mm = p->mm;
	if (!mm || (p->flags & PF_KTHREAD)) {
		task_unlock(p);
		return false;
	}
	memset(r, 0, sizeof(*r));
	r->vsz = mm->total_vm;
	r->rss_anon = mw_mm_counter(mm, MM_ANONPAGES);
	r->rss_file = mw_mm_counter(mm, MM_FILEPAGES);
	r->rss_shmem = mw_mm_counter(mm, MM_SHMEMPAGES);
	r->swap = mw_mm_counter(mm, MM_SWAPENTS);
	r->data = mm->data_vm;
	r->stack = mm->stack_vm;
	/* As /proc/PID/status: the recorded peak, or now if higher. */
	r->hwm = max(mm->hiwater_rss, r->rss_anon + r->rss_file + r->rss_shmem);
	r->pte_bytes = mm_pgtables_bytes(mm);
	dumpable = get_dumpable(mm);
	files = p->files;
	if (files) {
		struct fdtable *fdt = files_fdtable(files);

		r->fds = bitmap_weight(fdt->open_fds, fdt->max_fds);
	}
	task_unlock(p);
	if (!tasks_may_see_fds(p, dumpable))
		r->fds = -1;	/* shown as "-" */

	r->pid = p->tgid;
	r->tgid = p->tgid;
	r->ppid = task_tgid_nr(rcu_dereference(p->real_parent));
	r->uid = from_kuid_munged(current_user_ns(), task_uid(p));
	r->threads = get_nr_threads(p);
	/* As /proc/PID/stat: live threads plus those already reaped. */
	r->minflt = p->signal->min_flt;
	r->majflt = p->signal->maj_flt;
	for_each_thread(p, t) {
		r->minflt += t->min_flt;
		r->majflt += t->maj_flt;
	}
	tasks_comm(r, p);
	return true;
}

static bool tasks_fill_thread(struct tasks_row *r, struct task_struct *t)
{
	if (!t->mm || (t->flags & PF_KTHREAD))
		return false;
	memset(r, 0, sizeof(*r));
	r->pid = t->pid;
	r->tgid = t->tgid;
	r->minflt = t->min_flt;
	r->majflt = t->maj_flt;
	tasks_comm(r, t);
	return true;
}

static void tasks_snap_free(struct tasks_snap *s)
{
	if (s->rows)
		atomic_long_sub(s->cap * sizeof(*s->rows), &tasks_snap_bytes);
	kvfree(s->rows);
	s->rows = NULL;
	s->n = 0;
	s->cap = 0;
	s->built = false;
}

static size_t tasks_count(const struct tasks_snap *s, struct task_struct *leader)
{
	struct task_struct *p, *t;
	size_t n = 0;

	rcu_read_lock();
	if (leader) {
		for_each_thread(leader, t)
			n++;
	} else if (s->threads) {
		for_each_process_thread(p, t)
			n++;
	} else {
		for_each_process(p)
			n++;
	}
	rcu_read_unlock();
	return n;
}

/* The process @s is filtered to, with a reference, or NULL. */
static struct task_struct *tasks_filter_task(const struct tasks_snap *s)
{
	struct task_struct *p = NULL;
	pid_t nr = s->filter_set ? s->filter :
		   atomic_read(&tasks_threads_filter);

	if (!s->threads || nr <= 0)
		return NULL;
	rcu_read_lock();
	p = pid_task(find_vpid(nr), PIDTYPE_PID);
	if (p) {
		p = p->group_leader;
		get_task_struct(p);
	}
	rcu_read_unlock();
	return p;
}

static bool tasks_filtered(const struct tasks_snap *s)
{
	return s->threads && (s->filter_set ? s->filter :
			      atomic_read(&tasks_threads_filter)) > 0;
}

static void tasks_copy_counters(struct tasks_row *r, bool thread)
{
	struct tasks_entry *e;
	unsigned long flags;
	unsigned int i;

	/* The lock keeps the entry from being freed and reused meanwhile. */
	raw_spin_lock_irqsave(&tasks_lock, flags);
	e = thread ? tasks_find(&tasks_threads, r->pid) :
		     tasks_find(&tasks_procs, r->tgid);
	for (i = 0; e && i < TC_NR; i++)
		r->c[i] = thread ? READ_ONCE(e->c[i]) : atomic64_read(&e->ac[i]);
	raw_spin_unlock_irqrestore(&tasks_lock, flags);
}

static int tasks_snap_build(struct tasks_snap *s)
{
	struct task_struct *leader = tasks_filter_task(s);
	struct task_struct *p, *t;
	size_t i, n = 0;
	int err = 0;

	tasks_snap_free(s);
	if (tasks_filtered(s) && !leader)
		goto out;	/* filtered on a process that is gone */
	s->cap = tasks_count(s, leader) + TASKS_SNAP_SLACK;
	s->rows = kvmalloc_array(s->cap, sizeof(*s->rows), GFP_KERNEL);
	if (!s->rows) {
		s->cap = 0;
		err = -ENOMEM;
		goto out;
	}
	atomic_long_add(s->cap * sizeof(*s->rows), &tasks_snap_bytes);

	/* Tasks created after the count beyond the slack wait for the next read. */
	rcu_read_lock();
	if (leader) {
		for_each_thread(leader, t) {
			if (n == s->cap)
				break;
			n += tasks_fill_thread(&s->rows[n], t);
		}
	} else if (s->threads) {
		for_each_process_thread(p, t) {
			if (n == s->cap)
				goto full;
			n += tasks_fill_thread(&s->rows[n], t);
		}
	} else {
		for_each_process(p) {
			if (n == s->cap)
				break;
			n += tasks_fill_proc(&s->rows[n], p);
		}
	}
full:
	rcu_read_unlock();
	s->n = n;
	for (i = 0; i < n; i++)
		tasks_copy_counters(&s->rows[i], s->threads);
out:
	if (leader)
		put_task_struct(leader);
	s->built = !err;
	return err;
}

static void *tasks_seq_start(struct seq_file *m, loff_t *pos)
{
	struct tasks_snap *s = m->private;

	/* A new read from the top takes a new snapshot. */
	if (*pos == 0 || !s->built) {
		int err = tasks_snap_build(s);

		if (err)
			return ERR_PTR(err);
	}
	if (*pos == 0)
		return SEQ_START_TOKEN;
	return *pos <= s->n ? &s->rows[*pos - 1] : NULL;
}

static void *tasks_seq_next(struct seq_file *m, void *v, loff_t *pos)
{
	struct tasks_snap *s = m->private;

	++*pos;
	return *pos <= s->n ? &s->rows[*pos - 1] : NULL;
}

static void tasks_seq_stop(struct seq_file *m, void *v)
{
}

#define TASKS_KB(pages)	((unsigned long)(pages) << (PAGE_SHIFT - 10))

/*
 * Rows are formatted by hand into a line buffer and written once:
 * seq_printf() parses its format for every field, and a read of 2,000
 * processes prints 60,000 fields (Documentation/performance.md).
 */
#define TASKS_LINE_MAX	768	/* 31 fields of up to 21 bytes, comm, slack */

/* Appends " %*llu" (@sep false: "%*llu"). */
static char *tasks_put_num(char *p, bool sep, unsigned long long v,
			   int width)
{
	char d[20];
	int n = 0;

	do {
		d[n++] = '0' + v % 10;
		v /= 10;
	} while (v);
	if (sep)
		*p++ = ' ';
	while (width-- > n)
		*p++ = ' ';
	while (n)
		*p++ = d[--n];
	return p;
}

/* Pids and thread counts are never negative. */
static char *tasks_put_id(char *p, bool sep, long long v, int width)
{
	return tasks_put_num(p, sep, v < 0 ? 0 : v, width);
}

static char *tasks_put_comm(char *p, const char *comm)
{
	size_t n = strnlen(comm, TASK_COMM_LEN);

	*p++ = ' ';
	memcpy(p, comm, n);
	p += n;
	*p++ = '\n';
	return p;
}

static char *tasks_put_counters(char *p, const u64 *c, bool net)
{
	u64 net_bytes = c[TC_MMAP_BYTES] > c[TC_MUNMAP_BYTES] ?
			c[TC_MMAP_BYTES] - c[TC_MUNMAP_BYTES] : 0;

	p = tasks_put_num(p, true, c[TC_MMAP_CALLS], 10);
	p = tasks_put_num(p, true, c[TC_MMAP_BYTES] >> 10, 10);
	p = tasks_put_num(p, true, c[TC_MUNMAP_CALLS], 10);
	p = tasks_put_num(p, true, c[TC_MUNMAP_BYTES] >> 10, 10);
	if (net)
		p = tasks_put_num(p, true, net_bytes >> 10, 10);
	p = tasks_put_num(p, true, c[TC_MREMAP_CALLS], 8);
	p = tasks_put_num(p, true, c[TC_MREMAP_BYTES] >> 10, 10);
	p = tasks_put_num(p, true, c[TC_BRK_CALLS], 8);
	p = tasks_put_num(p, true, c[TC_BRK_BYTES] >> 10, 10);
	p = tasks_put_num(p, true, c[TC_PAGE_ALLOCS], 11);
	p = tasks_put_num(p, true, c[TC_STALL_COUNT], 7);
	p = tasks_put_num(p, true, c[TC_STALL_NS], 12);
	return tasks_put_num(p, true, c[TC_ALLOCFAIL], 6);
}

static int tasks_seq_show(struct seq_file *m, void *v)
{
	const struct tasks_row *r = v;
	unsigned long total = totalram_pages();
	unsigned long rss;
	char line[TASKS_LINE_MAX], *p = line;

	if (v == SEQ_START_TOKEN) {
		mw_print_header(m, MW_FILE_TASKS);
		seq_printf(m, "mem_total_kb %lu\n", TASKS_KB(total));
		seq_puts(m, "# pid ppid uid threads fds vsz_kb rss_kb rss_anon_kb rss_file_kb rss_shmem_kb swap_kb data_kb stack_kb pte_kb hwm_kb minflt majflt mmap_calls mmap_kb munmap_calls munmap_kb mapped_net_kb mremap_calls mremap_kb brk_calls brk_kb page_allocs stall_count stall_ns allocfail share_pm comm\n");
		return 0;
	}
	rss = r->rss_anon + r->rss_file + r->rss_shmem;
	p = tasks_put_id(p, false, r->pid, 7);
	p = tasks_put_id(p, true, r->ppid, 7);
	p = tasks_put_num(p, true, r->uid, 5);
	p = tasks_put_id(p, true, r->threads, 5);
	if (r->fds < 0)
		p += sprintf(p, " %5s", "-");
	else
		p = tasks_put_num(p, true, r->fds, 5);
	p = tasks_put_num(p, true, TASKS_KB(r->vsz), 10);
	p = tasks_put_num(p, true, TASKS_KB(rss), 9);
	p = tasks_put_num(p, true, TASKS_KB(r->rss_anon), 9);
	p = tasks_put_num(p, true, TASKS_KB(r->rss_file), 9);
	p = tasks_put_num(p, true, TASKS_KB(r->rss_shmem), 9);
	p = tasks_put_num(p, true, TASKS_KB(r->swap), 8);
	p = tasks_put_num(p, true, TASKS_KB(r->data), 10);
	p = tasks_put_num(p, true, TASKS_KB(r->stack), 7);
	p = tasks_put_num(p, true, r->pte_bytes >> 10, 7);
	p = tasks_put_num(p, true, TASKS_KB(r->hwm), 9);
	p = tasks_put_num(p, true, r->minflt, 10);
	p = tasks_put_num(p, true, r->majflt, 7);
	p = tasks_put_counters(p, r->c, true);
	p = tasks_put_num(p, true, total ? rss * 1000 / total : 0, 5);
	p = tasks_put_comm(p, r->comm);
	seq_write(m, line, p - line);
	return 0;
}

static int threads_seq_show(struct seq_file *m, void *v)
{
	struct tasks_snap *s = m->private;
	const struct tasks_row *r = v;
	char line[TASKS_LINE_MAX], *p = line;

	if (v == SEQ_START_TOKEN) {
		mw_print_header(m, MW_FILE_THREADS);
		seq_printf(m, "filter_tgid %d\n", s->filter_set ? s->filter :
			   atomic_read(&tasks_threads_filter));
		seq_puts(m, "# tid tgid minflt majflt mmap_calls mmap_kb munmap_calls munmap_kb mremap_calls mremap_kb brk_calls brk_kb page_allocs stall_count stall_ns allocfail comm\n");
		return 0;
	}
	p = tasks_put_id(p, false, r->pid, 7);
	p = tasks_put_id(p, true, r->tgid, 7);
	p = tasks_put_num(p, true, r->minflt, 10);
	p = tasks_put_num(p, true, r->majflt, 7);
	p = tasks_put_counters(p, r->c, false);
	p = tasks_put_comm(p, r->comm);
	seq_write(m, line, p - line);
	return 0;
}

static const struct seq_operations tasks_sops = {
	.start = tasks_seq_start,
	.next = tasks_seq_next,
	.stop = tasks_seq_stop,
	.show = tasks_seq_show,
};

static const struct seq_operations threads_sops = {
	.start = tasks_seq_start,
	.next = tasks_seq_next,
	.stop = tasks_seq_stop,
	.show = threads_seq_show,
};

static int tasks_open(struct inode *inode, struct file *file)
{
	return seq_open_private(file, &tasks_sops, sizeof(struct tasks_snap)) ?
	       -ENOMEM : 0;
}

static int threads_open(struct inode *inode, struct file *file)
{
	struct tasks_snap *s;

	s = __seq_open_private(file, &threads_sops, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->threads = true;
	return 0;
}

static int tasks_release(struct inode *inode, struct file *file)
{
	struct seq_file *m = file->private_data;

	tasks_snap_free(m->private);
	return seq_release_private(inode, file);
}

/*
 * Parses a threads filter: "<pid>\n" with pid 0 for every thread, or the
 * pid of a process (a tid selects the process it belongs to).
 */
static int tasks_parse_filter(const char __user *buf, size_t count, pid_t *out)
{
	struct pid *pid;
	int v, err;

	err = kstrtoint_from_user(buf, count, 10, &v);
	if (err)
		return -EINVAL;
	if (v < 0)
		return -EINVAL;
	if (v) {
		rcu_read_lock();
		pid = find_vpid(v);
		err = pid && pid_task(pid, PIDTYPE_PID) ? 0 : -ESRCH;
		rcu_read_unlock();
		if (err)
			return err;
	}
	*out = v;
	return 0;
}

/*
 * Command grammar of /proc/memwatch/threads (this open file only):
 *   "<tgid>\n"  the next reads from this file show only process <tgid>
 *               (a tid selects its process)
 *   "0\n"       every thread again (the default is threads_pid's value)
 * Anything else: -EINVAL; a pid with no task: -ESRCH.
 */
static ssize_t threads_write(struct file *file, const char __user *buf,
			     size_t count, loff_t *ppos)
{
	struct seq_file *m = file->private_data;
	struct tasks_snap *s = m->private;
	pid_t v;
	int err;

	err = tasks_parse_filter(buf, count, &v);
	if (err)
		return err;
	mutex_lock(&m->lock);	/* seq_read holds it while it reads s */
	s->filter = v;
	s->filter_set = true;
	s->built = false;
	mutex_unlock(&m->lock);
	return count;
}

static const struct proc_ops tasks_fops = {
	.proc_open = tasks_open,
	.proc_read = seq_read,
	.proc_lseek = seq_lseek,
	.proc_release = tasks_release,
};

static const struct proc_ops threads_fops = {
	.proc_open = threads_open,
	.proc_read = seq_read,
	.proc_write = threads_write,
	.proc_lseek = seq_lseek,
	.proc_release = tasks_release,
};

static int threads_pid_show(struct seq_file *m, void *v)
{
	seq_printf(m, "%d\n", atomic_read(&tasks_threads_filter));
	return 0;
}

static int threads_pid_open(struct inode *inode, struct file *file)
{
	return single_open(file, threads_pid_show, NULL);
}

/*
 * Command grammar of /proc/memwatch/threads_pid (every reader of threads
 * that did not write its own filter):
 *   "<tgid>\n"  show only the threads of process <tgid>
 *   "0\n"       show every thread (the default, like top -H)
 * Anything else: -EINVAL; a pid with no task: -ESRCH.
 */
static ssize_t threads_pid_write(struct file *file, const char __user *buf,
				 size_t count, loff_t *ppos)
{
	pid_t v;
	int err;

	err = tasks_parse_filter(buf, count, &v);
	if (err)
		return err;
	atomic_set(&tasks_threads_filter, v);
	return count;
}

static const struct proc_ops threads_pid_fops = {
	.proc_open = threads_pid_open,
	.proc_read = seq_read,
	.proc_write = threads_pid_write,
	.proc_lseek = seq_lseek,
	.proc_release = single_release,
};

/* --- feature --- */

static unsigned int tasks_pid_limit(void)
{
	unsigned long addr = mw_lookup_symbol("pid_max");
	int max = addr ? READ_ONCE(*(int *)addr) : 0;

	/* pid_max may be raised later: pids above are counted, not deduplicated. */
	return max > 0 && max <= PID_MAX_LIMIT ? max : PID_MAX_LIMIT;
}

static struct proc_dir_entry *tasks_pde, *threads_pde, *threads_pid_pde;

static void tasks_remove_files(void)
{
	proc_remove(threads_pid_pde);
	proc_remove(threads_pde);
	proc_remove(tasks_pde);
	threads_pid_pde = NULL;
	threads_pde = NULL;
	tasks_pde = NULL;
}

static int tasks_init(struct proc_dir_entry *dir)
{
	int err;

	tasks_pid_bits = tasks_pid_limit();
	err = tasks_table_alloc(&tasks_procs, tasks_max);
	if (err)
		goto err_procs;
	err = tasks_table_alloc(&tasks_threads, threads_max);
	if (err)
		goto err_threads;
	tasks_events_dropped = 0;
	atomic_set(&tasks_threads_filter, 0);

	err = -ENOMEM;
	tasks_pde = proc_create(MW_FILE_TASKS, 0444, dir, &tasks_fops);
	if (!tasks_pde)
		goto err_files;
	/* Writable by root only: a write sets this open file's filter. */
	threads_pde = proc_create(MW_FILE_THREADS, 0644, dir, &threads_fops);
	if (!threads_pde)
		goto err_files;
	threads_pid_pde = proc_create(MW_FILE_THREADS_PID, 0644, dir,
				      &threads_pid_fops);
	if (!threads_pid_pde)
		goto err_files;
	return 0;

err_files:
	tasks_remove_files();
	tasks_table_free(&tasks_threads);
err_threads:
	tasks_table_free(&tasks_procs);
err_procs:
	return err;
}

static void tasks_exit(void)
{
	/* The proc tree is gone and every handler has finished (main.c). */
	tasks_table_free(&tasks_threads);
	tasks_table_free(&tasks_procs);
}

static size_t tasks_mem_bytes(void)
{
	return tasks_table_bytes(&tasks_procs) +
	       tasks_table_bytes(&tasks_threads) +
	       atomic_long_read(&tasks_snap_bytes);
}

static void tasks_status_show(struct seq_file *m)
{
	unsigned int pu, pp, tu, tp, i;
	u64 pd, td, ed;
	unsigned long flags, missed = 0;

	raw_spin_lock_irqsave(&tasks_lock, flags);
	pu = tasks_procs.used;
	pp = tasks_procs.peak;
	pd = tasks_procs.dropped;
	tu = tasks_threads.used;
	tp = tasks_threads.peak;
	td = tasks_threads.dropped;
	ed = tasks_events_dropped;
	raw_spin_unlock_irqrestore(&tasks_lock, flags);

	for (i = 0; i < ARRAY_SIZE(tasks_probes); i++) {
		const struct mw_probe *p = &tasks_probes[i];

		if (p->kind == MW_KRETPROBE && mw_probe_attached(p))
			missed += p->krp.nmissed + p->krp.kp.nmissed;
	}
	seq_printf(m, "tasks.procs_max %u\n", tasks_procs.max);
	seq_printf(m, "tasks.procs_used %u\n", pu);
	seq_printf(m, "tasks.procs_peak %u\n", pp);
	seq_printf(m, "tasks.procs_dropped %llu\n", pd);
	seq_printf(m, "tasks.threads_max %u\n", tasks_threads.max);
	seq_printf(m, "tasks.threads_used %u\n", tu);
	seq_printf(m, "tasks.threads_peak %u\n", tp);
	seq_printf(m, "tasks.threads_dropped %llu\n", td);
	seq_printf(m, "tasks.events_dropped %llu\n", ed);
	seq_printf(m, "tasks.krp_missed %lu\n", missed);
	seq_printf(m, "tasks.snapshot_bytes %ld\n",
		   atomic_long_read(&tasks_snap_bytes));
	seq_printf(m, "tasks.threads_filter %d\n",
		   atomic_read(&tasks_threads_filter));
}

struct mw_feature mw_tasks_feature = {
	.name = "tasks",
	.init = tasks_init,
	.exit = tasks_exit,
	.status_show = tasks_status_show,
	.mem_bytes = tasks_mem_bytes,
	.probes = tasks_probes,
	.nr_probes = ARRAY_SIZE(tasks_probes),
};
