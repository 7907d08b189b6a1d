/*
 * tasks_hold N DIR - N processes that stay alive until DIR/exit exists,
 * each with 16 KiB touched; writes DIR/ready (N) when all are up. For
 * reading the tasks file with 2,000+ processes in the benchmark.
 *
 * The children block in read() on a pipe whose write end only the parent
 * holds: they cost no CPU while the benchmark measures, and all wake at
 * once with EOF when the parent closes it.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "tasks_common.h"

int main(int argc, char **argv)
{
	long n = argc > 2 ? atol(argv[1]) : 0, i;
	const char *dir = argc > 2 ? argv[2] : NULL;
	int fds[2];

	if (!dir) {
		fprintf(stderr, "usage: tasks_hold N DIR\n");
		return 2;
	}
	if (pipe(fds))
		return 1;
	for (i = 0; i < n; i++) {
		pid_t pid = fork();

		if (pid < 0)
			break;
		if (pid == 0) {
			char *p = mmap(NULL, 16 * 1024, PROT_READ | PROT_WRITE,
				       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			char c;

			close(fds[1]);
			if (p != MAP_FAILED)
				memset(p, 1, 16 * 1024);
			while (read(fds[0], &c, 1) > 0)
				;
			_exit(0);
		}
	}
	close(fds[0]);
	tasks_mark(dir, "ready", i);
	tasks_wait(dir, "exit");
	close(fds[1]);
	while (wait(NULL) > 0)
		;
	return 0;
}
