/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tasks.h - what the tasks feature offers other features.
 *
 * The tasks feature already counts, from its own probes, page allocation
 * failures (mm_page_alloc with page == NULL) and direct-reclaim stalls
 * (vmscan:mm_vmscan_direct_reclaim_begin/end) for the current thread and
 * process. Call these only for events it cannot see itself, or the event is
 * counted twice. Both are safe in any context (they do nothing outside task
 * context or for kernel threads), never sleep and never allocate.
 */
#ifndef MEMWATCH_TASKS_H
#define MEMWATCH_TASKS_H

#include <linux/types.h>

/* One more allocation failure for current's thread and process. */
void mw_tasks_note_allocfail(void);
/* One more stall of @ns nanoseconds for current's thread and process. */
void mw_tasks_note_stall(u64 ns);

#endif /* MEMWATCH_TASKS_H */
