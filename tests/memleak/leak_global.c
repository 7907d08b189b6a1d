/* Leak 4: a global pointer reassigned repeatedly: 4 x 64 bytes lost, the
 * last one still reachable. */
#include <stdlib.h>

char *current;

static void load(int i)
{
	current = malloc(64);	/* LEAK-4 */
	current[0] = (char)i;
}

int main(void)
{
	for (int i = 0; i < 5; i++)
		load(i);
	return 0;
}
