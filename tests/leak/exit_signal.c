/* Dies by SIGABRT after leaking: memwatch-leak must die the same way. */
#include <stdlib.h>

int main(void)
{
	volatile char *p = malloc(10);
	p[0] = 1;
	abort();
}
