/* Four threads allocate and free 20,000 blocks each, half of them freed by
 * another thread (a shared exchange array), while the main thread reads
 * malloc_usable_size() of live ones. Each thread then leaks 10 blocks of
 * 33 bytes: 1,320 bytes definitely lost, nothing else. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <malloc.h>

#define THREADS 4
#define ROUNDS 20000
#define SLOTS 64

static void *_Atomic exchange[SLOTS];

static void *worker(void *arg)
{
	unsigned x = (unsigned)(uintptr_t)arg * 2654435761u + 1;
	for (int i = 0; i < ROUNDS; i++) {
		x = x * 1103515245u + 12345u;
		size_t n = 1 + (x >> 16) % 300;
		char *p = malloc(n);
		memset(p, (int)i, n);
		if (x & 0x10000) {
			/* hand it over; free whatever was there (another thread's) */
			void *old = atomic_exchange(&exchange[(x >> 8) % SLOTS], p);
			free(old);
		} else {
			free(p);
		}
	}
	for (int i = 0; i < 10; i++) {
		char *lost = malloc(33);	/* LEAK:churn */
		memset(lost, 1, 33);
	}
	return NULL;
}

int main(void)
{
	pthread_t t[THREADS];
	for (int i = 0; i < THREADS; i++)
		pthread_create(&t[i], NULL, worker, (void *)(uintptr_t)i);
	for (int k = 0; k < 1000; k++)
		for (int i = 0; i < SLOTS; i++) {
			void *p = atomic_exchange(&exchange[i], NULL);
			if (p && malloc_usable_size(p) == 0)
				abort();
			free(p);
		}
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	for (int i = 0; i < SLOTS; i++)
		free(atomic_exchange(&exchange[i], NULL));
	return 0;
}
