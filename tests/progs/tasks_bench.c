/*
 * tasks_bench MODE N - the loops of tests/bench/tasks-bench.sh; prints the
 * elapsed time as "MODE N ns".
 *   mmap N: N times: mmap 256 KiB, write one byte per page (64 page
 *           faults), munmap.
 *   fork N: N times: fork, the child exits at once, wait.
 *   run N CMD [ARGS]: runs CMD N times, its output to /dev/null (timing
 *           a reader without the shell's own cost).
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tasks_common.h"

#define BENCH_MAP	(256 * 1024)

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int loop_mmap(long n)
{
	long i, off;

	for (i = 0; i < n; i++) {
		char *p = mmap(NULL, BENCH_MAP, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (p == MAP_FAILED)
			return 1;
		for (off = 0; off < BENCH_MAP; off += 4096)
			p[off] = 1;
		munmap(p, BENCH_MAP);
	}
	return 0;
}

static int loop_fork(long n)
{
	long i;

	for (i = 0; i < n; i++) {
		pid_t pid = fork();

		if (pid < 0)
			return 1;
		if (pid == 0)
			_exit(0);
		waitpid(pid, NULL, 0);
	}
	return 0;
}

static int loop_run(long n, char **cmd)
{
	long i;

	for (i = 0; i < n; i++) {
		int status;
		pid_t pid = fork();

		if (pid < 0)
			return 1;
		if (pid == 0) {
			int fd = open("/dev/null", O_WRONLY);

			if (fd >= 0)
				dup2(fd, 1);
			execvp(cmd[0], cmd);
			_exit(127);
		}
		if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) ||
		    WEXITSTATUS(status))
			return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	long n = argc >= 3 ? atol(argv[2]) : 0;
	long long t0;
	int err;

	if (n > 0 && argc > 3 && !strcmp(argv[1], "run")) {
		t0 = now_ns();
		err = loop_run(n, argv + 3);
		printf("run %ld %lld\n", n, now_ns() - t0);
		return err;
	}
	if (n <= 0 || argc != 3 ||
	    (strcmp(argv[1], "mmap") && strcmp(argv[1], "fork"))) {
		fprintf(stderr, "usage: tasks_bench mmap|fork N | run N CMD [ARGS]\n");
		return 2;
	}
	t0 = now_ns();
	err = !strcmp(argv[1], "mmap") ? loop_mmap(n) : loop_fork(n);
	printf("%s %ld %lld\n", argv[1], n, now_ns() - t0);
	return err;
}
