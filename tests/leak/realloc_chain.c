/* A buffer grown by realloc and dropped: the block is attributed to the
 * last realloc (4096 bytes, definitely lost). A second chain is freed. */
#include <stdlib.h>

static char *grow(char *p, size_t n)
{
	return realloc(p, n);	/* LEAK:realloc */
}

int main(void)
{
	char *p = NULL;
	for (size_t n = 16; n <= 4096; n *= 2)
		p = grow(p, n);
	p[0] = 1;
	p = NULL;
	char *q = malloc(10);
	q = realloc(q, 20000);
	free(q);
	return 0;
}
