/*
 * tasks_fill K - start K child processes, each with one event (a 16 KiB
 * mmap, touched), and report memwatch's tasks counters before, while all K
 * are alive, and after they have exited:
 *
 *   before procs_used U procs_dropped D threads_used U threads_dropped D events_dropped E
 *   full   ...
 *   after  ...
 *
 * For exact overflow counts: nothing but this program and its children
 * runs between "before" and "full" (the test shell waits for it and forks
 * nothing), so every child either took a free entry or was counted once in
 * the dropped counters: full.used - before.used + full.dropped -
 * before.dropped == K, for processes and for threads alike. Status is
 * read with open/read/close only; the children block in read() on a pipe
 * the parent holds, and leave together when it closes it.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *const fill_keys[] = {
	"tasks.procs_used", "tasks.procs_dropped", "tasks.threads_used",
	"tasks.threads_dropped", "tasks.events_dropped",
};
#define FILL_NKEYS (sizeof(fill_keys) / sizeof(fill_keys[0]))

static char fill_buf[64 * 1024];

/* Reads the status file into a static buffer: no malloc, no new mapping. */
static int fill_read_status(unsigned long long *vals)
{
	int fd = open("/proc/memwatch/status", O_RDONLY);
	size_t len = 0;
	ssize_t n;
	unsigned int i;

	if (fd < 0)
		return -1;
	while (len < sizeof(fill_buf) - 1 &&
	       (n = read(fd, fill_buf + len, sizeof(fill_buf) - 1 - len)) > 0)
		len += (size_t)n;
	close(fd);
	fill_buf[len] = '\0';
	for (i = 0; i < FILL_NKEYS; i++) {
		size_t kl = strlen(fill_keys[i]);
		char *p = fill_buf;

		vals[i] = ~0ULL;
		while ((p = strstr(p, fill_keys[i]))) {
			if ((p == fill_buf || p[-1] == '\n') && p[kl] == ' ') {
				vals[i] = strtoull(p + kl + 1, NULL, 10);
				break;
			}
			p += kl;
		}
		if (vals[i] == ~0ULL)
			return -1;
	}
	return 0;
}

static void fill_print(const char *label, const unsigned long long *v)
{
	printf("%s procs_used %llu procs_dropped %llu threads_used %llu threads_dropped %llu events_dropped %llu\n",
	       label, v[0], v[1], v[2], v[3], v[4]);
}

int main(int argc, char **argv)
{
	unsigned long long before[FILL_NKEYS], full[FILL_NKEYS], after[FILL_NKEYS];
	long k = argc == 2 ? atol(argv[1]) : -1, i, up = 0;
	int go[2], ready[2];
	char c;

	if (k < 0) {
		fprintf(stderr, "usage: tasks_fill K\n");
		return 2;
	}
	if (pipe(go) || pipe(ready))
		return 1;
	if (fill_read_status(before)) {
		fprintf(stderr, "tasks_fill: cannot read tasks counters from /proc/memwatch/status\n");
		return 1;
	}
	for (i = 0; i < k; i++) {
		pid_t pid = fork();

		if (pid < 0) {
			perror("tasks_fill: fork");
			return 1;
		}
		if (pid == 0) {
			char *p = mmap(NULL, 16 * 1024, PROT_READ | PROT_WRITE,
				       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

			close(go[1]);
			close(ready[0]);
			if (p != MAP_FAILED)
				memset(p, 1, 16 * 1024);
			if (write(ready[1], "x", 1) != 1)
				_exit(1);
			while (read(go[0], &c, 1) > 0)
				;
			_exit(0);
		}
	}
	close(go[0]);
	close(ready[1]);
	while (up < k && read(ready[0], &c, 1) == 1)
		up++;
	if (up != k || fill_read_status(full)) {
		fprintf(stderr, "tasks_fill: %ld of %ld children came up\n", up, k);
		return 1;
	}
	close(go[1]);
	while (wait(NULL) > 0)
		;
	if (fill_read_status(after))
		return 1;
	fill_print("before", before);
	fill_print("full", full);
	fill_print("after", after);
	return 0;
}
