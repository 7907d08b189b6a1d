// SPDX-License-Identifier: GPL-2.0
/*
 * events.c - /proc/memwatch/events: one line per memory event, read like
 * /dev/kmsg (Documentation/events.md).
 *
 * Probes of the other features (tasks: mmap-family calls, exec, exit;
 * reclaim: direct-reclaim stalls; allocfail; frag: extfrag fallbacks) and
 * our own kretprobe on try_to_compact_pages (compaction stalls) fill a
 * fixed-size binary record and append it to one bounded ring. Text is made
 * at read() time, per open file, from a copy of the record.
 *
 * Cost with no reader: every call site is behind mw_events_key, a static
 * key that open() increments and release() decrements, so events are
 * emitted (and seq advances) only while someone has the file open.
 *
 * Notes on locking
 * ----------------
 * events_lock (raw spinlock, irqsave) protects the ring, events_head (the
 * seq of the newest record) and the counters beside it. Writers hold it to
 * take the next seq and copy their record into its slot; readers hold it
 * to copy one record out, so a reader never sees a half-written record.
 * It is a leaf lock: nothing is taken under it, nothing sleeps; the
 * critical sections are a clock read and a copy of one record. Writers may
 * hold other locks (zone->lock under mm_page_alloc_extfrag, tasks_lock is
 * not: tasks.c emits after dropping it). Raw so that it stays a spinning
 * lock on PREEMPT_RT, where the probes run with preemption off.
 *
 * Wakeups: a writer never calls wake_up() (on RT the waitqueue lock
 * sleeps, and tracepoints fire under zone->lock). When a reader waits it
 * queues events_iw, an irq_work whose handler wakes events_wait. It is a
 * lazy irq_work: it runs at the next timer tick (at once if the tick is
 * stopped), so a storm wakes a reader once per tick, not once per event
 * (a self-IPI and a context switch per event cost the mmap loop ~5%). A reader
 * adds itself to events_wait before it checks events_head under
 * events_lock, and a writer looks at the queue under the same lock after
 * it has moved events_head, so no wakeup is lost.
 *
 * Each open file has its own position and line buffer under its own mutex
 * (reader->lock), taken only in process context.
 *
 * Unload: main.c calls mw_events_shutdown() before removing the proc
 * tree; readers blocked in read() then return 0 and proc_remove() (which
 * waits for calls in flight) completes, calling our release for files
 * still open. Our exit runs after every probe is detached: it flushes the
 * irq_work, tells pollers the waitqueue goes away (POLLFREE) and frees it
 * once they are off it.
 */
#include <linux/atomic.h>
#include <linux/irq_work.h>
#include <linux/delay.h>
#include <linux/ktime.h>
#include <linux/mman.h>
#include <linux/mmzone.h>
#include <linux/compaction.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/poll.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>
#include <linux/wait.h>

#include "compat.h"
#include "events.h"
#include "memwatch.h"

#define EVENTS_RING_MIN		16U
#define EVENTS_RING_MAX		(1U << 20)
/* The ring may take at most this share of RAM; past it init fails. */
#define EVENTS_RAM_SHARE	8

static unsigned int events_ring_entries = 16384;

/*
 * Refused at insmod, with the range in dmesg, like the other parameters
 * (a range-checked parameter helper may replace this one).
 */
static int events_ring_entries_set(const char *val,
				   const struct kernel_param *kp)
{
	unsigned int v;

	if (kstrtouint(val, 0, &v) || v < EVENTS_RING_MIN ||
	    v > EVENTS_RING_MAX) {
		pr_err("memwatch: %s=%s refused: expected an integer from %u to %u\n",
		       kp->name, val, EVENTS_RING_MIN, EVENTS_RING_MAX);
		return -EINVAL;
	}
	*(unsigned int *)kp->arg = v;
	return 0;
}

static const struct kernel_param_ops events_ring_entries_ops = {
	.set = events_ring_entries_set,
	.get = param_get_uint,
};
module_param_cb(events_ring_entries, &events_ring_entries_ops,
		&events_ring_entries, 0444);
__MODULE_PARM_TYPE(events_ring_entries, "uint");
MODULE_PARM_DESC(events_ring_entries,
		 "Events kept for readers of /proc/memwatch/events (default 16384, 16..1048576)");
#define EVENTS_LINE_MAX		512
#define EVENTS_NR_VALUES	MW_EXIT_NR

enum events_kind {
	EV_MMAP,
	EV_MUNMAP,
	EV_MREMAP,
	EV_BRK,
	EV_EXEC,
	EV_EXIT,
	EV_ALLOCFAIL,
	EV_STALL,
	EV_EXTFRAG,
	EV_COMPACT,
	EV_NR,
};

static const char *const events_kind_names[EV_NR] = {
	[EV_MMAP] = "mmap",
	[EV_MUNMAP] = "munmap",
	[EV_MREMAP] = "mremap",
	[EV_BRK] = "brk",
	[EV_EXEC] = "exec",
	[EV_EXIT] = "exit",
	[EV_ALLOCFAIL] = "allocfail",
	[EV_STALL] = "stall",
	[EV_EXTFRAG] = "extfrag",
	[EV_COMPACT] = "compact",
};

struct events_rec {
	u64 seq;
	u64 time_ns;
	pid_t pid;
	pid_t tid;
	u32 kind;
	char comm[TASK_COMM_LEN];
	u64 v[EVENTS_NR_VALUES];	/* by kind, see events_format() */
};

static DEFINE_RAW_SPINLOCK(events_lock);
static struct events_rec *events_ring;
static unsigned int events_size;
static u64 events_head;			/* seq of the newest record, 0: none */
static u64 events_by_kind[EV_NR];
static atomic64_t events_lost_told = ATOMIC64_INIT(0);
static atomic64_t events_nmi_dropped = ATOMIC64_INIT(0);
static atomic_t events_readers = ATOMIC_INIT(0);
static bool events_dying;

/*
 * Allocated, not static: a poll() or epoll waiter still linked to it at
 * unload unlinks itself after its wakeup, possibly after our text is gone;
 * if one has not within a bound, the head is left allocated (events_exit).
 */
static wait_queue_head_t *events_wait;
static struct irq_work events_iw;

DEFINE_STATIC_KEY_FALSE(mw_events_key);

/* --- writers --- */

static void events_wake(struct irq_work *w)
{
	wake_up_interruptible(events_wait);
}

/* Fills the task fields of @r from current; kernel context has pid 0. */
static void events_current(struct events_rec *r, enum events_kind kind)
{
	r->kind = kind;
	if (in_task()) {
		r->pid = current->tgid;
		r->tid = current->pid;
		mw_current_comm(r->comm);
	} else {
		r->pid = 0;
		r->tid = 0;
		strscpy(r->comm, "[irq]", TASK_COMM_LEN);
	}
}

static void events_emit(struct events_rec *r)
{
	unsigned long flags;
	bool wake;

	/* An NMI may have interrupted a holder of events_lock on this CPU. */
	if (unlikely(in_nmi())) {
		atomic64_inc(&events_nmi_dropped);
		return;
	}
	raw_spin_lock_irqsave(&events_lock, flags);
	if (unlikely(!events_ring)) {
		raw_spin_unlock_irqrestore(&events_lock, flags);
		return;
	}
	r->seq = ++events_head;
	r->time_ns = ktime_get_ns();
	events_ring[r->seq % events_size] = *r;
	events_by_kind[r->kind]++;
	/* Under events_lock: no lost wakeup (see the notes on locking). */
	wake = waitqueue_active(events_wait);
	raw_spin_unlock_irqrestore(&events_lock, flags);
	if (wake)
		irq_work_queue(&events_iw);
}

void mw_event_mmap(unsigned long len, unsigned long prot, unsigned long flags,
		   long result)
{
	struct events_rec r;

	events_current(&r, EV_MMAP);
	r.v[0] = len;
	r.v[1] = prot;
	r.v[2] = flags;
	r.v[3] = !!(flags & MAP_ANONYMOUS);
	r.v[4] = result;
	events_emit(&r);
}

void mw_event_munmap(unsigned long len, long result)
{
	struct events_rec r;

	events_current(&r, EV_MUNMAP);
	r.v[0] = len;
	r.v[1] = result;
	events_emit(&r);
}

void mw_event_mremap(unsigned long old_len, unsigned long new_len,
		     unsigned long flags, long result)
{
	struct events_rec r;

	events_current(&r, EV_MREMAP);
	r.v[0] = old_len;
	r.v[1] = new_len;
	r.v[2] = flags;
	r.v[3] = result;
	events_emit(&r);
}

void mw_event_brk(long delta, long result)
{
	struct events_rec r;

	events_current(&r, EV_BRK);
	r.v[0] = delta;
	r.v[1] = result;
	events_emit(&r);
}

void mw_event_exec(struct task_struct *p)
{
	struct events_rec r;

	events_current(&r, EV_EXEC);
	r.v[0] = 0;	/* sched_process_exec fires for successful execs only */
	events_emit(&r);
}

void mw_event_exit(struct task_struct *p, const u64 *ctr)
{
	struct events_rec r;

	events_current(&r, EV_EXIT);
	memcpy(r.v, ctr, sizeof(r.v));
	events_emit(&r);
}

void mw_event_allocfail(unsigned int order, gfp_t gfp, int nid, int zid)
{
	struct events_rec r;

	events_current(&r, EV_ALLOCFAIL);
	r.v[0] = order;
	r.v[1] = (__force unsigned long)gfp;
	r.v[2] = nid;
	r.v[3] = zid;
	events_emit(&r);
}

void mw_event_stall(u64 duration_ns, unsigned long reclaimed)
{
	struct events_rec r;

	events_current(&r, EV_STALL);
	r.v[0] = duration_ns;
	r.v[1] = reclaimed;
	events_emit(&r);
}

void mw_event_extfrag(int order, int fallback_order, int migratetype,
		      int fallback_migratetype)
{
	struct events_rec r;

	events_current(&r, EV_EXTFRAG);
	r.v[0] = order;
	r.v[1] = fallback_order;
	r.v[2] = migratetype;
	r.v[3] = fallback_migratetype;
	events_emit(&r);
}

/* --- compaction stalls: a kretprobe on try_to_compact_pages --- */

struct events_compact_data {
	u64 start_ns;
	unsigned int order;
};

static int events_compact_entry(struct kretprobe_instance *ri,
				struct pt_regs *regs)
{
	struct events_compact_data *d = (struct events_compact_data *)ri->data;

	if (!mw_events_on())
		return 1;	/* no return handler */
	d->start_ns = ktime_get_ns();
	d->order = regs_get_kernel_argument(regs, 1);
	return 0;
}

static int events_compact_ret(struct kretprobe_instance *ri,
			      struct pt_regs *regs)
{
	struct events_compact_data *d = (struct events_compact_data *)ri->data;
	struct events_rec r;

	/* The reader may have closed the file while we compacted. */
	if (!mw_events_on())
		return 0;
	events_current(&r, EV_COMPACT);
	r.v[0] = ktime_get_ns() - d->start_ns;
	r.v[1] = d->order;
	r.v[2] = regs_return_value(regs);
	events_emit(&r);
	return 0;
}

/* enum compact_result is the same on 6.1 and 6.12 (linux/compaction.h). */
static const char *events_compact_result(u64 v)
{
	switch (v) {
	case COMPACT_NOT_SUITABLE_ZONE:
		return "not_suitable_zone";
	case COMPACT_SKIPPED:
		return "skipped";
	case COMPACT_DEFERRED:
		return "deferred";
	case COMPACT_NO_SUITABLE_PAGE:
		return "no_suitable_page";
	case COMPACT_CONTINUE:
		return "continue";
	case COMPACT_COMPLETE:
		return "complete";
	case COMPACT_PARTIAL_SKIPPED:
		return "partial_skipped";
	case COMPACT_CONTENDED:
		return "contended";
	case COMPACT_SUCCESS:
		return "success";
	default:
		return "other";
	}
}

/* Direct compaction can sleep (migration, cond_resched): room for many. */
#define EVENTS_COMPACT_MAXACTIVE	64

static struct mw_probe events_probes[] = {
	{ .name = "try_to_compact_pages", .kind = MW_KRETPROBE,
	  .krp_entry = events_compact_entry, .krp_ret = events_compact_ret,
	  .krp_data_size = sizeof(struct events_compact_data),
	  .krp_maxactive = EVENTS_COMPACT_MAXACTIVE },
};

/* --- readers --- */

enum events_header_state {
	EVH_VERSION,
	EVH_LEGEND,
	EVH_DONE,
};

struct events_reader {
	struct mutex lock;		/* everything below; read() only */
	u64 pos;			/* seq of the next record to read */
	enum events_header_state header;
	size_t len;			/* bytes of line[] not yet read */
	char line[EVENTS_LINE_MAX];
};

static u64 events_oldest_locked(void)
{
	return events_head >= events_size ? events_head - events_size + 1 : 1;
}

static bool events_ready(struct events_reader *rd)
{
	unsigned long flags;
	bool ready;

	if (rd->len || rd->header != EVH_DONE || READ_ONCE(events_dying))
		return true;
	raw_spin_lock_irqsave(&events_lock, flags);
	ready = rd->pos <= events_head;
	raw_spin_unlock_irqrestore(&events_lock, flags);
	return ready;
}

static const char *events_zone_name(u64 zid)
{
	if (zid >= MAX_NR_ZONES)
		return "-";
	return NODE_DATA(first_online_node)->node_zones[zid].name;
}

static int events_format(char *buf, const struct events_rec *r)
{
	const u64 *v = r->v;
	int n;

	n = scnprintf(buf, EVENTS_LINE_MAX, "%llu %llu %s %d %d", r->seq,
		      r->time_ns, events_kind_names[r->kind], r->pid, r->tid);
	switch (r->kind) {
	case EV_MMAP:
		n += scnprintf(buf + n, EVENTS_LINE_MAX - n,
			       " len=%llu prot=0x%llx flags=0x%llx anon=%llu result=%lld",
			       v[0], v[1], v[2], v[3], (s64)v[4]);
		break;
	case EV_MUNMAP:
		n += scnprintf(buf + n, EVENTS_LINE_MAX - n,
			       " len=%llu result=%lld", v[0], (s64)v[1]);
		break;
	case EV_MREMAP:
		n += scnprintf(buf + n, EVENTS_LINE_MAX - n,
			       " old_len=%llu new_len=%llu flags=0x%llx result=%lld",
			       v[0], v[1], v[2], (s64)v[3]);
		break;
	case EV_BRK:
		n += scnprintf(buf + n, EVENTS_LINE_MAX - n,
			       " delta=%lld result=%lld", (s64)v[0], (s64)v[1]);
		break;
	case EV_EXEC:
		n += scnprintf(buf + n, EVENTS_LINE_MAX - n, " result=%lld",
			       (s64)v[0]);
		break;
	case EV_EXIT:
		n += scnprintf(buf + n, EVENTS_LINE_MAX - n,
			       " mmap_calls=%llu mmap_kb=%llu munmap_calls=%llu munmap_kb=%llu mremap_calls=%llu mremap_kb=%llu brk_calls=%llu brk_kb=%llu page_allocs=%llu stall_count=%llu stall_ns=%llu allocfail=%llu hwm_kb=%llu",
			       v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7],
			       v[8], v[9], v[10], v[11], v[12]);
		break;
	case EV_ALLOCFAIL:
		n += scnprintf(buf + n, EVENTS_LINE_MAX - n,
			       " order=%llu gfp=0x%llx node=%lld zone=%s",
			       v[0], v[1], (s64)v[2], events_zone_name(v[3]));
		break;
	case EV_STALL:
		n += scnprintf(buf + n, EVENTS_LINE_MAX - n,
			       " duration_ns=%llu reclaimed_pages=%llu",
			       v[0], v[1]);
		break;
	case EV_EXTFRAG:
		n += scnprintf(buf + n, EVENTS_LINE_MAX - n,
			       " order=%lld fallback_order=%lld migratetype=%lld fallback_migratetype=%lld",
			       (s64)v[0], (s64)v[1], (s64)v[2], (s64)v[3]);
		break;
	case EV_COMPACT:
		n += scnprintf(buf + n, EVENTS_LINE_MAX - n,
			       " duration_ns=%llu order=%llu result=%s",
			       v[0], v[1], events_compact_result(v[2]));
		break;
	}
	n += scnprintf(buf + n, EVENTS_LINE_MAX - n, " comm=%s\n", r->comm);
	return n;
}

/*
 * Puts the reader's next line in rd->line: the header lines, a lost line,
 * or the record at rd->pos. False when there is nothing to read yet.
 */
static bool events_next_line(struct events_reader *rd)
{
	struct events_rec r;
	unsigned long flags;
	u64 oldest, lost = 0;

	switch (rd->header) {
	case EVH_VERSION:
		rd->len = scnprintf(rd->line, sizeof(rd->line), MW_HEADER_FMT,
				    MW_FILE_EVENTS, MW_FORMAT_MAJOR,
				    MW_FORMAT_MINOR);
		rd->header = EVH_LEGEND;
		return true;
	case EVH_LEGEND:
		rd->len = scnprintf(rd->line, sizeof(rd->line),
				    "# seq time_ns kind pid tid key=value... comm=COMM\n");
		rd->header = EVH_DONE;
		return true;
	case EVH_DONE:
		break;
	}

	raw_spin_lock_irqsave(&events_lock, flags);
	if (rd->pos > events_head) {
		raw_spin_unlock_irqrestore(&events_lock, flags);
		return false;
	}
	oldest = events_oldest_locked();
	if (rd->pos < oldest) {
		lost = oldest - rd->pos;
		r.seq = rd->pos;
		rd->pos = oldest;
	} else {
		r = events_ring[rd->pos % events_size];
		rd->pos++;
	}
	raw_spin_unlock_irqrestore(&events_lock, flags);

	if (lost) {
		atomic64_add(lost, &events_lost_told);
		rd->len = scnprintf(rd->line, sizeof(rd->line),
				    "%llu %llu lost 0 0 count=%llu comm=-\n",
				    r.seq, ktime_get_ns(), lost);
	} else {
		rd->len = events_format(rd->line, &r);
	}
	return true;
}

static ssize_t events_read(struct file *file, char __user *buf, size_t count,
			   loff_t *ppos)
{
	struct events_reader *rd = file->private_data;
	ssize_t done = 0;
	int err;

	if (mutex_lock_interruptible(&rd->lock))
		return -ERESTARTSYS;
	for (;;) {
		/* Unloading: end of file for every read from now on. */
		if (READ_ONCE(events_dying))
			break;
		if (!rd->len && !events_next_line(rd)) {
			if (done)
				break;
			if (file->f_flags & O_NONBLOCK) {
				done = -EAGAIN;
				break;
			}
			mutex_unlock(&rd->lock);
			err = wait_event_interruptible(*events_wait,
						       events_ready(rd));
			if (err)
				return err;
			if (mutex_lock_interruptible(&rd->lock))
				return -ERESTARTSYS;
			continue;
		}
		/* Whole lines only, as /dev/kmsg. */
		if (rd->len > count - done) {
			if (!done)
				done = -EINVAL;
			break;
		}
		if (copy_to_user(buf + done, rd->line, rd->len)) {
			if (!done)
				done = -EFAULT;
			break;
		}
		done += rd->len;
		rd->len = 0;
	}
	mutex_unlock(&rd->lock);
	return done;
}

static __poll_t events_poll(struct file *file, poll_table *wait)
{
	struct events_reader *rd = file->private_data;

	poll_wait(file, events_wait, wait);
	return events_ready(rd) ? EPOLLIN | EPOLLRDNORM : 0;
}

static int events_open(struct inode *inode, struct file *file)
{
	struct events_reader *rd;
	unsigned long flags;

	rd = kzalloc(sizeof(*rd), GFP_KERNEL);
	if (!rd)
		return -ENOMEM;
	mutex_init(&rd->lock);
	rd->header = EVH_VERSION;
	raw_spin_lock_irqsave(&events_lock, flags);
	rd->pos = events_oldest_locked();
	raw_spin_unlock_irqrestore(&events_lock, flags);
	file->private_data = rd;
	atomic_inc(&events_readers);
	static_branch_inc(&mw_events_key);
	return nonseekable_open(inode, file);
}

static int events_release(struct inode *inode, struct file *file)
{
	struct events_reader *rd = file->private_data;

	static_branch_dec(&mw_events_key);
	atomic_dec(&events_readers);
	mutex_destroy(&rd->lock);
	kfree(rd);
	return 0;
}

static const struct proc_ops events_fops = {
	.proc_open = events_open,
	.proc_read = events_read,
	.proc_poll = events_poll,
	.proc_release = events_release,
};

void mw_events_shutdown(void)
{
	WRITE_ONCE(events_dying, true);
	wake_up_interruptible_all(events_wait);
}

/* --- feature --- */

static struct proc_dir_entry *events_pde;

static int events_init(struct proc_dir_entry *dir)
{
	size_t bytes;

	events_size = clamp(events_ring_entries, EVENTS_RING_MIN,
			    EVENTS_RING_MAX);
	bytes = array_size(events_size, sizeof(*events_ring));
	if (bytes > (totalram_pages() << PAGE_SHIFT) / EVENTS_RAM_SHARE) {
		pr_warn("memwatch: events: %u ring entries need %zu KiB, over 1/%d of RAM\n",
			events_size, bytes >> 10, EVENTS_RAM_SHARE);
		return -ENOMEM;
	}
	events_wait = kmalloc(sizeof(*events_wait), GFP_KERNEL);
	if (!events_wait)
		return -ENOMEM;
	init_waitqueue_head(events_wait);
	/* A size the machine cannot spare fails, rather than wake the OOM killer. */
	events_ring = __vmalloc(bytes, GFP_KERNEL | __GFP_ZERO |
				__GFP_RETRY_MAYFAIL | __GFP_NOWARN);
	if (!events_ring) {
		kfree(events_wait);
		events_wait = NULL;
		return -ENOMEM;
	}
	events_head = 0;
	memset(events_by_kind, 0, sizeof(events_by_kind));
	events_dying = false;
	events_iw = IRQ_WORK_INIT_LAZY(events_wake);
	/* Root only: it shows every user's activity. */
	events_pde = proc_create(MW_FILE_EVENTS, 0400, dir, &events_fops);
	if (!events_pde) {
		vfree(events_ring);
		events_ring = NULL;
		kfree(events_wait);
		events_wait = NULL;
		return -ENOMEM;
	}
	return 0;
}

/* How long unload waits for pollers to unlink from events_wait. */
#define EVENTS_POLLFREE_WAIT_MS	2000

static void events_exit(void)
{
	unsigned int i;
	unsigned long flags;
	struct events_rec *ring;

	/* Probes are detached and no reader is left (main.c). */
	irq_work_sync(&events_iw);
	/*
	 * epoll unlinks its entries on POLLFREE (and reads the head under
	 * RCU: hence synchronize_rcu before the free); poll() and select()
	 * unlink theirs when the woken task runs. wake_up_pollfree() is not
	 * used: it warns when a poll() entry is still queued after the wake.
	 */
	__wake_up(events_wait, TASK_NORMAL, 0, poll_to_key(EPOLLHUP | POLLFREE));
	for (i = 0; i < EVENTS_POLLFREE_WAIT_MS / 20; i++) {
		/* No new waiter can come: the file is gone, nobody reads. */
		if (!waitqueue_active(events_wait))
			break;
		wake_up_all(events_wait);
		msleep(20);
	}
	synchronize_rcu();
	/* Same: a waiter still queued here stays queued. */
	if (waitqueue_active(events_wait))
		pr_notice("memwatch: a poller of events did not wake; keeping its %zu-byte wait queue\n",
			  sizeof(*events_wait));
	else
		kfree(events_wait);
	events_wait = NULL;
	raw_spin_lock_irqsave(&events_lock, flags);
	ring = events_ring;
	events_ring = NULL;
	raw_spin_unlock_irqrestore(&events_lock, flags);
	vfree(ring);
}

static size_t events_mem_bytes(void)
{
	return events_ring ? (size_t)events_size * sizeof(*events_ring) : 0;
}

static void events_status_show(struct seq_file *m)
{
	const struct mw_probe *cp = &events_probes[0];
	u64 by_kind[EV_NR], head;
	unsigned long flags;
	unsigned int i;

	raw_spin_lock_irqsave(&events_lock, flags);
	head = events_head;
	memcpy(by_kind, events_by_kind, sizeof(by_kind));
	raw_spin_unlock_irqrestore(&events_lock, flags);

	seq_printf(m, "events.ring_entries %u\n", events_size);
	seq_printf(m, "events.record_bytes %zu\n", sizeof(*events_ring));
	seq_printf(m, "events.emitted %llu\n", head);
	seq_printf(m, "events.readers %d\n", atomic_read(&events_readers));
	seq_printf(m, "events.lost_by_readers %lld\n",
		   atomic64_read(&events_lost_told));
	seq_printf(m, "events.nmi_dropped %lld\n",
		   atomic64_read(&events_nmi_dropped));
	seq_printf(m, "events.compact_krp_missed %d\n",
		   mw_probe_attached(cp) ? cp->krp.nmissed : 0);
	for (i = 0; i < EV_NR; i++)
		seq_printf(m, "events.emitted_%s %llu\n", events_kind_names[i],
			   by_kind[i]);
}

struct mw_feature mw_events_feature = {
	.name = "events",
	.init = events_init,
	.exit = events_exit,
	.status_show = events_status_show,
	.mem_bytes = events_mem_bytes,
	.probes = events_probes,
	.nr_probes = ARRAY_SIZE(events_probes),
};
