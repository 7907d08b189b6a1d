/*
 * attach_sleeper - a small dynamically linked program for memwatch-leak -p
 * inside the VM (tests/vm/attach.sh): it allocates and frees a block every
 * 20 ms, so its malloc is called through its GOT, and runs until killed
 * (or SECS). Prints "ready" once started.
 *
 *   attach_sleeper [SECS]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int main(int argc, char **argv)
{
	long ticks = (argc > 1 ? atol(argv[1]) : 600) * 50;
	printf("ready\n");
	fflush(stdout);
	for (long i = 0; i < ticks; i++) {
		char *volatile p = malloc(64 + (size_t)(i % 64));
		if (p)
			memset(p, 1, 64);
		free(p);
		struct timespec ts = { 0, 20 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	return 0;
}
