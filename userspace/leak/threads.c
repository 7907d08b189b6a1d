/*
 * threads.c - which thread stacks are roots. Threads are registered by a
 * wrapper around their start routine; at exit, stacks of running threads
 * are scanned (whole, since their stack pointers are unknown) and stacks of
 * finished threads, which glibc keeps in its stack cache full of stale
 * pointers, are left out, as valgrind leaves them out.
 */
#include "lib.h"
#include <dlfcn.h>
#include <pthread.h>

#define MAX_THREADS 4096

struct tslot {
	uintptr_t lo, hi;
	uintptr_t tcb;	/* glibc's struct pthread, at the top of the stack block */
	_Atomic int live;
};

static struct tslot slots[MAX_THREADS];
static _Atomic int n_slots;
static MWL_TLS int my_slot = -1;
static int (*real_pthread_create)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);

struct start {
	void *(*fn)(void *);
	void *arg;
};

void mwl_thread_note_main(void)
{
	*(void **)&real_pthread_create = dlsym(RTLD_NEXT, "pthread_create");
}

static void thread_register(int live)
{
	pthread_attr_t attr;
	void *lo;
	size_t size;
	mwl_busy++;	/* pthread_getattr_np may allocate */
	if (pthread_getattr_np(pthread_self(), &attr) == 0) {
		if (pthread_attr_getstack(&attr, &lo, &size) == 0) {
			int i = atomic_fetch_add(&n_slots, 1);
			if (i < MAX_THREADS) {
				slots[i].lo = (uintptr_t)lo;
				slots[i].hi = (uintptr_t)lo + size;
				slots[i].tcb = (uintptr_t)pthread_self();
				atomic_store(&slots[i].live, live);
				my_slot = i;
			}
		}
		pthread_attr_destroy(&attr);
	}
	mwl_busy--;
}

static void thread_gone(void *unused)
{
	(void)unused;
	if (my_slot >= 0)
		atomic_store(&slots[my_slot].live, 0);
}

static void *thread_start(void *a)
{
	struct start s = *(struct start *)a;
	mwl_real.free(a);
	void *ret;
	thread_register(1);
	pthread_cleanup_push(thread_gone, NULL);
	ret = s.fn(s.arg);
	pthread_cleanup_pop(1);
	return ret;
}

MWL_EXPORT int pthread_create(pthread_t *t, const pthread_attr_t *attr,
			      void *(*fn)(void *), void *arg)
{
	if (!real_pthread_create)
		*(void **)&real_pthread_create = dlsym(RTLD_NEXT, "pthread_create");
	if (atomic_load(&mwl_state) != ST_READY || !mwl_real.malloc)
		return real_pthread_create(t, attr, fn, arg);
	struct start *s = mwl_real.malloc(sizeof(*s));
	if (!s)
		return real_pthread_create(t, attr, fn, arg);
	s->fn = fn;
	s->arg = arg;
	/* glibc's own blocks for the thread (its dtv) stay untracked: valgrind
	 * never sees them either (__libc_freeres frees them at exit) */
	mwl_busy++;
	int rc = real_pthread_create(t, attr, thread_start, s);
	mwl_busy--;
	if (rc)
		mwl_real.free(s);
	return rc;
}

/* our reporter thread: its stack holds nothing of the program's */
void mwl_thread_exclude_self(void)
{
	thread_register(0);
}

mwl_create_fn mwl_real_pthread_create(void)
{
	if (!real_pthread_create)
		*(void **)&real_pthread_create = dlsym(RTLD_NEXT, "pthread_create");
	return real_pthread_create;
}

void mwl_threads_after_fork_child(void)
{
	int n = atomic_load(&n_slots);
	for (int i = 0; i < n && i < MAX_THREADS; i++)
		if (i != my_slot)
			atomic_store(&slots[i].live, 0);
}

/*
 * A finished thread's stack is stale, but its thread descriptor (TCB) at
 * the top of the block is still glibc's: it points at the thread's dtv,
 * which glibc keeps for the cached stack. valgrind sees the same split (the
 * dead stack is unaddressable to it, the descriptor is not).
 */
void mwl_threads_walk(void (*fn)(uintptr_t, uintptr_t, int, int, uintptr_t, void *), void *arg)
{
	int n = atomic_load(&n_slots);
	for (int i = 0; i < n && i < MAX_THREADS; i++)
		fn(slots[i].lo, slots[i].hi, atomic_load(&slots[i].live), i == my_slot,
		   slots[i].tcb, arg);
}

/* a thread of the program other than the caller is still running */
int mwl_threads_running(void)
{
	int n = atomic_load(&n_slots);
	for (int i = 0; i < n && i < MAX_THREADS; i++)
		if (i != my_slot && atomic_load(&slots[i].live))
			return 1;
	return 0;
}
