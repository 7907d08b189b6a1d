/* Class: stale stack words at exit, in threads still running. Each worker
 * drops blocks in a helper that returns (its stack below the worker's
 * stack pointer keeps stale pointers: lost) and keeps one block in a live
 * local (reachable), then blocks. argv[1] "main": main calls exit() while
 * they wait; "worker": the last worker calls exit() while main waits in
 * pthread_join. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int ready;
static int worker_exits;

__attribute__((noinline)) static void scratch(int id)
{
	char *tmp[4];
	for (int i = 0; i < 4; i++) {
		tmp[i] = malloc(32 + (size_t)id);	/* LEAK:scratch */
		memset(tmp[i], id, 32);
	}
	__asm__ volatile("" : : "r"(tmp) : "memory");
}

__attribute__((noinline)) static void *worker(void *arg)
{
	int id = (int)(long)arg;
	scratch(id);
	char *volatile live = malloc(200);	/* LEAK:live */
	pthread_mutex_lock(&mu);
	ready++;
	pthread_cond_broadcast(&cv);
	while (ready < 2)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
	if (worker_exits && id == 2)
		exit(0);
	for (;;)
		pause();
	return live;
}

int main(int argc, char **argv)
{
	worker_exits = argc > 1 && !strcmp(argv[1], "worker");
	pthread_t t[2];
	for (long i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, worker, (void *)(i + 1));
	pthread_mutex_lock(&mu);
	while (ready < 2)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
	if (worker_exits)
		pthread_join(t[0], NULL);
	exit(0);
}
