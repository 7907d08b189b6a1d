/*
 * fds.c - file descriptors opened and not closed (--fds). Every public call
 * that creates a descriptor is interposed, including the ones libc opens
 * inside itself (mkstemp, tmpfile, opendir, popen: their entry points) and
 * syscall() for calls glibc has no wrapper for. At exit /proc/self/fd is
 * listed: a descriptor open then that was neither there at start-up (0-2,
 * the parent's) nor opened by us is reported, with the stack that created
 * it, or as "unknown" when no hooked call returned it.
 */
#include "lib.h"
#include <dlfcn.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <pty.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/fanotify.h>
#include <sys/inotify.h>
#include <sys/pidfd.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <dirent.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#define FD_MAX 65536

/* the calls that create descriptors; "unknown" for one found open at exit
 * that none of them returned (a raw syscall instruction, libc's own) */
#define WHATS(X) X(OPEN, "open") X(OPENAT, "openat") X(CREAT, "creat") X(FOPEN, "fopen") \
	X(DUP, "dup") X(DUP2, "dup2") X(DUP3, "dup3") X(PIPE, "pipe") X(PIPE2, "pipe2") \
	X(SOCKET, "socket") X(SOCKETPAIR, "socketpair") X(ACCEPT, "accept") \
	X(ACCEPT4, "accept4") X(EVENTFD, "eventfd") X(EPOLL, "epoll_create") \
	X(MEMFD, "memfd_create") X(FCNTL, "fcntl") X(TIMERFD, "timerfd_create") \
	X(SIGNALFD, "signalfd") X(INOTIFY, "inotify_init") X(FANOTIFY, "fanotify_init") \
	X(PIDFD_OPEN, "pidfd_open") X(PIDFD_GETFD, "pidfd_getfd") \
	X(OPEN_BY_HANDLE, "open_by_handle_at") X(SYSCALL, "syscall") X(MKSTEMP, "mkstemp") \
	X(TMPFILE, "tmpfile") X(OPENDIR, "opendir") X(POPEN, "popen") X(FREOPEN, "freopen") \
	X(OPENPT, "posix_openpt") X(OPENPTY, "openpty") X(RECVMSG, "recvmsg") \
	X(UNKNOWN, "unknown")
#define WHAT_ENUM(e, s) W_##e,
#define WHAT_NAME(e, s) s,
enum { WHATS(WHAT_ENUM) W_COUNT };
static const char *const what_names[W_COUNT] = { WHATS(WHAT_NAME) };

enum { FD_OPEN = 1, FD_OWN = 2, FD_INHERITED = 4 };

struct fdent {
	uint32_t stack;
	uint8_t what;
	_Atomic uint8_t state;	/* FD_* */
};

static struct fdent *fd_tab;

/* each descriptor in /proc/self/fd (or, without /proc, each that is open) */
static void fd_each_open(void (*fn)(int fd, void *), void *arg)
{
	int dir = (int)syscall(SYS_openat, AT_FDCWD, "/proc/self/fd",
			       O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0) {
		for (int fd = 3; fd < FD_MAX; fd++)
			if (fcntl(fd, F_GETFD) != -1)
				fn(fd, arg);
		return;
	}
	static char buf[8192] __attribute__((aligned(8)));
	long n;
	while ((n = syscall(SYS_getdents64, dir, buf, sizeof(buf))) > 0) {
		for (long off = 0; off < n;) {
			struct dirent64 *e = (struct dirent64 *)(buf + off);
			off += e->d_reclen;
			if (e->d_name[0] < '0' || e->d_name[0] > '9')
				continue;
			int fd = atoi(e->d_name);
			if (fd != dir)
				fn(fd, arg);
		}
	}
	syscall(SYS_close, dir);
}

static void note_inherited(int fd, void *unused)
{
	(void)unused;
	if (fd >= 0 && fd < FD_MAX)
		atomic_store(&fd_tab[fd].state, FD_INHERITED);
}

/* what the process had before we ran is the parent's, never reported */
void mwl_fd_init(void)
{
	fd_tab = mwl_arena_alloc(sizeof(*fd_tab) * FD_MAX);
	if (fd_tab)
		fd_each_open(note_inherited, NULL);
}

static void *resolve(const char *name)
{
	mwl_busy++;	/* dlsym may allocate */
	void *p = dlsym(RTLD_NEXT, name);
	mwl_busy--;
	return p;
}

#define REAL(name) \
	static __typeof__(&name) real_##name; \
	if (!real_##name) \
		*(void **)&real_##name = resolve(#name)

/* a descriptor opened inside one of our hooks (libdw's, our dumps) is ours */
static void fd_opened(int fd, int what)
{
	if (fd < 3 || fd >= FD_MAX || !fd_tab)
		return;
	if (!mwl_tracking()) {
		if (atomic_load(&mwl_state) == ST_READY)
			atomic_store(&fd_tab[fd].state, FD_OWN);
		return;
	}
	mwl_busy++;
	fd_tab[fd].stack = mwl_stack_capture();
	fd_tab[fd].what = (uint8_t)what;
	atomic_store(&fd_tab[fd].state, FD_OPEN);
	mwl_busy--;
}

static void fd_closed(int fd)
{
	if (fd >= 0 && fd < FD_MAX && fd_tab)
		atomic_store(&fd_tab[fd].state, 0);
}

struct fd_walk {
	void (*fn)(int, uint32_t, const char *, void *);
	void *arg;
};

static void walk_one(int fd, void *arg)
{
	struct fd_walk *w = arg;
	if (fd < 3 || fd >= FD_MAX)
		return;
	int st = atomic_load(&fd_tab[fd].state);
	if (st & FD_OPEN)
		w->fn(fd, fd_tab[fd].stack, what_names[fd_tab[fd].what], w->arg);
	else if (!st)
		w->fn(fd, 0, what_names[W_UNKNOWN], w->arg);
}

/* every descriptor open now that the program created, known stack or not */
void mwl_fd_walk(void (*fn)(int, uint32_t, const char *, void *), void *arg)
{
	struct fd_walk w = { fn, arg };
	if (fd_tab)
		fd_each_open(walk_one, &w);
}


static mode_t mode_arg(int flags, va_list ap)
{
	return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE ? va_arg(ap, mode_t) : 0;
}

MWL_EXPORT int open(const char *path, int flags, ...)
{
	REAL(open);
	va_list ap;
	va_start(ap, flags);
	mode_t mode = mode_arg(flags, ap);
	va_end(ap);
	int fd = real_open(path, flags, mode);
	fd_opened(fd, W_OPEN);
	return fd;
}

MWL_EXPORT int open64(const char *path, int flags, ...)
{
	REAL(open64);
	va_list ap;
	va_start(ap, flags);
	mode_t mode = mode_arg(flags, ap);
	va_end(ap);
	int fd = real_open64(path, flags, mode);
	fd_opened(fd, W_OPEN);
	return fd;
}

MWL_EXPORT int openat(int dirfd, const char *path, int flags, ...)
{
	REAL(openat);
	va_list ap;
	va_start(ap, flags);
	mode_t mode = mode_arg(flags, ap);
	va_end(ap);
	int fd = real_openat(dirfd, path, flags, mode);
	fd_opened(fd, W_OPENAT);
	return fd;
}

MWL_EXPORT int openat64(int dirfd, const char *path, int flags, ...)
{
	REAL(openat64);
	va_list ap;
	va_start(ap, flags);
	mode_t mode = mode_arg(flags, ap);
	va_end(ap);
	int fd = real_openat64(dirfd, path, flags, mode);
	fd_opened(fd, W_OPENAT);
	return fd;
}

MWL_EXPORT int creat(const char *path, mode_t mode)
{
	REAL(creat);
	int fd = real_creat(path, mode);
	fd_opened(fd, W_CREAT);
	return fd;
}

MWL_EXPORT int close(int fd)
{
	REAL(close);
	fd_closed(fd);
	return real_close(fd);
}

MWL_EXPORT int close_range(unsigned first, unsigned last, int flags)
{
	REAL(close_range);
	if (!(flags & 4 /* CLOSE_RANGE_CLOEXEC */))
		for (unsigned fd = first; fd <= last && fd < FD_MAX; fd++)
			fd_closed((int)fd);
	return real_close_range(first, last, flags);
}

MWL_EXPORT FILE *fopen(const char *path, const char *mode)
{
	REAL(fopen);
	FILE *f = real_fopen(path, mode);
	if (f)
		fd_opened(fileno(f), W_FOPEN);
	return f;
}

MWL_EXPORT FILE *fopen64(const char *path, const char *mode)
{
	REAL(fopen64);
	FILE *f = real_fopen64(path, mode);
	if (f)
		fd_opened(fileno(f), W_FOPEN);
	return f;
}

/* fdopen keeps the descriptor's own opening stack: that is the useful one */
MWL_EXPORT FILE *fdopen(int fd, const char *mode)
{
	REAL(fdopen);
	return real_fdopen(fd, mode);
}

MWL_EXPORT int fclose(FILE *f)
{
	REAL(fclose);
	if (f)
		fd_closed(fileno(f));
	return real_fclose(f);
}

MWL_EXPORT int dup(int old)
{
	REAL(dup);
	int fd = real_dup(old);
	fd_opened(fd, W_DUP);
	return fd;
}

MWL_EXPORT int dup2(int old, int new)
{
	REAL(dup2);
	int fd = real_dup2(old, new);
	if (fd >= 0 && old != new)
		fd_opened(fd, W_DUP2);
	return fd;
}

MWL_EXPORT int dup3(int old, int new, int flags)
{
	REAL(dup3);
	int fd = real_dup3(old, new, flags);
	fd_opened(fd, W_DUP3);
	return fd;
}

MWL_EXPORT int pipe(int fds[2])
{
	REAL(pipe);
	int rc = real_pipe(fds);
	if (!rc) {
		fd_opened(fds[0], W_PIPE);
		fd_opened(fds[1], W_PIPE);
	}
	return rc;
}

MWL_EXPORT int pipe2(int fds[2], int flags)
{
	REAL(pipe2);
	int rc = real_pipe2(fds, flags);
	if (!rc) {
		fd_opened(fds[0], W_PIPE2);
		fd_opened(fds[1], W_PIPE2);
	}
	return rc;
}

MWL_EXPORT int socket(int domain, int type, int proto)
{
	REAL(socket);
	int fd = real_socket(domain, type, proto);
	fd_opened(fd, W_SOCKET);
	return fd;
}

MWL_EXPORT int socketpair(int domain, int type, int proto, int sv[2])
{
	REAL(socketpair);
	int rc = real_socketpair(domain, type, proto, sv);
	if (!rc) {
		fd_opened(sv[0], W_SOCKETPAIR);
		fd_opened(sv[1], W_SOCKETPAIR);
	}
	return rc;
}

MWL_EXPORT int accept(int s, struct sockaddr *addr, socklen_t *len)
{
	REAL(accept);
	int fd = real_accept(s, addr, len);
	fd_opened(fd, W_ACCEPT);
	return fd;
}

MWL_EXPORT int accept4(int s, struct sockaddr *addr, socklen_t *len, int flags)
{
	REAL(accept4);
	int fd = real_accept4(s, addr, len, flags);
	fd_opened(fd, W_ACCEPT4);
	return fd;
}

MWL_EXPORT int eventfd(unsigned int init, int flags)
{
	REAL(eventfd);
	int fd = real_eventfd(init, flags);
	fd_opened(fd, W_EVENTFD);
	return fd;
}

MWL_EXPORT int epoll_create(int size)
{
	REAL(epoll_create);
	int fd = real_epoll_create(size);
	fd_opened(fd, W_EPOLL);
	return fd;
}

MWL_EXPORT int epoll_create1(int flags)
{
	REAL(epoll_create1);
	int fd = real_epoll_create1(flags);
	fd_opened(fd, W_EPOLL);
	return fd;
}

MWL_EXPORT int memfd_create(const char *name, unsigned int flags)
{
	REAL(memfd_create);
	int fd = real_memfd_create(name, flags);
	fd_opened(fd, W_MEMFD);
	return fd;
}

/* --- the other calls that create descriptors ------------------------- */

MWL_EXPORT int creat64(const char *path, mode_t mode)
{
	REAL(creat64);
	int fd = real_creat64(path, mode);
	fd_opened(fd, W_CREAT);
	return fd;
}

/* _FORTIFY_SOURCE's open(), when the flags are not a constant */
int __open_2(const char *path, int flags);
int __open64_2(const char *path, int flags);
int __openat_2(int dirfd, const char *path, int flags);
int __openat64_2(int dirfd, const char *path, int flags);

MWL_EXPORT int __open_2(const char *path, int flags)
{
	REAL(__open_2);
	int fd = real___open_2(path, flags);
	fd_opened(fd, W_OPEN);
	return fd;
}

MWL_EXPORT int __open64_2(const char *path, int flags)
{
	REAL(__open64_2);
	int fd = real___open64_2(path, flags);
	fd_opened(fd, W_OPEN);
	return fd;
}

MWL_EXPORT int __openat_2(int dirfd, const char *path, int flags)
{
	REAL(__openat_2);
	int fd = real___openat_2(dirfd, path, flags);
	fd_opened(fd, W_OPENAT);
	return fd;
}

MWL_EXPORT int __openat64_2(int dirfd, const char *path, int flags)
{
	REAL(__openat64_2);
	int fd = real___openat64_2(dirfd, path, flags);
	fd_opened(fd, W_OPENAT);
	return fd;
}

/* the third argument is an int or a pointer: passed on as a word */
static int fcntl_common(int (*real)(int, int, ...), int fd, int cmd, void *arg)
{
	int ret = real(fd, cmd, arg);
	if (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC)
		fd_opened(ret, W_FCNTL);
	return ret;
}

MWL_EXPORT int fcntl(int fd, int cmd, ...)
{
	REAL(fcntl);
	va_list ap;
	va_start(ap, cmd);
	void *arg = va_arg(ap, void *);
	va_end(ap);
	return fcntl_common(real_fcntl, fd, cmd, arg);
}

int fcntl64(int fd, int cmd, ...);
MWL_EXPORT int fcntl64(int fd, int cmd, ...)
{
	REAL(fcntl64);
	va_list ap;
	va_start(ap, cmd);
	void *arg = va_arg(ap, void *);
	va_end(ap);
	return fcntl_common(real_fcntl64, fd, cmd, arg);
}

MWL_EXPORT int timerfd_create(int clock, int flags)
{
	REAL(timerfd_create);
	int fd = real_timerfd_create(clock, flags);
	fd_opened(fd, W_TIMERFD);
	return fd;
}

MWL_EXPORT int signalfd(int fd, const sigset_t *mask, int flags)
{
	REAL(signalfd);
	int ret = real_signalfd(fd, mask, flags);
	if (fd == -1)	/* otherwise it changes the mask of an existing one */
		fd_opened(ret, W_SIGNALFD);
	return ret;
}

MWL_EXPORT int inotify_init(void)
{
	REAL(inotify_init);
	int fd = real_inotify_init();
	fd_opened(fd, W_INOTIFY);
	return fd;
}

MWL_EXPORT int inotify_init1(int flags)
{
	REAL(inotify_init1);
	int fd = real_inotify_init1(flags);
	fd_opened(fd, W_INOTIFY);
	return fd;
}

MWL_EXPORT int fanotify_init(unsigned flags, unsigned event_flags)
{
	REAL(fanotify_init);
	int fd = real_fanotify_init(flags, event_flags);
	fd_opened(fd, W_FANOTIFY);
	return fd;
}

MWL_EXPORT int pidfd_open(pid_t pid, unsigned flags)
{
	REAL(pidfd_open);
	int fd = real_pidfd_open(pid, flags);
	fd_opened(fd, W_PIDFD_OPEN);
	return fd;
}

MWL_EXPORT int pidfd_getfd(int pidfd, int target, unsigned flags)
{
	REAL(pidfd_getfd);
	int fd = real_pidfd_getfd(pidfd, target, flags);
	fd_opened(fd, W_PIDFD_GETFD);
	return fd;
}

MWL_EXPORT int open_by_handle_at(int mount_fd, struct file_handle *h, int flags)
{
	REAL(open_by_handle_at);
	int fd = real_open_by_handle_at(mount_fd, h, flags);
	fd_opened(fd, W_OPEN_BY_HANDLE);
	return fd;
}

/*
 * syscall(): the calls glibc has no wrapper for (userfaultfd, openat2,
 * perf_event_open, io_uring_setup, ...) and the ones called raw. Six
 * words go on, whatever the call takes, as glibc's own syscall() does.
 */
MWL_EXPORT long syscall(long nr, ...)
{
	REAL(syscall);
	va_list ap;
	va_start(ap, nr);
	long a[6];
	for (int i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
	long ret = real_syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
	if (ret < 0)
		return ret;
	switch (nr) {
	case SYS_close:
		fd_closed((int)a[0]);
		break;
	case SYS_pipe: case SYS_pipe2: case SYS_socketpair: {
		int *fds = (int *)a[nr == SYS_socketpair ? 3 : 0];
		fd_opened(fds[0], W_SYSCALL);
		fd_opened(fds[1], W_SYSCALL);
		break;
	}
	case SYS_dup2: case SYS_dup3:
		if (a[0] != a[1])
			fd_opened((int)ret, W_SYSCALL);
		break;
	case SYS_fcntl:
		if (a[1] == F_DUPFD || a[1] == F_DUPFD_CLOEXEC)
			fd_opened((int)ret, W_SYSCALL);
		break;
	case SYS_signalfd: case SYS_signalfd4:
		if (a[0] == -1)
			fd_opened((int)ret, W_SYSCALL);
		break;
	case SYS_open: case SYS_openat: case SYS_openat2: case SYS_creat: case SYS_dup:
	case SYS_socket: case SYS_accept: case SYS_accept4: case SYS_eventfd:
	case SYS_eventfd2: case SYS_epoll_create: case SYS_epoll_create1:
	case SYS_memfd_create: case SYS_timerfd_create: case SYS_inotify_init:
	case SYS_inotify_init1: case SYS_fanotify_init: case SYS_pidfd_open:
	case SYS_pidfd_getfd: case SYS_open_by_handle_at: case SYS_userfaultfd:
	case SYS_perf_event_open: case SYS_io_uring_setup: case SYS_memfd_secret:
	case SYS_landlock_create_ruleset: case SYS_fsopen: case SYS_fsmount:
	case SYS_open_tree: case SYS_fspick:
		fd_opened((int)ret, W_SYSCALL);
		break;
	}
	return ret;
}

/* libc opens these inside itself: their public entry points are ours */
#define MKSTEMP_HOOK(name, params, args) \
	MWL_EXPORT int name params \
	{ \
		REAL(name); \
		int fd = real_##name args; \
		fd_opened(fd, W_MKSTEMP); \
		return fd; \
	}
MKSTEMP_HOOK(mkstemp, (char *t), (t))
MKSTEMP_HOOK(mkstemp64, (char *t), (t))
MKSTEMP_HOOK(mkostemp, (char *t, int fl), (t, fl))
MKSTEMP_HOOK(mkostemp64, (char *t, int fl), (t, fl))
MKSTEMP_HOOK(mkstemps, (char *t, int sl), (t, sl))
MKSTEMP_HOOK(mkstemps64, (char *t, int sl), (t, sl))
MKSTEMP_HOOK(mkostemps, (char *t, int sl, int fl), (t, sl, fl))
MKSTEMP_HOOK(mkostemps64, (char *t, int sl, int fl), (t, sl, fl))

MWL_EXPORT FILE *tmpfile(void)
{
	REAL(tmpfile);
	FILE *f = real_tmpfile();
	if (f)
		fd_opened(fileno(f), W_TMPFILE);
	return f;
}

MWL_EXPORT FILE *tmpfile64(void)
{
	REAL(tmpfile64);
	FILE *f = real_tmpfile64();
	if (f)
		fd_opened(fileno(f), W_TMPFILE);
	return f;
}

MWL_EXPORT FILE *freopen(const char *path, const char *mode, FILE *f)
{
	REAL(freopen);
	if (f)
		fd_closed(fileno(f));
	FILE *r = real_freopen(path, mode, f);
	if (r)
		fd_opened(fileno(r), W_FREOPEN);
	return r;
}

MWL_EXPORT FILE *freopen64(const char *path, const char *mode, FILE *f)
{
	REAL(freopen64);
	if (f)
		fd_closed(fileno(f));
	FILE *r = real_freopen64(path, mode, f);
	if (r)
		fd_opened(fileno(r), W_FREOPEN);
	return r;
}

MWL_EXPORT DIR *opendir(const char *path)
{
	REAL(opendir);
	DIR *d = real_opendir(path);
	if (d)
		fd_opened(dirfd(d), W_OPENDIR);
	return d;
}

/* fdopendir keeps the descriptor's own opening stack, as fdopen does */
MWL_EXPORT int closedir(DIR *d)
{
	REAL(closedir);
	fd_closed(dirfd(d));
	return real_closedir(d);
}

MWL_EXPORT FILE *popen(const char *cmd, const char *mode)
{
	REAL(popen);
	FILE *f = real_popen(cmd, mode);
	if (f)
		fd_opened(fileno(f), W_POPEN);
	return f;
}

MWL_EXPORT int pclose(FILE *f)
{
	REAL(pclose);
	if (f)
		fd_closed(fileno(f));
	return real_pclose(f);
}

MWL_EXPORT int posix_openpt(int flags)
{
	REAL(posix_openpt);
	int fd = real_posix_openpt(flags);
	fd_opened(fd, W_OPENPT);
	return fd;
}

MWL_EXPORT int getpt(void)
{
	REAL(getpt);
	int fd = real_getpt();
	fd_opened(fd, W_OPENPT);
	return fd;
}

MWL_EXPORT int openpty(int *master, int *slave, char *name, const struct termios *t,
		       const struct winsize *w)
{
	REAL(openpty);
	int rc = real_openpty(master, slave, name, t, w);
	if (!rc) {
		fd_opened(*master, W_OPENPTY);
		fd_opened(*slave, W_OPENPTY);
	}
	return rc;
}

/* descriptors passed over a unix socket (SCM_RIGHTS) are new ones here */
static void received(struct msghdr *m)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c; c = CMSG_NXTHDR(m, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		const int *fds = (const int *)CMSG_DATA(c);
		for (size_t i = 0; i < n; i++)
			fd_opened(fds[i], W_RECVMSG);
	}
}

MWL_EXPORT ssize_t recvmsg(int s, struct msghdr *m, int flags)
{
	REAL(recvmsg);
	ssize_t r = real_recvmsg(s, m, flags);
	if (r >= 0 && m && m->msg_controllen)
		received(m);
	return r;
}

MWL_EXPORT int recvmmsg(int s, struct mmsghdr *v, unsigned n, int flags, struct timespec *t)
{
	REAL(recvmmsg);
	int r = real_recvmmsg(s, v, n, flags, t);
	for (int i = 0; i < r; i++)
		if (v[i].msg_hdr.msg_controllen)
			received(&v[i].msg_hdr);
	return r;
}
