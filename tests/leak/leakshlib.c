/* The library half of shlib_user: 256 bytes definitely lost per call,
 * allocated in a shared object (PIC, loaded at a random address). */
#include <stdlib.h>
#include <string.h>

int shlib_leak(int x)
{
	int *v = malloc(256);	/* LEAK:shlib */
	memset(v, 0, 256);
	v[0] = x;
	return v[0] + 1;
}
