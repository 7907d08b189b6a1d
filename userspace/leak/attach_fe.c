/*
 * attach_fe.c - memwatch-leak -p PID: load libmemwatch-leak.so into a
 * running process (through its own dlopen, inject.c), have it route the
 * allocation functions through its hooks (attach.c), print the periodic
 * reports it writes, and at the end (Ctrl-C, --duration, the process
 * exiting) ask it for a last report and make its hooks inert. The process
 * keeps running.
 */
#include "fe.h"
#include "inject.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop_now;

static void on_stop(int sig)
{
	(void)sig;
	stop_now = 1;
}

/* a field of /proc/PID/status ("TracerPid:"), or NULL; static buffer */
static const char *status_field(pid_t pid, const char *key)
{
	static char val[256];
	char path[64], line[512];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "r");
	const char *r = NULL;
	size_t k = strlen(key);
	while (f && fgets(line, sizeof(line), f)) {
		if (!strncmp(line, key, k)) {
			const char *p = line + k;
			p += strspn(p, " \t");
			snprintf(val, sizeof(val), "%.*s", (int)strcspn(p, "\n"), p);
			r = val;
			break;
		}
	}
	if (f)
		fclose(f);
	return r;
}

/* why ptrace was refused, as far as /proc tells */
static void explain_eperm(pid_t pid)
{
	const char *tracer = status_field(pid, "TracerPid:");
	if (tracer && atoi(tracer) > 0) {
		fprintf(stderr, "memwatch-leak: cannot attach to process %d: it is already traced by process %s "
			"(a debugger or another tracer; only one at a time)\n", (int)pid, tracer);
		return;
	}
	char buf[16] = "";
	int fd = open("/proc/sys/kernel/yama/ptrace_scope", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		ssize_t n = read(fd, buf, sizeof(buf) - 1);
		buf[n > 0 ? n : 0] = 0;
		close(fd);
	}
	const char *cap = status_field(getpid(), "CapEff:");
	int has_cap = cap && (strtoull(cap, NULL, 16) >> 19) & 1;	/* CAP_SYS_PTRACE */
	const char *uid = status_field(pid, "Uid:");
	int other_user = uid && (uid_t)atoi(uid) != getuid();
	fprintf(stderr, "memwatch-leak: cannot attach to process %d: ptrace not permitted", (int)pid);
	if (*buf && atoi(buf) == 3)
		fprintf(stderr, " (Yama ptrace_scope is 3: no process may attach; only a reboot changes that)");
	else if (*buf && atoi(buf) == 1 && !has_cap)
		fprintf(stderr, " (Yama ptrace_scope is 1: only a process's ancestors may attach to it; run "
			"memwatch-leak as root (CAP_SYS_PTRACE), start the program under memwatch-leak instead, "
			"or set kernel.yama.ptrace_scope=0)");
	else if (*buf && atoi(buf) >= 2 && !has_cap)
		fprintf(stderr, " (Yama ptrace_scope is %d: attaching needs CAP_SYS_PTRACE, i.e. root, "
			"or set kernel.yama.ptrace_scope=0)", atoi(buf));
	else if (other_user && !has_cap)
		fprintf(stderr, " (it runs as uid %d and we as uid %d without CAP_SYS_PTRACE: run as root or as its user)",
			atoi(uid), (int)getuid());
	else if (!has_cap)
		fprintf(stderr, " (no CAP_SYS_PTRACE; the process may be non-dumpable (setuid, prctl) or in another user namespace)");
	else
		fprintf(stderr, " (%s)", strerror(EPERM));
	fputc('\n', stderr);
}

static int gone(pid_t pid)
{
	char path[64], buf[512];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 1;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 1;
	buf[n] = 0;
	const char *p = strrchr(buf, ')');
	return !p || p[2] == 'Z' || p[2] == 'X';
}

/* a string at addr in the target */
static void read_string(pid_t pid, uintptr_t addr, char *buf, size_t cap)
{
	struct iovec local = { buf, cap - 1 }, remote = { (void *)addr, cap - 1 };
	ssize_t n = addr ? process_vm_readv(pid, &local, 1, &remote, 1, 0) : -1;
	buf[n > 0 ? (size_t)n : 0] = 0;
	buf[strnlen(buf, cap - 1)] = 0;
}

struct target {
	pid_t pid;
	uintptr_t dlopen, dlsym, dlerror;
	uintptr_t attach, detach;
};

/* libc's dlopen family in the target (glibc 2.34 and later: in libc.so.6) */
static int find_loader(struct target *t)
{
	t->dlopen = inject_symbol(t->pid, "libc.so.6", "dlopen");
	t->dlsym = inject_symbol(t->pid, "libc.so.6", "dlsym");
	t->dlerror = inject_symbol(t->pid, "libc.so.6", "dlerror");
	if (!t->dlopen) {	/* older glibc: libdl */
		t->dlopen = inject_symbol(t->pid, "libdl.so.2", "dlopen");
		t->dlsym = inject_symbol(t->pid, "libdl.so.2", "dlsym");
		t->dlerror = inject_symbol(t->pid, "libdl.so.2", "dlerror");
	}
	return t->dlopen && t->dlsym ? 0 : -1;
}

static int static_binary(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	FILE *f = fopen(path, "r");
	char line[4096];
	int dynamic = 0;
	while (f && fgets(line, sizeof(line), f))
		if (strstr(line, "/ld-linux") || strstr(line, "/libc.so"))
			dynamic = 1;
	if (f)
		fclose(f);
	return !dynamic;
}

/* set by do_attach: a thread was stopped inside malloc (tid, function) */
static int n_in_alloc;
static pid_t in_alloc_tid;
static char in_alloc_fn[64];

static int do_attach(struct target *t, const char *lib, const char *cfg)
{
	struct inj *j;
	long handle = 0, fn = 0, rc = 0;
	inject_check_allocator = 1;
	int began = inject_begin(&j, t->pid);
	inject_check_allocator = 0;
	if (began == 0)
		n_in_alloc = inject_in_allocator(j, &in_alloc_tid, in_alloc_fn, sizeof(in_alloc_fn));
	if (began < 0) {
		if (errno == EPERM)
			explain_eperm(t->pid);
		else
			fprintf(stderr, "memwatch-leak: %s: %s\n", inject_error(), strerror(errno));
		return -1;
	}
	if (inject_call(j, t->dlopen, 0, 2 /* RTLD_NOW | RTLD_LOCAL */, lib, 1, &handle) < 0)
		goto failed;
	if (!handle) {
		long msg = 0;
		char text[512] = "";
		if (t->dlerror && inject_call(j, t->dlerror, 0, 0, NULL, 0, &msg) == 0)
			read_string(t->pid, (uintptr_t)msg, text, sizeof(text));
		inject_end(j);
		fprintf(stderr, "memwatch-leak: process %d could not load %s: %s\n", (int)t->pid, lib,
			*text ? text : "dlopen failed");
		return -1;
	}
	if (inject_call(j, t->dlsym, (uintptr_t)handle, 0, "memwatch_leak_detach", 2, &fn) < 0)
		goto failed;
	t->detach = (uintptr_t)fn;
	if (inject_call(j, t->dlsym, (uintptr_t)handle, 0, "memwatch_leak_attach", 2, &fn) < 0)
		goto failed;
	t->attach = (uintptr_t)fn;
	if (!t->attach || !t->detach) {
		inject_end(j);
		fprintf(stderr, "memwatch-leak: %s has no attach entry points (an older build?)\n", lib);
		return -1;
	}
	if (inject_call(j, t->attach, 0, 0, cfg, 1, &rc) < 0)
		goto failed;
	inject_end(j);
	if (rc == -2) {
		fprintf(stderr, "memwatch-leak: cannot hook the allocator of process %d: malloc is defined in the "
			"executable itself (a statically linked allocator such as jemalloc or tcmalloc), so its calls "
			"do not go through the GOT\n", (int)t->pid);
		return -1;
	}
	if (rc <= 0) {
		fprintf(stderr, "memwatch-leak: cannot hook the allocator of process %d: %s\n", (int)t->pid,
			rc == 0 ? "no object calls malloc through its GOT" : "the library could not start tracking");
		return -1;
	}
	return 0;
failed:
	fprintf(stderr, "memwatch-leak: %s\n", inject_error());
	inject_end(j);
	return -1;
}

static int do_detach(struct target *t)
{
	struct inj *j;
	long rc = 0;
	if (inject_begin(&j, t->pid) < 0) {
		fprintf(stderr, "memwatch-leak: cannot stop process %d to detach: %s\n", (int)t->pid, inject_error());
		return -1;
	}
	int r = inject_call(j, t->detach, 0, 0, NULL, 0, &rc);
	inject_end(j);
	if (r < 0)
		fprintf(stderr, "memwatch-leak: %s\n", inject_error());
	return r;
}

int attach_main(const struct options *o, pid_t pid, unsigned duration, const char *lib)
{
	struct target t = { .pid = pid };
	if (pid <= 0 || (kill(pid, 0) < 0 && errno == ESRCH) || gone(pid)) {
		fprintf(stderr, "memwatch-leak: no such process: %d\n", (int)pid);
		return 1;
	}
	if (pid == getpid()) {
		fprintf(stderr, "memwatch-leak: cannot attach to itself\n");
		return 1;
	}
	const char *tracer = status_field(pid, "TracerPid:");
	char maps[64];
	snprintf(maps, sizeof(maps), "/proc/%d/maps", (int)pid);
	int mfd = open(maps, O_RDONLY | O_CLOEXEC);
	if (mfd >= 0)
		close(mfd);
	if ((tracer && atoi(tracer) > 0) || mfd < 0) {
		explain_eperm(pid);	/* maps unreadable: the same checks as ptrace */
		return 1;
	}
	if (static_binary(pid)) {
		fprintf(stderr, "memwatch-leak: cannot attach to process %d: it is statically linked "
			"(no dynamic loader, no libc.so to load the library with)\n", (int)pid);
		return 1;
	}
	if (find_loader(&t) < 0) {
		fprintf(stderr, "memwatch-leak: cannot attach to process %d: dlopen not found in its libc\n", (int)pid);
		return 1;
	}
	const char *tmpdir = getenv("TMPDIR");
	char dir[4096], cfg[4300];
	snprintf(dir, sizeof(dir), "%s/memwatch-leak.XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp");
	if (!mkdtemp(dir)) {
		fprintf(stderr, "memwatch-leak: cannot create a directory for dumps: %s\n", strerror(errno));
		return 1;
	}
	/* the target writes the dumps: as its own user */
	const char *uid = status_field(pid, "Uid:");
	const char *gid = uid ? NULL : NULL;
	(void)gid;
	if (uid && (uid_t)atoi(uid) != getuid())
		if (chown(dir, (uid_t)atoi(uid), (gid_t)-1) < 0)
			chmod(dir, 0733);
	snprintf(cfg, sizeof(cfg), "depth=%d interval=%u min_age=%u fds=%d dir=%s", o->depth, o->interval,
		 o->min_age, o->fds, dir);
	fe_main_pid = pid;
	struct timespec t0, now;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (do_attach(&t, lib, cfg) < 0) {
		report_dir_remove(dir);
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &now);
	double took = (double)(now.tv_sec - t0.tv_sec) + (double)(now.tv_nsec - t0.tv_nsec) / 1e9;
	fprintf(stderr, "memwatch-leak: attached to process %d in %.3f s", (int)pid, took);
	if (n_in_alloc)	/* the case the design is for: said, so that tests can know */
		fprintf(stderr, " (%d thread%s inside the allocator then: thread %d in %s)", n_in_alloc,
			n_in_alloc > 1 ? "s were" : " was", (int)in_alloc_tid, in_alloc_fn);
	fputc('\n', stderr);
	signal(SIGINT, on_stop);
	signal(SIGTERM, on_stop);
	signal(SIGHUP, on_stop);
	int exited = 0;
	while (!stop_now) {
		struct timespec tick = { 0, 100 * 1000 * 1000 };
		nanosleep(&tick, NULL);
		report_files(o, dir, "periodic.", pid, -1);
		if (gone(pid)) {
			exited = 1;
			break;
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (duration && now.tv_sec - t0.tv_sec >= (time_t)duration)
			break;
	}
	int rc = 0;
	if (!exited) {
		clock_gettime(CLOCK_MONOTONIC, &t0);
		if (do_detach(&t) < 0) {
			rc = 1;
		} else {
			clock_gettime(CLOCK_MONOTONIC, &now);
			took = (double)(now.tv_sec - t0.tv_sec) + (double)(now.tv_nsec - t0.tv_nsec) / 1e9;
			fprintf(stderr, "memwatch-leak: detached from process %d in %.3f s\n", (int)pid, took);
		}
	} else {
		fprintf(stderr, "memwatch-leak: process %d exited\n", (int)pid);
	}
	report_files(o, dir, "periodic.", pid, -1);
	report_dir_remove(dir);
	return rc;
}
