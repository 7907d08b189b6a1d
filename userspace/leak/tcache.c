/*
 * tcache.c - each thread's caches (its previous stack, its previous unwind
 * walk: ~1.7 KB) behind one initial-exec TLS pointer. A library that
 * memwatch-leak -p dlopen()s into a running process must fit its
 * initial-exec TLS in glibc's static TLS surplus, which libstdc++ alone
 * nearly uses up; with a few bytes of TLS we fit, and the block is mapped
 * on the thread's first tracked allocation.
 *
 * Never from malloc: the block comes from mmap, and goes back at thread
 * exit through a pthread key destructor. A hook that runs after the
 * destructor (another key's destructor allocating) finds the DEAD mark and
 * goes without caches: they only save work, the results are the same.
 * Global-dynamic TLS would go through __tls_get_addr, which allocates a
 * thread's block with malloc on its first access: preloaded, that malloc
 * is our hook, which needs its TLS again to know it is busy.
 */
#include "lib.h"
#include <sys/mman.h>

MWL_TLS struct mwl_tcache *mwl_tc;

static pthread_key_t tc_key;
static _Atomic int tc_key_state;	/* 0 none, 1 creating, 2 made, 3 failed */

#define TC_SIZE ((sizeof(struct mwl_tcache) + 4095) & ~(size_t)4095)

static void tc_release(void *p)
{
	mwl_tc = MWL_TC_DEAD;
	if (p && p != MWL_TC_DEAD)
		munmap(p, TC_SIZE);
}

static int tc_key_ready(void)
{
	int st = atomic_load_explicit(&tc_key_state, memory_order_acquire);
	if (st == 2)
		return 1;
	int expect = 0;
	if (st == 0 && atomic_compare_exchange_strong(&tc_key_state, &expect, 1)) {
		st = pthread_key_create(&tc_key, tc_release) ? 3 : 2;
		atomic_store_explicit(&tc_key_state, st, memory_order_release);
		return st == 2;
	}
	return 0;	/* another thread is creating it: no cache this time */
}

/* the caller is inside a hook (busy is set): setspecific may calloc */
struct mwl_tcache *mwl_tcache_make(void)
{
	if (mwl_tc == MWL_TC_DEAD || !tc_key_ready())
		return NULL;
	void *p = mmap(NULL, TC_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	if (pthread_setspecific(tc_key, p)) {
		munmap(p, TC_SIZE);
		mwl_tc = MWL_TC_DEAD;
		return NULL;
	}
	mwl_tc = p;
	return p;
}
