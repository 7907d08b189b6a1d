/* Allocates before main, from a constructor: 123 bytes definitely lost. */
#include <stdlib.h>
#include <string.h>

__attribute__((constructor)) static void early(void)
{
	char *p = malloc(123);	/* LEAK:startup */
	memset(p, 0, 123);
}

int main(void)
{
	return 0;
}
