/*
 * hooks.c - the interposed allocation functions: C (malloc ... pvalloc) and
 * C++ (operator new/delete in all their mangled forms), plus mismatched
 * deallocation records.
 *
 * A tracked block is the real allocator's block with MWL_HDR bytes (or the
 * alignment, for aligned ones) in front for its header (table.c); the
 * program sees the address after them. So every function that takes a
 * pointer back (free, realloc, malloc_usable_size, delete) translates it,
 * tracking or not, and the real functions never see a program address of a
 * tracked block. Blocks allocated while not tracking have no header.
 * Attached (mwl_side), no block has room in front: the header is in a side
 * table and the real functions may see any block (table.c).
 *
 * Order matters for correctness under threads: a block leaves the table
 * before the real free() (so the address cannot be handed out again while
 * still listed) and enters it after the real malloc() returns.
 */
#include "lib.h"
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <unistd.h>

void *mwl_boot_alloc(size_t n);
size_t mwl_boot_room(const void *p);

/*
 * What to ask the real allocator for: off bytes of room, then n. Never so
 * little that the program's address would be where glibc's next chunk
 * starts: glibc's own pointers to that chunk would look like pointers to
 * the block. SIZE_MAX (which fails) if it does not fit.
 */
static size_t real_size(size_t n, size_t off)
{
	if (n < MWL_HDR)
		n = MWL_HDR;
	return n > SIZE_MAX - off ? SIZE_MAX : n + off;
}

/*
 * raw: from the real allocator with off bytes to spare in front. Inlined,
 * as the functions below that call it, so the walk starts at the hook's
 * caller without unwinding our own frames.
 */
static inline __attribute__((always_inline)) void *track(void *raw, size_t off, size_t n, int fn)
{
	return mwl_table_add(raw, off, n, mwl_stack_capture(), fn);
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

static void *no_memory(void)
{
	errno = ENOMEM;
	return NULL;
}

/* room in front of a tracked block: MWL_HDR, or none when attached */
static inline size_t room(size_t want)
{
	return unlikely(mwl_side) ? 0 : want;
}

/* the caller is tracking */
static inline __attribute__((always_inline)) void *alloc_tracked(size_t n, int fn)
{
	mwl_busy++;
	size_t off = room(MWL_HDR);
	void *p = mwl_real.malloc(real_size(n, off));
	if (p)
		p = track(p, off, n, fn);
	mwl_busy--;
	return p;
}

MWL_EXPORT void *malloc(size_t n)
{
	if (!mwl_tracking())
		return slow_malloc(n);
	return alloc_tracked(n, FN_MALLOC);
}

MWL_EXPORT void *calloc(size_t n, size_t size)
{
	size_t total;
	int ovf = __builtin_mul_overflow(n, size, &total);
	if (!mwl_tracking()) {
		if (atomic_load(&mwl_state) == ST_RESOLVING || !mwl_real.calloc) {
			if (ovf)
				return no_memory();
			return mwl_boot_alloc(total);
		}
		return mwl_real.calloc(n, size);
	}
	if (ovf)
		return no_memory();
	mwl_busy++;
	size_t off = room(MWL_HDR);
	void *p = mwl_real.calloc(real_size(total, off), 1);
	if (p)
		p = track(p, off, total, FN_CALLOC);
	mwl_busy--;
	return p;
}

/*
 * Gives p back to the real allocator; a tracked block leaves the table
 * first. free_fn < 0: no family check (realloc does its own).
 */
static void release(void *p, int free_fn, int tracking)
{
	struct mwl_blk old;
	void *raw = mwl_table_take(p, &old, !tracking);
	if (tracking && raw && old.addr && free_fn >= 0 &&
	    mwl_family_of(old.fn) != mwl_family_of(free_fn))
		mwl_note_mismatch(&old, free_fn, mwl_stack_capture());
	if (raw)
		mwl_real.free(raw);
}

static void do_free(void *p, int free_fn)
{
	if (!p || mwl_is_boot(p))
		return;
	int tracking = mwl_tracking();
	if (!mwl_real.free)
		return;
	mwl_busy++;
	release(p, free_fn, tracking);
	mwl_busy--;
}

MWL_EXPORT void free(void *p)
{
	do_free(p, FN_FREE);
}

/* C23; glibc 2.39 and later have them, and would get our addresses */
MWL_EXPORT void free_sized(void *p, size_t n)
{
	(void)n;
	do_free(p, FN_FREE);
}

MWL_EXPORT void free_aligned_sized(void *p, size_t align, size_t n)
{
	(void)align, (void)n;
	do_free(p, FN_FREE);
}

MWL_EXPORT void cfree(void *p)
{
	do_free(p, FN_FREE);
}

/* the bytes a program may use at p (tracked or not) */
static size_t usable(void *p)
{
	size_t off = mwl_table_offset(p, NULL);
	if (!mwl_real.malloc_usable_size)
		return 0;
	return off ? mwl_real.malloc_usable_size((char *)p - off) - off : mwl_real.malloc_usable_size(p);
}

MWL_EXPORT size_t malloc_usable_size(void *p)
{
	if (!p)
		return 0;
	if (mwl_is_boot(p))
		return mwl_boot_room(p);
	return usable(p);
}

/* a new block of n bytes with p's contents, then p released */
static void *move_block(void *p, size_t n, int fn, int tracking)
{
	size_t old;
	if (!mwl_table_offset(p, &old))
		old = usable(p);
	void *q = tracking ? alloc_tracked(n, fn) : mwl_real.malloc(n);
	if (!q)
		return NULL;
	memcpy(q, p, old < n ? old : n);
	release(p, tracking ? FN_REALLOC : -1, tracking);
	return q;
}

/*
 * Attached: every block is the real allocator's, so the real realloc()
 * resizes it in place or moves it; the table follows. Not tracking (inside
 * a hook, or detached), a tracked block stays listed at its old address:
 * a stale entry, as after a free() through a pointer from before the
 * attach.
 */
static void *realloc_side(void *p, size_t n, int fn, int tracking)
{
	if (!tracking)
		return mwl_real.realloc(p, n);
	mwl_busy++;
	struct mwl_blk old;
	void *raw = mwl_table_take(p, &old, 0);
	void *q = NULL;
	if (raw) {
		if (old.addr && mwl_family_of(old.fn) != FAM_MALLOC)
			mwl_note_mismatch(&old, FN_REALLOC, mwl_stack_capture());
		q = mwl_real.realloc(p, n);
		if (q)
			q = track(q, 0, n, fn);
		else if (old.addr)	/* failed: the old block is still live */
			mwl_table_add(p, 0, old.size, old.stack, old.fn);
	}
	mwl_busy--;
	return q;
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
	int tracking = mwl_tracking();
	if (!tracking && (atomic_load(&mwl_state) == ST_RESOLVING || !mwl_real.realloc))
		return p ? NULL : mwl_boot_alloc(n);
	if (!p)
		return tracking ? alloc_tracked(n, fn) : mwl_real.malloc(n);
	if (!n) {	/* glibc frees and returns NULL */
		do_free(p, FN_REALLOC);
		return NULL;
	}
	if (mwl_side)
		return realloc_side(p, n, fn, tracking);
	size_t off = mwl_table_offset(p, NULL);
	if (!off && !tracking)
		return mwl_real.realloc(p, n);
	mwl_busy++;
	void *q;
	if (off != MWL_HDR || !tracking) {
		/* aligned, or untracked, or from inside a hook: copy */
		q = move_block(p, n, fn, tracking);
	} else {
		struct mwl_blk old;
		void *raw = mwl_table_take(p, &old, 0);
		if (!raw || !old.addr) {
			q = raw ? move_block(p, n, fn, tracking) : NULL;	/* freed meanwhile */
		} else {
			if (mwl_family_of(old.fn) != FAM_MALLOC)
				mwl_note_mismatch(&old, FN_REALLOC, mwl_stack_capture());
			void *nraw = mwl_real.realloc(raw, real_size(n, MWL_HDR));
			if (nraw)
				q = track(nraw, MWL_HDR, n, fn);
			else	/* failed: the old block is still live, its header intact */
				q = NULL, mwl_table_add(raw, MWL_HDR, old.size, old.stack, old.fn);
		}
	}
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
	if (__builtin_mul_overflow(n, size, &total))
		return no_memory();
	return do_realloc(p, total, FN_REALLOCARRAY);
}

static int power_of_2(size_t a)
{
	return a && !(a & (a - 1));
}

/*
 * A tracked aligned block keeps a whole alignment in front, so the
 * program's address stays aligned and the header fits before it. Invalid
 * alignments go to the real function, untracked, for its own answer.
 */
static void *aligned(size_t align, size_t n, int fn)
{
	int tracking = mwl_tracking();
	if (!tracking && (atomic_load(&mwl_state) == ST_RESOLVING || !mwl_real.memalign))
		return mwl_boot_alloc(n);	/* boot arena is 64-aligned; enough for dlsym */
	size_t a = fn == FN_VALLOC || fn == FN_PVALLOC ? (size_t)getpagesize() : align;
	void *p = NULL;
	mwl_busy++;
	if (tracking && power_of_2(a) && a <= SIZE_MAX / 4) {
		if (a < MWL_HDR)
			a = MWL_HDR;
		size_t want = n;
		if (fn == FN_PVALLOC)	/* whole pages, at least one */
			want = n ? (n + a - 1) & ~(a - 1) : a;
		if (want >= n) {
			size_t off = room(a);
			p = mwl_real.memalign(a, real_size(want, off));
			if (p)
				p = track(p, off, n, fn);
		} else {
			errno = ENOMEM;
		}
	} else {
		switch (fn) {
		case FN_MEMALIGN: p = mwl_real.memalign(align, n); break;
		case FN_ALIGNED_ALLOC: p = mwl_real.aligned_alloc(align, n); break;
		case FN_VALLOC: p = mwl_real.valloc(n); break;
		case FN_PVALLOC: p = mwl_real.pvalloc(n); break;
		}
	}
	mwl_busy--;
	return p;
}

MWL_EXPORT void *memalign(size_t align, size_t n) { return aligned(align, n, FN_MEMALIGN); }
MWL_EXPORT void *aligned_alloc(size_t align, size_t n) { return aligned(align, n, FN_ALIGNED_ALLOC); }
MWL_EXPORT void *valloc(size_t n) { return aligned(0, n, FN_VALLOC); }
MWL_EXPORT void *pvalloc(size_t n) { return aligned(0, n, FN_PVALLOC); }

MWL_EXPORT int posix_memalign(void **out, size_t align, size_t n)
{
	int tracking = mwl_tracking();
	if (!mwl_real.posix_memalign) {
		*out = mwl_boot_alloc(n);
		return *out ? 0 : ENOMEM;
	}
	int rc;
	mwl_busy++;
	if (tracking && power_of_2(align) && align % sizeof(void *) == 0 && align <= SIZE_MAX / 4) {
		size_t a = align < MWL_HDR ? MWL_HDR : align, off = room(a);
		void *raw;
		rc = mwl_real.posix_memalign(&raw, a, real_size(n, off));
		if (!rc)
			*out = track(raw, off, n, FN_POSIX_MEMALIGN);
	} else {
		rc = mwl_real.posix_memalign(out, align, n);
	}
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
	int tracking = mwl_tracking();
	int guard __attribute__((cleanup(busy_release))) = 0;
	(void)guard;
	mwl_busy++;
	size_t want = n ? n : 1;
	/* room in front for the header: MWL_HDR, or the whole alignment */
	size_t al = !tracking || align > MWL_HDR ? align : MWL_HDR;	/* 0: plain */
	size_t off = !tracking ? 0 : room(align > MWL_HDR ? align : MWL_HDR);
	size_t ask = tracking ? real_size(want, off) : want;
	void *p;
	if (!mwl_real.malloc)
		p = mwl_boot_alloc(want);
	else if (align)
		p = mwl_real.memalign(al, ask);
	else
		p = mwl_real.malloc(ask);
	if (!p && !nothrow) {
		int arr = mwl_family_of(fn) == FAM_NEW_ARRAY;
		if (align)
			p = (arr ? mwl_real.op_new_array_al : mwl_real.op_new_al)(ask, al);
		else
			p = (arr ? mwl_real.op_new_array : mwl_real.op_new)(ask);
	}
	if (p && tracking && mwl_real.malloc)
		p = track(p, off, n, fn);
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
