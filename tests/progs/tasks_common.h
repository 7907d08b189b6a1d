/*
 * tasks_common.h - handshake of the tasks workload programs with their
 * test: the program creates DIR/NAME files and waits for files the test
 * creates. Waiting polls access() every 5 ms: no mmap, no brk, no malloc,
 * so the waiting itself adds nothing to the counters under test.
 */
#ifndef TASKS_COMMON_H
#define TASKS_COMMON_H

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static inline void tasks_mark(const char *dir, const char *name, long value)
{
	char path[512], buf[32];
	int fd, n;

	snprintf(path, sizeof(path), "%s/%s.tmp", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return;
	n = snprintf(buf, sizeof(buf), "%ld\n", value);
	if (write(fd, buf, (size_t)n) != n) {
		close(fd);
		return;
	}
	close(fd);
	{
		char final[512];

		snprintf(final, sizeof(final), "%s/%s", dir, name);
		rename(path, final);	/* the test never sees a half file */
	}
}

static inline void tasks_wait(const char *dir, const char *name)
{
	struct timespec ts = { 0, 5 * 1000 * 1000 };
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	while (access(path, F_OK) != 0)
		nanosleep(&ts, NULL);
}

#endif
