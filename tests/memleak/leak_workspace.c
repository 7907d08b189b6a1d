/* Leak 1: a temporary workspace, neither returned nor freed. Exits 3 so the
 * test sees the status pass through. */
#include <stdlib.h>
#include <string.h>

static int checksum(const char *s)
{
	char *work = malloc(1000);	/* LEAK-1 */
	int sum = 0;

	strcpy(work, s);
	for (char *p = work; *p; p++)
		sum += *p;
	return sum;
}

int main(void)
{
	return checksum("memwatch") > 0 ? 3 : 1;
}
