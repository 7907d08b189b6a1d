/* A clean C program: threads, stdio, strdup, realloc; everything freed. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *work(void *arg)
{
	char *s = strdup((const char *)arg);
	for (int i = 0; i < 100; i++) {
		char *b = malloc((size_t)(i + 1) * 8);
		b = realloc(b, (size_t)(i + 1) * 16);
		free(b);
	}
	free(s);
	return NULL;
}

int main(void)
{
	pthread_t t[4];
	for (int i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, work, "hello");
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	char *line = NULL;
	size_t n = 0;
	FILE *f = fopen("/proc/self/status", "r");
	if (f) {
		while (getline(&line, &n, f) > 0)
			;
		fclose(f);
	}
	free(line);
	printf("clean\n");
	return 0;
}
