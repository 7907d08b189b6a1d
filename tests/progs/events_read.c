/*
 * events_read MODE [ARGS] - reads /proc/memwatch/events the ways the
 * events test needs, printing one result line.
 *
 *   nonblock          open O_NONBLOCK, read until the ring is empty;
 *                     prints "eagain LINES" (errno EAGAIN ends it) or
 *                     "error ERRNO"
 *   small SIZE        read(SIZE bytes) past the two header lines; prints
 *                     "einval" when the kernel refused a buffer too small
 *                     for one line, "ok BYTES" otherwise
 *   poll DIR MS       drain, write DIR/polling, poll() up to MS ms; prints
 *                     "woken" when POLLIN came, "timeout" otherwise
 *   block DIR         drain, write DIR/blocked, then blocking read()s
 *                     until one returns 0 (module unloaded): "eof", or
 *                     "error ERRNO"
 *   epoll DIR MS      drain, add the file to an epoll set, write
 *                     DIR/polling, epoll_wait() up to MS ms, close; prints
 *                     "events N" (what epoll_wait returned)
 *   lag DIR           open, write DIR/open, wait for DIR/go (not reading
 *                     meanwhile), then print everything read; at the end
 *                     "# emitted E": status's events.emitted read when the
 *                     ring was drained (and stayed drained after the read)
 *   drain DIR         read blocking until DIR/stop exists and the ring is
 *                     empty, lines to stdout (a reader that keeps up)
 *   open              prints "ok" or "error ERRNO" (permission test)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/epoll.h>

#include "tasks_common.h"

#define EVENTS_FILE	"/proc/memwatch/events"

static char buf[1 << 16];

/* Reads until EAGAIN on a non-blocking fd; returns lines read or -errno. */
static long drain(int fd)
{
	long lines = 0;

	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		ssize_t i;

		if (n < 0)
			return errno == EAGAIN ? lines : -errno;
		for (i = 0; i < n; i++)
			lines += buf[i] == '\n';
	}
}

static int open_nonblock(void)
{
	int fd = open(EVENTS_FILE, O_RDONLY | O_NONBLOCK);

	if (fd < 0) {
		printf("error %d\n", errno);
		exit(1);
	}
	return fd;
}

/* Like drain() but the text goes to stdout; returns bytes or -errno. */
static long dump(int fd)
{
	long total = 0;

	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n < 0)
			return errno == EAGAIN ? total : -errno;
		if (fwrite(buf, 1, (size_t)n, stdout) != (size_t)n)
			return -EIO;
		total += n;
	}
}

/* events.emitted from status, read with read(2): no mmap, no event. */
static long long status_emitted(void)
{
	static char st[1 << 14];
	int fd = open("/proc/memwatch/status", O_RDONLY);
	ssize_t n, len = 0;
	char *p;

	if (fd < 0)
		return -1;
	while ((n = read(fd, st + len, sizeof(st) - 1 - len)) > 0)
		len += n;
	close(fd);
	st[len] = '\0';
	p = strstr(st, "\nevents.emitted ");
	return p ? atoll(p + strlen("\nevents.emitted ")) : -1;
}

static int mode_lag(const char *dir)
{
	int fd = open_nonblock(), i;
	long long emitted = -1;

	tasks_mark(dir, "open", (long)getpid());
	tasks_wait(dir, "go");
	for (i = 0; i < 100; i++) {
		if (dump(fd) < 0)
			return 1;
		emitted = status_emitted();
		if (dump(fd) == 0)
			break;
	}
	printf("# emitted %lld\n", emitted);
	return 0;
}

static int mode_drain(const char *dir)
{
	char stop[512];
	int fd = open_nonblock();
	struct pollfd p = { .fd = fd, .events = POLLIN };

	snprintf(stop, sizeof(stop), "%s/stop", dir);
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n > 0) {
			if (fwrite(buf, 1, (size_t)n, stdout) != (size_t)n)
				return 1;
			continue;
		}
		if (n < 0 && errno != EAGAIN)
			return 1;
		if (access(stop, F_OK) == 0)
			break;
		poll(&p, 1, 50);
	}
	fflush(stdout);
	return 0;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";
	long r;
	int fd;

	if (!strcmp(mode, "open") && argc == 2) {
		fd = open(EVENTS_FILE, O_RDONLY);
		if (fd < 0)
			printf("error %d\n", errno);
		else
			printf("ok\n");
		return 0;
	}
	if (!strcmp(mode, "nonblock") && argc == 2) {
		fd = open_nonblock();
		r = drain(fd);
		if (r < 0)
			printf("error %ld\n", -r);
		else
			printf("eagain %ld\n", r);
		return 0;
	}
	if (!strcmp(mode, "small") && argc == 3) {
		size_t size = strtoul(argv[2], NULL, 10);
		char line[256];
		ssize_t n;

		fd = open(EVENTS_FILE, O_RDONLY);
		if (fd < 0 || size > sizeof(buf))
			return 1;
		/* The two header lines, one read each (they fit in 256). */
		if (read(fd, line, sizeof(line) - 1) <= 0 ||
		    read(fd, line, sizeof(line) - 1) <= 0)
			return 1;
		n = read(fd, buf, size);
		if (n < 0 && errno == EINVAL)
			printf("einval\n");
		else if (n < 0)
			printf("error %d\n", errno);
		else
			printf("ok %zd\n", n);
		return 0;
	}
	if (!strcmp(mode, "poll") && argc == 4) {
		struct pollfd p = { .events = POLLIN };

		fd = open_nonblock();
		if (drain(fd) < 0)
			return 1;
		p.fd = fd;
		tasks_mark(argv[2], "polling", (long)getpid());
		r = poll(&p, 1, atoi(argv[3]));
		printf("%s\n", r == 1 && (p.revents & POLLIN) ? "woken" :
		       "timeout");
		return 0;
	}
	if (!strcmp(mode, "block") && argc == 3) {
		ssize_t n;

		fd = open_nonblock();
		if (drain(fd) < 0)
			return 1;
		/* The same open file, now blocking. */
		if (fcntl(fd, F_SETFL, 0) < 0)
			return 1;
		tasks_mark(argv[2], "blocked", (long)getpid());
		while ((n = read(fd, buf, sizeof(buf))) > 0)
			;
		if (n == 0)
			printf("eof\n");
		else
			printf("error %d\n", errno);
		return 0;
	}
	if (!strcmp(mode, "epoll") && argc == 4) {
		struct epoll_event ev = { .events = EPOLLIN };
		int ep = epoll_create1(0);

		fd = open_nonblock();
		if (ep < 0 || drain(fd) < 0 ||
		    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev))
			return 1;
		tasks_mark(argv[2], "polling", (long)getpid());
		r = epoll_wait(ep, &ev, 1, atoi(argv[3]));
		close(fd);
		close(ep);
		printf("events %ld\n", r);
		return 0;
	}
	if (!strcmp(mode, "lag") && argc == 3)
		return mode_lag(argv[2]);
	if (!strcmp(mode, "drain") && argc == 3)
		return mode_drain(argv[2]);
	fprintf(stderr, "usage: events_read open|nonblock|small SIZE|poll DIR MS|block DIR|epoll DIR MS|lag DIR|drain DIR\n");
	return 2;
}
