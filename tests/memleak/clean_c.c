/* Frees everything it allocates, through every C entry point. */
#define _GNU_SOURCE
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void)
{
	void *p = malloc(10), *q = calloc(4, 8), *r = NULL, *a = aligned_alloc(64, 128);
	char *s = strdup("hello");
	FILE *f = fopen("/proc/self/status", "r");

	p = realloc(p, 200);
	p = reallocarray(p, 10, 30);
	if (posix_memalign(&r, 32, 100))
		return 1;
	free(memalign(16, 48));
	free(valloc(100));
	if (f)
		fclose(f);
	printf("%s\n", s);
	free(p);
	free(q);
	free(r);
	free(a);
	free(s);
	return 0;
}
