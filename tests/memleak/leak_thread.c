/* Leaks inside threads: 4 threads leak 333 bytes each. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static void *worker(void *arg)
{
	char *scratch = malloc(333);	/* LEAK-THREAD */

	memset(scratch, (int)(long)arg, 333);
	for (int i = 0; i < 1000; i++)
		free(malloc(16 + i));	/* churn: must not leak */
	return NULL;
}

int main(void)
{
	pthread_t t[4];

	for (long i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, worker, (void *)i);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	return 0;
}
