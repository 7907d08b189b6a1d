/*
 * tasks_fork N [THREADS] - N short-lived processes, one after the other:
 * each child maps and touches 64 KiB (so the module takes entries for it)
 * and, with THREADS > 0, starts that many threads that do the same, then
 * exits. Used to check that exited tasks leave the module's tables, and to
 * overflow a small table. Prints "forked N" at the end.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "tasks_common.h"

static void *touch(void *arg)
{
	char *p = mmap(NULL, 64 * 1024, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	(void)arg;
	if (p != MAP_FAILED)
		memset(p, 1, 64 * 1024);
	return NULL;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 2000;
	int threads = argc > 2 ? atoi(argv[2]) : 0;
	long i;

	for (i = 0; i < n; i++) {
		pid_t pid = fork();

		if (pid < 0)
			return 1;
		if (pid == 0) {
			pthread_t t[16];
			int k;

			if (threads > 16)
				threads = 16;
			for (k = 0; k < threads; k++)
				pthread_create(&t[k], NULL, touch, NULL);
			touch(NULL);
			for (k = 0; k < threads; k++)
				pthread_join(t[k], NULL);
			_exit(0);
		}
		waitpid(pid, NULL, 0);
	}
	printf("forked %ld\n", n);
	return 0;
}
