/*
 * suspects_work MODE - one of the workloads memwatch-read --suspects must
 * tell apart (tests/vm/suspects.sh). Every mode touches what it maps, so
 * RSS follows, and exits on its own after 120 s in case the test dies.
 *
 *   leak    malloc(64 KiB) every 100 ms, never freed: ~640 KiB/s, steadily
 *   saw     mmap 256 KiB every 100 ms for 2 s, then munmap it all: a sawtooth
 *   flat    maps 8 MiB once, then only reads it
 *   step    maps 4 MiB, after 3 s 16 MiB more once, then only reads
 *   churn   maps and unmaps 64 KiB..4 MiB blocks as fast as it can (a 1 ms
 *           pause each), keeping 8: busy, but flat on average. Ready once
 *           all 8 are mapped: a starved CPU (28 calls in 10 s seen under
 *           TCG) would otherwise still be filling them in the window, and
 *           filling up is growth
 *   burst FILE  quiet until FILE exists, 7 s more, then up to 2,000
 *           mmap+munmap pairs of 1 MiB a second, touching one page each
 *           (the test creates FILE as sampling starts, so the burst falls
 *           in the window's last fifth). A loaded TCG host was seen to
 *           allow only 89 pairs a second, under the 100 calls/s floor;
 *           at 1 MiB a call that is still 89 MiB/s, far over the
 *           10 MiB/s one, for no more CPU
 *
 * Prints "ready" on stdout once its first allocation is done.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define KiB 1024UL
#define MiB (1024 * KiB)

static void nap_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static char *map(size_t len)
{
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED) {
		perror("suspects_work: mmap");
		exit(1);
	}
	memset(p, 0x5a, len);
	return p;
}

static void ready(void)
{
	printf("ready\n");
	fflush(stdout);
}

static volatile char sink;

static void hold(const char *p, size_t len)
{
	for (;;) {
		for (size_t i = 0; i < len; i += 4096)
			sink = p[i];
		nap_ms(100);
	}
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";

	alarm(120);
	if (!strcmp(mode, "leak")) {
		for (int n = 0;; n++) {
			char *p = malloc(64 * KiB);

			if (!p)
				return 1;
			memset(p, n, 64 * KiB);
			if (!n)
				ready();
			nap_ms(100);
		}
	}
	if (!strcmp(mode, "saw")) {
		char *blocks[20];

		for (int round = 0;; round++) {
			for (int i = 0; i < 20; i++) {
				blocks[i] = map(256 * KiB);
				if (!round && !i)
					ready();
				nap_ms(100);
			}
			for (int i = 0; i < 20; i++)
				munmap(blocks[i], 256 * KiB);
		}
	}
	if (!strcmp(mode, "flat")) {
		char *p = map(8 * MiB);

		ready();
		hold(p, 8 * MiB);
	}
	if (!strcmp(mode, "step")) {
		char *p = map(4 * MiB);

		ready();
		nap_ms(3000);
		p = map(16 * MiB);
		hold(p, 16 * MiB);
	}
	if (!strcmp(mode, "churn")) {
		char *blocks[8] = { 0 };
		size_t lens[8] = { 0 };
		unsigned seed = 12345;

		for (int i = 0; i < 8; i++) {
			lens[i] = (64 * KiB) << (rand_r(&seed) % 7);	/* 64 KiB..4 MiB */
			blocks[i] = map(lens[i]);
		}
		ready();
		for (;;) {
			int i = rand_r(&seed) % 8;

			munmap(blocks[i], lens[i]);
			lens[i] = (64 * KiB) << (rand_r(&seed) % 7);
			blocks[i] = map(lens[i]);
			nap_ms(1);
		}
	}
	if (!strcmp(mode, "burst") && argc > 2) {
		ready();
		while (access(argv[2], F_OK))
			nap_ms(50);
		nap_ms(7000);
		for (;;) {
			for (int i = 0; i < 20; i++) {
				char *p = mmap(NULL, MiB, PROT_READ | PROT_WRITE,
					       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

				if (p == MAP_FAILED) {
					perror("suspects_work: mmap");
					return 1;
				}
				p[0] = 1;
				munmap(p, MiB);
			}
			nap_ms(10);
		}
	}
	fprintf(stderr, "usage: suspects_work leak|saw|flat|step|churn|burst FILE\n");
	return 2;
}
