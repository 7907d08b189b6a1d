/*
 * events_hog MB READY_FILE - touches up to MB mebibytes of anonymous memory
 * and stops at its own first direct-reclaim stall, seen in
 * /proc/memwatch/events (opened before the first page is touched); then
 * prints "events_hog: PID stalled after N KiB" (or "... no stall in MB
 * MiB"), creates READY_FILE and holds its memory until killed.
 *
 * Looking every 256 KiB at the event stream stops it well before the OOM
 * killer acts (a process overrunning memory without swap stalls many times
 * before it is killed), so the test leaves no OOM report in the kernel log.
 * oom_score_adj 1000: if the OOM killer acts anyway, it picks this.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "tasks_common.h"

#define STEP		(1UL << 20)
#define CHECK_EVERY	(256UL * 1024)

static char buf[1 << 16];

/* Drains the non-blocking stream; 1 if a stall of ours went by. */
static int stalled(int fd, const char *needle)
{
	int found = 0;

	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf) - 1);

		if (n <= 0)
			return found;
		buf[n] = '\0';
		if (strstr(buf, needle))
			found = 1;
	}
}

int main(int argc, char **argv)
{
	unsigned long mb, i, off, kb = 0;
	char needle[64];
	int fd, adj, done = 0;

	if (argc != 3 || (mb = strtoul(argv[1], NULL, 10)) == 0) {
		fprintf(stderr, "usage: events_hog MB READY_FILE\n");
		return 2;
	}
	adj = open("/proc/self/oom_score_adj", O_WRONLY);
	if (adj >= 0) {
		if (write(adj, "1000", 4) != 4)
			perror("events_hog: oom_score_adj");
		close(adj);
	}
	fd = open("/proc/memwatch/events", O_RDONLY | O_NONBLOCK);
	if (fd < 0) {
		perror("events_hog: /proc/memwatch/events");
		return 1;
	}
	snprintf(needle, sizeof(needle), " stall %d %d ", (int)getpid(),
		 (int)getpid());
	for (i = 0; i < mb && !done; i++) {
		char *p = mmap(NULL, STEP, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (p == MAP_FAILED) {
			perror("events_hog: mmap");
			return 1;
		}
		for (off = 0; off < STEP && !done; off += 4096) {
			p[off] = 1;
			if ((off + 4096) % CHECK_EVERY == 0) {
				kb += CHECK_EVERY / 1024;
				done = stalled(fd, needle);
			}
		}
	}
	if (done)
		printf("events_hog: %d stalled after %lu KiB\n", (int)getpid(), kb);
	else
		printf("events_hog: %d no stall in %lu MiB\n", (int)getpid(), mb);
	fflush(stdout);
	close(open(argv[2], O_WRONLY | O_CREAT, 0644));
	for (;;)
		pause();
}
