/*
 * dump.c - writing what the front-end turns into a report: the exit dump
 * (classified blocks, mismatches, open fds) and periodic dumps (blocks older
 * than --min-age, no scan) from a reporter thread woken by --interval or by
 * a signal. Dumps are written to a temporary name and renamed, so the
 * front-end never reads half a file. Format: Documentation/leak.md.
 */
#include "lib.h"
#include <dlfcn.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct site {
	uint32_t stack;
	uint8_t cls, fn, used;
	uint64_t count, bytes, indirect;
};

struct agg {
	struct site *tab;
	size_t cap;
	uint8_t *stack_used;	/* bitmap over stack ids */
	uint32_t min_birth;	/* periodic: only blocks born at or before */
};

#define STACK_IDS (1u << 20)

static int agg_init(struct agg *a, size_t n)
{
	a->cap = 16;
	while (a->cap < 2 * n)
		a->cap *= 2;
	a->tab = mwl_scratch_alloc(sizeof(*a->tab) * a->cap);
	a->stack_used = mwl_scratch_alloc(STACK_IDS / 8 + 1);
	return a->tab && a->stack_used ? 0 : -1;
}

static void agg_add(struct agg *a, uint32_t stack, int cls, int fn, size_t bytes,
		    uint64_t indirect)
{
	uint64_t h = ((uint64_t)stack * 0x9E3779B97F4A7C15ull) ^ (uint64_t)(cls << 8 | fn);
	size_t i = (h ^ (h >> 29)) & (a->cap - 1);
	for (;; i = (i + 1) & (a->cap - 1)) {
		struct site *s = &a->tab[i];
		if (!s->used) {
			*s = (struct site){ stack, (uint8_t)cls, (uint8_t)fn, 1, 0, 0, 0 };
			break;
		}
		if (s->stack == stack && s->cls == cls && s->fn == fn)
			break;
	}
	a->tab[i].count++;
	a->tab[i].bytes += bytes;
	a->tab[i].indirect += indirect;
	if (stack < STACK_IDS)
		a->stack_used[stack / 8] |= (uint8_t)(1u << (stack % 8));
}

static void mark_stack(struct agg *a, uint32_t stack)
{
	if (stack < STACK_IDS)
		a->stack_used[stack / 8] |= (uint8_t)(1u << (stack % 8));
}

static void write_header(struct mwl_out *o, const char *kind)
{
	mwl_out_str(o, MWL_DUMP_MAGIC " ");
	mwl_out_u64(o, MWL_DUMP_VERSION);
	mwl_out_str(o, "\nkind ");
	mwl_out_str(o, kind);
	mwl_out_str(o, "\npid ");
	mwl_out_u64(o, (uint64_t)getpid());
	mwl_out_str(o, "\nppid ");
	mwl_out_u64(o, (uint64_t)getppid());
	mwl_out_str(o, "\ntime ");
	mwl_out_u64(o, atomic_load(&mwl_now));
	/* every process starts as an exec'd program, unless it is a fork */
	mwl_out_str(o, mwl_forked ? "\norigin fork" : "\norigin exec");
	int status = atomic_load(&mwl_exit_status);
	if (status >= 0 && !strcmp(kind, "exit")) {
		mwl_out_str(o, "\nexit_status ");
		mwl_out_u64(o, (uint64_t)status);
	}
	char exe[4096];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0 && !memchr(exe, '\n', (size_t)n)) {
		mwl_out_str(o, "\nexe ");
		mwl_out_mem(o, exe, (size_t)n);
	}
	mwl_out_ch(o, '\n');
}

static void write_maps(struct mwl_out *o)
{
	size_t len;
	char *maps = mwl_read_maps(&len);
	mwl_out_str(o, "maps ");
	mwl_out_u64(o, maps ? len : 0);
	mwl_out_ch(o, '\n');
	if (maps)
		mwl_out_mem(o, maps, len);
	mwl_modules_write(o);
}

static void write_sites_and_stacks(struct mwl_out *o, struct agg *a)
{
	for (size_t i = 0; i < a->cap; i++) {
		struct site *s = &a->tab[i];
		if (!s->used)
			continue;
		mwl_out_str(o, "site ");
		mwl_out_ch(o, (char)s->cls);
		mwl_out_ch(o, ' ');
		mwl_out_u64(o, s->fn);
		mwl_out_ch(o, ' ');
		mwl_out_u64(o, s->stack);
		mwl_out_ch(o, ' ');
		mwl_out_u64(o, s->count);
		mwl_out_ch(o, ' ');
		mwl_out_u64(o, s->bytes);
		mwl_out_ch(o, ' ');
		mwl_out_u64(o, s->indirect);
		mwl_out_ch(o, '\n');
	}
	for (uint32_t id = 1; id < STACK_IDS; id++) {
		if (!(a->stack_used[id / 8] & (1u << (id % 8))))
			continue;
		const uintptr_t *ips;
		int n = mwl_stack_get(id, &ips);
		mwl_out_str(o, "stack ");
		mwl_out_u64(o, id);
		mwl_out_ch(o, ' ');
		mwl_out_u64(o, (uint64_t)n);
		for (int k = 0; k < n; k++) {
			mwl_out_ch(o, ' ');
			mwl_out_hex(o, ips[k]);
		}
		mwl_out_ch(o, '\n');
	}
}

/* dir/NAME.PID[.SEQ], via dir/.tmp.PID */
static void path_of(char *buf, size_t cap, const char *name, uint64_t seq, int with_seq)
{
	size_t n = strlen(mwl_cfg.dump_dir);
	char num[48], *p;
	memcpy(buf, mwl_cfg.dump_dir, n);
	buf[n++] = '/';
	size_t k = strlen(name);
	memcpy(buf + n, name, k);
	n += k;
	uint64_t vals[2] = { (uint64_t)getpid(), seq };
	for (int v = 0; v < 1 + with_seq; v++) {
		p = num + sizeof(num);
		*--p = 0;
		uint64_t x = vals[v];
		do
			*--p = (char)('0' + x % 10);
		while (x /= 10);
		buf[n++] = '.';
		k = strlen(p);
		if (n + k + 1 >= cap)
			break;
		memcpy(buf + n, p, k);
		n += k;
	}
	buf[n] = 0;
}

static struct mwl_out dump_out;

static int dump_open(char *tmp, size_t cap)
{
	path_of(tmp, cap, ".tmp", 0, 0);
	dump_out.fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	dump_out.len = 0;
	if (dump_out.fd < 0)
		mwl_log("memwatch-leak: cannot write dump in ", mwl_cfg.dump_dir);
	return dump_out.fd;
}

static void dump_close(const char *tmp, const char *final)
{
	mwl_out_str(&dump_out, "end\n");
	mwl_out_flush(&dump_out);
	close(dump_out.fd);
	rename(tmp, final);
}

static void fd_line(int fd, uint32_t stack, const char *what, void *arg)
{
	struct agg *a = arg;
	if (fd == dump_out.fd)	/* attached, our own open() is libc's: the hook never saw it */
		return;
	mwl_out_str(&dump_out, "fd ");
	mwl_out_u64(&dump_out, (uint64_t)fd);
	mwl_out_ch(&dump_out, ' ');
	mwl_out_str(&dump_out, what);
	mwl_out_ch(&dump_out, ' ');
	mwl_out_u64(&dump_out, stack);
	mwl_out_ch(&dump_out, '\n');
	mark_stack(a, stack);
}

static pthread_mutex_t report_mutex = PTHREAD_MUTEX_INITIALIZER;

/*
 * libstdc++'s emergency exception pool is freed by __gnu_cxx::__freeres,
 * which valgrind calls at exit; so do we (the program is done with it), or
 * every C++ program would show 72 KB still reachable that valgrind does not.
 */
static void cxx_freeres(void)
{
	void (*fn)(void);
	*(void **)&fn = dlsym(RTLD_DEFAULT, "_ZN9__gnu_cxx9__freeresEv");
	if (fn)
		fn();
}

/*
 * glibc keeps blocks it frees only in __libc_freeres (dlopen's bookkeeping,
 * locale and NSS data, stdio buffers), which valgrind calls at exit: they
 * would otherwise be "still reachable" or "possibly lost" here and not
 * there. It flushes stdio first. Called once, from the exit path, after
 * the program's atexit handlers and destructors.
 */
void mwl_libc_freeres(void)
{
	void (*fn)(void);
	mwl_busy++;
	*(void **)&fn = dlsym(RTLD_DEFAULT, "__libc_freeres");
	mwl_busy--;
	if (fn)
		fn();
}

void mwl_report_exit(uintptr_t sp, const struct mwl_exit_regs *regs)
{
	char tmp[512], final[512];
	mwl_busy++;
	if (atomic_load(&mwl_state) == ST_READY)
		cxx_freeres();
	pthread_mutex_lock(&report_mutex);
	mwl_table_lock_all();	/* from here on no block comes or goes */
	if (atomic_load(&mwl_state) != ST_READY)
		goto out;
	if (dump_open(tmp, sizeof(tmp)) < 0)
		goto out;
	path_of(final, sizeof(final), "dump", 0, 0);
	size_t n;
	mwl_threads_stop();
	struct mwl_class_blk *cb = mwl_scan(sp, regs, &n);
	mwl_threads_release();
	struct agg a;
	if (agg_init(&a, n) < 0)
		goto out;
	write_header(&dump_out, "exit");
	write_maps(&dump_out);
	for (size_t i = 0; cb && i < n; i++)
		agg_add(&a, cb[i].b->stack, cb[i].cls, cb[i].b->fn, cb[i].b->size, cb[i].indirect);
	size_t nm;
	struct mwl_mismatch *m = mwl_mismatches(&nm);
	for (size_t i = 0; i < nm; i++) {
		mwl_out_str(&dump_out, "mismatch ");
		mwl_out_u64(&dump_out, m[i].alloc_fn);
		mwl_out_ch(&dump_out, ' ');
		mwl_out_u64(&dump_out, m[i].free_fn);
		mwl_out_ch(&dump_out, ' ');
		mwl_out_u64(&dump_out, m[i].alloc_stack);
		mwl_out_ch(&dump_out, ' ');
		mwl_out_u64(&dump_out, m[i].free_stack);
		mwl_out_ch(&dump_out, ' ');
		mwl_out_u64(&dump_out, m[i].count);
		mwl_out_ch(&dump_out, ' ');
		mwl_out_u64(&dump_out, m[i].bytes);
		mwl_out_ch(&dump_out, '\n');
		mark_stack(&a, m[i].alloc_stack);
		mark_stack(&a, m[i].free_stack);
	}
	if (mwl_cfg.fds)
		mwl_fd_walk(fd_line, &a);
	write_sites_and_stacks(&dump_out, &a);
	dump_close(tmp, final);
out:
	if (atomic_load(&mwl_state) == ST_READY)
		mwl_stack_check_summary();
	atomic_store(&mwl_state, ST_DONE);
	mwl_table_unlock_all();
	pthread_mutex_unlock(&report_mutex);
	mwl_scratch_reset();
	mwl_busy--;
}

/* --- periodic reports ------------------------------------------------ */

static void periodic_add(struct mwl_blk *b, void *arg)
{
	struct agg *a = arg;
	if (b->birth <= a->min_birth && b->birth >= mwl_attach_birth &&
	    !(mwl_side && mwl_block_gone(b->addr, b->size)))
		agg_add(a, b->stack, MWL_CLASS_OUTSTANDING, b->fn, b->size, 0);
}

static uint64_t periodic_seq;

void mwl_report_periodic(const char *why)
{
	char tmp[512], final[512];
	mwl_busy++;
	pthread_mutex_lock(&report_mutex);
	if (atomic_load(&mwl_state) != ST_READY || dump_open(tmp, sizeof(tmp)) < 0)
		goto out;
	path_of(final, sizeof(final), "periodic", ++periodic_seq, 1);
	struct agg a;
	if (agg_init(&a, mwl_table_count() + 1024) < 0)
		goto out;
	uint32_t now = atomic_load(&mwl_now);
	a.min_birth = now >= mwl_cfg.min_age ? now - mwl_cfg.min_age : 0;
	int all = now < mwl_cfg.min_age;
	write_header(&dump_out, why);
	write_maps(&dump_out);
	if (!all)
		mwl_table_walk(0, periodic_add, &a);
	if (mwl_attached && mwl_cfg.fds)	/* -p: fds opened since attach and still open */
		mwl_fd_walk(fd_line, &a);
	write_sites_and_stacks(&dump_out, &a);
	dump_close(tmp, final);
out:
	pthread_mutex_unlock(&report_mutex);
	mwl_scratch_reset();
	mwl_busy--;
}

static _Atomic int signalled;
static _Atomic int reporter_running;
/*
 * Each start is a new generation. A detach followed by an attach within
 * the reporter's 100 ms tick finds the old reporter still asleep, and the
 * state READY again when it wakes: it must end then, not keep writing an
 * older clock next to the new one's (blocks born at the older second were
 * left out of the new attach's reports).
 */
static _Atomic unsigned reporter_gen;

/* mwl_now only moves forward */
static void clock_advance(uint32_t secs)
{
	uint32_t cur = atomic_load(&mwl_now);
	while (secs > cur && !atomic_compare_exchange_weak(&mwl_now, &cur, secs))
		;
}

static void on_signal(int sig)
{
	(void)sig;
	atomic_store(&signalled, 1);
}

static void *reporter(void *genp)
{
	unsigned gen = (unsigned)(uintptr_t)genp;
	struct timespec t0, now, tick = { 0, 100 * 1000 * 1000 };
	clock_gettime(CLOCK_MONOTONIC, &t0);
	/* a reporter restarted by a later attach keeps the clock going */
	uint32_t base = atomic_load(&mwl_now), last = base;
	t0.tv_sec -= base;
	sigset_t all;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);	/* signals go to the program's threads */
	while (atomic_load(&mwl_state) == ST_READY) {
		nanosleep(&tick, NULL);
		if (atomic_load(&reporter_gen) != gen)
			break;	/* detached and attached again meanwhile: a new reporter runs */
		clock_gettime(CLOCK_MONOTONIC, &now);
		uint32_t secs = (uint32_t)(now.tv_sec - t0.tv_sec);
		clock_advance(secs);
		if (atomic_exchange(&signalled, 0))
			mwl_report_periodic("signal");
		else if (mwl_cfg.interval && secs - last >= mwl_cfg.interval) {
			last = secs;
			mwl_report_periodic("interval");
		}
	}
	return NULL;
}

static void *reporter_start(void *gen)
{
	mwl_thread_exclude_self();
	return reporter(gen);
}

void mwl_reporter_start(void)
{
	if (mwl_cfg.signal > 0 && mwl_cfg.signal < NSIG) {
		struct sigaction sa;
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_signal;
		sa.sa_flags = SA_RESTART;
		sigaction(mwl_cfg.signal, &sa, NULL);
	}
	mwl_create_fn real_create = mwl_real_pthread_create();
	pthread_t t;
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	mwl_busy++;
	unsigned gen = atomic_fetch_add(&reporter_gen, 1) + 1;
	if (real_create && real_create(&t, &attr, reporter_start, (void *)(uintptr_t)gen) == 0)
		atomic_store(&reporter_running, 1);
	mwl_busy--;
	pthread_attr_destroy(&attr);
}

void mwl_reporter_after_fork_child(void)
{
	/* threads do not survive fork: restart ours if the child is traced */
	if (atomic_load(&reporter_running) && mwl_cfg.follow_fork)
		mwl_reporter_start();
}
