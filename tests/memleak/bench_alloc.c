/* Benchmark workload (tests/bench/memleak-bench.sh), not a test: N rounds of
 * malloc + fill + free over a 4096-slot working set, sizes 16..4111 bytes,
 * from three call sites; prints a checksum so no work is optimised away. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SLOTS 4096

static char *slot[SLOTS];

static char *make_small(unsigned r) { return malloc(16 + (r & 255)); }
static char *make_big(unsigned r) { return malloc(16 + (r & 4095)); }
static char *make_zero(unsigned r) { return calloc(1, 16 + (r & 1023)); }

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 2000000;
	unsigned r = 12345, sum = 0;

	for (long i = 0; i < n; i++) {
		unsigned k;
		char *p;

		r = r * 1103515245u + 12345u;
		k = (r >> 8) % SLOTS;
		free(slot[k]);
		p = (r & 3) == 0 ? make_big(r >> 4) : (r & 3) == 1 ? make_zero(r >> 4) : make_small(r >> 4);
		memset(p, (int)i, 16);
		sum += (unsigned char)p[7];
		slot[k] = p;
	}
	for (int k = 0; k < SLOTS; k++)
		free(slot[k]);
	printf("%u\n", sum);
	return 0;
}
