/* Class: inlined frames. At -O2 smooth() and make_buf() are inlined into
 * their callers; each inlined call must still be a frame of its own, named
 * after the inlined function, the innermost at the allocating line and
 * each caller at its call site, as addr2line -i and valgrind show them. */
#include <stdlib.h>
#include <string.h>

static inline __attribute__((always_inline)) char *make_buf(size_t n)
{
	char *p = malloc(n);	/* LEAK:make_buf */
	memset(p, 7, n);
	return p;
}

static inline __attribute__((always_inline)) int smooth(int n)
{
	char *p = make_buf((size_t)n * 8);	/* LEAK:smooth_call */
	return p[n];
}

__attribute__((noinline)) int filter(int n)
{
	return smooth(n) + smooth(n + 1);	/* LEAK:filter_call */
}

int main(int argc, char **argv)
{
	(void)argv;
	int r = filter(argc + 9);	/* LEAK:main_call */
	int *q = malloc(24);	/* LEAK:direct */
	q[0] = r;
	return r == 7 ? 0 : 1;
}
