/* fork from a multi-threaded program: the child must not deadlock on a
 * lock held by a thread it lacks, and each process reports its own exit.
 * The parent leaks 77 bytes after the fork, the child 55. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile int stop;

static void *churn(void *arg)
{
	(void)arg;
	while (!stop)
		free(malloc(64));
	return NULL;
}

int main(void)
{
	pthread_t t;
	int status = 0;

	pthread_create(&t, NULL, churn, NULL);
	for (int i = 0; i < 20; i++) {
		pid_t pid = fork();

		if (pid == 0) {
			char *c = malloc(55);	/* LEAK-CHILD */
			memset(c, 0, 55);
			exit(0);
		}
		waitpid(pid, &status, 0);
	}
	stop = 1;
	pthread_join(t, NULL);
	char *p = malloc(77);	/* LEAK-PARENT */
	memset(p, 0, 77);
	return WEXITSTATUS(status);
}
