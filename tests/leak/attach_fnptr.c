/*
 * A long-running program that keeps its own pointers to the real malloc()
 * and free(), taken before any attach, for memwatch-leak -p
 * (tests/host/leak-attach.sh).
 *
 *   attach_fnptr LOG [SECS]
 *
 * Function pointers (as a library with its own saved allocator would):
 * blocks from malloc() (through the GOT: our hook while attached) go back
 * through saved_free, blocks from saved_malloc go back through free(), and
 * realloc() and saved_realloc() mix; every block's contents are checked.
 * The main thread also leaks one 56-byte block every 10 ms at LEAK:fnptr
 * (logging one byte per block to LOG). SIGTERM or SECS ends it:
 * "consistent" and exit 0, or the first bad block and exit 1.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void *(*volatile saved_malloc)(size_t) = malloc;
static void (*volatile saved_free)(void *) = free;
static void *(*volatile saved_realloc)(void *, size_t) = realloc;

static volatile sig_atomic_t done;
static long bad;

static void on_term(int sig)
{
	(void)sig;
	done = 1;
}

static int intact(const unsigned char *p, size_t n, unsigned char tag)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != tag)
			return 0;
	return 1;
}

#define BURST 16

/* one round of every mix: allocated one way, freed the other */
static void round_trip(unsigned r)
{
	unsigned char *b[BURST];
	size_t n = 200 + r % 300;
	for (int i = 0; i < BURST; i++) {
		b[i] = (i & 1) ? saved_malloc(n) : malloc(n);	/* MIX:alloc */
		if (!b[i]) {
			bad++;
			return;
		}
		memset(b[i], i + 1, n);
	}
	for (int i = 0; i < BURST; i++) {
		if (!intact(b[i], n, (unsigned char)(i + 1)))
			bad++;
		if (i % 4 == 2) {	/* grow through the other realloc first */
			unsigned char *q = (i & 1) ? realloc(b[i], 2 * n) : saved_realloc(b[i], 2 * n);
			if (!q || !intact(q, n, (unsigned char)(i + 1))) {
				bad++;
				continue;
			}
			b[i] = q;
		}
		if (i & 1)
			free(b[i]);
		else
			saved_free(b[i]);
	}
	/* large: mmap'd by glibc */
	void *big = malloc(300 * 1024);
	if (!big)
		bad++;
	else
		memset(big, 7, 300 * 1024), saved_free(big);
}

static void *fnptr_leak(void)
{
	void *p = malloc(56);	/* LEAK:fnptr */
	memset(p, 0x5a, 56);
	return p;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: attach_fnptr LOG [SECS]\n");
		return 2;
	}
	int log = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
	long ticks = (argc > 2 ? atol(argv[2]) : 3600) * 100;
	signal(SIGTERM, on_term);
	printf("ready\n");
	fflush(stdout);
	unsigned r = 1;
	for (long i = 0; i < ticks && !done; i++) {
		void *volatile p = fnptr_leak();
		(void)p;
		if (write(log, "x", 1) != 1)
			bad++;
		for (int k = 0; k < 20; k++)
			round_trip(r = r * 1103515245 + 12345);
		usleep(10000);
	}
	printf(bad ? "inconsistent\n" : "consistent\n");
	return bad ? 1 : 0;
}
