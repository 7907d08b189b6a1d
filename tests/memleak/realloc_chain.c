/* A realloc chain whose last block leaks: 1000 bytes from the last realloc. */
#include <stdlib.h>
#include <string.h>

static void grow(void)
{
	char *p = malloc(10);
	p = realloc(p, 100);
	p = realloc(p, 1000);	/* LEAK-REALLOC */
	memset(p, 0, 1000);
}

int main(void)
{
	grow();
	return 0;
}
