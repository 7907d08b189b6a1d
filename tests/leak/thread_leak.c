/* A leak inside a joined thread: 512 bytes definitely lost, allocated on
 * the thread's stack of calls. The main thread's blocks are freed. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static void *worker(void *arg)
{
	char *scratch = malloc(512);	/* LEAK:thread */
	memset(scratch, 7, 512);
	return arg;
}

int main(void)
{
	pthread_t t[2];
	char *keep = malloc(64);
	for (int i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, worker, keep);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	free(keep);
	return 0;
}
