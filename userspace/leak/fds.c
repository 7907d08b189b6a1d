/*
 * fds.c - file descriptors opened and not closed (--fds). Only descriptors
 * created through these calls after start-up are tracked, so 0-2 and
 * whatever the parent passed down are never reported. A descriptor closed
 * behind our back (a raw syscall) is caught at exit by fcntl(F_GETFD).
 */
#include "lib.h"
#include <dlfcn.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#define FD_MAX 65536

enum { W_OPEN, W_OPENAT, W_CREAT, W_FOPEN, W_DUP, W_DUP2, W_DUP3, W_PIPE, W_PIPE2,
	W_SOCKET, W_SOCKETPAIR, W_ACCEPT, W_ACCEPT4, W_EVENTFD, W_EPOLL, W_MEMFD, W_COUNT };
static const char *const what_names[W_COUNT] = {
	"open", "openat", "creat", "fopen", "dup", "dup2", "dup3", "pipe", "pipe2",
	"socket", "socketpair", "accept", "accept4", "eventfd", "epoll_create", "memfd_create",
};

struct fdent {
	uint32_t stack;
	uint8_t what;
	_Atomic uint8_t open;
};

static struct fdent *fd_tab;

void mwl_fd_init(void)
{
	fd_tab = mwl_arena_alloc(sizeof(*fd_tab) * FD_MAX);
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

static void fd_opened(int fd, int what)
{
	if (fd < 3 || fd >= FD_MAX || !fd_tab || !mwl_tracking())
		return;
	mwl_busy++;
	fd_tab[fd].stack = mwl_stack_capture();
	fd_tab[fd].what = (uint8_t)what;
	atomic_store(&fd_tab[fd].open, 1);
	mwl_busy--;
}

static void fd_closed(int fd)
{
	if (fd >= 0 && fd < FD_MAX && fd_tab)
		atomic_store(&fd_tab[fd].open, 0);
}

void mwl_fd_walk(void (*fn)(int, uint32_t, const char *, void *), void *arg)
{
	for (int fd = 3; fd_tab && fd < FD_MAX; fd++)
		if (atomic_load(&fd_tab[fd].open) && fcntl(fd, F_GETFD) != -1)
			fn(fd, fd_tab[fd].stack, what_names[fd_tab[fd].what], arg);
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
