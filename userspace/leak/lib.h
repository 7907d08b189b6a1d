/*
 * lib.h - internals of libmemwatch-leak.so (the LD_PRELOAD half).
 *
 * Notes on locking:
 *  - live blocks: headers and a start bitmap, 128 stripe locks by address
 *    (table.c). A hook takes exactly one stripe lock. The exit report and
 *    fork take all of them, in index order.
 *  - stacks: lookups are lock-free (entries are published with a release
 *    store of their hash); inserts take stack_lock (stack.c).
 *  - misc_lock: mismatch records and the thread registry; never held
 *    together with a stripe lock.
 * No lock is held while calling into the real allocator, so the allocator's
 * own locks never nest inside ours.
 *
 * Recursion: every hook sets the thread's mwl_busy flag; an allocation made
 * while it is set (by libdw or libunwind for the unwinder, by
 * pthread_getattr_np, by the report) goes straight to the real function,
 * untracked, without a header. Frees always look for a header.
 */
#ifndef MWL_LIB_H
#define MWL_LIB_H
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <sys/types.h>
#include "mwl.h"

#define MWL_TLS __thread __attribute__((tls_model("initial-exec")))
#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
#define MWL_EXPORT __attribute__((visibility("default")))

enum mwl_state { ST_UNINIT, ST_RESOLVING, ST_READY, ST_DONE };

struct mwl_real {
	void *(*malloc)(size_t);
	void (*free)(void *);
	void *(*calloc)(size_t, size_t);
	void *(*realloc)(void *, size_t);
	int (*posix_memalign)(void **, size_t, size_t);
	void *(*aligned_alloc)(size_t, size_t);
	void *(*memalign)(size_t, size_t);
	void *(*valloc)(size_t);
	void *(*pvalloc)(size_t);
	size_t (*malloc_usable_size)(void *);
	/* C++ allocators, only to let them throw bad_alloc / run new_handler */
	void *(*op_new)(size_t);
	void *(*op_new_array)(size_t);
	void *(*op_new_al)(size_t, size_t);
	void *(*op_new_array_al)(size_t, size_t);
};

struct mwl_config {
	int enabled;		/* dump dir given: trace */
	char dump_dir[256];
	int depth;
	int follow_fork, follow_exec, fds;
	unsigned interval, min_age;
	int signal;
	int unwind;	/* enum mwl_unwind_mode */
};

enum mwl_unwind_mode { MWL_UNWIND_FAST, MWL_UNWIND_SLOW, MWL_UNWIND_CHECK };

extern struct mwl_real mwl_real;
extern struct mwl_config mwl_cfg;
extern _Atomic int mwl_state;
extern MWL_TLS int mwl_busy;
extern _Atomic uint32_t mwl_now;	/* seconds since start, coarse */

void mwl_init(void);
void mwl_start_tracking(void);	/* after the configuration is read; busy held */

/* attach.c: memwatch-leak -p loaded us into a running process */
extern int mwl_attached;
extern uint32_t mwl_attach_birth;	/* blocks born before this are an earlier attach's */
void mwl_attach_exit(void);
int mwl_block_gone(uintptr_t p, size_t n);	/* freed behind our back (attached) */

/* ready, enabled, not busy */
static inline int mwl_tracking(void)
{
	int st = atomic_load_explicit(&mwl_state, memory_order_relaxed);
	if (unlikely(st == ST_UNINIT)) {
		mwl_init();
		st = atomic_load_explicit(&mwl_state, memory_order_relaxed);
	}
	return st == ST_READY && !mwl_busy;
}

/* what dlsym() allocates before the real malloc is known (never freed) */
#define MWL_BOOT_ARENA (64 * 1024)
extern char mwl_boot_arena[MWL_BOOT_ARENA];
static inline int mwl_is_boot(const void *p)
{
	return (const char *)p >= mwl_boot_arena && (const char *)p < mwl_boot_arena + MWL_BOOT_ARENA;
}

/* internal memory: never from malloc, never scanned as a root */
void *mwl_arena_alloc(size_t n);
void *mwl_scratch_alloc(size_t n);
void mwl_scratch_reset(void);
int mwl_is_internal(uintptr_t lo, uintptr_t hi);

/*
 * tcache.c: the thread's caches, behind one TLS pointer (NULL: not made
 * yet; MWL_TC_DEAD: the thread is exiting, go without). Only ever used
 * with busy set.
 */
#define MWL_WALK_MAX (MWL_MAX_DEPTH + 8)
struct mwl_tcache {
	struct {	/* stack.c: the thread's previous stack */
		int n;
		uint32_t id;
		uintptr_t ips[MWL_MAX_DEPTH];
	} last;
	struct {	/* unwind.c: the thread's previous walk, frame by frame */
		uint32_t gen;
		int n;
		uintptr_t ip[MWL_WALK_MAX];
		uint64_t val[MWL_WALK_MAX];
	} walk;
};
#define MWL_TC_DEAD ((struct mwl_tcache *)1)
extern MWL_TLS struct mwl_tcache *mwl_tc;
struct mwl_tcache *mwl_tcache_make(void);
static inline struct mwl_tcache *mwl_tcache(void)
{
	struct mwl_tcache *t = mwl_tc;
	if (likely((uintptr_t)t > 1))
		return t;
	return mwl_tcache_make();
}

/* stack.c */
void mwl_stack_init(void);
/*
 * The stack of the program's call into the function that expands this
 * (ours; it has a frame pointer: -fno-omit-frame-pointer), not counting
 * our own frames.
 */
#define mwl_stack_capture() mwl_stack_capture_at(__builtin_frame_address(0))
uint32_t mwl_stack_capture_at(const uintptr_t *fp);
int mwl_stack_get(uint32_t id, const uintptr_t **ips);
void mwl_stack_lock(void);
void mwl_stack_unlock(void);
void mwl_stack_check_start(void);
void mwl_stack_check_summary(void);
extern uintptr_t mwl_self_text_lo, mwl_self_text_hi;

/* unwind.c */
void mwl_unwind_init(void);
int mwl_unwind(uintptr_t ip, uintptr_t sp, uintptr_t bp, uintptr_t *ips, int max);
void mwl_unwind_fork_prepare(void);
void mwl_unwind_fork_done(void);

/* table.c */
struct mwl_blk {
	uintptr_t addr;
	size_t size;
	uint32_t stack;
	uint8_t fn;
	uint8_t mark;
	uint16_t pad;
	uint32_t birth;
};
/*
 * a tracked block's header, just before the program's address; attached
 * (mwl_side), in a side table instead, and the program's address is the
 * real block's
 */
#define MWL_HDR 16
extern int mwl_side;
void mwl_table_init(void);
/*
 * raw: a real block with off bytes (MWL_HDR, or a power of two above it)
 * before the program's part. Returns the program's address (raw + off),
 * or raw if the block cannot be tracked.
 */
void *mwl_table_add(void *raw, size_t off, size_t size, uint32_t stack, int fn);
/* a tracked block's offset from its real block (its size in *size), or 0 */
size_t mwl_table_offset(const void *p, size_t *size);
int mwl_table_has(const void *p);
/*
 * Takes p out of the table: returns its real block (*out filled; out->addr
 * is 0 if p is not tracked), p if it is not tracked, or NULL if it must stay allocated (quiet: from inside a
 * hook or after the report, when the stripe is locked).
 */
void *mwl_table_take(void *p, struct mwl_blk *out, int quiet);
void mwl_table_lock_all(void);
void mwl_table_unlock_all(void);
/* calls fn on a copy of each block; locked: the caller holds all locks */
void mwl_table_walk(int locked, void (*fn)(struct mwl_blk *, void *), void *arg);
size_t mwl_table_count(void);

/* hooks.c */
void mwl_note_mismatch(const struct mwl_blk *b, int free_fn, uint32_t free_stack);
struct mwl_mismatch {
	uint32_t alloc_stack, free_stack;
	uint8_t alloc_fn, free_fn;
	uint64_t count, bytes;
};
struct mwl_mismatch *mwl_mismatches(size_t *n);
void mwl_misc_lock(void);
void mwl_misc_unlock(void);

/* threads.c */
void mwl_thread_note_main(void);
void mwl_threads_after_fork_child(void);
void mwl_thread_exclude_self(void);
typedef int (*mwl_create_fn)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);
mwl_create_fn mwl_real_pthread_create(void);
int mwl_threads_running(void);
/* for each stack region: live=1 to scan (from sp, if the thread was parked), live=0 to skip */
void mwl_threads_walk(void (*fn)(uintptr_t lo, uintptr_t hi, int live, int self, uintptr_t tcb,
				 uintptr_t sp, void *), void *arg);
/* exit scan: park the program's other threads (signal), and let them go */
#define MWL_PARK_REGS 18	/* ucontext gregs r8..rip: every general register */
void mwl_threads_stop(void);
void mwl_threads_release(void);
uintptr_t mwl_thread_main_sp(void);	/* 0: unknown (or it is us) */
void mwl_threads_regs(void (*fn)(const uintptr_t *regs, int n, void *), void *arg);

/* modules.c: objects dlclose() unloads, kept for the report */
struct mwl_out;
void mwl_module_closing(void *handle);
void mwl_modules_write(struct mwl_out *o);

/* fds.c */
void mwl_fd_init(void);
void mwl_fd_walk(void (*fn)(int fd, uint32_t stack, const char *what, void *), void *arg);

struct mwl_exit_regs;
/* scan.c: classifies every live block; returns sorted array in scratch */
struct mwl_class_blk {
	struct mwl_blk *b;
	uint8_t cls;
	uint64_t indirect;	/* definitely lost: bytes indirectly lost through it */
};
struct mwl_class_blk *mwl_scan(uintptr_t stack_from, const struct mwl_exit_regs *regs, size_t *n);
char *mwl_read_maps(size_t *len);

/* proc.c: the program's call into exit() (or main's return) */
#define MWL_EXIT_REGS 6	/* rbx rbp r12 r13 r14 r15 */
struct mwl_exit_regs {
	uintptr_t sp;	/* the caller's stack pointer: live stack starts here */
	uintptr_t reg[MWL_EXIT_REGS];
	pid_t tid;	/* 0: exit() not called (yet) */
};
extern struct mwl_exit_regs mwl_exit_regs;
extern _Atomic int mwl_exit_status;	/* -1 until exit()/_exit() */
extern int mwl_forked;	/* this process is a fork of a traced one */

/* dump.c; regs: extra roots (registers at exit), or NULL */
void mwl_report_exit(uintptr_t sp, const struct mwl_exit_regs *regs);
void mwl_libc_freeres(void);
void mwl_reporter_start(void);
void mwl_report_periodic(const char *why);
void mwl_reporter_after_fork_child(void);

/* out.c: formatted writes through a static buffer, no malloc */
struct mwl_out {
	int fd;
	size_t len;
	char buf[16384];
};
void mwl_out_mem(struct mwl_out *o, const char *s, size_t n);
void mwl_out_str(struct mwl_out *o, const char *s);
void mwl_out_u64(struct mwl_out *o, uint64_t v);
void mwl_out_hex(struct mwl_out *o, uint64_t v);
void mwl_out_ch(struct mwl_out *o, char c);
void mwl_out_flush(struct mwl_out *o);
void mwl_log(const char *msg1, const char *msg2);	/* to stderr */

#endif
