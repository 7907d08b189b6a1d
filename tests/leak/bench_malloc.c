/* Synthetic malloc-heavy benchmark: N rounds of allocating a window of
 * blocks of mixed sizes, touching them and freeing half, with a little
 * work per block as in real code. Prints a checksum. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WINDOW 4096

int main(int argc, char **argv)
{
	long rounds = argc > 1 ? atol(argv[1]) : 2000;
	static char *win[WINDOW];
	unsigned long sum = 0, x = 12345;
	for (long r = 0; r < rounds; r++) {
		for (int i = 0; i < WINDOW; i++) {
			x = x * 6364136223846793005ul + 1442695040888963407ul;
			if (win[i] && (x >> 33) % 2) {
				free(win[i]);
				win[i] = NULL;
			}
			if (!win[i]) {
				size_t n = 16 + (x >> 40) % 240;
				win[i] = malloc(n);
				memset(win[i], (int)r, n);
				for (size_t k = 0; k < n; k += 8)
					sum += (unsigned char)win[i][k] * k;
			}
		}
	}
	for (int i = 0; i < WINDOW; i++)
		free(win[i]);
	printf("%lu\n", sum);
	return 0;
}
