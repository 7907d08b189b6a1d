/* fd_wrap.c - descriptors opened by the program and still open at exit.
 * One slot per descriptor number holds the opening stack; descriptors 0-2
 * and those inherited at start are never recorded (only our wrappers record). */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
#include "config.h"
#include "hooks.h"
#include "report.h"
#include "table.h"

#define MW_MAX_FD 65536
static struct mw_stack *mw_fds[MW_MAX_FD];

static inline int mw_fd_active(void)
{
	return mw_tracking && !mw_guard && mw_config.fds;
}

static int mw_fd_open(int fd)
{
	if (fd > 2 && fd < MW_MAX_FD && mw_fd_active()) {
		mw_guard++;
		__atomic_store_n(&mw_fds[fd], mw_stack_capture(), __ATOMIC_RELAXED);
		mw_guard--;
	}
	return fd;
}

static void mw_fd_close(int fd)
{
	if (fd >= 0 && fd < MW_MAX_FD)
		__atomic_store_n(&mw_fds[fd], NULL, __ATOMIC_RELAXED);
}

size_t mw_fd_leaks(struct mw_fd_leak *out, size_t cap)
{
	size_t n = 0;

	for (int fd = 3; fd < MW_MAX_FD && n < cap; fd++) {
		struct mw_stack *st = __atomic_load_n(&mw_fds[fd], __ATOMIC_RELAXED);

		/* closed behind our back (close_range, syscall): not a leak */
		if (st && fcntl(fd, F_GETFD) >= 0)
			out[n++] = (struct mw_fd_leak){ fd, st };
	}
	return n;
}

#define MW_REAL(sym)							\
	static __typeof__(sym) *real_;					\
	if (!real_)							\
		real_ = (__typeof__(sym) *)mw_next(#sym)

/* mode is only passed (and only read) when the flags need it */
#define MW_OPEN_MODE(flags)						\
	mode_t mode = 0;						\
	if ((flags) & (O_CREAT | __O_TMPFILE)) {			\
		va_list ap;						\
		va_start(ap, flags);					\
		mode = va_arg(ap, mode_t);				\
		va_end(ap);						\
	}

int open(const char *path, int flags, ...)
{
	MW_OPEN_MODE(flags);
	MW_REAL(open);
	return mw_fd_open(real_(path, flags, mode));
}

int open64(const char *path, int flags, ...)
{
	MW_OPEN_MODE(flags);
	MW_REAL(open64);
	return mw_fd_open(real_(path, flags, mode));
}

int openat(int dir, const char *path, int flags, ...)
{
	MW_OPEN_MODE(flags);
	MW_REAL(openat);
	return mw_fd_open(real_(dir, path, flags, mode));
}

int openat64(int dir, const char *path, int flags, ...)
{
	MW_OPEN_MODE(flags);
	MW_REAL(openat64);
	return mw_fd_open(real_(dir, path, flags, mode));
}

int creat(const char *path, mode_t mode)
{
	MW_REAL(creat);
	return mw_fd_open(real_(path, mode));
}

int creat64(const char *path, mode_t mode)
{
	MW_REAL(creat64);
	return mw_fd_open(real_(path, mode));
}

FILE *fopen(const char *path, const char *mode)
{
	FILE *f;
	MW_REAL(fopen);
	f = real_(path, mode);
	if (f)
		mw_fd_open(fileno(f));
	return f;
}

FILE *fopen64(const char *path, const char *mode)
{
	FILE *f;
	MW_REAL(fopen64);
	f = real_(path, mode);
	if (f)
		mw_fd_open(fileno(f));
	return f;
}

int fclose(FILE *f)
{
	MW_REAL(fclose);
	if (f)
		mw_fd_close(fileno(f));
	return real_(f);
}

int close(int fd)
{
	MW_REAL(close);
	mw_fd_close(fd);
	return real_(fd);
}

int socket(int domain, int type, int proto)
{
	MW_REAL(socket);
	return mw_fd_open(real_(domain, type, proto));
}

int socketpair(int domain, int type, int proto, int sv[2])
{
	int rc;
	MW_REAL(socketpair);
	rc = real_(domain, type, proto, sv);
	if (rc == 0) {
		mw_fd_open(sv[0]);
		mw_fd_open(sv[1]);
	}
	return rc;
}

int pipe(int fds[2])
{
	int rc;
	MW_REAL(pipe);
	rc = real_(fds);
	if (rc == 0) {
		mw_fd_open(fds[0]);
		mw_fd_open(fds[1]);
	}
	return rc;
}

int pipe2(int fds[2], int flags)
{
	int rc;
	MW_REAL(pipe2);
	rc = real_(fds, flags);
	if (rc == 0) {
		mw_fd_open(fds[0]);
		mw_fd_open(fds[1]);
	}
	return rc;
}

int dup(int fd)
{
	MW_REAL(dup);
	return mw_fd_open(real_(fd));
}

/* dup2/dup3 close newfd first: the new stack replaces the old record */
int dup2(int fd, int newfd)
{
	MW_REAL(dup2);
	return mw_fd_open(real_(fd, newfd));
}

int dup3(int fd, int newfd, int flags)
{
	MW_REAL(dup3);
	return mw_fd_open(real_(fd, newfd, flags));
}

int eventfd(unsigned int init, int flags)
{
	MW_REAL(eventfd);
	return mw_fd_open(real_(init, flags));
}

int memfd_create(const char *name, unsigned int flags)
{
	MW_REAL(memfd_create);
	return mw_fd_open(real_(name, flags));
}

int accept(int fd, struct sockaddr *addr, socklen_t *len)
{
	MW_REAL(accept);
	return mw_fd_open(real_(fd, addr, len));
}

int accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags)
{
	MW_REAL(accept4);
	return mw_fd_open(real_(fd, addr, len, flags));
}

int epoll_create(int size)
{
	MW_REAL(epoll_create);
	return mw_fd_open(real_(size));
}

int epoll_create1(int flags)
{
	MW_REAL(epoll_create1);
	return mw_fd_open(real_(flags));
}
