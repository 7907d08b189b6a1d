/*
 * inject.c - calling functions inside a running process through ptrace
 * (x86-64): every thread is seized and interrupted, one thread stopped at a
 * safe point runs the calls with its registers (general and extended)
 * saved and restored, the others are let go first so that any lock they
 * hold (malloc's arena, the loader's) is released while the call runs.
 *
 * A call is made by setting rip to the function, its arguments in rdi/rsi,
 * and a return address of 0 below the red zone: the return faults, the
 * SIGSEGV stops the thread in the tracer's hands, and is never delivered.
 */
#include "inject.h"
#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_TASKS 4096

struct task {
	pid_t tid;
	int stopped;
	int sig;	/* a signal that arrived while we held it: re-delivered at detach */
};

struct inj {
	pid_t pid;
	struct task t[MAX_TASKS];
	int n;
	int worker;	/* index of the thread that runs the calls */
	int n_in_alloc;	/* stopped inside the allocator (inalloc.c) */
	pid_t in_alloc_tid;
	char in_alloc_fn[64];
	struct user_regs_struct saved;
	unsigned char xsave[16384];
	size_t xsave_len;
};

static char inj_err[512];
int inject_check_allocator;

const char *inject_error(void)
{
	return inj_err;
}

static int fail(const char *fmt, const char *a, long b)
{
	snprintf(inj_err, sizeof(inj_err), fmt, a, b);
	return -1;
}

static int have_task(struct inj *j, pid_t tid)
{
	for (int i = 0; i < j->n; i++)
		if (j->t[i].tid == tid)
			return 1;
	return 0;
}

/* wait for tid's stop; 0 stopped, -1 gone */
static int wait_stop(struct inj *j, struct task *t)
{
	for (;;) {
		int st;
		pid_t w = waitpid(t->tid, &st, __WALL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 || WIFEXITED(st) || WIFSIGNALED(st))
			return -1;
		if (!WIFSTOPPED(st))
			continue;
		int sig = WSTOPSIG(st);
		if ((st >> 16) == PTRACE_EVENT_STOP) {
			t->stopped = 1;
			return 0;
		}
		/* a signal-delivery stop: keep the signal for later, we are stopped */
		if (sig != SIGTRAP && !t->sig)
			t->sig = sig;
		t->stopped = 1;
		(void)j;
		return 0;
	}
}

/* seize and stop every thread, until no new one appears */
static int stop_all(struct inj *j)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/task", (int)j->pid);
	for (int round = 0; round < 100; round++) {
		DIR *d = opendir(path);
		if (!d)
			return fail("process %s%ld: no such process", "", j->pid);
		int added = 0;
		struct dirent *e;
		while ((e = readdir(d))) {
			pid_t tid = (pid_t)atoi(e->d_name);
			if (tid <= 0 || have_task(j, tid) || j->n == MAX_TASKS)
				continue;
			if (ptrace(PTRACE_SEIZE, tid, 0, 0) < 0) {
				if (errno == ESRCH)
					continue;	/* the thread just ended */
				int err = errno;
				closedir(d);
				errno = err;
				return fail("cannot ptrace thread %s%ld", "", tid);
			}
			struct task *t = &j->t[j->n++];
			*t = (struct task){ tid, 0, 0 };
			if (ptrace(PTRACE_INTERRUPT, tid, 0, 0) < 0 || wait_stop(j, t) < 0)
				t->stopped = 0;	/* it ended */
			added++;
		}
		closedir(d);
		if (!added)
			return j->n ? 0 : fail("process %s%ld has no threads", "", j->pid);
	}
	return fail("process %s%ld keeps creating threads", "", j->pid);
}

static void release(struct task *t)
{
	if (!t->stopped)
		return;
	ptrace(PTRACE_DETACH, t->tid, 0, (void *)(long)t->sig);
	t->stopped = 0;
}

struct range {
	uintptr_t lo, hi;
};

/* executable ranges of libc and ld.so in the target */
static int runtime_text(pid_t pid, struct range *r, int max)
{
	char path[64], line[4096];
	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	FILE *f = fopen(path, "r");
	int n = 0;
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f) && n < max) {
		unsigned long lo, hi;
		char perm[8];
		if (sscanf(line, "%lx-%lx %7s", &lo, &hi, perm) != 3 || perm[2] != 'x')
			continue;
		if (strstr(line, "/libc.so") || strstr(line, "/ld-linux") || strstr(line, "libc-"))
			r[n++] = (struct range){ lo, hi };
	}
	fclose(f);
	return n;
}

/*
 * A thread stopped in a system call (it was blocked: sleeping, waiting on
 * a futex or on I/O), or running its own code outside libc and ld.so, is
 * not inside malloc or the loader, so it holds none of their locks.
 */
static int safe_point(pid_t pid, struct task *t, const struct range *rt, int nrt)
{
	struct user_regs_struct r;
	if (ptrace(PTRACE_GETREGS, t->tid, 0, &r) < 0)
		return 0;
	if ((long)r.orig_rax >= 0) {
		long nr = (long)r.orig_rax;
		/* blocking calls only: a thread back from brk or mmap may be in malloc */
		static const long waits[] = { 7, 23, 34, 35, 61, 202, 230, 232, 281, 270, 271,
					      0, 45, 47, 43, 288, 128, 130, 299 };
		for (size_t i = 0; i < sizeof(waits) / sizeof(waits[0]); i++)
			if (nr == waits[i])
				return 1;
		return 0;
	}
	(void)pid;
	for (int i = 0; i < nrt; i++)
		if (r.rip >= rt[i].lo && r.rip < rt[i].hi)
			return 0;
	return 1;
}

int inject_begin(struct inj **out, pid_t pid)
{
	struct inj *j = calloc(1, sizeof(*j));
	if (!j)
		return fail("out of memory%s%ld", "", 0);
	j->pid = pid;
	struct range rt[16];
	int nrt = runtime_text(pid, rt, 16);
	for (int attempt = 0; attempt < 200; attempt++) {
		if (stop_all(j) < 0) {
			for (int i = 0; i < j->n; i++)
				release(&j->t[i]);
			free(j);
			return -1;
		}
		j->worker = -1;
		/* the main thread first: it is most often the one asleep */
		for (int i = 0; i < j->n && j->worker < 0; i++)
			if (j->t[i].stopped && !j->t[i].sig && safe_point(pid, &j->t[i], rt, nrt))
				j->worker = i;
		if (j->worker >= 0)
			break;
		/* nobody at a safe point: let them run 5 ms and look again */
		for (int i = 0; i < j->n; i++)
			release(&j->t[i]);
		j->n = 0;
		struct timespec ts = { 0, 5 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	if (j->worker < 0) {
		free(j);
		return fail("no thread of process %s%ld reached a safe point (outside malloc and the loader) in 1 s", "", pid);
	}
	/* before they go: which of them were inside malloc (said at attach) */
	pid_t others[MAX_TASKS];
	int n_others = 0;
	for (int i = 0; i < j->n; i++)
		if (i != j->worker && j->t[i].stopped)
			others[n_others++] = j->t[i].tid;
	if (inject_check_allocator)
		j->n_in_alloc = inject_threads_in_allocator(pid, others, n_others, &j->in_alloc_tid, j->in_alloc_fn,
						    sizeof(j->in_alloc_fn));
	/* the others run while we call: any lock they hold gets released */
	for (int i = 0; i < j->n; i++)
		if (i != j->worker)
			release(&j->t[i]);
	struct task *w = &j->t[j->worker];
	struct iovec iov = { j->xsave, sizeof(j->xsave) };
	if (ptrace(PTRACE_GETREGS, w->tid, 0, &j->saved) < 0 ||
	    ptrace(PTRACE_GETREGSET, w->tid, (void *)NT_X86_XSTATE, &iov) < 0) {
		pid_t tid = w->tid;
		release(w);
		free(j);
		return fail("cannot read the registers of thread %s%ld", "", tid);
	}
	j->xsave_len = iov.iov_len;
	*out = j;
	return 0;
}

static int poke(pid_t tid, uintptr_t addr, const void *buf, size_t len)
{
	struct iovec local = { (void *)buf, len }, remote = { (void *)addr, len };
	if (process_vm_writev(tid, &local, 1, &remote, 1, 0) == (ssize_t)len)
		return 0;
	/* word by word through ptrace (process_vm_writev needs the same checks) */
	for (size_t off = 0; off < len; off += sizeof(long)) {
		long word = 0;
		size_t k = len - off < sizeof(long) ? len - off : sizeof(long);
		if (k < sizeof(long)) {
			errno = 0;
			word = ptrace(PTRACE_PEEKDATA, tid, (void *)(addr + off), 0);
			if (errno)
				return -1;
		}
		memcpy(&word, (const char *)buf + off, k);
		if (ptrace(PTRACE_POKEDATA, tid, (void *)(addr + off), (void *)word) < 0)
			return -1;
	}
	return 0;
}

long inject_call(struct inj *j, uintptr_t fn, uintptr_t a1, uintptr_t a2, const char *str, int str_arg,
		 long *result)
{
	struct task *w = &j->t[j->worker];
	struct user_regs_struct r = j->saved;
	uintptr_t sp = (j->saved.rsp - 128 - 4096) & ~(uintptr_t)15;	/* below the red zone */
	if (str) {
		size_t len = strlen(str) + 1;
		if (len > 4000 || poke(w->tid, sp, str, len) < 0)
			return fail("cannot write into process %s%ld", "", j->pid);
		if (str_arg == 2)
			a2 = sp;
		else
			a1 = sp;
	}
	sp -= 64;
	uint64_t zero = 0;
	sp -= 8;	/* at entry, rsp + 8 is 16-byte aligned, as after a call */
	if (poke(w->tid, sp, &zero, sizeof(zero)) < 0)
		return fail("cannot write into process %s%ld", "", j->pid);
	r.rsp = sp;
	r.rip = fn;
	r.rdi = a1;
	r.rsi = a2;
	r.rax = 0;
	r.orig_rax = (unsigned long)-1;	/* no system call restart on the way out */
	if (ptrace(PTRACE_SETREGS, w->tid, 0, &r) < 0 || ptrace(PTRACE_CONT, w->tid, 0, 0) < 0)
		return fail("cannot start a call in thread %s%ld", "", w->tid);
	for (;;) {
		int st;
		pid_t got = waitpid(w->tid, &st, __WALL);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0 || WIFEXITED(st) || WIFSIGNALED(st)) {
			w->stopped = 0;
			return fail("process %s%ld ended during the call", "", j->pid);
		}
		int sig = WSTOPSIG(st);
		if ((st >> 16) == PTRACE_EVENT_STOP) {	/* a group stop: go on */
			ptrace(PTRACE_CONT, w->tid, 0, 0);
			continue;
		}
		if (sig == SIGSEGV) {
			struct user_regs_struct now;
			ptrace(PTRACE_GETREGS, w->tid, 0, &now);
			if (now.rip == 0) {
				*result = (long)now.rax;
				break;
			}
			/* a real fault in the call: the caller puts the thread back */
			snprintf(inj_err, sizeof(inj_err), "the call to %#lx faulted in process %d at %#llx",
				 (unsigned long)fn, (int)j->pid, (unsigned long long)now.rip);
			return -1;
		}
		/* another signal for this thread: delivered at detach */
		if (sig != SIGTRAP && !w->sig)
			w->sig = sig;
		ptrace(PTRACE_CONT, w->tid, 0, 0);
	}
	return 0;
}

int inject_in_allocator(const struct inj *j, pid_t *tid, char *fn, size_t cap)
{
	if (j->n_in_alloc) {
		*tid = j->in_alloc_tid;
		snprintf(fn, cap, "%s", j->in_alloc_fn);
	}
	return j->n_in_alloc;
}

void inject_end(struct inj *j)
{
	struct task *w = &j->t[j->worker];
	if (w->stopped) {
		struct iovec iov = { j->xsave, j->xsave_len };
		ptrace(PTRACE_SETREGSET, w->tid, (void *)NT_X86_XSTATE, &iov);
		ptrace(PTRACE_SETREGS, w->tid, 0, &j->saved);
		release(w);
	}
	free(j);
}

/* --- where things are in the target ---------------------------------- */

/* lowest mapping of the object whose path contains name; path copied out */
static uintptr_t object_base(pid_t pid, const char *name, char *path, size_t cap)
{
	char mp[64], line[4096];
	snprintf(mp, sizeof(mp), "/proc/%d/maps", (int)pid);
	FILE *f = fopen(mp, "r");
	uintptr_t base = 0;
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, off;
		int pos = 0;
		if (sscanf(line, "%lx-%*x %*s %lx %*s %*s %n", &lo, &off, &pos) < 2 || !pos)
			continue;
		char *p = line + pos;
		p[strcspn(p, "\n")] = 0;
		const char *slash = strrchr(p, '/');
		if (*p != '/' || !slash || strncmp(slash + 1, name, strlen(name)))
			continue;
		if (off == 0 && (!base || lo < base)) {
			base = lo;
			snprintf(path, cap, "%s", p);
		}
	}
	fclose(f);
	return base;
}

/* st_value of a defined dynamic symbol in the ELF file at path, or 0 */
static uintptr_t elf_symbol(const char *path, const char *sym)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	elf_version(EV_CURRENT);
	Elf *e = elf_begin(fd, ELF_C_READ, NULL);
	uintptr_t val = 0;
	Elf_Scn *scn = NULL;
	while (e && !val && (scn = elf_nextscn(e, scn))) {
		GElf_Shdr sh;
		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_DYNSYM)
			continue;
		Elf_Data *data = elf_getdata(scn, NULL);
		size_t n = sh.sh_entsize ? sh.sh_size / sh.sh_entsize : 0;
		for (size_t i = 0; data && i < n; i++) {
			GElf_Sym s;
			if (!gelf_getsym(data, (int)i, &s) || s.st_shndx == SHN_UNDEF || !s.st_value)
				continue;
			const char *nm = elf_strptr(e, sh.sh_link, s.st_name);
			if (nm && !strcmp(nm, sym)) {
				val = s.st_value;
				break;
			}
		}
	}
	if (e)
		elf_end(e);
	close(fd);
	return val;
}

uintptr_t inject_symbol(pid_t pid, const char *object, const char *sym)
{
	char path[4096], full[4200];
	uintptr_t base = object_base(pid, object, path, sizeof(path));
	if (!base)
		return 0;
	/* the file as the target sees it (another mount namespace: its root) */
	snprintf(full, sizeof(full), "/proc/%d/root%s", (int)pid, path);
	uintptr_t v = elf_symbol(full, sym);
	if (!v)
		v = elf_symbol(path, sym);
	return v ? base + v : 0;
}
