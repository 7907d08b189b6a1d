/*
 * A long-running program for memwatch-leak -p (tests/host/leak-attach.sh).
 *
 *   attach_target LOG [SECS]
 *
 * The main thread leaks one 48-byte block every 10 ms at the LEAK:timer
 * line and appends one byte to LOG per block, so the test knows how many
 * it leaked while attached without trusting a clock. Two threads churn
 * (malloc, calloc, realloc, C++-free-style pairs) keeping a pool of live
 * blocks whose contents they check; a third spins in malloc/free of large
 * blocks, so an attach almost always finds a thread inside malloc. Blocks
 * allocated before, during and after the attach are all freed at the end,
 * with their contents checked: the program prints "consistent" and exits
 * 0, or names the first bad block and exits 1. SIGTERM ends it early
 * (same check). SECS: run time, default 3600. Every 50th tick it also
 * opens /dev/null at LEAK:fd and never closes it, logging one byte to
 * LOG.fd (for -p --fds).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define POOL 512

static volatile sig_atomic_t done;
static _Atomic long bad;

static void on_term(int sig)
{
	(void)sig;
	done = 1;
}

struct blk {
	unsigned char *p;
	size_t n;
	unsigned char tag;
};

static void fill(struct blk *b)
{
	memset(b->p, b->tag, b->n);
}

static int check(const struct blk *b)
{
	for (size_t i = 0; i < b->n; i++)
		if (b->p[i] != b->tag)
			return -1;
	return malloc_usable_size(b->p) >= b->n ? 0 : -1;
}

static void *churn(void *arg)
{
	unsigned seed = (unsigned)(uintptr_t)arg;
	struct blk pool[POOL];
	memset(pool, 0, sizeof(pool));
	while (!done) {
		unsigned r = rand_r(&seed);
		struct blk *b = &pool[r % POOL];
		if (b->p) {
			if (check(b) < 0)
				bad++;
			if (r & 0x100) {	/* grow or shrink in place of free */
				size_t n = 1 + (r >> 12) % 700;
				unsigned char *q = realloc(b->p, n);
				if (!q) {
					bad++;
					continue;
				}
				size_t keep = n < b->n ? n : b->n;
				for (size_t i = 0; i < keep; i++)
					if (q[i] != b->tag)
						bad++;
				b->p = q;
				b->n = n;
				fill(b);
				continue;
			}
			free(b->p);
			b->p = NULL;
		} else {
			b->n = 1 + (r >> 12) % 500;
			b->p = (r & 0x200) ? calloc(1, b->n) : malloc(b->n);
			if (!b->p) {
				bad++;
				continue;
			}
			if ((r & 0x200) && b->p[b->n - 1])
				bad++;
			b->tag = (unsigned char)(r >> 4);
			fill(b);
		}
	}
	for (int i = 0; i < POOL; i++) {
		if (pool[i].p && check(&pool[i]) < 0)
			bad++;
		free(pool[i].p);
	}
	return NULL;
}

/* always somewhere inside malloc or free: large blocks, mmap'd or not */
static void *spin(void *arg)
{
	(void)arg;
	while (!done) {
		void *p = malloc(200 * 1024);
		void *q = aligned_alloc(4096, 64 * 1024);
		if (!p || !q || (uintptr_t)q % 4096)
			bad++;
		free(p);
		free(q);
	}
	return NULL;
}

static void fd_leak(int fdlog)
{
	int fd = open("/dev/null", O_RDONLY);	/* LEAK:fd */
	if (fd < 0 || write(fdlog, "f", 1) != 1)
		bad++;
}

static void *timer_leak(void)
{
	void *p = malloc(48);	/* LEAK:timer */
	memset(p, 0x5a, 48);
	return p;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: attach_target LOG [SECS]\n");
		return 2;
	}
	int log = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
	long secs = argc > 2 ? atol(argv[2]) : 3600;
	char fdpath[4096];
	snprintf(fdpath, sizeof(fdpath), "%s.fd", argv[1]);
	int fdlog = open(fdpath, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
	if (log < 0 || fdlog < 0)
		return 2;
	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);
	pthread_t t[3];
	pthread_create(&t[0], NULL, churn, (void *)1);
	pthread_create(&t[1], NULL, churn, (void *)2);
	pthread_create(&t[2], NULL, spin, NULL);
	struct timespec tick = { 0, 10 * 1000 * 1000 }, t0, now;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	printf("ready %d\n", (int)getpid());
	fflush(stdout);
	for (long tick_no = 1; !done; tick_no++) {
		timer_leak();
		if (tick_no % 50 == 0)
			fd_leak(fdlog);
		if (write(log, "x", 1) != 1)
			bad++;
		nanosleep(&tick, NULL);
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - t0.tv_sec >= secs)
			done = 1;
	}
	for (int i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
	if (bad) {
		printf("inconsistent: %ld bad blocks\n", (long)bad);
		return 1;
	}
	printf("consistent\n");
	return 0;
}
