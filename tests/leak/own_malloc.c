/*
 * An executable with its own allocator linked in (as a static jemalloc or
 * tcmalloc would be): its calls to malloc go straight to its own code, not
 * through a GOT entry, so memwatch-leak -p must refuse it. Sleeps ARGV[1]
 * seconds (default 60), allocating now and then.
 */
#define _GNU_SOURCE
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static char *arena, *next;

void *malloc(size_t n)
{
	if (!arena) {
		arena = mmap(NULL, 64 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		next = arena;
	}
	n = (n + 15) & ~(size_t)15;
	if (arena == MAP_FAILED || next + n + 16 > arena + (64 << 20))
		return NULL;
	*(size_t *)next = n;
	next += 16;
	void *p = next;
	next += n;
	return p;
}

void free(void *p) { (void)p; }

void *calloc(size_t a, size_t b)
{
	void *p = malloc(a * b);
	if (p)
		memset(p, 0, a * b);
	return p;
}

void *realloc(void *p, size_t n)
{
	void *q = malloc(n);
	if (q && p) {
		size_t old = ((size_t *)p)[-2];
		memcpy(q, p, old < n ? old : n);
	}
	return q;
}

int main(int argc, char **argv)
{
	int secs = argc > 1 ? (int)strtol(argv[1], NULL, 10) : 60;
	for (int i = 0; i < secs * 10; i++) {
		free(malloc(100));
		usleep(100000);
	}
	return 0;
}
