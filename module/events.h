/* SPDX-License-Identifier: GPL-2.0 */
/*
 * events.h - what the events feature (/proc/memwatch/events) offers the
 * features whose probes see the events.
 *
 * Every call site is gated by mw_events_on(): a static key that is on only
 * while at least one reader has the file open, so with no reader a probe
 * pays one patched jump. The mw_event_*() calls are safe in any context
 * but NMI (they count and drop there), never sleep, never allocate, and
 * take only the events ring's raw spinlock (a leaf lock: call them with or
 * without other locks held).
 */
#ifndef MEMWATCH_EVENTS_H
#define MEMWATCH_EVENTS_H

#include <linux/jump_label.h>
#include <linux/types.h>

DECLARE_STATIC_KEY_FALSE(mw_events_key);

static __always_inline bool mw_events_on(void)
{
	return static_branch_unlikely(&mw_events_key);
}

/* The counters an exit event carries, in the order of the tasks row. */
enum mw_event_exit_ctr {
	MW_EXIT_MMAP_CALLS,
	MW_EXIT_MMAP_KB,
	MW_EXIT_MUNMAP_CALLS,
	MW_EXIT_MUNMAP_KB,
	MW_EXIT_MREMAP_CALLS,
	MW_EXIT_MREMAP_KB,
	MW_EXIT_BRK_CALLS,
	MW_EXIT_BRK_KB,
	MW_EXIT_PAGE_ALLOCS,
	MW_EXIT_STALL_COUNT,
	MW_EXIT_STALL_NS,
	MW_EXIT_ALLOCFAIL,
	MW_EXIT_HWM_KB,
	MW_EXIT_NR,
};

/* Calls of current; @result is 0 or a negative errno. */
void mw_event_mmap(unsigned long len, unsigned long prot, unsigned long flags,
		   long result);
void mw_event_munmap(unsigned long len, long result);
void mw_event_mremap(unsigned long old_len, unsigned long new_len,
		     unsigned long flags, long result);
void mw_event_brk(long delta, long result);
/* @p: the task that exec'd (current). */
void mw_event_exec(struct task_struct *p);
/* @p: the exiting last thread of its process (current). */
void mw_event_exit(struct task_struct *p, const u64 *ctr);
void mw_event_allocfail(unsigned int order, gfp_t gfp, int nid, int zid);
void mw_event_stall(u64 duration_ns, unsigned long reclaimed);
void mw_event_extfrag(int order, int fallback_order, int migratetype,
		      int fallback_migratetype);

/*
 * Called by main.c before the proc tree goes: wakes readers blocked in
 * read() so proc_remove(), which waits for them, can finish.
 */
void mw_events_shutdown(void);

#endif /* MEMWATCH_EVENTS_H */
