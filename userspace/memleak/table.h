/* table.h - live blocks and their allocation stacks.
 *
 * Notes on locking: blocks are spread over MW_STRIPES stripes by address;
 * each stripe's mutex protects its buckets, its free list and its slab.
 * Stacks are interned in a second striped table (by stack hash) whose
 * records are never freed, so a block keeps a plain pointer to its stack.
 * No path holds two stripe locks at once, except mw_table_freeze (the
 * report) and the fork handlers, which take whole tables in index order:
 * stack stripes before block stripes.
 */
#ifndef MW_TABLE_H
#define MW_TABLE_H
#include <stddef.h>
#include <stdint.h>

#define MW_MAX_FRAMES 16

struct mw_stack {
	struct mw_stack *next;
	uint64_t hash;
	int depth;
	void *frames[MW_MAX_FRAMES];
};

struct mw_block {
	uintptr_t ptr;
	size_t size;
	struct mw_stack *stack;
	struct mw_block *next;
	unsigned kind;		/* enum mw_kind */
	unsigned state;		/* scan.c's verdict; unused in the table */
};

void mw_table_init(void);
/* 1: unwind every frame every time (no per-thread stack cache) */
extern int mw_unwind_exact;
/* The caller's stack, without the library's own frames; NULL if no memory. */
struct mw_stack *mw_stack_capture(void);
/*
 * Called straight from ld.so (thread DTVs, dlopen bookkeeping): hung off
 * thread control blocks and link maps that are no roots of ours, so they
 * are not tracked (valgrind, scanning all memory, finds them reachable).
 */
int mw_stack_is_rtld(const struct mw_stack *st);
void mw_table_insert(void *ptr, size_t size, unsigned kind, struct mw_stack *st);
/* Removes ptr; copies the record to *out; 0 if ptr is not tracked. */
int mw_table_remove(void *ptr, struct mw_block *out);
/*
 * The report holds every block stripe from the snapshot to the end of the
 * scan: a free() racing in another thread waits, so no block is unmapped
 * (large blocks are mmap'd) while the scan reads it.
 */
void mw_table_freeze(void);
void mw_table_thaw(void);
/* Copies every live block into a fresh mapping; call frozen. */
size_t mw_table_snapshot(struct mw_block **out);
/* pthread_atfork handlers (parent and child both use _done). */
void mw_table_fork_prepare(void);
void mw_table_fork_done(void);

/* mmap-backed memory: never seen by the program's heap, nor by the scan. */
void *mw_map(size_t size);
void mw_unmap(void *p, size_t size);

#endif
