/*
 * stack.c - call stacks of allocations: captured by unwind.c from the CFI
 * (no frame pointers needed; libunwind or libgcc where it cannot), capped at
 * mwl_cfg.depth frames, and interned into a table keyed by hash so a block
 * stores a 32-bit id.
 * Lookups of known stacks take no lock; that is the hot path.
 */
#include "lib.h"
#include <dlfcn.h>
#include <fcntl.h>
#include <link.h>
#include <pthread.h>
#include <sched.h>
#include <string.h>
#ifdef MWL_LIBUNWIND
#define UNW_LOCAL_ONLY
#include <libunwind.h>
#else
#include <unwind.h>
#endif

#define STK_CAP (1u << 20)		/* distinct stacks */
#define STK_FRAMES (1u << 24)		/* frame slots for all of them */

struct stk {
	_Atomic uint64_t hash;	/* 0 = empty; stored last, with release */
	uint32_t off;
	uint32_t depth;
};

static struct stk *stk_tab;
static uintptr_t *stk_frames;
static uint32_t stk_frames_used, stk_count;
static atomic_flag stk_lock_flag = ATOMIC_FLAG_INIT;
uintptr_t mwl_self_text_lo, mwl_self_text_hi;

void mwl_stack_lock(void)
{
	while (atomic_flag_test_and_set_explicit(&stk_lock_flag, memory_order_acquire))
		sched_yield();
}

void mwl_stack_unlock(void)
{
	atomic_flag_clear_explicit(&stk_lock_flag, memory_order_release);
}

static int self_phdr(struct dl_phdr_info *info, size_t size, void *arg)
{
	(void)size;
	uintptr_t base = (uintptr_t)arg;
	if (info->dlpi_addr != base)
		return 0;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X)) {
			mwl_self_text_lo = base + ph->p_vaddr;
			mwl_self_text_hi = mwl_self_text_lo + ph->p_memsz;
		}
	}
	return 1;
}

void mwl_stack_init(void)
{
	Dl_info di;
	if (dladdr((void *)mwl_stack_init, &di))
		dl_iterate_phdr(self_phdr, di.dli_fbase);
	stk_tab = mwl_arena_alloc(sizeof(*stk_tab) * STK_CAP);
	stk_frames = mwl_arena_alloc(sizeof(*stk_frames) * STK_FRAMES);
}

#ifndef MWL_LIBUNWIND
struct trace {
	uintptr_t *ips;
	int n, max;
};

static _Unwind_Reason_Code trace_cb(struct _Unwind_Context *ctx, void *arg)
{
	struct trace *t = arg;
	uintptr_t ip = _Unwind_GetIP(ctx);
	if (!ip)
		return _URC_END_OF_STACK;
	/* our own frames (the hook, the thread wrapper) are not the program's */
	if (ip >= mwl_self_text_lo && ip < mwl_self_text_hi)
		return _URC_NO_REASON;
	t->ips[t->n++] = ip;
	return t->n >= t->max ? _URC_END_OF_STACK : _URC_NO_REASON;
}

#endif

static uint64_t stack_hash(const uintptr_t *ips, int n)
{
	uint64_t h = 0xcbf29ce484222325ull ^ (uint64_t)n;
	for (int i = 0; i < n; i++) {
		h ^= ips[i];
		h *= 0x100000001b3ull;
		h ^= h >> 29;
	}
	return h ? h : 1;
}

static inline int same_ips(const uintptr_t *a, const uintptr_t *b, int n)
{
	for (int i = 0; i < n; i++)
		if (a[i] != b[i])
			return 0;
	return 1;
}

static int stk_equal(const struct stk *s, const uintptr_t *ips, int n)
{
	return s->depth == (uint32_t)n && same_ips(stk_frames + s->off, ips, n);
}

static uint32_t stack_intern(const uintptr_t *ips, int n)
{
	uint64_t h = stack_hash(ips, n);
	uint32_t i = (uint32_t)h & (STK_CAP - 1);
	for (;;) {
		uint64_t eh = atomic_load_explicit(&stk_tab[i].hash, memory_order_acquire);
		if (!eh)
			break;
		if (eh == h && stk_equal(&stk_tab[i], ips, n))
			return i + 1;
		i = (i + 1) & (STK_CAP - 1);
	}
	uint32_t id = 0;
	mwl_stack_lock();
	/* keep a quarter empty so probes stay short and always terminate */
	if (stk_count < STK_CAP / 4 * 3 && stk_frames_used + (uint32_t)n <= STK_FRAMES) {
		for (;;) {
			struct stk *s = &stk_tab[i];
			uint64_t eh = atomic_load_explicit(&s->hash, memory_order_relaxed);
			if (!eh) {
				s->off = stk_frames_used;
				s->depth = (uint32_t)n;
				memcpy(stk_frames + s->off, ips, sizeof(*ips) * (size_t)n);
				stk_frames_used += (uint32_t)n;
				stk_count++;
				atomic_store_explicit(&s->hash, h, memory_order_release);
				id = i + 1;
				break;
			}
			if (eh == h && stk_equal(s, ips, n)) {
				id = i + 1;
				break;
			}
			i = (i + 1) & (STK_CAP - 1);
		}
	}
	mwl_stack_unlock();
	return id;	/* 0: table full, the block is shown as "stack unknown" */
}

#ifdef MWL_LIBUNWIND
/*
 * libunwind's unw_backtrace keeps a per-thread cache of frame layouts by
 * address; libgcc's _Unwind_Backtrace re-reads the CFI of every frame on
 * every call, ten times slower. Both are the fallback of unwind.c.
 */
#define SELF_FRAMES_MAX 8

static int capture_slow(uintptr_t *ips)
{
	void *raw[MWL_MAX_DEPTH + SELF_FRAMES_MAX];
	int got = unw_backtrace(raw, mwl_cfg.depth + SELF_FRAMES_MAX), n = 0;
	/* our own frames (the hook, the thread wrapper) are not the program's */
	for (int i = 0; i < got && n < mwl_cfg.depth; i++)
		if ((uintptr_t)raw[i] < mwl_self_text_lo || (uintptr_t)raw[i] >= mwl_self_text_hi)
			ips[n++] = (uintptr_t)raw[i];
	return n;
}
#else
static int capture_slow(uintptr_t *ips)
{
	struct trace t = { ips, 0, mwl_cfg.depth };
	_Unwind_Backtrace(trace_cb, &t);
	return t.n;
}
#endif

static _Atomic uint64_t checked, differ, fell_back;
static int check_fd = 2;

/* a copy of stderr: programs like sort(1) close theirs before exiting */
void mwl_stack_check_start(void)
{
	int fd = fcntl(2, F_DUPFD_CLOEXEC, 64);
	if (fd >= 0)
		check_fd = fd;
}

/* MEMWATCH_LEAK_UNWIND=check: the stack libunwind finds must be the same */
static void check_stack(const uintptr_t *ips, int n)
{
	uintptr_t slow[MWL_MAX_DEPTH];
	int m = capture_slow(slow);
	atomic_fetch_add_explicit(&checked, 1, memory_order_relaxed);
	if (m == n && same_ips(slow, ips, n))
		return;
	if (atomic_fetch_add_explicit(&differ, 1, memory_order_relaxed))
		return;
	struct mwl_out o = { .fd = check_fd };
	mwl_out_str(&o, "memwatch-leak: unwinders differ:\n fast:");
	for (int i = 0; i < n; i++) {
		mwl_out_ch(&o, ' ');
		mwl_out_hex(&o, ips[i]);
	}
	mwl_out_str(&o, "\n libunwind:");
	for (int i = 0; i < m; i++) {
		mwl_out_ch(&o, ' ');
		mwl_out_hex(&o, slow[i]);
	}
	mwl_out_ch(&o, '\n');
	mwl_out_flush(&o);
}

void mwl_stack_check_summary(void)
{
	if (mwl_cfg.unwind != MWL_UNWIND_CHECK)
		return;
	struct mwl_out o = { .fd = check_fd };
	mwl_out_str(&o, "memwatch-leak: unwinder check: ");
	mwl_out_u64(&o, atomic_load(&checked));
	mwl_out_str(&o, " stacks, ");
	mwl_out_u64(&o, atomic_load(&differ));
	mwl_out_str(&o, " differ, ");
	mwl_out_u64(&o, atomic_load(&fell_back));
	mwl_out_str(&o, " unwound by libunwind\n");
	mwl_out_flush(&o);
}

/* fp: the frame of one of our functions; the walk starts at its caller */
uint32_t mwl_stack_capture_at(const uintptr_t *fp)
{
	uintptr_t ips[MWL_MAX_DEPTH];
	int n = -1;
	if (mwl_cfg.unwind != MWL_UNWIND_SLOW)
		n = mwl_unwind(fp[1], (uintptr_t)(fp + 2), fp[0], ips, mwl_cfg.depth);
	if (n < 0) {
		/* counted for the check only: a shared counter is no hot-path cost to pay */
		if (mwl_cfg.unwind == MWL_UNWIND_CHECK)
			atomic_fetch_add_explicit(&fell_back, 1, memory_order_relaxed);
		n = capture_slow(ips);
	}
	else if (mwl_cfg.unwind == MWL_UNWIND_CHECK)
		check_stack(ips, n);
	if (n <= 0)
		return 0;
	/*
	 * Loops allocate from one place many times in a row: the thread's
	 * previous stack (ids never change, so it never goes stale).
	 */
	struct mwl_tcache *tc = mwl_tcache();
	if (tc && n == tc->last.n && same_ips(ips, tc->last.ips, n))
		return tc->last.id;
	uint32_t id = stack_intern(ips, n);
	if (id && tc) {
		tc->last.n = n;
		tc->last.id = id;
		memcpy(tc->last.ips, ips, sizeof(*ips) * (size_t)n);
	}
	return id;
}

int mwl_stack_get(uint32_t id, const uintptr_t **ips)
{
	if (!id || id > STK_CAP)
		return 0;
	struct stk *s = &stk_tab[id - 1];
	if (!atomic_load_explicit(&s->hash, memory_order_acquire))
		return 0;
	*ips = stk_frames + s->off;
	return (int)s->depth;
}
