/*
 * hooks.c - the interposed allocation functions: C (malloc ... pvalloc) and
 * C++ (operator new/delete in all their mangled forms), plus mismatched
 * deallocation records.
 *
 * Order matters for correctness under threads: a block leaves the table
 * before the real free() (so the address cannot be handed out again while
 * still listed) and enters it after the real malloc() returns.
 */
#include "lib.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>

void *mwl_boot_alloc(size_t n);
size_t mwl_boot_room(const void *p);

static void track(void *p, size_t n, int fn)
{
	mwl_table_insert((uintptr_t)p, n, mwl_stack_capture(), fn);
}

/* Not ready yet (inside dlsym) or already reported: no tracking. */
static void *slow_malloc(size_t n)
{
	if (atomic_load(&mwl_state) == ST_UNINIT)
		mwl_init();
	if (atomic_load(&mwl_state) == ST_RESOLVING || !mwl_real.malloc)
		return mwl_boot_alloc(n);
	return mwl_real.malloc(n);
}

MWL_EXPORT void *malloc(size_t n)
{
	if (!mwl_tracking())
		return slow_malloc(n);
	mwl_busy++;
	void *p = mwl_real.malloc(n);
	if (p)
		track(p, n, FN_MALLOC);
	mwl_busy--;
	return p;
}

MWL_EXPORT void *calloc(size_t n, size_t size)
{
	size_t total;
	int ovf = __builtin_mul_overflow(n, size, &total);
	if (!mwl_tracking()) {
		if (atomic_load(&mwl_state) == ST_RESOLVING || !mwl_real.calloc) {
			if (ovf) {
				errno = ENOMEM;
				return NULL;
			}
			return mwl_boot_alloc(total);
		}
		return mwl_real.calloc(n, size);
	}
	if (ovf) {
		errno = ENOMEM;
		return NULL;
	}
	mwl_busy++;
	void *p = mwl_real.calloc(n, size);
	if (p)
		track(p, total, FN_CALLOC);
	mwl_busy--;
	return p;
}

static void untrack_free(void *p, int free_fn)
{
	struct mwl_blk old;
	if (mwl_table_remove((uintptr_t)p, free_fn, &old) == 2)
		mwl_note_mismatch(&old, free_fn, mwl_stack_capture());
}

static void do_free(void *p, int free_fn)
{
	if (!p || mwl_is_boot(p))
		return;
	if (!mwl_tracking()) {
		if (mwl_real.free)
			mwl_real.free(p);
		return;
	}
	mwl_busy++;
	untrack_free(p, free_fn);
	mwl_real.free(p);
	mwl_busy--;
}

MWL_EXPORT void free(void *p)
{
	do_free(p, FN_FREE);
}

MWL_EXPORT void cfree(void *p)
{
	do_free(p, FN_FREE);
}

static void *do_realloc(void *p, size_t n, int fn)
{
	if (mwl_is_boot(p)) {
		/* a dlsym-time block: move it to the real heap */
		void *q = malloc(n);
		size_t room = mwl_boot_room(p);
		if (q)
			memcpy(q, p, n < room ? n : room);
		return q;
	}
	if (!mwl_tracking()) {
		if (atomic_load(&mwl_state) == ST_RESOLVING || !mwl_real.realloc)
			return p ? NULL : mwl_boot_alloc(n);
		return mwl_real.realloc(p, n);
	}
	mwl_busy++;
	struct mwl_blk old;
	int had = p && mwl_table_remove((uintptr_t)p, -1, &old);
	if (had && mwl_family_of(old.fn) != FAM_MALLOC)
		mwl_note_mismatch(&old, FN_REALLOC, mwl_stack_capture());
	void *q = mwl_real.realloc(p, n);
	if (q)
		track(q, n, fn);
	else if (had && n)	/* failed: the old block is still live */
		mwl_table_insert(old.addr, old.size, old.stack, old.fn);
	mwl_busy--;
	return q;
}

MWL_EXPORT void *realloc(void *p, size_t n)
{
	return do_realloc(p, n, FN_REALLOC);
}

MWL_EXPORT void *reallocarray(void *p, size_t n, size_t size)
{
	size_t total;
	if (__builtin_mul_overflow(n, size, &total)) {
		errno = ENOMEM;
		return NULL;
	}
	return do_realloc(p, total, FN_REALLOCARRAY);
}

static void *aligned(size_t align, size_t n, int fn)
{
	void *p = NULL;
	int track_it = mwl_tracking();
	if (!track_it && (atomic_load(&mwl_state) == ST_RESOLVING || !mwl_real.memalign))
		return mwl_boot_alloc(n);	/* boot arena is 64-aligned; enough for dlsym */
	mwl_busy++;
	switch (fn) {
	case FN_MEMALIGN: p = mwl_real.memalign(align, n); break;
	case FN_ALIGNED_ALLOC: p = mwl_real.aligned_alloc(align, n); break;
	case FN_VALLOC: p = mwl_real.valloc(n); break;
	case FN_PVALLOC: p = mwl_real.pvalloc(n); break;
	}
	if (p && track_it)
		track(p, n, fn);
	mwl_busy--;
	return p;
}

MWL_EXPORT void *memalign(size_t align, size_t n) { return aligned(align, n, FN_MEMALIGN); }
MWL_EXPORT void *aligned_alloc(size_t align, size_t n) { return aligned(align, n, FN_ALIGNED_ALLOC); }
MWL_EXPORT void *valloc(size_t n) { return aligned(0, n, FN_VALLOC); }
MWL_EXPORT void *pvalloc(size_t n) { return aligned(0, n, FN_PVALLOC); }

MWL_EXPORT int posix_memalign(void **out, size_t align, size_t n)
{
	int track_it = mwl_tracking();
	if (!mwl_real.posix_memalign) {
		*out = mwl_boot_alloc(n);
		return *out ? 0 : ENOMEM;
	}
	mwl_busy++;
	int rc = mwl_real.posix_memalign(out, align, n);
	if (!rc && track_it)
		track(*out, n, FN_POSIX_MEMALIGN);
	mwl_busy--;
	return rc;
}

/*
 * operator new: the real one is only a malloc loop that runs the
 * new_handler and throws std::bad_alloc. We call malloc directly and fall
 * back to the real operator (untracked malloc inside, since busy is set)
 * only when malloc fails, so C++ semantics stay those of libstdc++. This
 * file is built with -fexceptions so a throw unwinds through us and the
 * cleanup below restores the busy count.
 */
static void busy_release(int *unused)
{
	(void)unused;
	mwl_busy--;
}

static void *cxx_new(size_t n, size_t align, int fn, int nothrow)
{
	if (unlikely(atomic_load_explicit(&mwl_state, memory_order_relaxed) == ST_UNINIT))
		mwl_init();
	int track_it = mwl_tracking();
	int guard __attribute__((cleanup(busy_release))) = 0;
	(void)guard;
	mwl_busy++;
	void *p;
	if (!mwl_real.malloc)
		p = mwl_boot_alloc(n ? n : 1);
	else if (align)
		p = mwl_real.memalign(align, n ? n : 1);
	else
		p = mwl_real.malloc(n ? n : 1);
	if (!p && !nothrow) {
		int arr = mwl_family_of(fn) == FAM_NEW_ARRAY;
		if (align)
			p = (arr ? mwl_real.op_new_array_al : mwl_real.op_new_al)(n, align);
		else
			p = (arr ? mwl_real.op_new_array : mwl_real.op_new)(n);
	}
	if (p && track_it)
		track(p, n, fn);
	return p;
}

MWL_EXPORT void *_Znwm(size_t n) { return cxx_new(n, 0, FN_NEW, 0); }
MWL_EXPORT void *_Znam(size_t n) { return cxx_new(n, 0, FN_NEW_ARRAY, 0); }
MWL_EXPORT void *_ZnwmRKSt9nothrow_t(size_t n, const void *nt) { (void)nt; return cxx_new(n, 0, FN_NEW, 1); }
MWL_EXPORT void *_ZnamRKSt9nothrow_t(size_t n, const void *nt) { (void)nt; return cxx_new(n, 0, FN_NEW_ARRAY, 1); }
MWL_EXPORT void *_ZnwmSt11align_val_t(size_t n, size_t al) { return cxx_new(n, al, FN_NEW_ALIGNED, 0); }
MWL_EXPORT void *_ZnamSt11align_val_t(size_t n, size_t al) { return cxx_new(n, al, FN_NEW_ARRAY_ALIGNED, 0); }
MWL_EXPORT void *_ZnwmSt11align_val_tRKSt9nothrow_t(size_t n, size_t al, const void *nt) { (void)nt; return cxx_new(n, al, FN_NEW_ALIGNED, 1); }
MWL_EXPORT void *_ZnamSt11align_val_tRKSt9nothrow_t(size_t n, size_t al, const void *nt) { (void)nt; return cxx_new(n, al, FN_NEW_ARRAY_ALIGNED, 1); }

MWL_EXPORT void _ZdlPv(void *p) { do_free(p, FN_DELETE); }
MWL_EXPORT void _ZdaPv(void *p) { do_free(p, FN_DELETE_ARRAY); }
MWL_EXPORT void _ZdlPvm(void *p, size_t n) { (void)n; do_free(p, FN_DELETE); }
MWL_EXPORT void _ZdaPvm(void *p, size_t n) { (void)n; do_free(p, FN_DELETE_ARRAY); }
MWL_EXPORT void _ZdlPvRKSt9nothrow_t(void *p, const void *nt) { (void)nt; do_free(p, FN_DELETE); }
MWL_EXPORT void _ZdaPvRKSt9nothrow_t(void *p, const void *nt) { (void)nt; do_free(p, FN_DELETE_ARRAY); }
MWL_EXPORT void _ZdlPvSt11align_val_t(void *p, size_t al) { (void)al; do_free(p, FN_DELETE); }
MWL_EXPORT void _ZdaPvSt11align_val_t(void *p, size_t al) { (void)al; do_free(p, FN_DELETE_ARRAY); }
MWL_EXPORT void _ZdlPvmSt11align_val_t(void *p, size_t n, size_t al) { (void)n; (void)al; do_free(p, FN_DELETE); }
MWL_EXPORT void _ZdaPvmSt11align_val_t(void *p, size_t n, size_t al) { (void)n; (void)al; do_free(p, FN_DELETE_ARRAY); }
MWL_EXPORT void _ZdlPvSt11align_val_tRKSt9nothrow_t(void *p, size_t al, const void *nt) { (void)al; (void)nt; do_free(p, FN_DELETE); }
MWL_EXPORT void _ZdaPvSt11align_val_tRKSt9nothrow_t(void *p, size_t al, const void *nt) { (void)al; (void)nt; do_free(p, FN_DELETE_ARRAY); }

/* --- mismatched deallocations, deduplicated by (stacks, functions) --- */

#define MISMATCH_MAX 1024
static struct mwl_mismatch mismatches[MISMATCH_MAX];
static size_t n_mismatches;
static atomic_flag misc_flag = ATOMIC_FLAG_INIT;

void mwl_misc_lock(void)
{
	while (atomic_flag_test_and_set_explicit(&misc_flag, memory_order_acquire))
		sched_yield();
}

void mwl_misc_unlock(void)
{
	atomic_flag_clear_explicit(&misc_flag, memory_order_release);
}

void mwl_note_mismatch(const struct mwl_blk *b, int free_fn, uint32_t free_stack)
{
	mwl_misc_lock();
	size_t i;
	for (i = 0; i < n_mismatches; i++) {
		struct mwl_mismatch *m = &mismatches[i];
		if (m->alloc_stack == b->stack && m->free_stack == free_stack &&
		    m->alloc_fn == b->fn && m->free_fn == free_fn)
			break;
	}
	if (i == n_mismatches && n_mismatches < MISMATCH_MAX) {
		mismatches[i] = (struct mwl_mismatch){ b->stack, free_stack, b->fn, (uint8_t)free_fn, 0, 0 };
		n_mismatches++;
	}
	if (i < MISMATCH_MAX) {
		mismatches[i].count++;
		mismatches[i].bytes += b->size;
	}
	mwl_misc_unlock();
}

struct mwl_mismatch *mwl_mismatches(size_t *n)
{
	*n = n_mismatches;
	return mismatches;
}
