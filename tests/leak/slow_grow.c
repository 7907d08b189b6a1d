/* Grows by 1000 bytes every 100 ms for ARGV[1] tenths of a second (default
 * 25), keeping every block reachable: material for --interval reports. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

void *g_blocks[1000];

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 25;
	struct timespec t = { 0, 100 * 1000 * 1000 };
	for (int i = 0; i < n && i < 1000; i++) {
		g_blocks[i] = malloc(1000);	/* LEAK:grow */
		memset(g_blocks[i], 1, 1000);
		nanosleep(&t, NULL);
	}
	return 0;
}
