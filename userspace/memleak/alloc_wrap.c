/* alloc_wrap.c - the C allocator entry points. Each forwards to glibc and
 * records or forgets the block; nothing here allocates. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <malloc.h>
#include "hooks.h"
#include "report.h"
#include "table.h"
#include "track.h"

static inline int mw_active(void)
{
	return mw_tracking && !mw_guard;
}

void *mw_track(void *p, size_t size, unsigned kind)
{
	if (p && mw_active()) {
		struct mw_stack *st;

		mw_guard++;
		st = mw_stack_capture();
		if (!mw_stack_is_rtld(st))
			mw_table_insert(p, size, kind, st);
		mw_guard--;
	}
	return p;
}

void mw_untrack(void *p, unsigned free_kind)
{
	struct mw_block old;

	if (!p || !mw_active())
		return;
	mw_guard++;
	if (mw_table_remove(p, &old) && old.kind != free_kind)
		mw_report_mismatch(&old, free_kind, mw_stack_capture());
	mw_guard--;
}

/* Before malloc is resolved, only dlsym (under the guard) may get here. */
#define MW_NEED_REAL(fallback)				\
	do {						\
		if (!mw_real.malloc) {			\
			if (mw_guard)			\
				return fallback;	\
			mw_hooks_init();		\
		}					\
	} while (0)

void *malloc(size_t size)
{
	MW_NEED_REAL(mw_boot_alloc(size));
	return mw_track(mw_real.malloc(size), size, MW_MALLOC);
}

void *calloc(size_t n, size_t size)
{
	/* checked here too: the bootstrap path has no glibc behind it */
	if (size && n > SIZE_MAX / size) {
		errno = ENOMEM;
		return NULL;
	}
	MW_NEED_REAL(mw_boot_alloc(n * size));
	return mw_track(mw_real.calloc(n, size), n * size, MW_MALLOC);
}

void free(void *p)
{
	if (!p || mw_is_boot(p))
		return;
	MW_NEED_REAL();
	mw_untrack(p, MW_MALLOC);
	mw_real.free(p);
}

void *realloc(void *p, size_t size)
{
	struct mw_block old;
	int had;
	void *q;

	if (!p)
		return malloc(size);
	if (mw_is_boot(p)) {
		size_t n = mw_boot_size(p);

		q = malloc(size);
		if (q)
			memcpy(q, p, n < size ? n : size);
		return q;
	}
	if (size == 0) {		/* glibc: frees and returns NULL */
		free(p);
		return NULL;
	}
	MW_NEED_REAL(NULL);
	had = 0;
	if (mw_active()) {
		mw_guard++;
		had = mw_table_remove(p, &old);
		mw_guard--;
	}
	q = mw_real.realloc(p, size);
	if (!q) {
		if (had)		/* p is still valid: keep it */
			mw_table_insert(p, old.size, old.kind, old.stack);
		return NULL;
	}
	return mw_track(q, size, MW_MALLOC);
}

void *reallocarray(void *p, size_t n, size_t size)
{
	if (size && n > SIZE_MAX / size) {
		errno = ENOMEM;
		return NULL;
	}
	return realloc(p, n * size);
}

int posix_memalign(void **out, size_t align, size_t size)
{
	int rc;

	MW_NEED_REAL(ENOMEM);
	rc = mw_real.posix_memalign(out, align, size);
	if (rc == 0)
		mw_track(*out, size, MW_MALLOC);
	return rc;
}

void *aligned_alloc(size_t align, size_t size)
{
	MW_NEED_REAL(NULL);
	return mw_track(mw_real.aligned_alloc(align, size), size, MW_MALLOC);
}

void *memalign(size_t align, size_t size)
{
	MW_NEED_REAL(NULL);
	return mw_track(mw_real.memalign(align, size), size, MW_MALLOC);
}

void *valloc(size_t size)
{
	MW_NEED_REAL(NULL);
	return mw_track(mw_real.valloc(size), size, MW_MALLOC);
}

void *pvalloc(size_t size)
{
	MW_NEED_REAL(NULL);
	return mw_track(mw_real.pvalloc(size), size, MW_MALLOC);
}
