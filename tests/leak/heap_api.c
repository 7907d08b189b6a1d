/* The allocator's whole interface through memwatch-leak's headers: every
 * aligned allocator keeps its alignment, malloc_usable_size() covers the
 * request and can be written, realloc() keeps contents (also of aligned
 * blocks), realloc(p, 0) frees, calloc() zeroes, bad alignments fail as
 * glibc says. Prints "heap_api: ok" or the first failure (exit 1); leaks
 * 100 + 50 + 64 + 10 bytes from aligned allocators. "heap_api pvalloc"
 * also tries pvalloc(), which valgrind does not support. */
#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CHECK(c) do { if (!(c)) { printf("heap_api: failed: %s (line %d)\n", #c, __LINE__); return 1; } } while (0)

static void *leaked[8];

static int filled(const unsigned char *p, size_t n, unsigned char v)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != v)
			return 0;
	return 1;
}

int main(int argc, char **argv)
{
	volatile size_t huge = SIZE_MAX / 2;	/* volatile: not a compile-time error */
	size_t page = (size_t)getpagesize();
	void *p;

	leaked[0] = memalign(64, 100);	/* LEAK:memalign */
	CHECK(leaked[0] && (uintptr_t)leaked[0] % 64 == 0);
	CHECK(posix_memalign(&leaked[1], 4096, 50) == 0);	/* LEAK:posix_memalign */
	CHECK((uintptr_t)leaked[1] % 4096 == 0);
	leaked[2] = aligned_alloc(32, 64);	/* LEAK:aligned_alloc */
	CHECK(leaked[2] && (uintptr_t)leaked[2] % 32 == 0);
	leaked[3] = valloc(10);	/* LEAK:valloc */
	CHECK(leaked[3] && (uintptr_t)leaked[3] % page == 0);
	CHECK(posix_memalign(&p, 3, 10) == EINVAL);
	CHECK(posix_memalign(&p, 4, 10) == EINVAL);

	/* usable size: at least the request, all of it writable */
	for (size_t n = 0; n < 300; n += 7) {
		unsigned char *b = malloc(n);
		size_t u = malloc_usable_size(b);
		CHECK(b && u >= n && u < n + 64);
		memset(b, 0xa5, u);
		free(b);
	}
	CHECK(malloc_usable_size(NULL) == 0);

	/* realloc keeps the contents, growing and shrinking, also aligned */
	unsigned char *r = malloc(10);
	memset(r, 1, 10);
	r = realloc(r, 5000);
	CHECK(r && filled(r, 10, 1));
	memset(r, 2, 5000);
	r = realloc(r, 20);
	CHECK(r && filled(r, 20, 2));
	free(r);
	unsigned char *a = memalign(256, 300);
	memset(a, 3, 300);
	a = realloc(a, 1000);
	CHECK(a && filled(a, 300, 3));
	free(a);
	CHECK(posix_memalign(&p, 128, 40) == 0);
	memset(p, 4, 40);
	p = realloc(p, 30);
	CHECK(p && filled(p, 30, 4));
	free(p);
	p = malloc(10);
	CHECK(realloc(p, 0) == NULL);	/* frees, as glibc does */
	p = reallocarray(NULL, 10, 10);
	CHECK(p);
	free(p);
	CHECK(reallocarray(NULL, huge, 3) == NULL && errno == ENOMEM);

	unsigned char *z = calloc(100, 3);
	CHECK(z && filled(z, 300, 0));
	free(z);
	CHECK(malloc(huge * 2 - 8) == NULL);
	CHECK(calloc(huge, 3) == NULL);

	if (argc > 1 && !strcmp(argv[1], "pvalloc")) {	/* valgrind aborts on it */
		void *pv = pvalloc(10);
		CHECK(pv && (uintptr_t)pv % page == 0 && malloc_usable_size(pv) >= 10);
		free(pv);
	}

	printf("heap_api: ok\n");
	memset(leaked, 0, sizeof(leaked));	/* the aligned blocks: lost */
	return 0;
}
