/* Leak kind 1: a temporary workspace allocated in a function, neither
 * returned nor freed. 1000 bytes definitely lost. */
#include <stdlib.h>
#include <string.h>

static int checksum(const char *s)
{
	char *work = malloc(1000);	/* LEAK:temp */
	int sum = 0;
	strcpy(work, s);
	for (char *p = work; *p; p++)
		sum += *p;
	return sum;
}

int main(void)
{
	return checksum("abc") == 294 ? 0 : 1;
}
