/*
 * events_storm N [PAGES] - N times: mmap PAGES pages (default 1) anonymous,
 * munmap them: 2N events as fast as one CPU makes them. Prints
 * "storm N ns" (elapsed, CLOCK_MONOTONIC).
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>

#include "tasks_common.h"

int main(int argc, char **argv)
{
	struct timespec t0, t1;
	long i, n, len;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: events_storm N [PAGES]\n");
		return 2;
	}
	n = atol(argv[1]);
	len = (argc == 3 ? atol(argv[2]) : 1) * 4096;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < n; i++) {
		void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (p == MAP_FAILED || munmap(p, len))
			return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("storm %ld %lld\n", n,
	       (t1.tv_sec - t0.tv_sec) * 1000000000LL + (t1.tv_nsec - t0.tv_nsec));
	return 0;
}
