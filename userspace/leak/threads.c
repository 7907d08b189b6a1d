/*
 * threads.c - which thread stacks are roots. Threads are registered by a
 * wrapper around their start routine. At exit the other running threads
 * (the main thread too, when another thread exits) are parked: a signal
 * whose handler saves the thread's stack pointer and registers, then waits
 * until the scan is done. Their stacks are scanned from that stack pointer
 * (less the 128-byte red zone), their registers are roots. A thread that
 * does not answer in time (all signals blocked) has its whole stack
 * scanned. Stacks of finished threads, which glibc keeps in its stack cache
 * full of stale pointers, are left out, as valgrind leaves them out.
 */
#include "lib.h"
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#define MAX_THREADS 4096

struct park {
	pid_t tid;
	_Atomic int parked;	/* the stop generation it answered */
	uintptr_t sp;
	uintptr_t regs[MWL_PARK_REGS];
};

struct tslot {
	uintptr_t lo, hi;
	uintptr_t tcb;	/* glibc's struct pthread, at the top of the stack block */
	_Atomic int live;
	struct park park;
};

static struct tslot slots[MAX_THREADS];
static struct park main_park;	/* the main thread, never registered */
static _Atomic int stop_gen, release_gen;
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
	main_park.tid = getpid();
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
				slots[i].park.tid = gettid();
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
	/* glibc's own blocks for the thread (its dtv) are tracked, as valgrind
	 * sees them: possibly lost while the thread runs (the descriptor holds
	 * dtv + 1), freed by __libc_freeres at exit once it is joined */
	int rc = real_pthread_create(t, attr, thread_start, s);
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
	main_park.tid = getpid();
	if (my_slot >= 0)
		slots[my_slot].park.tid = gettid();
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
static const struct park *answered(const struct park *p)
{
	int g = atomic_load(&stop_gen);
	return g && atomic_load(&p->parked) == g ? p : NULL;
}

void mwl_threads_walk(void (*fn)(uintptr_t, uintptr_t, int, int, uintptr_t, uintptr_t, void *), void *arg)
{
	int n = atomic_load(&n_slots);
	for (int i = 0; i < n && i < MAX_THREADS; i++) {
		const struct park *p = i != my_slot ? answered(&slots[i].park) : NULL;
		fn(slots[i].lo, slots[i].hi, atomic_load(&slots[i].live), i == my_slot,
		   slots[i].tcb, p ? p->sp : 0, arg);
	}
}

uintptr_t mwl_thread_main_sp(void)
{
	const struct park *p = gettid() != main_park.tid ? answered(&main_park) : NULL;
	return p ? p->sp : 0;
}

void mwl_threads_regs(void (*fn)(const uintptr_t *regs, int n, void *), void *arg)
{
	int n = atomic_load(&n_slots);
	for (int i = 0; i < n && i < MAX_THREADS; i++) {
		const struct park *p = i != my_slot ? answered(&slots[i].park) : NULL;
		if (p)
			fn(p->regs, MWL_PARK_REGS, arg);
	}
	const struct park *p = gettid() != main_park.tid ? answered(&main_park) : NULL;
	if (p)
		fn(p->regs, MWL_PARK_REGS, arg);
}

/* --- parking the other threads for the exit scan ---------------------- */

#define PARK_SIG (SIGRTMAX)
#define PARK_WAIT_MS 300

static struct park *my_park(void)
{
	if (my_slot >= 0)
		return &slots[my_slot].park;
	return gettid() == main_park.tid ? &main_park : NULL;
}

static void park_handler(int sig, siginfo_t *si, void *ucv)
{
	(void)sig;
	(void)si;
	int saved = errno;
	const ucontext_t *uc = ucv;
	struct park *p = my_park();
	int g = atomic_load(&stop_gen);
	if (!p || !g || atomic_load(&release_gen) == g) {
		errno = saved;
		return;
	}
	p->sp = (uintptr_t)uc->uc_mcontext.gregs[REG_RSP];
	for (int i = 0; i < MWL_PARK_REGS && i < NGREG; i++)
		p->regs[i] = (uintptr_t)uc->uc_mcontext.gregs[i];
	atomic_store(&p->parked, g);
	while (atomic_load(&release_gen) != g)
		sched_yield();
	errno = saved;
}

static struct sigaction old_sa;
static int stopped, all_answered;

static void poke(struct park *p, int g, int *waiting)
{
	if (!p->tid || p->tid == gettid() || atomic_load(&p->parked) == g)
		return;
	if (syscall(SYS_tgkill, getpid(), p->tid, PARK_SIG) == 0)
		(*waiting)++;
}

/* after mwl_table_lock_all(): a parked thread holds none of our locks */
void mwl_threads_stop(void)
{
	int n = atomic_load(&n_slots), waiting = 0;
	if (!mwl_threads_running() && gettid() == main_park.tid)
		return;
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = park_handler;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigfillset(&sa.sa_mask);
	if (sigaction(PARK_SIG, &sa, &old_sa) != 0)
		return;
	stopped = 1;
	int g = atomic_fetch_add(&stop_gen, 1) + 1;
	for (int i = 0; i < n && i < MAX_THREADS; i++)
		if (i != my_slot && atomic_load(&slots[i].live))
			poke(&slots[i].park, g, &waiting);
	poke(&main_park, g, &waiting);
	struct timespec tick = { 0, 1000 * 1000 };
	for (int ms = 0; ms < PARK_WAIT_MS; ms++) {
		int done = 0;
		for (int i = 0; i < n && i < MAX_THREADS; i++)
			if (i != my_slot && atomic_load(&slots[i].live) && atomic_load(&slots[i].park.parked) == g)
				done++;
		if (main_park.tid != gettid() && atomic_load(&main_park.parked) == g)
			done++;
		if (done >= waiting) {
			all_answered = 1;
			break;
		}
		nanosleep(&tick, NULL);
	}
}

void mwl_threads_release(void)
{
	if (!stopped)
		return;
	stopped = 0;
	atomic_store(&release_gen, atomic_load(&stop_gen));
	/* a thread that has not answered may take the signal later: it must
	 * find our handler (which returns at once now), not SIG_DFL's exit */
	if (all_answered)
		sigaction(PARK_SIG, &old_sa, NULL);
	all_answered = 0;
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
