/* Leak kind 4: a global pointer reassigned repeatedly. Four of five
 * 300-byte blocks are definitely lost; the last is still reachable. */
#include <stdlib.h>
#include <string.h>

char *g_config;

static void load_config(int i)
{
	g_config = malloc(300);	/* LEAK:global */
	memset(g_config, i, 300);
}

int main(void)
{
	for (int i = 0; i < 5; i++)
		load_config(i);
	return 0;
}
