/*
 * core.c - start-up of libmemwatch-leak.so: resolving the real allocator,
 * the bootstrap arena for allocations made while doing so, configuration
 * from the environment, internal memory, and the exit report trigger.
 */
#include "lib.h"
#include <dlfcn.h>
#include <link.h>
#include <unwind.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

struct mwl_real mwl_real;
struct mwl_config mwl_cfg;
_Atomic int mwl_state = ST_UNINIT;
MWL_TLS int mwl_busy;
_Atomic uint32_t mwl_now;

/*
 * dlsym() may allocate (its error state, dlerror buffers). Those calls come
 * back into our malloc before we know the real one, so they are served from
 * here and never freed.
 */
char mwl_boot_arena[MWL_BOOT_ARENA] __attribute__((aligned(64)));
static _Atomic size_t boot_used;

void *mwl_boot_alloc(size_t n);
size_t mwl_boot_room(const void *p);

void *mwl_boot_alloc(size_t n)
{
	n = (n + 15) & ~(size_t)15;
	size_t off = atomic_fetch_add(&boot_used, n);
	if (off + n > sizeof(mwl_boot_arena))
		return NULL;
	return mwl_boot_arena + off;	/* static storage: already zero */
}

size_t mwl_boot_room(const void *p)
{
	return (size_t)(mwl_boot_arena + sizeof(mwl_boot_arena) - (const char *)p);
}

/*
 * Internal memory: one big MAP_NORESERVE reservation bumped forward. Pages
 * cost nothing until touched, and a single range is trivial to leave out of
 * the root scan (our tables point at every live block). The scratch region
 * is reset after each report.
 */
struct region {
	char *base;
	size_t size;
	_Atomic size_t used;
};
static struct region arena, scratch;

static void region_map(struct region *r, size_t want)
{
	for (size_t sz = want; sz >= (64u << 20); sz /= 2) {
		void *p = mmap(NULL, sz, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (p != MAP_FAILED) {
			r->base = p;
			r->size = sz;
			return;
		}
	}
}

static void *region_alloc(struct region *r, size_t n)
{
	n = (n + 63) & ~(size_t)63;
	size_t off = atomic_fetch_add(&r->used, n);
	if (!r->base || off + n > r->size)
		return NULL;
	return r->base + off;
}

void *mwl_arena_alloc(size_t n) { return region_alloc(&arena, n); }
void *mwl_scratch_alloc(size_t n) { return region_alloc(&scratch, n); }

void mwl_scratch_reset(void)
{
	size_t used = atomic_exchange(&scratch.used, 0);
	if (scratch.base && used)
		madvise(scratch.base, used < scratch.size ? used : scratch.size, MADV_DONTNEED);
}

int mwl_is_internal(uintptr_t lo, uintptr_t hi)
{
	uintptr_t a = (uintptr_t)arena.base, s = (uintptr_t)scratch.base;
	return (lo < a + arena.size && hi > a) || (lo < s + scratch.size && hi > s);
}

static unsigned env_uint(const char *name, unsigned dflt)
{
	const char *v = getenv(name);
	if (!v || !*v)
		return dflt;
	char *end;
	unsigned long x = strtoul(v, &end, 10);
	return *end ? dflt : (unsigned)x;
}

/* Hide ourselves from exec'd programs unless asked to follow them. */
static void env_scrub(void)
{
	static const char *const names[] = {
		MWL_ENV_DUMP, MWL_ENV_DEPTH, MWL_ENV_FLAGS, MWL_ENV_INTERVAL,
		MWL_ENV_MIN_AGE, MWL_ENV_SIGNAL,
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		unsetenv(names[i]);
	const char *pre = getenv("LD_PRELOAD");
	if (pre && strstr(pre, "libmemwatch-leak.so")) {
		/* Rewrite in place: setenv would allocate. Entries are ':' or ' '
		 * separated; drop the ones naming us. */
		char *s = (char *)pre, *w = s;
		while (*s) {
			char *e = s + strcspn(s, ": ");
			char save = *e;
			*e = 0;
			if (!strstr(s, "libmemwatch-leak.so") && e > s) {
				if (w != (char *)pre)
					*w++ = ':';
				memmove(w, s, (size_t)(e - s));
				w += e - s;
			}
			*e = save;
			s = *e ? e + 1 : e;
		}
		*w = 0;
		if (!*pre)
			unsetenv("LD_PRELOAD");
	}
}

static void config_read(void)
{
	const char *dir = getenv(MWL_ENV_DUMP);
	if (!dir || !*dir || strlen(dir) >= sizeof(mwl_cfg.dump_dir))
		return;	/* preloaded by hand: stay out of the way */
	strcpy(mwl_cfg.dump_dir, dir);
	unsigned d = env_uint(MWL_ENV_DEPTH, MWL_DEFAULT_DEPTH);
	mwl_cfg.depth = d < 1 ? 1 : d > MWL_MAX_DEPTH ? MWL_MAX_DEPTH : (int)d;
	const char *f = getenv(MWL_ENV_FLAGS);
	mwl_cfg.follow_fork = f && strchr(f, 'f');
	mwl_cfg.follow_exec = f && strchr(f, 'e');
	mwl_cfg.fds = f && strchr(f, 'd');
	mwl_cfg.interval = env_uint(MWL_ENV_INTERVAL, 0);
	mwl_cfg.min_age = env_uint(MWL_ENV_MIN_AGE, 0);
	mwl_cfg.signal = (int)env_uint(MWL_ENV_SIGNAL, 0);
	const char *u = getenv(MWL_ENV_UNWIND);
	if (u && !strcmp(u, "libunwind"))
		mwl_cfg.unwind = MWL_UNWIND_SLOW;
	else if (u && !strcmp(u, "check"))
		mwl_cfg.unwind = MWL_UNWIND_CHECK;
	else if (u && *u && strcmp(u, "fast"))
		mwl_log("memwatch-leak: " MWL_ENV_UNWIND " is fast, libunwind or check; using fast, not ", u);
	mwl_cfg.enabled = 1;
	if (!mwl_cfg.follow_exec)
		env_scrub();
}

#define RESOLVE(field, name) \
	(*(void **)&mwl_real.field = dlsym(RTLD_NEXT, name))

static void fork_prepare(void)
{
	mwl_misc_lock();
	mwl_unwind_fork_prepare();
	mwl_stack_lock();
	mwl_table_lock_all();
}

static void fork_parent(void)
{
	mwl_table_unlock_all();
	mwl_stack_unlock();
	mwl_unwind_fork_done();
	mwl_misc_unlock();
}

static void fork_child(void)
{
	fork_parent();
	mwl_threads_after_fork_child();
	mwl_reporter_after_fork_child();
	mwl_forked = 1;
	mwl_exit_regs.tid = 0;	/* the parent's exit, if it was in one, is not ours */
	if (!mwl_cfg.follow_fork)
		atomic_store(&mwl_state, ST_DONE);	/* the child stays silent */
}

void mwl_init(void)
{
	int expect = ST_UNINIT;
	if (!atomic_compare_exchange_strong(&mwl_state, &expect, ST_RESOLVING))
		return;	/* done, or in progress on this thread (dlsym recursion) */
	int saved = errno;
	RESOLVE(malloc, "malloc");
	RESOLVE(free, "free");
	RESOLVE(calloc, "calloc");
	RESOLVE(realloc, "realloc");
	RESOLVE(posix_memalign, "posix_memalign");
	RESOLVE(aligned_alloc, "aligned_alloc");
	RESOLVE(memalign, "memalign");
	RESOLVE(valloc, "valloc");
	RESOLVE(pvalloc, "pvalloc");
	RESOLVE(malloc_usable_size, "malloc_usable_size");
	RESOLVE(op_new, "_Znwm");
	RESOLVE(op_new_array, "_Znam");
	RESOLVE(op_new_al, "_ZnwmSt11align_val_t");
	RESOLVE(op_new_array_al, "_ZnamSt11align_val_t");
	mwl_busy++;
	config_read();
	mwl_start_tracking();
	errno = saved;
}

/*
 * Tracking's own state (internal memory, stacks, unwinder, block table),
 * after the configuration is known: at start-up, or when memwatch-leak -p
 * loads us into a running process (attach.c). busy is held by the caller.
 */
void mwl_start_tracking(void)
{
	int saved = errno;
	if (mwl_cfg.enabled) {
		region_map(&arena, (size_t)32 << 30);
		region_map(&scratch, (size_t)16 << 30);
		if (!arena.base || !scratch.base) {
			mwl_log("memwatch-leak: cannot reserve internal memory", "; not tracing");
			mwl_cfg.enabled = 0;
		}
	}
	if (mwl_cfg.enabled) {
		mwl_stack_init();
		if (mwl_cfg.unwind == MWL_UNWIND_CHECK)
			mwl_stack_check_start();
		mwl_unwind_init();
		mwl_table_init();
		mwl_thread_note_main();
		if (mwl_cfg.fds)
			mwl_fd_init();
		pthread_atfork(fork_prepare, fork_parent, fork_child);
	}
	mwl_busy--;
	errno = saved;
	atomic_store(&mwl_state, mwl_cfg.enabled ? ST_READY : ST_DONE);
	if (mwl_cfg.enabled && (mwl_cfg.interval || mwl_cfg.signal))
		mwl_reporter_start();
}

__attribute__((constructor)) static void mwl_ctor(void)
{
	mwl_init();
}

/*
 * Runs from _dl_fini, after every atexit handler and C++ static destructor
 * of the program (those were registered after _dl_fini). _exit() and fatal
 * signals skip it: the front-end then says that no report was written.
 */
struct exit_walk {
	uintptr_t ldso_base, sp;
	uintptr_t prev_cfa;
	int done;
};

static _Unwind_Reason_Code exit_walk_cb(struct _Unwind_Context *ctx, void *arg)
{
	struct exit_walk *w = arg;
	uintptr_t ip = _Unwind_GetIP(ctx);
	Dl_info di;
	int ours = ip >= mwl_self_text_lo && ip < mwl_self_text_hi;
	int ldso = dladdr((void *)(ip - 1), &di) && (uintptr_t)di.dli_fbase == w->ldso_base;
	if (!ip || (!ours && !ldso)) {
		w->sp = w->prev_cfa;
		w->done = 1;
		return _URC_END_OF_STACK;
	}
	w->prev_cfa = _Unwind_GetCFA(ctx);
	return _URC_NO_REASON;
}

/*
 * Where the exiting thread's stack stops being garbage. valgrind scans from
 * the stack pointer of exit_group(), i.e. inside libc's exit path; we run
 * deeper, in ld.so's _dl_fini, whose frames sit on stale pointers left by
 * the program's last calls. So: skip our frames and ld.so's, and scan from
 * the first libc frame up.
 */
static uintptr_t exit_scan_start(void)
{
	struct exit_walk w = { 0, 0, 0, 0 };
	Dl_info di;
	if (dladdr((void *)&_r_debug, &di))
		w.ldso_base = (uintptr_t)di.dli_fbase;
	_Unwind_Backtrace(exit_walk_cb, &w);
	return w.done && w.sp ? w.sp : (uintptr_t)__builtin_frame_address(0);
}

__attribute__((destructor)) static void mwl_dtor(void)
{
	if (atomic_load(&mwl_state) != ST_READY)
		return;
	if (mwl_attached) {	/* attached late: no scan, what is outstanding */
		mwl_attach_exit();
		return;
	}
	if (mwl_exit_regs.tid == gettid()) {
		/* libc's own blocks go, as under valgrind: only if no other thread
		 * of the program still runs (freeres frees what threads use) */
		if (mwl_exit_regs.tid == getpid() && !mwl_threads_running())
			mwl_libc_freeres();
		mwl_report_exit(mwl_exit_regs.sp, &mwl_exit_regs);
		return;
	}
	/* exit() called before we were ready, or from another thread */
	mwl_busy++;
	uintptr_t sp = exit_scan_start();
	mwl_busy--;
	mwl_report_exit(sp, NULL);
}
