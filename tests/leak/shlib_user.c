/* Calls into libleakshlib.so, which leaks 256 bytes per call (twice).
 * scrub() overwrites the dead frames and leaves no heap address in a
 * scratch register: a stale copy of the last pointer would make the block
 * look reachable to any conservative scan (valgrind's too). */
#include <string.h>

int shlib_leak(int x);

static void scrub(void)
{
	volatile char buf[4096];
	memset((char *)buf, 0, sizeof(buf));
}

int main(void)
{
	int r = shlib_leak(1) + shlib_leak(2);
	scrub();
	return r == 5 ? 0 : 1;
}
