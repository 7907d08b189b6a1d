/* Class: every way a program creates a descriptor. Each call leaves one
 * descriptor open at a line marked FD:name (tests/host/leak.sh expects
 * each, with that line); the ones marked closed are closed again and must
 * not be reported. The raw syscall instruction at FD:raw (the only
 * /dev/zero) is seen by no hook: it must be listed with an unknown origin. */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/pidfd.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <unistd.h>

static int raw_open(const char *path)
{
	long ret;
	__asm__ volatile("syscall" : "=a"(ret)
			 : "0"((long)SYS_open), "D"(path), "S"((long)O_RDONLY)
			 : "rcx", "r11", "memory");
	return (int)ret;
}

int main(void)
{
	char tmpl[] = "/tmp/fd_kinds.XXXXXX";
	int base = open("/dev/null", O_RDONLY);	/* FD:open */
	int fd;
	fd = fcntl(base, F_DUPFD_CLOEXEC, 0);	/* FD:dupfd */
	fd = fcntl(base, F_DUPFD, 0);	/* closed */
	close(fd);
	fd = timerfd_create(CLOCK_MONOTONIC, 0);	/* FD:timerfd */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	fd = signalfd(-1, &set, 0);	/* FD:signalfd */
	fd = inotify_init1(IN_CLOEXEC);	/* FD:inotify */
	fd = epoll_create1(0);	/* FD:epoll */
	fd = eventfd(0, 0);	/* FD:eventfd */
	fd = memfd_create("fd_kinds", 0);	/* FD:memfd */
	fd = pidfd_open(getpid(), 0);	/* FD:pidfd */
	if (fd >= 0)
		fd = pidfd_getfd(fd, base, 0);	/* FD:pidfd_getfd */
	fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC);	/* FD:userfaultfd */
	fd = mkstemp(tmpl);	/* FD:mkstemp */
	unlink(tmpl);
	FILE *t = tmpfile();	/* FD:tmpfile */
	DIR *d = opendir("/");	/* FD:opendir */
	DIR *d2 = opendir("/");	/* closed */
	closedir(d2);
	FILE *p = popen("true", "r");	/* FD:popen */
	FILE *p2 = popen("true", "r");	/* closed */
	pclose(p2);
	int sv[2];
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);	/* FD:socketpair */
	close(sv[1]);
	fd = raw_open("/dev/zero");	/* FD:raw */
	(void)fd;
	(void)t;
	(void)d;
	(void)p;
	return 0;
}
